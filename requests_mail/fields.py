"""The personal data written below the subject of a credential request.

The seed only says "añade tus datos personales", so everyone writes them their own way: labels in
any order and case, with or without accents and colons, one per line or several on one line.
Labels are matched on a folded copy of each line (lower case, no accents, one character for one),
and each value is cut from the original line at the same offsets, so it keeps its spelling.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from people.documents import NEEDS_ISSUING_COUNTRY, DocumentType, normalize_document

MAX_LINE_CHARS = 1_000

# Reasons, in English, shown to the officer who reviews the request.
NO_GIVEN_NAMES = "no given names found"
NO_SURNAMES = "no surnames found"
FULL_NAME_ONLY = "full name given in one field; split given names and surnames by hand"
NO_DOCUMENT = "no document number found"
NO_DOCUMENT_TYPE = "document type not stated"
BAD_BIRTH_DATE = "birth date not understood"
TWO_DOCUMENTS = "two different document numbers given; the first one was kept"
TWO_BIRTH_DATES = "two different birth dates given; the first one was kept"


def invalid_document(doc_type: str) -> str:
    return f"document number is not valid for {doc_type}"


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if len(base.lower()) == 1:
        return base.lower()
    return char.lower() if len(char.lower()) == 1 else char


def fold(text: str) -> str:
    """Lower case without accents, one character for one: fold(s)[i] stands for s[i]."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


# Labels, on folded text. Order matters: the first alternative that matches wins.
_NUMBER = r"(?:n(?:ro|um|umero|o|°)?\.?\s*(?:del?\s+)?)"
_DOC = (
    r"(?:documento(?:\s+nacional)?(?:\s+de\s+identidad)?|doc\.?(?:\s+de\s+identidad)?"
    r"|identificacion|d\.?n\.?i\.?|c\.?e\.?|c\.?p\.?p\.?|p\.?t\.?p\.?|pasaporte"
    r"|carne?t?\s+de\s+extranjeria|carne?t?\s+de\s+permiso\s+temporal\s+de\s+permanencia"
    r"|permiso\s+temporal\s+de\s+permanencia)"
)
_PHONE = r"(?:celular|telefono|tel(?:e?f)?\.?|tlf\.?|cel\.?|movil|whatsapp)"
_LABELS = (
    ("full_name", r"nombres?\s+y\s+apellidos?|apellidos?\s+y\s+nombres?|nombre\s+completo"),
    ("surnames", r"apellidos?\s+paterno\s*(?:y|/|,)\s*materno|apellidos"),
    ("paternal", r"apellido\s+paterno|primer\s+apellido|ap(?:ellido)?\.?\s*pat(?:erno|\.)?"),
    ("maternal", r"apellido\s+materno|segundo\s+apellido|ap(?:ellido)?\.?\s*mat(?:erno|\.)?"),
    ("surnames", r"apellido"),
    ("given_names", r"nombres?(?:\s+completos?)?|pre-?nombres?"),
    ("document_type", r"tipo\s+(?:de\s+)?(?:documento|doc\.?)(?:\s+de\s+identidad)?"),
    (
        "document",
        rf"{_NUMBER}?{_DOC}(?:\s*/\s*{_DOC})*(?:\s*\([^)\n]{{0,40}}\))?(?:\s+{_NUMBER})?",
    ),
    ("birth_date", r"f(?:echa|ec)?\.?\s*(?:de\s+)?nac(?:imiento|\.)?"),
    ("nationality", r"nacionalidad|pais\s+de\s+(?:origen|nacionalidad)"),
    ("phone", rf"{_NUMBER}?{_PHONE}(?:\s*(?:/|y|o)\s*{_PHONE})*(?:\s+(?:de\s+)?contacto)?"),
    ("phone", r"numero\s+de\s+contacto"),
    ("email", r"correo(?:\s+electronico)?|e-?mail"),
)
_ALTERNATIVES = "|".join(f"(?P<{name}_{i}>{rx})" for i, (name, rx) in enumerate(_LABELS))
_LINE_LABEL = re.compile(
    r"[^\S\n]*(?:[-*\u2022\u00b7\u2013\u2014+]\s*|\d{1,2}[.)]\s*)?[*_]*\s*"
    rf"(?:{_ALTERNATIVES})(?![a-z0-9])"
    r"[^\S\n]*[*_]*[^\S\n]*(?P<colon>[:\uff1a=]|[-\u2013\u2014](?=\s)|\.(?=\s))?[^\S\n]*[*_]*[^\S\n]*"
)
# Another label later on the same line: "Nombres: Ana  Apellidos: Ruiz". Needs a colon.
_INLINE_LABEL = re.compile(
    rf"(?<=[\s,;|])(?:{_ALTERNATIVES})(?![a-z0-9])[^\S\n]*[*_]*[^\S\n]*(?P<colon>[:\uff1a])"
)

