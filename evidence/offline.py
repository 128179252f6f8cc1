"""Check an evidence export (evidence/export.py) offline: no database, no network.

    python -m evidence.offline buzon.zip --clave agencia.pub [--clave anterior.pub ...]
        [--punto-de-control N:HASH | --punto-de-control publicado.json ...]

It needs only Python and the `cryptography` package, plus this file, evidence/chain.py,
evidence/merkle.py and an empty evidence/__init__.py. It checks that:
- manifest.json is signed by a trusted Ed25519 key (given with --clave; without it, the keys
  inside the ZIP are used and it says so: compare their fingerprints with the ones the agency
  publishes). The signature covers the whole manifest: holder, scope, time, notifications,
  evidence entries, every file's name and SHA-256, certificates. So the ZIP is the very set
  the agency's system produced, nothing added, removed or rewritten since;
- the ZIP holds the files the manifest lists, each once and with its SHA-256 and size, and
  nothing else; and no name, listed or not, could land outside the folder the ZIP is
  extracted to (`..`, a leading `/`, a backslash, a drive letter);
- every checkpoint's statement is signed by a trusted Ed25519 key;
- a checkpoint given with --punto-de-control (published by the agency, or printed on a
  certificate: its number and statement hash as N:HASH, as `manage.py verify_evidence
  --checkpoint` takes them; or a file with N:HASH lines, {"number": N, "hash": ...}, the
  statement itself, or a JSON list of these) is the very one in the ZIP with that number.
  Those the ZIP does not carry are named and not compared; if none is carried, nothing was
  compared, and the exit status is 2;
- there is at least one evidence entry, and every entry hashes to its recorded hash, is about
  the holder (and the case, for a one-procedure export), and its Merkle inclusion proof leads
  to the root its checkpoint signed;
- each notification's content hashes to the content hash in its deposit entry; its text,
  subject, deposit time, content hash and attachments (the files, and the names and hashes
  the manifest gives) are the ones that entry records; its effective date and deadline are
  the last ones the entries record; and its certificate PDF is the one a signed entry
  registered. The agency's system signs what it reads, so this catches rows edited in its
  database before the export.
Messages are in Spanish, for the people who receive such a ZIP; a ZIP made to crash the check
is refused instead. Exit status: 0 intact; 1 altered or incomplete; 2 unreadable input (the
ZIP, a key, a published checkpoint) or a bad command line; 3 consistent, but checked only
against the keys inside the ZIP.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence import chain, merkle

FORMAT = "buzon-export/2"
EXPORT_TYPE = "buzon-evidence-export"  # what the manifest's signature is of (cf. checkpoints)
CHECKPOINT_TYPE = "buzon-evidence-checkpoint"
MANIFEST = "manifest.json"  # the one file the manifest does not list: it cannot hash itself

# Exit statuses.
INTACT = 0
ALTERED = 1  # altered or incomplete
UNREADABLE = 2  # the ZIP, a key or a published checkpoint cannot be read; or a bad command line
UNTRUSTED_KEY = 3  # consistent, but signed by keys taken from the ZIP itself


SHA256 = re.compile(r"[0-9a-f]{64}")
DRIVE = re.compile(r"[A-Za-z]:")
# A published checkpoint as `manage.py verify_evidence --checkpoint` takes it: its number and
# the SHA-256 of its statement (what the agency publishes, and a certificate prints).
NUMBER_AND_HASH = re.compile(r"([0-9]+):([0-9a-fA-F]{64})")

# What the check reads, and of what shape, so that a ZIP made to crash it is refused instead.
# A shape is a type, a pattern a string must match, a tuple (any one of), a list (each item of
# one shape), a dict (those keys, each of its shape; others may follow) or {str: shape} (any
# keys, each value of that shape).
INCLUSION = {"checkpoint": int, "index": int, "size": int, "path": [SHA256]}
ENTRY = {"position": str, "canonical": str, "hash": SHA256, "inclusion": (None, INCLUSION)}
NOTIFICATION = {
    "id": int,
    "public_id": str,
    "procedure": str,
    "subject": str,
    "deposited_at": str,
    "effective_date": (None, str),
    "deadline_date": (None, str),
    "content": str,
    "content_sha256": str,
    "attachments": [{"name": str, "path": str, "sha256": str}],
    "certificate": {"code": str, "path": str},
}
MANIFEST_SHAPE = {
    "agency": str,
    "generated_at": str,
    "holder": {"id": int, "name": str, "document": str},
    "scope": {"procedure": (None, str), "procedure_id": (None, int)},
    "notifications": [NOTIFICATION],
    "entries": [ENTRY],
    "checkpoints": [{"number": int, "statement": str, "signature": str}],
    "public_keys": {str: str},
    "files": {str: {"sha256": SHA256, "size": int}},
    "entries_left_for_the_next_checkpoint": int,
}
CHECKPOINT_BODY = {"type": str, "number": int, "key": str, "merkle_root": SHA256, "entries": int}
ENTRY_BODY = {
    "kind": str,
    "at": str,
    "person": (None, int),
    "procedure": (None, int),
    "notification": (None, int),
    "content_sha256": (None, str),
    "attachments_sha256": (None, [str]),
    "data": {str: object},
}
CONTENT = {"id": str, "procedure": str, "subject": str, "body": str}


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What the manifest's signature covers: the canonical JSON of all of it but the signature
    (evidence/export.py signs these bytes; the check recomputes them from what it read)."""
    return chain.dumps(
        {key: value for key, value in manifest.items() if key != "signature"}
    ).encode()


