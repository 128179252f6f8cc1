"""Review 6: odd input on the officer's review form."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from corrections.models import Answer, CorrectionRequest, RequestStatus
from mailboxes.models import Notification
from tests import factories

from .helpers import answer_every_item, correction, person_client, reviewer

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
    page = response.content.decode()
    assert "El comentario contiene caracteres no válidos." in page  # by the observation
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.ANSWERED
    )
    assert Notification.objects.count() == 1  # no follow-up deposited


@pytest.mark.parametrize("character", ["\x1b", "\x08", "\x85"])
def test_other_control_characters_in_a_review_comment_are_refused_too(character):
    notification = correction()
    answer_every_item(notification)
    client = Client()
    client.force_login(reviewer())
    response = client.post(
        f"/oficina/subsanaciones/{notification.public_id}/",
        {
            "item-1-outcome": "met",
            "item-2-outcome": "not_met",
            "item-2-comment": f"Falta la firma{character} del titular.",
        },
    )
    assert response.status_code == 400
    assert "El comentario contiene caracteres no válidos." in response.content.decode()
    assert Notification.objects.count() == 1


def test_a_comment_with_tabs_and_line_breaks_is_taken():
    notification = correction()
    answer_every_item(notification)
    client = Client()
    client.force_login(reviewer())
    response = client.post(
        f"/oficina/subsanaciones/{notification.public_id}/",
        {
            "item-1-outcome": "met",
            "item-2-outcome": "not_met",
            "item-2-comment": "Falta la firma\r\n\tdel titular.",
        },
    )
    assert response.status_code == 302
    request = CorrectionRequest.objects.get(notification=notification)
    assert request.status == RequestStatus.PARTIALLY_MET
    assert request.items.get(position=2).comment == "Falta la firma del titular."


def test_a_refused_follow_up_deposit_is_shown_to_the_officer_not_hidden(monkeypatch):
    """The follow-up's own checks key their errors by its fields (body, attachments): the
    officer must read them, not only "Corrija lo indicado" with nothing indicated."""

    def refused(data, *, actor):
        raise ValidationError({"body": ["El texto contiene caracteres no válidos."]})

    monkeypatch.setattr("corrections.actions.deposit_notification", refused)
    notification = correction()
    answer_every_item(notification)
    client = Client()
    client.force_login(reviewer())
    response = client.post(
        f"/oficina/subsanaciones/{notification.public_id}/",
        {"item-1-outcome": "met", "item-2-outcome": "not_met", "item-2-comment": "Ilegible."},
    )
    assert response.status_code == 400
    assert "El texto contiene caracteres no válidos." in response.content.decode()
    assert CorrectionRequest.objects.get(notification=notification).status == (
        RequestStatus.ANSWERED
    )


@pytest.mark.parametrize("character", ["\x00", "\x1b"])
def test_the_persons_note_follows_the_same_rule(character):
    notification = correction(items=None)
    client = person_client(notification)
    client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {
            "item-1": SimpleUploadedFile("a.pdf", factories.pdf_bytes()),
            "note": f"Adjunto{character} lo pedido.",
        },
    )
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "La nota contiene caracteres no válidos." in page
    assert not Answer.objects.exists()