_START = r"(?<![a-z0-9])"
_CARNE = r"carne?t?\s+de\s+"
_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    (DocumentType.CPP.value, rf"{_START}c\.?\s?p\.?\s?p(?![a-z])|{_CARNE}permiso\s+temporal"),
    (DocumentType.PTP.value, rf"{_START}p\.?\s?t\.?\s?p(?![a-z])|permiso\s+temporal\s+de\s+perm"),
    (DocumentType.CE.value, rf"{_START}c\.?\s?e(?![a-z])|{_CARNE}extranjeria|carne?t?\s+ext\b"),
    (DocumentType.DNI.value, rf"{_START}d\.?\s?n\.?\s?i(?![a-z])|documento\s+nacional\s+de\s+id"),
    (DocumentType.PASSPORT.value, rf"{_START}(?:pasaporte|passport|pas)(?![a-z])"),
)
_TYPE_RES = tuple((doc_type, re.compile(rx)) for doc_type, rx in _TYPE_WORDS)
_TYPE_PREFIX = re.compile(r"(cpp|ptp|ce|dni)-?(?=\d)")
_NUMBER_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,3}-?)?\d+(?:[ .\-]\d+)*[A-Za-z]?(?![A-Za-z0-9])"
)
# "mi CPP es 001234567", "CE N° 001234567": a document written in a sentence, without a label.
_PROSE_DOCUMENT = re.compile(
    r"(?<![a-z0-9])(?:d\.?n\.?i|c\.?e|c\.?p\.?p|p\.?t\.?p|pasaporte|carne?t?\s+de\s+extranjeria)"
    r"\.?(?![a-z0-9])[\s:.\-#°]*(?:(?:n(?:ro|um|umero|o)?|numero)[\s:.\-#°]*)?(?:es\s+(?:el\s+)?)?"
    r"(?=[a-z]{0,3}-?\d)"
)

_MONTHS = {
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
    "septiembre": 9, "setiembre": 9, "sept": 9, "sep": 9, "set": 9, "octubre": 10, "oct": 10,
    "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
}  # fmt: skip
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?!\d)")
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?!\d)")
_SPELLED = re.compile(
    r"(?<!\d)(\d{1,2})\s*(?:de\s+)?([a-z]{3,10})\.?\s*(?:de(?:l)?\s+)?(\d{4})(?!\d)"
)

_NAME = re.compile(r"[^\W\d_]+(?:[\s'\u2019.\-]+[^\W\d_]+)*\.?")
_STOPWORDS = frozenset(
    {"a", "al", "con", "de", "del", "el", "en", "es", "la", "las", "los", "mi", "no", "para",
     "por", "que", "se", "su", "un", "una", "y"}
)  # fmt: skip
_VALUE_TRIM = " \t*_|,;:"


@dataclass(frozen=True)
class Fields:
    given_names: str = ""
    surnames: str = ""
    document_type: str = ""
    document_number: str = ""
    document_number_raw: str = ""
    birth_date: date | None = None
    nationality: str = ""
    phone: str = ""
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Hit:
    field: str
    label: str  # folded
    value: str
    colon: bool