class UnreadableError(ValueError):
    """Input the check cannot read: the ZIP, a key, a published checkpoint (exit status 2).
    The message says which, in Spanish."""


def _misfit(value: Any, shape: Any, where: str) -> str | None:
    """Where `value` first departs from `shape`, or None when it fits."""
    if isinstance(shape, tuple):
        return None if any(_misfit(value, one, where) is None for one in shape) else where
    if isinstance(shape, list):
        if not isinstance(value, list):
            return where
        for i, item in enumerate(value):
            if (bad := _misfit(item, shape[0], f"{where}[{i}]")) is not None:
                return bad
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return where
        if str in shape:
            for key, item in value.items():
                if (bad := _misfit(item, shape[str], f"{where}[{key!r}]")) is not None:
                    return bad
            return None
        for key, item_shape in shape.items():
            if key not in value:
                return f"{where}.{key}"
            if (bad := _misfit(value[key], item_shape, f"{where}.{key}")) is not None:
                return bad
        return None
    if isinstance(shape, re.Pattern):
        fits = isinstance(value, str) and shape.fullmatch(value) is not None
    elif shape is None:
        fits = value is None
    elif shape is int:
        fits = type(value) is int  # not a bool
    else:
        fits = isinstance(value, shape)
    return None if fits else where


def _unsafe(name: str) -> bool:
    """A name that, extracted, could land outside the folder it is extracted to (`..`, a
    leading `/`, a backslash, a drive letter), or that is no plain path of files."""
    parts = name.split("/")
    return (
        name.startswith("/")
        or "\\" in name
        or any(DRIVE.match(part) for part in parts)
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(c) < 32 or c == "\x7f" for c in name)
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("una clave aparece dos veces")
    return dict(pairs)


def _no_float(text: str) -> Any:
    raise ValueError(f"número no entero: {text}")


def _json(text: str) -> Any:
    """JSON as the evidence writes it: no repeated key (a reader keeps one, a person may read
    the other), no fractional number (canonical JSON has none). ValueError otherwise."""
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_float
        )
    except RecursionError:
        raise ValueError("anidado a demasiada profundidad") from None


