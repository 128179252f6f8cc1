import asyncio
import stat
import threading
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from evidence import pki


@pytest.fixture(autouse=True)
def signing_dir(settings, tmp_path):
    settings.BUZON_SIGNING_DIR = tmp_path / "signing"
    settings.BUZON_TSA_URL = ""
    settings.BUZON_TSA_TRUST_ROOTS = ""
    pki.reset_cache()
    yield settings.BUZON_SIGNING_DIR
    pki.reset_cache()


def reportlab_pdf(text: str = "Resolución de prueba") -> bytes:
    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    for line in range(40):
        page.drawString(72, 800 - line * 18, f"{text} - línea {line}")
    page.showPage()
    page.save()
    return buffer.getvalue()


def test_a_signed_pdf_validates_as_the_agencys_pades_signature(settings):
    signed = pki.sign_pdf(reportlab_pdf(), reason="Notificación electrónica")

    summary = pki.validate_pdf(signed)

    assert summary.intact
    assert summary.valid
    assert summary.trusted
    assert summary.covers_whole_document
    assert summary.signer_cn == settings.AGENCY["name"]
    assert summary.signed_at is not None
    assert summary.timestamp_valid is None
    signature = PdfFileReader(BytesIO(signed)).embedded_regular_signatures[0]
    assert signature.field_name == "BuzonFirma"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == "Notificación electrónica"
    assert signature.sig_object["/Location"] == "Lima, Perú"


def test_the_signature_embeds_the_chain_up_to_the_root():
    signed = pki.sign_pdf(reportlab_pdf(), reason="Prueba")

    signature = PdfFileReader(BytesIO(signed)).embedded_regular_signatures[0]
    root_der = pki.trust_roots()[0].public_bytes(serialization.Encoding.DER)
    assert [cert.dump() for cert in signature.other_embedded_certs] == [root_der]
    assert signature.signer_cert.sha256.hex() == pki.signing_identity().fingerprint


def test_changing_one_signed_byte_is_caught():
    pdf = reportlab_pdf()
    signed = bytearray(pki.sign_pdf(pdf, reason="Prueba"))
    # A letter in ReportLab's header comment: inside the signed range, and the file still parses.
    position = signed.index(b"ReportLab Generated PDF")
    assert position < len(pdf)
    signed[position] = ord("r")

    summary = pki.validate_pdf(bytes(signed))

    assert not summary.intact
    assert not summary.trusted


def test_content_appended_after_signing_is_reported():
    signed = pki.sign_pdf(reportlab_pdf(), reason="Prueba")
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    info = writer.trailer["/Info"]
    info[generic.NameObject("/Title")] = generic.TextStringObject("Otro documento")
    writer.update_container(info)
    appended = BytesIO()
    writer.write(appended)

    summary = pki.validate_pdf(appended.getvalue())

    assert summary.intact
    assert not summary.covers_whole_document


def test_a_signature_from_another_identity_is_not_trusted(settings, tmp_path):
    signed = pki.sign_pdf(reportlab_pdf(), reason="Prueba")
    settings.BUZON_SIGNING_DIR = tmp_path / "another"

    summary = pki.validate_pdf(signed)

    assert summary.intact
    assert summary.valid
    assert not summary.trusted


def test_an_unsigned_or_broken_pdf_is_reported():
    with pytest.raises(pki.PdfSignatureError, match="no signature"):
        pki.validate_pdf(reportlab_pdf())
    with pytest.raises(pki.PdfSignatureError):
        pki.validate_pdf(b"not a PDF at all")
    with pytest.raises(pki.PdfSignatureError, match="cannot be signed"):
        pki.sign_pdf(b"%PDF-1.4\n not really", reason="Prueba")


def test_signing_works_from_inside_an_event_loop():
    async def sign_in_async_code() -> bytes:
        return pki.sign_pdf(reportlab_pdf(), reason="Prueba")

    # A thread of its own: the browser tests leave an event loop running in this one.
    results: list[bytes] = []
    worker = threading.Thread(target=lambda: results.append(asyncio.run(sign_in_async_code())))
    worker.start()
    worker.join()

    assert pki.validate_pdf(results[0]).trusted


