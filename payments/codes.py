"""Payment codes: 12 digits, the last two an ISO 7064 Mod 97-10 check (python-stdnum).

Ten random digits (the first never 0, so no system or spreadsheet drops a leading zero) and
two check digits. Mod 97-10, the scheme of IBAN, catches every single wrong digit and every
swap of two neighbouring digits (Luhn misses 09↔90), so a code mistyped at a bank counter or
an agent is refused by the payment system instead of paying someone else's debt.
"""

from __future__ import annotations

import secrets

from stdnum.iso7064 import mod_97_10

LENGTH = 12
BODY = LENGTH - 2


def with_check_digits(body: str) -> str:
    return body + str(mod_97_10.calc_check_digits(body))


def normalize(value: str) -> str:
    """What a person or a payment system may type: spaces and dashes are ignored."""
    return "".join(ch for ch in value if ch not in " -\t")


def is_valid(value: str) -> bool:
    code = normalize(value)
    return len(code) == LENGTH and code.isascii() and code.isdigit() and mod_97_10.is_valid(code)


def random_code() -> str:
    body = str(10 ** (BODY - 1) + secrets.randbelow(9 * 10 ** (BODY - 1)))
    return with_check_digits(body)


def new_codes(count: int) -> list[str]:
    """`count` fresh codes that no debt uses (the unique constraint guards the rest)."""
    from payments.models import Debt

    codes: set[str] = set()
    while len(codes) < count:
        batch = {random_code() for _ in range(count - len(codes))}
        taken = Debt.objects.filter(payment_code__in=batch).values_list("payment_code", flat=True)
        codes |= batch - set(taken)
    return list(codes)