def _encodable(value: Any) -> Any:
    """`value`, if all its text can be written as UTF-8: JSON may spell a lone surrogate
    (\\ud800), which no UTF-8 encoder writes, and canonical bytes could not be made of it."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ValueError("contiene caracteres que no son Unicode válido") from None
    return value


def _canonical(text: str) -> dict[str, Any] | None:
    """The object, if `text` is exactly its canonical JSON (one spelling, no repeated keys)."""
    try:
        value = _json(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or chain.dumps(value) != text:
        return None
    return value


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _load_key(pem: bytes) -> Ed25519PublicKey:
    try:
        public = serialization.load_pem_public_key(pem)
    except UnsupportedAlgorithm:
        raise ValueError("no es una clave pública Ed25519") from None
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("no es una clave pública Ed25519")
    return public


def load_keys(paths: Sequence[Path]) -> dict[str, Ed25519PublicKey]:
    """The keys given with --clave, by key id."""
    trusted = {}
    for path in paths:
        try:
            public = _load_key(path.read_bytes())
        except OSError as exc:
            raise UnreadableError(
                f"No se pudo leer la clave {path}: {exc.strerror or exc}"
            ) from None
        except ValueError:
            raise UnreadableError(
                f"No se pudo leer la clave {path}: no es una clave pública Ed25519 (PEM)"
            ) from None
        trusted[_key_id(public)] = public
    return trusted


@dataclass(frozen=True)
class Published:
    """A checkpoint known from outside the ZIP: its number and its statement's SHA-256."""

    number: int
    hash: str


PUBLISHED_FORMS = (
    'se espera N:HASH, {"number": N, "hash": "..."}, la declaración del punto de control, '
    "o una lista de ellos"
)


def published_checkpoints(value: str | Path) -> list[Published]:
    """What --punto-de-control gives: N:HASH itself, or a file holding N:HASH lines, a JSON
    {"number": N, "hash": ...}, the statement itself, {"number": N, "statement": ...}, or a
    JSON list of these. UnreadableError, in Spanish, for anything else."""
    if isinstance(value, str) and (match := NUMBER_AND_HASH.fullmatch(value.strip())):
        return [Published(int(match[1]), match[2].lower())]
    path = Path(value)
    unreadable = f"No se pudo leer el punto de control publicado {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnreadableError(f"{unreadable}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UnreadableError(f"{unreadable}: no es texto UTF-8") from None
    lines = text.split()
    if lines and all(NUMBER_AND_HASH.fullmatch(line) for line in lines):
        return [published_checkpoints(line)[0] for line in lines]
    try:
        given = _encodable(_json(text))
    except ValueError:
        raise UnreadableError(
            f"{unreadable}: no es N:HASH ni JSON válido; {PUBLISHED_FORMS}"
        ) from None
    items = given if isinstance(given, list) else [given]
    found = [_published(item) for item in items]
    if not found or None in found:
        raise UnreadableError(f"{unreadable}: {PUBLISHED_FORMS}")
    return [p for p in found if p is not None]


def _published(item: Any) -> Published | None:
    """One published checkpoint in JSON, or None if it is none of the accepted forms."""
    if not isinstance(item, dict):
        return None
    number: Any = item.get("number")
    if "hash" in item:  # {"number": N, "hash": "..."}
        digest = item["hash"]
        if not isinstance(digest, str) or not SHA256.fullmatch(digest.lower()):
            return None
        digest = digest.lower()
    elif "statement" in item:  # {"number": N, "statement": "..."}: the text as stored
        statement = item["statement"]
        body = _canonical(statement) if isinstance(statement, str) else None
        if body is None:
            return None
        number = body.get("number") if number is None else number
        digest = chain.sha256_hex(statement)
    elif item.get("type") == CHECKPOINT_TYPE:  # the statement itself, in any JSON spelling
        digest = chain.sha256_hex(chain.dumps(item))
    else:
        return None
    return Published(number, digest) if type(number) is int and number >= 0 else None


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        raise UnreadableError(f"La exportación no contiene {MANIFEST}") from None
    except Exception:  # zipfile raises many kinds for a damaged member
        raise UnreadableError(f"No se pudo leer {MANIFEST} del ZIP: está dañado") from None
    try:
        manifest = _encodable(_json(raw.decode("utf-8")))
    except UnicodeDecodeError:
        raise UnreadableError(f"{MANIFEST} no está en UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UnreadableError(
            f"{MANIFEST} no es JSON válido (línea {exc.lineno}, columna {exc.colno})"
        ) from None
    except ValueError as exc:  # a repeated key, a fraction: _json says which, in Spanish
        raise UnreadableError(f"{MANIFEST} no es JSON válido ({exc})") from None
    if not isinstance(manifest, dict):
        raise UnreadableError(f"{MANIFEST} no es un objeto JSON")
    return manifest