def test_the_development_identity_is_generated_once_and_reused(signing_dir, settings):
    first = pki.signing_identity()
    pki.reset_cache()
    second = pki.signing_identity()

    assert first.development
    assert second.fingerprint == first.fingerprint
    assert sorted(path.name for path in signing_dir.iterdir()) == [
        "chain.pem",
        "signer.cert.pem",
        "signer.key.pem",
    ]
    assert stat.S_IMODE((signing_dir / "signer.key.pem").stat().st_mode) == 0o600
    [root] = pki.trust_roots()
    assert root.subject.rfc4514_string().startswith(
        "CN=Buzón desarrollo - CA raíz (NO VÁLIDA PARA PRODUCCIÓN)"
    )
    cert = first.cert
    assert (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == (settings.AGENCY["name"])
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "PE"
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.digital_signature
    assert key_usage.content_commitment
    assert not key_usage.key_cert_sign
    cert.verify_directly_issued_by(root)


def test_processes_racing_to_create_the_identity_agree_on_one(signing_dir):
    barrier = threading.Barrier(6)
    fingerprints: list[str] = []

    def create() -> None:
        barrier.wait()
        fingerprints.append(pki._load_or_create(signing_dir, production=False).fingerprint)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fingerprints) == 6
    assert len(set(fingerprints)) == 1
    assert pki.signing_identity().fingerprint == fingerprints[0]


def test_production_refuses_to_generate_an_identity(settings, signing_dir):
    settings.PRODUCTION = True

    with pytest.raises(ImproperlyConfigured, match=r"signer\.key\.pem") as excinfo:
        pki.signing_identity()

    assert str(signing_dir / "chain.pem") in str(excinfo.value)
    assert not signing_dir.exists()


def test_production_refuses_a_development_identity(settings):
    pki.signing_identity()
    settings.PRODUCTION = True

    with pytest.raises(ImproperlyConfigured, match="development"):
        pki.sign_pdf(reportlab_pdf(), reason="Prueba")


def test_production_signs_with_the_configured_identity(settings, signing_dir):
    root, intermediate = write_real_identity(signing_dir)
    settings.PRODUCTION = True

    signed = pki.sign_pdf(reportlab_pdf(), reason="Prueba")

    summary = pki.validate_pdf(signed)
    assert summary.trusted
    assert summary.signer_cn == "Firma de prueba"
    assert pki.trust_roots() == [root]
    assert pki.signing_identity().chain == (intermediate, root)
    assert not pki.signing_identity().development


def test_a_key_that_is_not_the_certificates_is_refused(settings, signing_dir):
    write_real_identity(signing_dir)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (signing_dir / "signer.key.pem").write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings.PRODUCTION = True

    with pytest.raises(ImproperlyConfigured, match="is not the key of"):
        pki.signing_identity()


def write_real_identity(directory: Path) -> tuple[x509.Certificate, x509.Certificate]:
    """A root, an intermediate and an RSA signer, as a real provider would hand them over."""
    directory.mkdir(parents=True)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    intermediate_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue("Raíz de prueba", root_key, "Raíz de prueba", root_key, ca=True)
    intermediate = issue(
        "Intermedia de prueba", intermediate_key, "Raíz de prueba", root_key, ca=True
    )
    signer = issue(
        "Firma de prueba", signer_key, "Intermedia de prueba", intermediate_key, ca=False
    )
    pem = serialization.Encoding.PEM
    (directory / "signer.key.pem").write_bytes(
        signer_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    (directory / "signer.cert.pem").write_bytes(signer.public_bytes(pem))
    (directory / "chain.pem").write_bytes(intermediate.public_bytes(pem) + root.public_bytes(pem))
    return root, intermediate


def issue(subject, key, issuer, issuer_key, *, ca):
    now = datetime.now(UTC)
    usage = {
        "digital_signature": not ca,
        "content_commitment": not ca,
        "key_encipherment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "key_cert_sign": ca,
        "crl_sign": ca,
        "encipher_only": False,
        "decipher_only": False,
    }
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
