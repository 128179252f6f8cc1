"""The agency's signing identity, PAdES signatures on PDFs, and their validation.

The identity lives in settings.BUZON_SIGNING_DIR (default var/signing/, outside git):

    signer.key.pem   the agency's private key, PEM (PKCS#8 or traditional), unencrypted, 0600
    signer.cert.pem  the agency's signing certificate, PEM
    chain.pem        the certificates above it, PEM: intermediates, then the root

In production these three files must be provided; a missing one stops with
ImproperlyConfigured, and so does a development identity. Elsewhere, when the directory holds
no identity, the first use generates a development one: a throw-away root CA ("Buzón
desarrollo - CA raíz (NO VÁLIDA PARA PRODUCCIÓN)", whose private key is discarded at once) and
an EC P-256 signing certificate it issues to the agency (settings.AGENCY["name"]). Two
processes racing to create it agree on one: the key file is created with O_EXCL, and the loser
waits for the winner's files.

`sign_pdf()` adds an invisible PAdES signature (/ETSI.CAdES.detached) with the whole chain;
with settings.BUZON_TSA_URL set, the signature also carries an RFC 3161 signature timestamp
(PAdES B-T). `validate_pdf()` runs pyHanko's validator against `trust_roots()` (and the TSA
roots for the timestamp), without network access.

The identity, its pyHanko signer and the trust roots are loaded once per process and
directory; `reset_cache()` forgets them (tests do, and a settings change does it too).
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from evidence import tsa

logger = logging.getLogger(__name__)

SIGNER_KEY_FILE = "signer.key.pem"
SIGNER_CERT_FILE = "signer.cert.pem"
CHAIN_FILE = "chain.pem"
DEV_ROOT_NAME = "Buzón desarrollo - CA raíz (NO VÁLIDA PARA PRODUCCIÓN)"
# RFC 9336 id-kp-documentSigning.
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# Room in a CMS signature besides the certificates: signed attributes, the signature value
# (at most 512 bytes for RSA-4096) and the structure around them take about 1 KB.
CMS_SLACK_BYTES = 4096
# How long a process waits for another one that is writing the development identity.
PEER_WAIT_SECONDS = 10.0


class PdfSignatureError(Exception):
    """The PDF cannot be read, or carries no signature that can be checked."""


@dataclass(frozen=True, eq=False)
class SigningIdentity:
    key: CertificateIssuerPrivateKeyTypes
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """The certificates above `cert`: intermediates, then the root."""
    fingerprint: str
    """SHA-256 of the signing certificate (DER), in lowercase hex."""
    development: bool
    """True for a generated development identity, which nobody outside should trust."""

    @property
    def roots(self) -> list[x509.Certificate]:
        return [cert for cert in self.chain if _is_self_signed(cert)]


@dataclass(frozen=True)
class ValidationSummary:
    intact: bool
    """The signed bytes are unchanged."""
    valid: bool
    """The signature itself verifies with the signer's certificate."""
    trusted: bool
    """Intact, valid, and the signer's certificate chains to `trust_roots()`."""
    covers_whole_document: bool
    """Nothing was appended to the file after the signature."""
    signer_cn: str
    signed_at: datetime | None
    """The TSA's time when the signature is timestamped, else the time the signer claims."""
    timestamp_valid: bool | None
    """None without a signature timestamp; else whether it is sound and its TSA trusted."""


def signing_identity() -> SigningIdentity:
    """The agency's identity; generated on first use outside production."""
    return _loaded(Path(settings.BUZON_SIGNING_DIR), bool(settings.PRODUCTION)).identity


def trust_roots() -> list[x509.Certificate]:
    """The roots a validator should trust for our signatures (the dev CA in development)."""
    return signing_identity().roots