class Checker:
    def __init__(self, archive: zipfile.ZipFile, trusted: dict[str, Ed25519PublicKey]) -> None:
        self.archive = archive
        self.trusted = trusted
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.manifest = _manifest(archive)
        self.digests: dict[str, str] = {}  # SHA-256 of each listed file, as read
        self.compared = 0  # published checkpoints compared with the ZIP's
        self.unreadable: set[str] = set()  # listed files missing or damaged (said once)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def read(self, path: str) -> bytes | None:
        """A listed file's bytes; at most its listed size and one more, so that a member that
        inflates beyond it is never read whole (it is not the listed file anyway)."""
        expected = self.manifest["files"].get(path)
        if expected is None:
            self.problem(f"{path}: no figura en el manifiesto")
            return None
        if path in self.unreadable or _unsafe(path):
            return None
        try:
            with self.archive.open(path) as handle:
                data: bytes = handle.read(min(max(expected["size"], 0), sys.maxsize - 1) + 1)
                return data
        except KeyError:
            self.problem(f"falta el archivo {path}")
        except Exception:  # zipfile raises many kinds for a damaged member
            self.problem(f"{path}: no se puede leer del ZIP (dañado o modificado)")
        self.unreadable.add(path)
        return None

    def check(self, published: Sequence[Published] = ()) -> None:
        if self.manifest.get("format") == "buzon-export/1":
            self.problem(
                "formato buzon-export/1, anterior a la firma del manifiesto: no se puede "
                "comprobar que la exportación esté completa; pida una exportación nueva"
            )
            return
        if self.manifest.get("format") != FORMAT or self.manifest.get("type") != EXPORT_TYPE:
            self.problem(f"formato desconocido: {self.manifest.get('format')!r}")
            return
        if not self.trusted:
            self._trust_the_zips_own_keys()
        self._signature()
        where = _misfit(self.manifest, MANIFEST_SHAPE, "manifiesto")
        if where is not None:
            self.problem(f"el manifiesto no tiene la forma esperada (en {where})")
            return
        self._files()
        roots = self._checkpoints(published)
        entries = self._entries(roots)
        self._notifications(entries)
        if left := self.manifest["entries_left_for_the_next_checkpoint"]:
            self.notes.append(
                f"{left} registros posteriores al último punto de control quedaron fuera de la "
                "exportación (aún no estaban sellados); irán en una exportación posterior"
            )

    def _trust_the_zips_own_keys(self) -> None:
        given = self.manifest.get("public_keys")
        for key_id, pem in given.items() if isinstance(given, dict) else ():
            try:
                public = _load_key(str(pem).encode())
            except ValueError:
                continue
            if _key_id(public) == key_id:
                self.trusted[key_id] = public
        self.notes.append(
            "se usaron las claves públicas incluidas en el ZIP (huellas: "
            + ", ".join(sorted(self.trusted))
            + "); compárelas con las que publica la entidad, o use --clave"
        )

    def _signature(self) -> None:
        """The manifest is the agency's: without this, anyone could list what they like."""
        key_id, signature = self.manifest.get("key"), self.manifest.get("signature")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            self.problem(
                "el manifiesto no está firmado: no se puede saber si lo generó la entidad ni "
                "si la exportación está completa"
            )
            return
        signer = self.trusted.get(key_id)
        if signer is None:
            self.problem(
                f"el manifiesto está firmado con una clave que no es de confianza ({key_id})"
            )
            return
        try:
            signer.verify(bytes.fromhex(signature), signed_bytes(self.manifest))
        except (InvalidSignature, ValueError):
            self.problem(
                "la firma del manifiesto no es válida: el manifiesto se modificó después de "
                "que la entidad lo firmara"
            )

    def _files(self) -> None:
        names = self.archive.namelist()
        for name, count in sorted(Counter(names).items()):
            if count > 1:
                self.problem(f"{name}: aparece más de una vez en el ZIP")
        listed: dict[str, dict[str, Any]] = self.manifest["files"]
        for name in sorted(set(names) | set(listed)):
            if _unsafe(name):
                self.problem(
                    f"{name}: nombre de archivo no permitido (al extraerlo podría quedar "
                    "fuera de su carpeta)"
                )
        for path, expected in listed.items():
            data = self.read(path)
            if data is None:
                continue
            self.digests[path] = hashlib.sha256(data).hexdigest()
            if len(data) != expected["size"] or self.digests[path] != expected["sha256"]:
                self.problem(f"{path}: el archivo fue modificado (su SHA-256 no coincide)")
        for name in sorted(set(names)):
            if name not in listed and name != MANIFEST and not _unsafe(name):
                self.problem(f"{name}: archivo añadido, no figura en el manifiesto")

    def _checkpoints(self, published: Sequence[Published]) -> dict[int, tuple[str, int]]:
        roots: dict[int, tuple[str, int]] = {}
        for checkpoint in self.manifest["checkpoints"]:
            number = checkpoint["number"]
            statement = checkpoint["statement"]
            label = f"punto de control n.° {number}"
            body = _canonical(statement)
            if (
                body is None
                or _misfit(body, CHECKPOINT_BODY, "") is not None
                or body["type"] != CHECKPOINT_TYPE
            ):
                self.problem(f"{label}: no es la declaración de un punto de control")
                continue
            signer = self.trusted.get(body["key"])
            if signer is None:
                self.problem(f"{label}: firmado con una clave que no es de confianza")
                continue
            try:
                signer.verify(bytes.fromhex(checkpoint["signature"]), statement.encode())
            except (InvalidSignature, ValueError):
                self.problem(f"{label}: la firma no es válida")
                continue
            if body.get("number") != number:
                self.problem(f"{label}: el número no coincide con el firmado")
                continue
            roots[number] = (body["merkle_root"], body["entries"])
        self._published(published)
        return roots

    def _published(self, published: Sequence[Published]) -> None:
        """Each checkpoint given that the ZIP has must be the very one published: the agency's
        key alone could sign another history, not change what it already published."""
        mine = {c["number"]: c["statement"] for c in self.manifest["checkpoints"]}
        absent = []
        for given in published:
            if given.number not in mine:
                absent.append(given.number)
            elif chain.sha256_hex(mine[given.number]) != given.hash:
                self.problem(f"el punto de control n.° {given.number} del ZIP no es el publicado")
            else:
                self.notes.append(
                    f"el punto de control n.° {given.number} coincide con el publicado"
                )
            self.compared += given.number in mine
        if absent:
            self.notes.append(
                "no están en el ZIP, y no se compararon, los puntos de control dados n.° "
                + ", ".join(str(n) for n in sorted(set(absent)))
                + " (el ZIP trae los n.° "
                + (", ".join(str(n) for n in sorted(mine)) or "ninguno")
                + ")"
            )

    def _entries(self, roots: dict[int, tuple[str, int]]) -> list[dict[str, Any]]:
        verified: list[dict[str, Any]] = []
        if not self.manifest["entries"]:
            self.problem("no trae ningún registro de evidencia: la exportación está incompleta")
            return verified
        holder = self.manifest["holder"]["id"]
        case = self.manifest["scope"]["procedure_id"]
        for item in self.manifest["entries"]:
            label = f"registro {item['position']}"
            canonical = item["canonical"]
            body = _canonical(canonical)
            if chain.sha256_hex(canonical) != item["hash"] or body is None:
                self.problem(f"{label}: su contenido no corresponde a su huella (alterado)")
                continue
            if _misfit(body, ENTRY_BODY, "") is not None:
                self.problem(f"{label}: no tiene la forma de un registro de evidencia")
                continue
            if body["person"] != holder or (case is not None and body["procedure"] != case):
                self.problem(f"{label}: es de otra persona o de otro trámite que la exportación")
                continue
            inclusion = item["inclusion"]
            if inclusion is None:
                self.problem(f"{label}: no está sellado por ningún punto de control del ZIP")
                continue
            root = roots.get(inclusion["checkpoint"])
            if root is None or inclusion["size"] != root[1]:
                self.problem(f"{label}: su punto de control falta o no es válido")
                continue
            if not merkle.verify_inclusion(
                item["hash"], inclusion["index"], inclusion["size"], inclusion["path"], root[0]
            ):
                self.problem(f"{label}: la prueba de inclusión no lleva a la raíz firmada")
                continue
            verified.append(body)
        return verified

    def _notifications(self, entries: list[dict[str, Any]]) -> None:
        deposits = {e["notification"]: e for e in entries if e["kind"] == "notification_deposited"}
        certificates = {
            e["data"]["code"]: (e["notification"], e["data"].get("sha256"))
            for e in entries
            if e["kind"] == "certificate_issued" and isinstance(e["data"].get("code"), str)
        }
        about: dict[int, list[dict[str, Any]]] = {}
        # In the manifest's order, which is the order they were written (the manifest is
        # signed, so it cannot be rearranged); not by time: each lane of the log keeps its
        # own clock, and verify_evidence replays in written order too.
        for entry in entries:
            about.setdefault(entry["notification"], []).append(entry)
        for item in self.manifest["notifications"]:
            label = f"notificación {item['public_id']}"
            deposit = deposits.get(item["id"])
            if deposit is None:
                self.problem(f"{label}: no hay un registro de depósito verificado")
                continue
            self._content(label, item, deposit)
            self._recorded(label, item, deposit, about[item["id"]])
            hashes = [self.digest(attachment["path"]) for attachment in item["attachments"]]
            if hashes != deposit["attachments_sha256"]:
                self.problem(f"{label}: sus adjuntos no son los que se depositaron")
            certificate = item["certificate"]
            digest = self.digest(certificate["path"])
            registered = certificates.get(certificate["code"])
            if digest is not None and (registered is None or registered != (item["id"], digest)):
                self.problem(f"{label}: la constancia no es la registrada con su código")

    def _recorded(
        self, label: str, item: dict[str, Any], deposit: dict[str, Any], about: list[dict[str, Any]]
    ) -> None:
        """The manifest's words that the entries about the notification record: its content
        hash, its attachments' names and hashes, its current effective date and deadline."""
        effective, deadline = _latest_dates(about)
        claims: dict[str, Any] = {
            "content_sha256": deposit["content_sha256"],
            "effective_date": effective,
            "deadline_date": deadline,
        }
        deposited = deposit["data"].get("attachments")
        if isinstance(deposited, list):
            claims["attachments"] = [
                (a.get("name"), a.get("sha256")) if isinstance(a, dict) else None for a in deposited
            ]
        said = item | {"attachments": [(a["name"], a["sha256"]) for a in item["attachments"]]}
        for key, value in claims.items():
            if said[key] != value:
                self.problem(f"{label}: el manifiesto dice otra cosa que la evidencia ({key})")

    def digest(self, path: str) -> str | None:
        """The SHA-256 of a listed file, as _files read it (None if missing or unlisted)."""
        if path not in self.manifest["files"]:
            self.problem(f"{path}: no figura en el manifiesto")
        return self.digests.get(path)

    def _content(self, label: str, item: dict[str, Any], deposit: dict[str, Any]) -> None:
        """The content file, the text file and the manifest's own words, against the deposit
        entry: what a reader sees must be what was notified."""
        raw = self.read(item["content"])
        if raw is None:
            return
        content = _canonical(raw.decode("utf-8", errors="replace"))
        if (
            content is None
            or chain.content_sha256(content) != deposit["content_sha256"]
            or _misfit(content, CONTENT, "") is not None
        ):
            self.problem(f"{label}: su contenido no es el que se depositó")
            return
        text_path = item["content"].rsplit("/", 1)[0] + "/texto.md"
        text = self.read(text_path)
        if text is not None and text.decode("utf-8", errors="replace") != content["body"]:
            self.problem(f"{label}: el texto (texto.md) no es el que se depositó")
        claims = {
            "public_id": content["id"],
            "procedure": content["procedure"],
            "subject": content["subject"],
        }
        recorded_at = deposit["data"].get("deposited_at")
        if recorded_at is not None:
            claims["deposited_at"] = recorded_at
        for key, value in claims.items():
            if item.get(key) != value:
                self.problem(f"{label}: el manifiesto dice otra cosa que la evidencia ({key})")


