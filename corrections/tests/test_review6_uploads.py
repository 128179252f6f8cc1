"""Review 6: what the answer form does with more files than it takes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
    assert not Answer.objects.exists()


def test_a_second_field_for_the_same_observation_does_not_silently_drop_files():
    """`item-1` and `item-01` are the same observation for views._uploads(), which keeps the
    last field's files and drops the others without a word: the cargo then lists fewer files
    than were sent. Either both count or the answer is refused."""
    notification = correction(items=None)
    client = person_client(notification)
    pdf = factories.pdf_bytes()
    client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {"item-1": SimpleUploadedFile("a.pdf", pdf), "item-01": SimpleUploadedFile("b.pdf", pdf)},
    )
    answer = Answer.objects.filter(request__notification=notification).first()
    if answer is not None:
        assert sorted(answer.files.values_list("original_name", flat=True)) == ["a.pdf", "b.pdf"]