def sign_pdf(
    pdf: bytes, *, reason: str, location: str = "Lima, Perú", field_name: str = "BuzonFirma"
) -> bytes:
    """Return `pdf` with the agency's PAdES signature appended as an incremental update.

    Raises tsa.TimestampError when a TSA is configured and fails (nothing is signed then), and
    PdfSignatureError when the input is not a PDF pyHanko can update.
    """
    loaded = _loaded(Path(settings.BUZON_SIGNING_DIR), bool(settings.PRODUCTION))
    url: str = settings.BUZON_TSA_URL
    metadata = PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm=tsa.DIGEST_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    signer = PdfSigner(metadata, loaded.signer, timestamper=tsa.timestamper(url) if url else None)
    # Without a TSA the CMS size is known, which saves pyHanko a trial signature (half the
    # time). A TSA token's size is not: pyHanko sizes it from a sample token it caches.
    reserved = None if url else loaded.cms_size_bound
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        output = tsa.run_blocking(signer.async_sign_pdf(writer, bytes_reserved=reserved))
    except TimestampRequestError as exc:
        raise tsa.TimestampError(f"RFC 3161 request failed while signing: {exc}") from exc
    except PdfError as exc:
        raise PdfSignatureError(f"the PDF cannot be signed: {exc}") from exc
    return bytes(output.getvalue())


def validate_pdf(pdf: bytes) -> ValidationSummary:
    """Check the last signature in `pdf` with pyHanko's validator, offline.

    Raises PdfSignatureError if the file cannot be parsed or carries no signature.
    """
    loaded = _loaded(Path(settings.BUZON_SIGNING_DIR), bool(settings.PRODUCTION))
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError) as exc:
        raise PdfSignatureError(f"the PDF cannot be read: {exc}") from exc
    if not signatures:
        raise PdfSignatureError("the PDF carries no signature")
    embedded = signatures[-1]
    signer_context = ValidationContext(trust_roots=list(loaded.roots), allow_fetching=False)
    tsa_context = ValidationContext(trust_roots=tsa.tsa_trust_roots(), allow_fetching=False)
    try:
        status = tsa.run_blocking(
            async_validate_pdf_signature(
                embedded,
                signer_validation_context=signer_context,
                ts_validation_context=tsa_context,
            )
        )
    except (SignatureValidationError, PdfError, ValueError) as exc:
        raise PdfSignatureError(f"the signature cannot be validated: {exc}") from exc

    timestamp_status = status.timestamp_validity
    if timestamp_status is not None and timestamp_status.intact and timestamp_status.valid:
        signed_at = timestamp_status.timestamp
    else:
        signed_at = embedded.self_reported_timestamp
    return ValidationSummary(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_cn=str(status.signing_cert.subject.native.get("common_name", "")),
        signed_at=signed_at,
        timestamp_valid=None if timestamp_status is None else bool(timestamp_status.trusted),
    )


def reset_cache() -> None:
    """Forget the loaded identity and TSA clients (tests; after rotating the key files)."""
    _loaded.cache_clear()
    tsa.reset_cache()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"BUZON_SIGNING_DIR", "BUZON_TSA_URL", "BUZON_TSA_TRUST_ROOTS", "PRODUCTION"}:
        reset_cache()


# --- Loading ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Loaded:
    identity: SigningIdentity
    signer: SimpleSigner
    roots: tuple[asn1_x509.Certificate, ...]
    cms_size_bound: int
    """Bytes that always hold our CMS signature without a timestamp: certificates + slack."""


