from __future__ import annotations

from typing import Any

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
def _fresh_rate_limits(settings: LazySettings) -> None:
    """Rate-limit counts live in the cache. The database cache is rolled back with each test;
    Redis (the RQ pass of .ci/run) is not, and ids repeat across tests, so empty it."""
    if "RedisCache" in str(settings.CACHES["default"]["BACKEND"]):
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(scope="session")
def signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Created now, at the real time: made lazily inside a test that travels in time, the
    certificate would not yet be valid for the tests that run at the real time after it."""
    from evidence.pki import _load_or_create

    directory = tmp_path_factory.mktemp("signing")
    _load_or_create(directory, production=False)
    return directory


@pytest.fixture(autouse=True)
def _signing_identity(settings: LazySettings, signing_dir: Any) -> None:
    """One development signing identity for the run (generated on first use, as in
    development), outside the repository; no timestamp authority unless a test sets one."""
    settings.BUZON_SIGNING_DIR = signing_dir
    settings.BUZON_TSA_URL = ""


@pytest.fixture(autouse=True)
def _evidence_keys(settings: LazySettings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fresh checkpoint keyring per test (generated on first use, as in development)."""
    settings.BUZON_EVIDENCE_KEY_DIR = tmp_path_factory.mktemp("keys")


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


def _flush_around_triggers() -> None:
    """The append-only triggers refuse the DELETE/TRUNCATE that transactional tests use to
    empty the database between tests; drop them for the flush and put them back after, with
    the lane heads that migrate creates."""
    from django.core.management.commands import flush

    from evidence import chain, triggers

    original = flush.sql_flush  # type: ignore[attr-defined]

    def sql_flush(style: object, connection: Any, **kwargs: Any) -> list[str]:
        statements: list[str] = original(style, connection, **kwargs)
        heads = ", ".join(f"({lane}, 0, '{chain.GENESIS}')" for lane in range(64))
        return [
            *triggers.uninstall_sql(connection.vendor),
            *statements,
            *triggers.install_sql(connection.vendor),
            # Lane heads, as post_migrate makes them (appends never create them mid-test).
            f"INSERT INTO evidence_chainhead (lane, seq, hash) VALUES {heads}",  # noqa: S608
        ]

    flush.sql_flush = sql_flush  # type: ignore[attr-defined]


_flush_around_triggers()