def _line_hits(line: str) -> list[_Hit]:
    folded = fold(line)
    match = _LINE_LABEL.match(folded)
    if match is None:
        return []
    hits = []
    while match is not None:
        group = _label_group(match)
        start = match.end()
        following = _INLINE_LABEL.search(folded, start)
        end = following.start() if following else len(line)
        hits.append(
            _Hit(
                field=group.rsplit("_", 1)[0],
                label=match.group(group),
                value=line[start:end].strip(_VALUE_TRIM),
                colon=bool(match.group("colon")) or following is not None,
            )
        )
        match = following
    return hits


def _label_group(match: re.Match[str]) -> str:
    """The name of the label group that matched, e.g. "given_names_5"."""
    return next(
        name for name, value in match.groupdict().items() if value is not None and name != "colon"
    )


def _hits(lines: Sequence[str]) -> list[_Hit]:
    """Every labelled value, in reading order. An empty label takes the next line as its value."""
    found: list[_Hit] = []
    pending: _Hit | None = None
    for raw_line in lines:
        line = raw_line[:MAX_LINE_CHARS]
        hits = _line_hits(line)
        if pending is not None and not hits and line.strip():
            found.append(replace(pending, value=line.strip(_VALUE_TRIM)))
        pending = None
        for hit in hits:
            if hit.value:
                found.append(hit)
        if hits and not hits[-1].value:
            pending = hits[-1]
    return found


def _types_in(folded: str) -> list[str]:
    """Document types named in a folded text, in order of appearance, without repeats."""
    found: list[tuple[int, str]] = []
    for doc_type, rx in _TYPE_RES:
        match = rx.search(folded)
        if match is not None:
            found.append((match.start(), doc_type))
    return [doc_type for _, doc_type in sorted(found)]


def _number_in(value: str) -> tuple[str, str]:
    """(number as written, document type named beside it) in a document value, or ("", "")."""
    folded = fold(value)
    masked = list(value)
    for _, rx in _TYPE_RES:
        for match in rx.finditer(folded):
            masked[match.start() : match.end()] = " " * (match.end() - match.start())
    types = _types_in(folded)
    for match in _NUMBER_TOKEN.finditer("".join(masked)):
        token = match.group()
        prefix = _TYPE_PREFIX.match(token.lower())
        if prefix is not None:
            types = [prefix.group(1).upper(), *types]
            token = token[prefix.end() :]
        if sum(c.isdigit() for c in token) >= 5:
            return token, types[0] if types else ""
    return "", ""


def _normalized(doc_type: str, number: str) -> str:
    """The canonical number from people.documents, or "" when it is not valid for the type."""
    # Passports need an issuing country, which a mail seldom states; only the number is kept
    # here, so a placeholder country is passed and the case step asks for the real one.
    country = "ZZ" if doc_type in NEEDS_ISSUING_COUNTRY else ""
    try:
        return normalize_document(doc_type, number, country).number
    except Exception:  # ValidationError, or no Django settings to translate its message
        return ""


def _document(hits: list[_Hit], lines: Sequence[str]) -> tuple[str, str, str, list[str]]:
    stated = ""
    for hit in hits:
        if hit.field == "document_type":
            types = _types_in(fold(hit.value))
            if types:
                stated = types[0]
                break
    raw = number = doc_type = ""
    for hit in hits:
        if hit.field != "document":
            continue
        number, value_type = _number_in(hit.value)
        if number:
            label_types = _types_in(hit.label)
            label_type = label_types[0] if len(label_types) == 1 else ""
            doc_type = value_type or label_type or stated
            raw = hit.value
            break
    if not number:
        for line in lines:
            line = line[:MAX_LINE_CHARS]
            match = _PROSE_DOCUMENT.search(fold(line))
            if match is not None:
                number, value_type = _number_in(line[match.start() : match.end() + 20])
                if number:
                    doc_type = value_type or stated
                    raw = line[match.start() : match.end() + len(number)].strip()
                    break
    if not number:
        return "", "", "", [NO_DOCUMENT]
    extra = [TWO_DOCUMENTS] if len(_documents_named(hits, stated)) > 1 else []
    if not doc_type:
        return "", "", raw, [NO_DOCUMENT_TYPE, *extra]
    canonical = _normalized(doc_type, number)
    return doc_type, canonical, raw, ([] if canonical else [invalid_document(doc_type)]) + extra


