"""Credential requests by email: raw bytes in, a ParsedRequest out, no database.

The seed tells people who cannot get their credentials to write to informes@migraciones.gob.pe
with the message "Solicitud de credenciales para acceder a mi buzón electrónico" and their
personal data below it. The information mailbox forwards those messages to Buzón; parse() reads
one of them, and the next step turns the result into a case.

parse() never raises and never loses a message. Whatever it cannot understand comes back with
needs_review set and the reasons, and every result has a message_id and a fingerprint.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from typing import NamedTuple

from requests_mail import fields
from requests_mail.fields import MAX_LINE_CHARS, fold
from requests_mail.html_text import MAX_HTML_CHARS, html_to_text

logger = logging.getLogger(__name__)

INFO_MAILBOXES = frozenset({"informes@migraciones.gob.pe"})

MAX_RAW_BYTES = 25 * 1024 * 1024
MAX_TEXT_CHARS = 200_000  # of body text scanned for the personal data
MAX_HEADER_BYTES = 600  # per header: the email package parses some syntax in quadratic time
MAX_PARTS = 50
MAX_BOUNDARY_LINES = 2 * MAX_PARTS  # lines starting with "--" that the email package may see
MAX_NESTING = 10  # multipart inside multipart
MAX_FORWARD_DEPTH = 3  # message/rfc822 inside message/rfc822
MAX_ATTACHMENTS = 30
FORWARD_MARKER = "---------- Forwarded message ---------"

# Reasons, in English, shown to the officer who reviews the request.
UNPARSEABLE = "message could not be parsed"
HEADERS_ONLY = "message structure could not be parsed; the body was read as plain text"
TOO_LARGE = f"message larger than {MAX_RAW_BYTES // 2**20} MB; only the start was read"
TOO_MANY_PARTS = f"more than {MAX_PARTS} MIME parts; the rest were skipped"
TOO_MANY_ATTACHMENTS = f"more than {MAX_ATTACHMENTS} attachments; the rest were skipped"
TOO_DEEP = "message nested too deeply; the inner parts were skipped"
TEXT_TRUNCATED = f"text longer than {MAX_TEXT_CHARS} characters; only the start was scanned"
NO_SENDER = "no sender address found"
NO_ORIGINAL_SENDER = "forwarded by the information mailbox, but the original sender was not found"
EMPTY_BODY = "message body is empty"
NOT_A_REQUEST = "not recognised as a credential request"
LOOSE_WORDING = "asks for credentials without the standard wording"
FIELDS_FAILED = "personal data could not be read"


class Attachment(NamedTuple):
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ParsedRequest:
    message_id: str  # the Message-ID header, or the SHA-256 of the raw bytes when absent
    fingerprint: str  # equal for duplicates of the same message: merge cases on it
    sender: str  # where to answer: From, or the original sender of a forward by INFO_MAILBOXES
    subject: str
    is_credential_request: bool
    given_names: str
    surnames: str
    document_type: str  # a people.documents.DocumentType value, or "" when not stated
    document_number: str  # canonical (normalize_document), or "" when missing or not valid
    document_number_raw: str  # as written, e.g. "CPP 001234567"
    birth_date: date | None
    nationality: str
    phone: str
    text: str  # the plain-text body that was scanned, forwarded messages included
    attachments: tuple[Attachment, ...]
    needs_review: bool  # true exactly when there are reasons
    reasons: tuple[str, ...]


def parse(raw: bytes, *, info_mailboxes: Collection[str] = INFO_MAILBOXES) -> ParsedRequest:
    """Read one inbound message. Never raises: problems become reasons for a manual review."""
    try:
        return _parse(bytes(raw), frozenset(a.lower() for a in info_mailboxes))
    except Exception:  # the contract: every message comes back, understood or not
        logger.warning("credential request mail could not be parsed", exc_info=True)
        return _unparsed(raw)


def _unparsed(raw: object) -> ParsedRequest:
    data = raw if isinstance(raw, bytes) else repr(raw).encode("utf-8", "replace")
    message_id = hashlib.sha256(data).hexdigest()
    return ParsedRequest(
        message_id=message_id,
        fingerprint=_fingerprint(message_id, "", "", "", ()),
        sender="",
        subject="",
        is_credential_request=False,
        given_names="",
        surnames="",
        document_type="",
        document_number="",
        document_number_raw="",
        birth_date=None,
        nationality="",
        phone="",
        text="",
        attachments=(),
        needs_review=True,
        reasons=(UNPARSEABLE,),
    )


def _parse(raw: bytes, info_mailboxes: frozenset[str]) -> ParsedRequest:
    reasons: list[str] = []
    data = raw
    if len(data) > MAX_RAW_BYTES:
        data = data[:MAX_RAW_BYTES]
        reasons.append(TOO_LARGE)
    data, cut = _bound_work(data)
    if cut:
        reasons.append(TOO_MANY_PARTS)

    walker = _Walker()
    body = _Body()
    msg: Message | None
    try:
        msg = BytesParser(policy=email.policy.default).parsebytes(data)
        walker.walk(msg, body, nesting=0, depth=0)
    except Exception:  # e.g. RecursionError on deep nesting; keep the headers and the raw body
        logger.warning("credential request mail read as plain text", exc_info=True)
        reasons.append(HEADERS_ONLY)
        msg = _headers_only(data)
        walker = _Walker()
        body = _Body(plain=[_decode(_after_headers(data), "", MAX_TEXT_CHARS * 4)])
    reasons.extend(walker.reasons)

    text = body.text()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        reasons.append(TEXT_TRUNCATED)

    message_id = _message_id(msg, raw)
    subject = _header(msg, "Subject")
    from_address = _address(msg, "From")
    reply_to = _address(msg, "Reply-To")
    own, blocks = _split(text)
    earlier = [line for block in blocks for line in block.lines]
    # Earlier messages written by the agency (its answers, its signature) are not the person's.
    theirs = [
        line for block in blocks if block.sender not in info_mailboxes for line in block.lines
    ]

    forwarded = from_address in info_mailboxes
    if forwarded:
        # The information mailbox passes the message on: answer the person who wrote it.
        original = next((b.sender for b in blocks if b.sender not in {"", *info_mailboxes}), "")
        sender = next((a for a in (reply_to, original) if a and a not in info_mailboxes), "")
        if not sender:
            reasons.append(NO_ORIGINAL_SENDER)
    else:
        sender = from_address or (reply_to if reply_to not in info_mailboxes else "")
        if not sender:
            reasons.append(NO_SENDER)
    # In a forward, the forwarder's own lines (and signature) are the agency's, not the person's.
    field_lines = (theirs or own) if forwarded else own + theirs

    if not text.strip():
        reasons.append(EMPTY_BODY)
    wording = _wording(subject, text)
    if wording == "loose":
        reasons.append(LOOSE_WORDING)
    elif not wording:
        reasons.append(NOT_A_REQUEST)
    try:
        found = fields.extract(field_lines)
    except Exception:
        logger.warning("personal data could not be read from a request mail", exc_info=True)
        found = fields.Fields(reasons=(FIELDS_FAILED,))
    if wording or FIELDS_FAILED in found.reasons:
        reasons.extend(found.reasons)

    attachments = tuple(walker.attachments)
    fingerprint_text = "\n".join(earlier) if forwarded and earlier else text
    unique_reasons = tuple(dict.fromkeys(reasons))
    return ParsedRequest(
        message_id=message_id,
        fingerprint=_fingerprint(message_id, sender, subject, fingerprint_text, attachments),
        sender=sender,
        subject=subject,
        is_credential_request=bool(wording),
        given_names=found.given_names,
        surnames=found.surnames,
        document_type=found.document_type,
        document_number=found.document_number,
        document_number_raw=found.document_number_raw,
        birth_date=found.birth_date,
        nationality=found.nationality,
        phone=found.phone,
        text=text,
        attachments=attachments,
        needs_review=bool(unique_reasons),
        reasons=unique_reasons,
    )


# -- Raw bytes and headers ---------------------------------------------------------------------

_HEADER_START = re.compile(rb"[A-Za-z0-9-]{1,76}:")
_ATTACHED_MESSAGE = re.compile(rb"(?i)content-type:[ \t]*message/")


def _bound_work(raw: bytes) -> tuple[bytes, bool]:
    """Bound what the email package will do with the message; True when the end was cut off.

    It needs seconds for one 20 KB header of quotes or brackets, and it parses the headers of
    every MIME part, however many. So each header (the message's, a part's, or an attached
    message's) is cut to MAX_HEADER_BYTES, which is far more than the headers read here need,
    and the message is cut at its MAX_BOUNDARY_LINES-th line starting with "--", since each
    MIME part starts with one. Body lines are left alone.
    """
    out: list[bytes] = []
    place = "headers"  # or "body", or "next": an attached message's headers may follow
    attached = False  # the current header block announces an attached message
    seen = False  # the current header block has a header
    budget = 0  # bytes left for the current header
    boundaries = 0
    for line in raw.splitlines(keepends=True):
        content = line.rstrip(b"\r\n")
        ending = line[len(content) :]
        if content.startswith(b"--"):
            boundaries += 1
            if boundaries > MAX_BOUNDARY_LINES:
                return b"".join(out), True
            place, attached, seen = "headers", False, False
        elif place == "next" and content:
            place = "headers" if _HEADER_START.match(content) else "body"
            attached = seen = False
        if place == "headers" and not content.startswith(b"--"):
            if not content:
                # An empty header block is a digest part: a whole message follows.
                place = "next" if attached or not seen else "body"
            elif seen and content[:1] in (b" ", b"\t"):  # folded: part of the same header
                if budget == 0:
                    continue
                content = content[:budget]
                budget -= len(content)
            elif _HEADER_START.match(content):
                seen = True
                attached = attached or _ATTACHED_MESSAGE.match(content) is not None
                content = content[:MAX_HEADER_BYTES]
                budget = MAX_HEADER_BYTES - len(content)
            else:
                place = "body"  # not a header: the email package ends the block here too
        out.append(content + ending)
    return b"".join(out), False


def _headers_only(data: bytes) -> Message | None:
    try:
        return BytesParser(policy=email.policy.default).parsebytes(data, headersonly=True)
    except Exception:
        return None


def _after_headers(data: bytes) -> bytes:
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return data[min(ends) :] if ends else data


_HEADER_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _clean_header(value: str, limit: int = 998) -> str:
    return " ".join(_HEADER_JUNK.sub(" ", value).split())[:limit]


def _header(msg: Message | None, name: str) -> str:
    """The decoded value of the first `name` header, or "" when it is absent or unreadable."""
    if msg is None:
        return ""
    try:
        raw = next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), "")
    except Exception:
        raw = ""
    with suppress(Exception):
        if _SURROGATES.search(raw):
            # Unencoded 8-bit bytes (surrogate-escaped by the parser): UTF-8, else Windows-1252.
            text = _decode(raw.encode("ascii", "surrogateescape"), "", 4 * MAX_HEADER_BYTES)
            return _clean_header(str(make_header(decode_header(text))))
        # policy.default parses lazily, and a malformed header can raise here.
        value = msg.get(name)
        return "" if value is None else _clean_header(str(value))
    with suppress(Exception):
        return _clean_header(str(make_header(decode_header(raw))))
    return _clean_header(raw)


_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _first_email(text: str) -> str:
    match = _EMAIL.search(text)
    return match.group().lower() if match else ""


def _address(msg: Message | None, name: str) -> str:
    """The first valid address in an address header, lower-cased, or ""."""
    if msg is None:
        return ""
    with suppress(Exception):
        for address in getattr(msg.get(name), "addresses", ()):
            spec = str(address.addr_spec).lower()
            if _EMAIL.fullmatch(spec):
                return spec
    return _first_email(_header(msg, name))


def _message_id(msg: Message | None, raw: bytes) -> str:
    value = _header(msg, "Message-ID").replace(" ", "")
    if not value:
        return hashlib.sha256(raw).hexdigest()
    if len(value) > 250:  # keep it storable
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return value


# -- Body: MIME walk, decoding, text ------------------------------------------------------------

_WESTERN = frozenset(
    {"", "ascii", "us-ascii", "iso-8859-1", "latin1", "latin-1", "iso-8859-15", "windows-1252",
     "cp1252", "unknown-8bit", "x-unknown", "default"}
)  # fmt: skip
_TEXT_TABLE: dict[int, str | None] = {
    **{c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]},
    **{c: None for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)},
    **{c: "\ufffd" for c in range(0xD800, 0xE000)},
    0xA0: " ",
    0x2028: "\n",
    0x2029: "\n",
}


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TEXT_TABLE)
    return unicodedata.normalize("NFC", text)


def _decode(data: bytes, charset: str, limit: int) -> str:
    """Decode a text part whatever its declared charset says; never fails.

    A part declared (or defaulted to) Latin-1 or Windows-1252 that is valid UTF-8 is UTF-8:
    mislabelled mail is common, and Latin-1 Spanish text is almost never valid UTF-8.
    """
    if len(data) > limit:
        data = data[:limit]
        for _ in range(3):  # do not leave half a UTF-8 character at the cut
            if data and data[-1] & 0xC0 == 0x80:
                data = data[:-1]
        if data and data[-1] >= 0xC0:
            data = data[:-1]
    charset = charset.strip().lower()
    order = ("utf-8", charset) if charset in _WESTERN else (charset, "utf-8")
    for encoding in (*order, "windows-1252"):
        # LookupError, UnicodeError, or a codec that is not for text: try the next one.
        with suppress(Exception):
            return _clean_text(data.decode(encoding))
    return _clean_text(data.decode("latin-1"))


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)

    def own_text(self) -> str:
        plain = "\n".join(self.plain).strip()
        return plain if _has_words(plain) else "\n".join(self.html).strip()

    def text(self) -> str:
        return "\n\n".join(t for t in (self.own_text(), *self.forwarded) if t.strip())


def _safe_str(read: Callable[[], object]) -> str:
    try:
        value = read()
    except Exception:
        return ""
    return value if isinstance(value, str) else ""


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


def _children(part: Message) -> list[object]:
    payload = part.get_payload()  # a list for multipart and message/rfc822; never decoded
    return list(payload) if isinstance(payload, list) else []


class _Walker:
    def __init__(self) -> None:
        self.parts = 0
        self.attachments: list[Attachment] = []
        self.reasons: list[str] = []

    def _note(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def walk(self, part: Message, body: _Body, *, nesting: int, depth: int) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self._note(TOO_MANY_PARTS)
            return
        # Cleaned like every other header value: a NUL or control character here would reach
        # the case's JSON, and PostgreSQL's jsonb refuses "\u0000".
        content_type = _clean_header(_safe_str(part.get_content_type), 255).lower() or "text/plain"
        if not part.is_multipart():  # a list payload, also for message/rfc822
            self._leaf(part, content_type, body)
        elif content_type == "message/rfc822":
            self._attached_message(part, body, depth)
        else:
            if nesting >= MAX_NESTING:
                self._note(TOO_DEEP)
                return
            children = [c for c in _children(part) if isinstance(c, Message)]
            if content_type == "multipart/alternative":
                self._alternative(children, body, nesting + 1, depth)
            else:
                for child in children:
                    self.walk(child, body, nesting=nesting + 1, depth=depth)

    def _alternative(self, children: list[Message], body: _Body, nesting: int, depth: int) -> None:
        """Take the plain-text version when it has words, otherwise the HTML one."""
        versions = []
        for child in children:
            version = _Body()
            self.walk(child, version, nesting=nesting, depth=depth)
            versions.append(version)
            body.forwarded.extend(version.forwarded)
        plain = next((v for v in versions if _has_words("".join(v.plain))), None)
        if plain is not None:
            body.plain.extend(plain.plain)
        else:
            body.plain.extend(v.own_text() for v in versions if _has_words(v.own_text()))

    def _leaf(self, part: Message, content_type: str, body: _Body) -> None:
        disposition = _safe_str(part.get_content_disposition)
        filename = _clean_header(_safe_str(part.get_filename), 255)
        inline = disposition != "attachment" and not filename
        charset = _safe_str(part.get_content_charset)
        if inline and content_type == "text/html":
            html = _decode(_payload(part), charset, MAX_HTML_CHARS * 4)
            body.html.append(html_to_text(html))
        elif inline and (content_type == "text/plain" or content_type.startswith("multipart/")):
            # A multipart without a usable boundary keeps its whole body as text.
            body.plain.append(_decode(_payload(part), charset, MAX_TEXT_CHARS * 4))
        else:
            self._attach(filename, content_type, _payload(part))

    def _attach(self, filename: str, content_type: str, data: bytes) -> None:
        if len(self.attachments) >= MAX_ATTACHMENTS:
            self._note(TOO_MANY_ATTACHMENTS)
            return
        digest = hashlib.sha256(data).hexdigest()
        self.attachments.append(Attachment(filename, content_type, len(data), digest))

    def _attached_message(self, part: Message, body: _Body, depth: int) -> None:
        """A forward "as attachment": its text joins the body after a forward marker."""
        inner = next(iter(_children(part)), None)
        if not isinstance(inner, Message):
            return
        if depth >= MAX_FORWARD_DEPTH:
            self._note(TOO_DEEP)
            return
        version = _Body()
        self.walk(inner, version, nesting=0, depth=depth + 1)
        sender = _address(inner, "From") or _header(inner, "From")
        head = f"{FORWARD_MARKER}\nFrom: {sender}\nSubject: {_header(inner, 'Subject')}\n\n"
        body.forwarded.append(head + version.text())


# -- Text: own lines and quoted or forwarded lines ------------------------------------------------

_QUOTE = re.compile(r"(?:[^\S\n]*>)+[^\S\n]?")
_MARKER = re.compile(
    r"\s*(?:-{2,}\s*(?:forwarded message|mensaje reenviado|original message|mensaje original)"
    r"\s*-{2,}|(?:begin forwarded message|inicio del mensaje reenviado)\s*:|_{8,}"
    r"|.{0,300}(?:escribio|wrote)\s*:)\s*$"
)
_FROM_LINE = re.compile(r"\s*[*_]*(?:de|from)[*_]*\s*:")
_SENT_LINE = re.compile(r"\s*[*_]*(?:enviado|sent|fecha|date)[*_]*\s*:")


def _unquote(line: str) -> tuple[str, bool]:
    match = _QUOTE.match(line)
    return (line[match.end() :], True) if match else (line, False)


@dataclass
class _Block:
    """An earlier message inside this one: forwarded, or quoted in a reply."""

    sender: str = ""
    lines: list[str] = field(default_factory=list)


def _split(text: str) -> tuple[list[str], list[_Block]]:
    """The writer's own lines, then the earlier messages quoted or forwarded below them.

    An earlier message starts at a forward or reply marker ("---------- Forwarded message",
    "-----Mensaje original-----", "El ... escribió:", an Outlook "De:" line followed by
    "Enviado:"), or at the first line quoted with ">". Its sender is the first address on its
    marker or "De:"/"From:" line.
    """
    lines = text.split("\n")
    own: list[str] = []
    blocks: list[_Block] = []
    for i, line in enumerate(lines):
        content, is_quoted = _unquote(line)
        folded = fold(content[:MAX_LINE_CHARS])
        is_from = _FROM_LINE.match(folded) is not None
        starts = _MARKER.match(folded) is not None or (
            is_from and i + 1 < len(lines) and _SENT_LINE.match(fold(lines[i + 1][:100]))
        )
        just_marked = bool(blocks) and len(blocks[-1].lines) == 1 and not blocks[-1].sender
        if (starts and not (is_from and just_marked)) or (is_quoted and not blocks):
            blocks.append(_Block())
        if not blocks:
            own.append(line)
            continue
        block = blocks[-1]
        block.lines.append(content)
        if not block.sender and (starts or is_from) and len(block.lines) <= 8:
            block.sender = _first_email(content[:MAX_LINE_CHARS])
    return own, blocks


_NOT_WORD = re.compile(r"[^a-z0-9]+")
_STANDARD = re.compile(
    r"\bsolicit\w*\s(?:\w+\s){0,3}?credenciale?s?\b(?:\s\w+){0,6}?\s(?:buzon|casilla)\b"
)


def _wording(subject: str, text: str) -> str:
    """ "standard" for the seed's message, "loose" for other ways of asking, "" otherwise.

    Tolerant to accents, case, spacing and RE:/RV:/Fwd: prefixes, in the subject or the body.
    """
    subject_words = _NOT_WORD.sub(" ", fold(subject))
    body_words = _NOT_WORD.sub(" ", fold(text))
    if _STANDARD.search(subject_words) or _STANDARD.search(body_words):
        return "standard"
    start = body_words[:5_000]
    if "credencial" in subject_words or (
        "credencial" in start and ("buzon" in start or "casilla" in start)
    ):
        return "loose"
    return ""


_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:re|rv|fw|fwd|tr|res|enc|rif|aw|wg)\s*(?:\[\d+\])?:)+")


def _fingerprint(
    message_id: str, sender: str, subject: str, text: str, attachments: tuple[Attachment, ...]
) -> str:
    """Equal for duplicates of one message, whatever the transport added to its headers.

    From the sender, subject (without reply prefixes), body text and attachments when the
    message was understood well enough; otherwise from the message_id alone, so two messages
    that were not understood are never merged.
    """
    content = " ".join(text.split())
    if sender and (content or attachments):
        topic = " ".join(_SUBJECT_PREFIX.sub("", subject.lower()).split())
        parts = ["content:v1", sender, topic, content, *sorted(a.sha256 for a in attachments)]
    else:
        parts = ["message-id:v1", message_id]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