def _latest_dates(entries: list[dict[str, Any]]) -> tuple[Any, Any]:
    """The effective date and deadline the log last recorded about a notification, from its
    entries in the order they were written (the same reading as verify_evidence's replay())."""
    effective = deadline = None
    for entry in entries:
        data = entry["data"]
        if entry["kind"] in ("notification_effective", "notification_rejected"):
            effective, deadline = data.get("effective_date"), data.get("deadline_date")
        elif entry["kind"] == "dates_recalculated":
            effective = _after(data.get("effective_date"))
            deadline = _after(data.get("deadline_date"))
    return effective, deadline


def _after(change: Any) -> str | None:
    """The new value of a recalculation's [before, after]."""
    value = change[1] if isinstance(change, list) and len(change) == 2 else None
    return None if value in (None, "None") else str(value)


def check(
    path: Path,
    *,
    keys: Sequence[Path] = (),
    published: str | Path | Sequence[str | Path] = (),
) -> Checker:
    """Check the ZIP at `path` against the trusted `keys` and the `published` checkpoints
    (each as --punto-de-control takes it). UnreadableError if the ZIP, a key or a published
    checkpoint cannot be read. The verdict is in the checker's problems (none: intact)."""
    trusted = load_keys(keys)
    values = [published] if isinstance(published, (str, Path)) else published
    given = [checkpoint for value in values for checkpoint in published_checkpoints(value)]
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise UnreadableError(
            f"No se pudo abrir la exportación {path}: {exc.strerror or exc}"
        ) from None
    except Exception:  # BadZipFile, and worse for a damaged central directory
        raise UnreadableError(
            f"No se pudo leer la exportación {path}: no es un ZIP válido"
        ) from None
    with archive:
        checker = Checker(archive, trusted)
        checker.check(given)
    return checker


