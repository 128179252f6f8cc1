from __future__ import annotations

from typing import Any

import pytest

from tests import factories


@pytest.fixture
def mailbox(db: None) -> Any:
    """A person with two notifications: the first opened and its attachment downloaded, the
    second (a correction request) unread; an email contact verified, so alerts were sent."""
    from mailboxes.actions import RequestMeta, open_notification, record_download

    registration = factories.register()
    factories.verified(registration, email="ana@example.org")
    first = factories.deposit(registration, subject="Aprobación de su CPP")
    factories.deposit(registration, kind="correction", subject="Falta un documento")
    user = registration.procedure.person.user
    assert user is not None
    meta = RequestMeta("203.0.113.7", "Mozilla/5.0 (Android)")
    open_notification(first, reader=user, meta=meta)
    record_download(first.attachments.get(), reader=user, meta=meta)
    return registration
