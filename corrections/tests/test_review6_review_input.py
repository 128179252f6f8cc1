"""Review 6: odd input on the officer's review form."""

import pytest
from django.test import Client

from corrections.models import CorrectionRequest, RequestStatus
from mailboxes.models import Notification

from .helpers import answer_every_item, correction, reviewer

pytestmark = pytest.mark.django_db


def test_a_review_comment_with_a_nul_character_is_refused_not_a_500():
    """The person's note refuses "\\x00" (corrections/actions.py), the review comment does not:
    on PostgreSQL the save raises DataError and the officer gets a 500; on SQLite the NUL is
    written into the follow-up notified to the person. A pasted comment can carry one."""
    notification = correction()
    answer_every_item(notification)
    client = Client(raise_request_exception=False)
    client.force_login(reviewer())
    response = client.post(
        f"/oficina/subsanaciones/{notification.public_id}/",
        {
            "item-1-outcome": "met",
            "item-2-outcome": "not_met",
            "item-2-comment": "Falta la firma\x00 del titular.",
        },
    )
    assert response.status_code == 400, f"got {response.status_code}"
    assert "no válidos" in response.content.decode()  # a specific Spanish error
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.ANSWERED
    )
    assert Notification.objects.count() == 1  # no follow-up deposited
