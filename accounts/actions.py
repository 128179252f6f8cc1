"""Legal state changes of access: issuing credentials and changing a password.

Each function owns its transaction and writes its evidence event inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User
from accounts.passwords import generate_password
from evidence.actions import record
from evidence.models import EventKind

if TYPE_CHECKING:
    from people.models import Person


def issue_credentials(person: Person, *, actor: User | None, reissue: bool = False) -> str:
    """Create (or, when reissuing, replace) the person's permanent buzón credentials.

    Returns the plaintext password, which the caller prints on the constancia and drops. Only
    the Argon2id hash is stored. Reissuing ends every open session of the person, because the
    session hash changes with the password.
    """
    with transaction.atomic():
        password = generate_password()
        user = person.user
        if user is None:
            if reissue:
                raise ValueError("cannot reissue credentials that were never issued")
            user = User(username=person.username, kind=User.Kind.PERSON)
            user.set_password(password)
            user.save()
            person.user = user
            person.save(update_fields=["user", "updated_at"])
        else:
            if not reissue:
                raise ValueError("credentials already issued; reissue them explicitly")
            user.set_password(password)
            user.save(update_fields=["password"])
        record(
            EventKind.CREDENTIALS_REISSUED if reissue else EventKind.CREDENTIALS_ISSUED,
            actor=actor,
            person=person,
            data={"username": user.username},
        )
    return password


def change_password(user: User, new_password: str, *, actor: User | None) -> None:
    """Set a password the person chose. Django's session hash then ends their other sessions."""
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        person = getattr(user, "person", None)
        record(EventKind.PASSWORD_CHANGED, actor=actor or user, person=person)
