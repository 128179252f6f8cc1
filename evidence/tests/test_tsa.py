import hashlib
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from evidence import pki, tsa
from evidence.testing_tsa import TSA_NAME, LocalTsa

DIGEST = hashlib.sha256(b"evento 1").digest()


@pytest.fixture(scope="module")
def local_tsa():
    with LocalTsa() as server:
        yield server


@pytest.fixture
def tsa_settings(settings, tmp_path, local_tsa):
    settings.BUZON_SIGNING_DIR = tmp_path / "signing"
    local_tsa.refusing = False
    for name, value in local_tsa.settings().items():
        setattr(settings, name, value)
    pki.reset_cache()
    yield settings
    pki.reset_cache()


def test_without_a_tsa_there_is_no_timestamp(settings):
    settings.BUZON_TSA_URL = ""

    assert tsa.timestamp(DIGEST) is None


def test_a_token_proves_its_digest_and_no_other(tsa_settings):
    before = datetime.now(UTC)
    token = tsa.timestamp(DIGEST)
    after = datetime.now(UTC)

    assert token is not None
    info = tsa.verify_token(token, DIGEST)
    assert info.tsa_name == TSA_NAME
    assert before - timedelta(seconds=1) <= info.gen_time <= after + timedelta(seconds=1)
    with pytest.raises(tsa.TimestampError, match="different digest"):
        tsa.verify_token(token, hashlib.sha256(b"evento 2").digest())


def test_a_token_with_a_broken_signature_is_rejected(tsa_settings):
    original = tsa.timestamp(DIGEST)
    assert original is not None
    token = bytearray(original)
    token[-1] ^= 0x01  # the last bytes are the TSA's signature value

    with pytest.raises(tsa.TimestampError, match="does not verify"):
        tsa.verify_token(bytes(token), DIGEST)


def test_a_token_from_an_untrusted_tsa_is_rejected(tsa_settings):
    token = tsa.timestamp(DIGEST)
    assert token is not None
    with LocalTsa() as other:
        tsa_settings.BUZON_TSA_TRUST_ROOTS = str(other.root_pem_path)

        with pytest.raises(tsa.TimestampError, match="trusted root"):
            tsa.verify_token(token, DIGEST)


def test_garbage_is_not_a_token(tsa_settings):
    with pytest.raises(tsa.TimestampError):
        tsa.verify_token(b"\x30\x03\x02\x01\x00", DIGEST)


def test_a_refusing_tsa_is_an_error(tsa_settings, local_tsa):
    local_tsa.refusing = True

    with pytest.raises(tsa.TimestampError, match="refused"):
        tsa.timestamp(DIGEST)


def test_an_unreachable_tsa_is_an_error(tsa_settings):
    with LocalTsa() as gone:
        url = gone.url
    tsa_settings.BUZON_TSA_URL = url

    with pytest.raises(tsa.TimestampError, match="cannot reach"):
        tsa.timestamp(DIGEST)


def test_only_sha256_digests_are_accepted(tsa_settings):
    with pytest.raises(ValueError, match="32-byte"):
        tsa.timestamp(b"short")


def test_a_pdf_signed_with_a_tsa_carries_a_valid_signature_timestamp(tsa_settings):
    before = datetime.now(UTC)
    signed = pki.sign_pdf(small_pdf(), reason="Notificación electrónica")

    summary = pki.validate_pdf(signed)

    assert summary.trusted
    assert summary.timestamp_valid is True
    assert summary.signed_at is not None
    assert summary.signed_at >= before - timedelta(seconds=1)
    signature = PdfFileReader(BytesIO(signed)).embedded_regular_signatures[0]
    unsigned = signature.signer_info["unsigned_attrs"]
    assert [attr["type"].native for attr in unsigned] == ["signature_time_stamp_token"]


def test_a_timestamp_from_an_untrusted_tsa_is_reported(tsa_settings):
    signed = pki.sign_pdf(small_pdf(), reason="Prueba")
    tsa_settings.BUZON_TSA_TRUST_ROOTS = ""

    summary = pki.validate_pdf(signed)

    assert summary.trusted
    assert summary.timestamp_valid is False


def test_signing_stops_when_the_tsa_refuses(tsa_settings, local_tsa):
    local_tsa.refusing = True

    with pytest.raises(tsa.TimestampError, match="refused"):
        pki.sign_pdf(small_pdf(), reason="Prueba")


def small_pdf() -> bytes:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Acto administrativo")
    page.save()
    return buffer.getvalue()
