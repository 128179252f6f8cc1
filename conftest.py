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


@pytest.fixture
def reference_data(transactional_db: None) -> None:
    """For transactional tests: the catalogue, units and groups that migrations seed."""
    factories.ensure_reference_data()


@pytest.fixture(autouse=True)
def _media(settings: LazySettings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Attachments go to a fresh folder per test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path_factory.mktemp("media")},
        },
    }
