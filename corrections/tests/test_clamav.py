"""Uploads are scanned by clamd when BUZON_CLAMD_URL is set; infected files are refused, and an
unreachable clamd refuses the upload (fail closed)."""

import logging
import socket
import socketserver
import struct
import threading
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from corrections.actions import AnswerInput, file_answer
from corrections.models import Answer
from corrections.uploads import ScannerUnavailableError, UploadInput
from tests import factories

from .helpers import EICAR, META, correction, person_client

pytestmark = pytest.mark.django_db


class FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM: "nINSTREAM\\n", then chunks (4-byte big-endian length and data)
    up to a zero length; answers "stream: OK" or, for the EICAR test string, FOUND."""

    scanned: list[bytes]

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\n"):
            command += self._exactly(1)
        assert command == b"nINSTREAM\n", command
        stream = b""
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            stream += self._exactly(length)
        self.scanned.append(stream)
        found = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in stream
        reply = "stream: Eicar-Test-Signature FOUND\n" if found else "stream: OK\n"
        self.request.sendall(reply.encode())


@contextmanager
def fake_clamd(server_class, address):
    scanned: list[bytes] = []
    handler = type("Handler", (FakeClamd,), {"scanned": scanned})
    with server_class(address, handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server, scanned
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture
def clamd_tcp(settings):
    with fake_clamd(socketserver.ThreadingTCPServer, ("127.0.0.1", 0)) as (server, scanned):
        host, port = server.server_address
        settings.BUZON_CLAMD_URL = f"tcp://{host}:{port}"
        yield scanned


def infected_pdf():
    # A real PDF (it passes the content check) that carries the EICAR test string after its end.
    return factories.pdf_bytes() + b"\n" + EICAR + b"\n"


def test_an_infected_file_is_refused_and_nothing_is_written(clamd_tcp):
    notification = correction()
    client = person_client(notification)
    client.post(
        f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
        {
            "item-1": SimpleUploadedFile("pasaporte.pdf", factories.pdf_bytes()),
            "item-2": SimpleUploadedFile("pago.pdf", infected_pdf()),
        },
    )
    assert len(clamd_tcp) == 2  # every file went through clamd
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "«pago.pdf» contiene un virus o un programa malicioso" in page
    assert not Answer.objects.exists()
    notification.refresh_from_db()
    assert notification.deadline_stopped_at is None


def test_clean_files_pass_the_scan(clamd_tcp):
    notification = correction(items=None)
    file_answer(
        notification,
        user=notification.person.user,
        data=AnswerInput({1: [UploadInput.of("ok.pdf", factories.pdf_bytes())]}),
        meta=META,
    )
    assert clamd_tcp == [factories.pdf_bytes()]
    assert Answer.objects.count() == 1


def test_clamd_over_a_unix_socket(settings, tmp_path):
    path = str(tmp_path / "clamd.sock")
    with fake_clamd(socketserver.ThreadingUnixStreamServer, path) as (_server, scanned):
        settings.BUZON_CLAMD_URL = f"unix://{path}"
        notification = correction(items=None)
        with pytest.raises(ValidationError) as refused:
            file_answer(
                notification,
                user=notification.person.user,
                data=AnswerInput({1: [UploadInput.of("x.pdf", infected_pdf())]}),
                meta=META,
            )
    assert "virus" in refused.value.message_dict["item-1"][0]
    assert len(scanned) == 1


def test_an_unreachable_clamd_refuses_the_upload_and_says_to_try_later(settings, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.BUZON_CLAMD_URL = f"tcp://127.0.0.1:{port}"
    notification = correction(items=None)
    with pytest.raises(ScannerUnavailableError):
        file_answer(
            notification,
            user=notification.person.user,
            data=AnswerInput({1: [UploadInput.of("ok.pdf", factories.pdf_bytes())]}),
            meta=META,
        )
    client = person_client(notification)
    with caplog.at_level(logging.ERROR):
        client.post(
            f"/buzon/notificaciones/{notification.public_id}/subsanacion/",
            {"item-1": SimpleUploadedFile("ok.pdf", factories.pdf_bytes())},
        )
    page = client.get(f"/buzon/notificaciones/{notification.public_id}/").content.decode()
    assert "Inténtelo de nuevo en unos minutos" in page
    assert any("clamd" in record.getMessage() for record in caplog.records)
    assert not Answer.objects.exists()
