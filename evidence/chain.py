"""The canonical form of evidence entries and checkpoint statements, and their hashes.

Canonical JSON here is UTF-8 JSON with keys sorted at every level, no insignificant
whitespace, non-ASCII characters written as themselves, and only strings, integers, booleans,
null, lists and objects (no floats: a float has more than one faithful spelling). For these
values it is the JSON Canonicalization Scheme of RFC 8785. An entry's hash is the SHA-256 of
its canonical bytes, and every entry names the hash of the entry before it in its lane.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first entry of every lane
FORMAT_VERSION = 1


class NotCanonicalError(TypeError):
    """A value that canonical JSON does not allow (a float, a date, a non-string key...)."""


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalError(f"{path}: key {key!r} is not a string")
            _check(item, f"{path}.{key}")
        return
    raise NotCanonicalError(f"{path}: {type(value).__name__} is not allowed in evidence")


_SCALARS = frozenset({str, int, bool, type(None)})


def _allowed(value: Any) -> bool:
    """The same test as _check, without building paths: the common case, kept cheap (scalars
    are tested inline, so only lists and objects cost a call)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _allowed(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _SCALARS or _allowed(item) for item in value)
    return False


def dumps(value: dict[str, Any]) -> str:
    if not _allowed(value):
        _check(value, "$")  # raises, saying where; subclasses of allowed types (enums) pass
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def content_sha256(content: dict[str, Any]) -> str:
    """The hash of a notification's canonical content (mailboxes.actions.notification_content)."""
    return sha256_hex(dumps(content))


def timestamp(moment: datetime) -> str:
    """UTC with microseconds and a Z: one spelling per instant."""
    if moment.tzinfo is None:
        raise ValueError("evidence timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_body(
    *,
    lane: int,
    seq: int,
    prev: str,
    at: datetime,
    kind: str,
    actor: int | None,
    person: int | None,
    procedure: int | None,
    notification: int | None,
    content_sha256: str | None,
    attachments_sha256: list[str] | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "lane": lane,
        "seq": seq,
        "prev": prev,
        "at": timestamp(at),
        "kind": kind,
        "actor": actor,
        "person": person,
        "procedure": procedure,
        "notification": notification,
        "content_sha256": content_sha256,
        "attachments_sha256": attachments_sha256,
        "data": data,
    }