class _LoadedKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner, signing with the key object loaded once.

    SimpleSigner parses its DER key again for every signature; for RSA that costs tens of
    milliseconds, since OpenSSL checks the key each time it is loaded.
    """

    def __init__(self, *, private_key: CertificateIssuerPrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = self._private_key
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            mechanism = None
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algorithm))
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hash_algorithm)
        return bytes(super().sign_raw(data, digest_algorithm))


@functools.cache
def _loaded(directory: Path, production: bool) -> _Loaded:
    identity = _load_or_create(directory, production=production)
    if production and identity.development:
        raise ImproperlyConfigured(
            f"{directory} holds a development signing identity; production needs the agency's "
            "real certificate"
        )
    chain = [_to_asn1(cert) for cert in identity.chain]
    signer = _LoadedKeySigner(
        private_key=identity.key,
        signing_cert=_to_asn1(identity.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            identity.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
    )
    certificates_size = sum(len(cert.dump()) for cert in [*chain, signer.signing_cert])
    return _Loaded(
        identity,
        signer,
        roots=tuple(_to_asn1(cert) for cert in identity.roots),
        cms_size_bound=certificates_size + certificates_size % 2 + CMS_SLACK_BYTES,  # even
    )


def _load_or_create(directory: Path, *, production: bool) -> SigningIdentity:
    paths = [directory / name for name in (SIGNER_KEY_FILE, SIGNER_CERT_FILE, CHAIN_FILE)]
    if all(path.exists() for path in paths):
        return _read(directory)
    if production:
        raise ImproperlyConfigured(
            "No signing identity: production needs "
            + ", ".join(str(path) for path in paths)
            + " (BUZON_SIGNING_DIR)"
        )
    if paths[0].exists():
        return _wait_for_peer(directory)
    return _create_development(directory)


def _read(directory: Path) -> SigningIdentity:
    try:
        key = serialization.load_pem_private_key(
            (directory / SIGNER_KEY_FILE).read_bytes(), password=None
        )
        cert = x509.load_pem_x509_certificate((directory / SIGNER_CERT_FILE).read_bytes())
        chain = tuple(x509.load_pem_x509_certificates((directory / CHAIN_FILE).read_bytes()))
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"Cannot read the signing identity in {directory}: {exc}"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"{directory / SIGNER_KEY_FILE}: only EC and RSA keys")
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise ImproperlyConfigured(
            f"{directory / SIGNER_KEY_FILE} is not the key of {directory / SIGNER_CERT_FILE}"
        )
    roots = [c for c in chain if _is_self_signed(c)]
    if not roots:
        raise ImproperlyConfigured(f"{directory / CHAIN_FILE} must end with the root certificate")
    return SigningIdentity(
        key=key,
        cert=cert,
        chain=chain,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        development=any(_common_name(root) == DEV_ROOT_NAME for root in roots),
    )


def _wait_for_peer(directory: Path) -> SigningIdentity:
    """Another process created the key file first: wait until its identity is complete."""
    deadline = time.monotonic() + PEER_WAIT_SECONDS
    while True:
        try:
            return _read(directory)
        except ImproperlyConfigured:
            if time.monotonic() > deadline:
                raise ImproperlyConfigured(
                    f"{directory} holds an incomplete development signing identity; delete the "
                    "directory to generate a new one"
                ) from None
            time.sleep(0.05)


def _create_development(directory: Path) -> SigningIdentity:
    agency = str(settings.AGENCY["name"])
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    signer_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(DEV_ROOT_NAME, agency)
    root = (
        _builder(root_name, root_name, root_key.public_key(), root_key.public_key(), now, 3650)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    cert = (
        _builder(
            _name(agency, agency),
            root_name,
            signer_key.public_key(),
            root_key.public_key(),
            now,
            1825,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    del root_key  # nobody can issue under the development root after this

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_pem = signer_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(directory / SIGNER_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _wait_for_peer(directory)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
        handle.flush()
        os.fsync(handle.fileno())
    # The chain before the certificate: a peer that sees the certificate sees a whole identity.
    _write_atomically(directory / CHAIN_FILE, root.public_bytes(serialization.Encoding.PEM))
    _write_atomically(directory / SIGNER_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    logger.warning(
        "Generated a DEVELOPMENT signing identity in %s; its signatures are not valid for "
        "production",
        directory,
    )
    return _read(directory)


def _write_atomically(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer_public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    )


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _spki(public_key: Any) -> bytes:
    return bytes(
        public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