def _summary(manifest: dict[str, Any]) -> list[str]:
    """The manifest's own description of the export (in whatever shape it came)."""
    holder = manifest.get("holder")

    def count(key: str) -> int:
        value = manifest.get(key)
        return len(value) if isinstance(value, (list, dict)) else 0

    return [
        f"Exportación de {manifest.get('agency')} para "
        f"{holder.get('name') if isinstance(holder, dict) else None}, "
        f"generada el {manifest.get('generated_at')}",
        f"{count('notifications')} notificaciones, {count('entries')} registros de evidencia, "
        f"{count('files')} archivos, {count('checkpoints')} puntos de control",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evidence.offline",
        description="Comprueba sin conexión una exportación de evidencia del Buzón.",
    )
    parser.add_argument("zip", type=Path, help="el archivo ZIP exportado")
    parser.add_argument(
        "--clave",
        type=Path,
        action="append",
        default=[],
        help="clave pública de la entidad (.pub); repítalo si cambió de clave",
    )
    parser.add_argument(
        "--punto-de-control",
        action="append",
        default=[],
        metavar="N:HASH|ARCHIVO",
        help="un punto de control publicado por la entidad o impreso en una constancia: su "
        "número y el hash de su declaración (N:HASH), o un archivo con N:HASH por línea, "
        'con {"number": N, "hash": "..."}, con la declaración misma, o con una lista JSON '
        "de ellos; repetible",
    )
    args = parser.parse_args(argv)
    try:
        checker = check(args.zip, keys=args.clave, published=args.punto_de_control)
    except UnreadableError as exc:
        print(exc, file=sys.stderr)
        return UNREADABLE
    for line in _summary(checker.manifest):
        print(line)
    for note in checker.notes:
        print(f"Nota: {note}")
    if checker.problems:
        print("ALTERADA O INCOMPLETA:")
        for problem in checker.problems:
            print(f"  - {problem}")
        return ALTERED
    if args.punto_de_control and not checker.compared:
        print(
            "No se pudo comparar ningún punto de control dado: ninguno está en el ZIP. Use "
            "uno de los que trae (vea la nota) o uno impreso en una de sus constancias.",
            file=sys.stderr,
        )
        return UNREADABLE
    if not args.clave:
        print(
            "COHERENTE, pero comprobada con las claves que trae el propio ZIP: para saber que "
            "la firmó la entidad, repita la comprobación con --clave y su clave pública."
        )
        return UNTRUSTED_KEY
    print("ÍNTEGRA: todos los archivos y registros coinciden con la evidencia firmada.")
    return INTACT


if __name__ == "__main__":
    sys.exit(main())