def _documents_named(hits: list[_Hit], stated: str) -> set[str]:
    """Every document number the labelled lines give, one key per document: the canonical
    number when it is valid for its type (so "1234567" and "001234567" for a CE are one),
    else its digits without leading zeros."""
    keys: set[str] = set()
    for hit in hits:
        if hit.field != "document":
            continue
        number, value_type = _number_in(hit.value)
        if not number:
            continue
        label_types = _types_in(hit.label)
        doc_type = value_type or (label_types[0] if len(label_types) == 1 else "") or stated
        canonical = _normalized(doc_type, number) if doc_type else ""
        keys.add(canonical or "".join(c for c in number if c.isdigit()).lstrip("0"))
    return keys


def _name(value: str, colon: bool) -> str:
    value = " ".join(value.split()).strip(" .,;:*_-")
    if not value or len(value) > 100 or _NAME.fullmatch(value) is None:
        return ""
    words = value.split()
    if len(words) > 8 or (not colon and (len(words) > 5 or fold(words[0]) in _STOPWORDS)):
        return ""
    return value


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    today = datetime.now(UTC).date()
    return value if date(1900, 1, 1) <= value <= today else None


def parse_birth_date(value: str) -> date | None:
    """dd/mm/yyyy, d-m-yyyy, dd.mm.yyyy, yyyy-mm-dd or "5 de marzo de 1990"; None otherwise."""
    folded = fold(value)
    if match := _YMD.search(folded):
        return _valid_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DMY.search(folded):
        return _valid_date(int(match[3]), int(match[2]), int(match[1]))
    if (match := _SPELLED.search(folded)) and match[2] in _MONTHS:
        return _valid_date(int(match[3]), _MONTHS[match[2]], int(match[1]))
    return None


def _of(hits: list[_Hit], field: str) -> list[_Hit]:
    return [hit for hit in hits if hit.field == field]


def extract(lines: Sequence[str]) -> Fields:
    """Read the personal data from the lines of a request, the requester's own lines first."""
    hits = _hits(lines)
    reasons: list[str] = []

    given = next((v for h in _of(hits, "given_names") if (v := _name(h.value, h.colon))), "")
    surnames = next((v for h in _of(hits, "surnames") if (v := _name(h.value, h.colon))), "")
    if not surnames:
        parts = [
            next((v for h in _of(hits, side) if (v := _name(h.value, h.colon))), "")
            for side in ("paternal", "maternal")
        ]
        surnames = " ".join(part for part in parts if part)
    if not given and not surnames and _of(hits, "full_name"):
        reasons.append(FULL_NAME_ONLY)
    else:
        if not given:
            reasons.append(NO_GIVEN_NAMES)
        if not surnames:
            reasons.append(NO_SURNAMES)

    doc_type, number, raw_number, doc_reasons = _document(hits, lines)
    reasons.extend(doc_reasons)

    birth_date = None
    date_hits = _of(hits, "birth_date")
    for hit in date_hits:
        birth_date = parse_birth_date(hit.value)
        if birth_date is not None:
            break
    if date_hits and birth_date is None:
        reasons.append(BAD_BIRTH_DATE)
    if len({d for h in date_hits if (d := parse_birth_date(h.value)) is not None}) > 1:
        reasons.append(TWO_BIRTH_DATES)

    nationality = next(
        (" ".join(h.value.split())[:60] for h in _of(hits, "nationality") if _has_letters(h)),
        "",
    )
    phone = next(
        (
            " ".join(h.value.split())[:40]
            for h in _of(hits, "phone")
            if sum(c.isdigit() for c in h.value) >= 6
        ),
        "",
    )
    return Fields(
        given_names=given,
        surnames=surnames,
        document_type=doc_type,
        document_number=number,
        document_number_raw=raw_number,
        birth_date=birth_date,
        nationality=nationality,
        phone=phone,
        reasons=tuple(reasons),
    )


def _has_letters(hit: _Hit) -> bool:
    return any(c.isalpha() for c in hit.value) and not any(c.isdigit() for c in hit.value)
