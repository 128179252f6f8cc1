"""What an upload may be and weigh: the limits of one answer, PDFs by the answer's own limit,
images that declare a huge canvas."""

import io
import struct
import threading
import warnings
import zlib

import pikepdf
import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from corrections.actions import AnswerInput, file_answer
from corrections.models import Answer
from corrections.uploads import UploadInput, check_upload
from tests import factories

from .helpers import META, correction, person_client, png_bytes

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def post_answer(client, notification, data):
    return client.post(f"/buzon/notificaciones/{notification.public_id}/subsanacion/", data)


def detail(client, notification):
    return client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares width by height pixels (a decompression bomb's
    shape): Pillow reads the header without decoding anything."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_the_files_of_one_answer_together_are_limited_before_any_is_read():
    notification = correction()
    read: list[str] = []

    def declared(name: str) -> UploadInput:
        # 6 MB each, under the 10 MB per file; never read if the total is refused.
        def read_it() -> bytes:
            read.append(name)
            return factories.pdf_bytes()

        return UploadInput(name, 6 * MB, read_it)

    files = {p: [declared(f"doc{p}-{i}.pdf") for i in range(5)] for p in (1, 2)}  # 60 MB
    with pytest.raises(ValidationError) as refused:
        file_answer(notification, user=notification.person.user, data=AnswerInput(files), meta=META)
    assert refused.value.message_dict[NON_FIELD_ERRORS] == [
        "Los archivos de su respuesta pesan en total 60.0 MB; el máximo por respuesta es 50 MB. "
        "Reduzca el tamaño o la cantidad de archivos."
    ]
    assert read == []
    assert not Answer.objects.exists()


def test_the_page_says_how_much_one_answer_may_weigh():
    notification = correction()
    page = detail(person_client(notification), notification)
    assert "Todos los archivos de la respuesta, juntos, pueden pesar hasta 50 MB." in page


def test_a_pdf_is_limited_by_the_answer_limit_not_the_attachment_limit(settings):
    notification = correction(items=None)
    settings.BUZON_ATTACHMENT_MAX_BYTES = 1024  # the agency's attachments: lower
    settings.BUZON_ANSWER_FILE_MAX_BYTES = 64 * 1024
    client = person_client(notification)
    pdf = factories.pdf_bytes(pad_kb=4)
    assert 1024 < len(pdf) < 64 * 1024
    post_answer(client, notification, {"item-1": SimpleUploadedFile("escrito.pdf", pdf)})
    row = Answer.objects.get().files.get()
    assert (row.original_name, row.size) == ("escrito.pdf", len(pdf))


def test_a_pdf_over_the_answer_limit_is_refused_with_that_limit(settings):
    notification = correction(items=None)
    settings.BUZON_ATTACHMENT_MAX_BYTES = 64 * 1024
    settings.BUZON_ANSWER_FILE_MAX_BYTES = 2 * MB
    client = person_client(notification)
    pdf = factories.pdf_bytes() + b"\n%" + b"x" * (3 * MB)
    post_answer(client, notification, {"item-1": SimpleUploadedFile("grande.pdf", pdf)})
    page = detail(client, notification)
    assert "El archivo «grande.pdf» pesa 3.0 MB; el máximo es 2 MB." in page
    assert not Answer.objects.exists()


def test_a_pdf_with_a_password_is_refused_as_such():
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(factories.pdf_bytes())) as document:
        document.save(buffer, encryption=pikepdf.Encryption(owner="dueño", user="clave"))
    with pytest.raises(ValidationError) as refused:
        check_upload(UploadInput.of("secreto.pdf", buffer.getvalue()))
    assert refused.value.messages == ["El archivo «secreto.pdf» está protegido con contraseña."]


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 6000),  # 48 million pixels: over ours (40), under Pillow's
        (20000, 20000),  # 400 million: over Pillow's own bomb limit too
    ],
)
def test_an_image_declaring_a_huge_canvas_is_refused_as_too_large(width, height):
    notification = correction(items=None)
    client = person_client(notification)
    bomb = png_declaring(width, height)
    assert len(bomb) < 200
    post_answer(client, notification, {"item-1": SimpleUploadedFile("bomba.png", bomb)})
    assert "La imagen «bomba.png» es demasiado grande." in detail(client, notification)
    assert not Answer.objects.exists()


def test_checking_an_image_leaves_the_warning_filters_of_other_threads_alone(monkeypatch):
    """gunicorn runs requests in threads of one process, which share the warnings filters: a
    check must not save and restore them around its work, undoing what another thread set
    meanwhile (or leaking its own filter to that thread)."""
    opened = Image.open

    def open_while_another_thread_sets_a_filter(*args, **kwargs):
        other = threading.Thread(
            target=warnings.filterwarnings,
            args=("ignore",),
            kwargs={"message": "set by another request"},
        )
        other.start()
        other.join()
        return opened(*args, **kwargs)

    monkeypatch.setattr(Image, "open", open_while_another_thread_sets_a_filter)
    with warnings.catch_warnings():  # this test's own change stays in this test
        check_upload(UploadInput.of("foto.png", png_bytes()))
        assert any(
            f[1] is not None and f[1].pattern == "set by another request" for f in warnings.filters
        )
