"""Review 6: what the answer form does with more files than it takes."""

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from corrections import rules
from corrections.models import Answer
from tests import factories

from .helpers import correction, person_client

pytestmark = pytest.mark.django_db


def test_selecting_too_many_photos_gets_the_spanish_per_item_limit_not_an_english_400():
    """A phone's picker lets a person select a whole album. Past Django's
    DATA_UPLOAD_MAX_NUMBER_FILES (100, not set by the project) the request dies before the view
    with Django's bare English "Bad Request (400)" page (there is no 400.html), and the note
    typed is lost; 5 files per observation is the limit the page announces."""
    notification = correction(items=None)
    client = person_client(notification)
    client.raise_request_exception = False
    pdf = factories.pdf_bytes()
    response = client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {
            "item-1": [SimpleUploadedFile(f"foto{i}.pdf", pdf) for i in range(101)],
            "note": "Adjunto las fotos.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:200]
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "Puede adjuntar como máximo 5 archivos por observación." in page
    assert "Adjunto las fotos." in page  # the note typed is kept
    assert not Answer.objects.exists()


def test_the_limit_of_files_per_form_leaves_room_for_the_largest_answer():
    largest = rules.MAX_ITEMS * settings.BUZON_ANSWER_FILES_PER_ITEM
    assert largest < settings.DATA_UPLOAD_MAX_NUMBER_FILES
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES > settings.BUZON_ATTACHMENTS_PER_NOTIFICATION


def test_past_the_limit_the_csrf_check_stops_reading_and_the_person_still_gets_the_limit():
    """In production the CSRF check reads the form before the view (the test client skips it
    unless told): Django's TooManyFilesSent reaches the 400 handler, not the view."""
    notification = correction(items=None)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(notification.person.user)
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    pdf = factories.pdf_bytes()
    response = client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {
            "csrfmiddlewaretoken": token.group(1),
            "item-1": [
                SimpleUploadedFile(f"foto{i}.pdf", pdf)
                for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
            ],
        },
    )
    assert response.status_code == 302
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "envió demasiados archivos a la vez" in page
    assert "Puede adjuntar como máximo 5 archivos por observación." in page
    assert not Answer.objects.exists()


def test_too_many_files_elsewhere_gets_the_sites_own_400_page():
    notification = correction(items=None)
    client = Client(raise_request_exception=False)
    client.force_login(notification.person.user)
    pdf = factories.pdf_bytes()
    response = client.post(
        "/verificar/",
        {
            "f": [
                SimpleUploadedFile(f"{i}.pdf", pdf)
                for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
            ]
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Envió demasiados archivos a la vez." in page
    assert "Bad Request" not in page


def test_a_second_field_for_the_same_observation_does_not_silently_drop_files():
    """`item-1` and `item-01` are the same observation for views._uploads(), which kept the
    last field's files and dropped the others without a word: the cargo then listed fewer files
    than were sent. Only `item-<n>` is an observation's field; the answer is refused."""
    notification = correction(items=None)
    client = person_client(notification)
    pdf = factories.pdf_bytes()
    client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {"item-1": SimpleUploadedFile("a.pdf", pdf), "item-01": SimpleUploadedFile("b.pdf", pdf)},
    )
    assert not Answer.objects.filter(request__notification=notification).exists()
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "El formulario no corresponde a esta subsanación. Recargue la página." in page


@pytest.mark.parametrize("field", ["item-01", "item-0", "foto", "item-1-bis"])
def test_a_file_in_a_field_of_no_observation_refuses_the_answer(field):
    notification = correction(items=None)
    client = person_client(notification)
    pdf = factories.pdf_bytes()
    client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {"item-1": SimpleUploadedFile("a.pdf", pdf), field: SimpleUploadedFile("b.pdf", pdf)},
    )
    assert not Answer.objects.exists()
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "El formulario no corresponde a esta subsanación. Recargue la página." in page
