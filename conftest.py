from __future__ import annotations

import pytest
from django.conf import LazySettings

from accounts.models import User
from tests import factories


@pytest.fixture
def officer(db: None) -> User:
    return factories.officer("mesa1")


@pytest.fixture
def supervisor(db: None) -> User:
    return factories.supervisor()


@pytest.fixture
def nobody(db: None) -> User:
    """An officer account with no group and no permission at all."""
    return User.objects.create_user(
        username="nobody", password="nobody-password-123", kind=User.Kind.OFFICER
    )


@pytest.fixture
def argon2(settings: LazySettings) -> None:
    """Use the production hasher (the suite defaults to a fast one)."""
    settings.PASSWORD_HASHERS = ["accounts.hashers.BuzonArgon2PasswordHasher"]
