"""Verification codes printed on documents (like Spain's CSV).

16 symbols of Crockford's base32 (no I, L, O, U): 80 bits, grouped in fours for reading aloud.
The code is semi-secret: it proves possession of the document, so it is unguessable.
"""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_AMBIGUOUS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(text: str) -> str | None:
    """Canonical form of a typed code, or None when it cannot be one."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().translate(_AMBIGUOUS)
    if len(cleaned) != 16 or any(ch not in ALPHABET for ch in cleaned):
        return None
    return "-".join(cleaned[i : i + 4] for i in range(0, 16, 4))
