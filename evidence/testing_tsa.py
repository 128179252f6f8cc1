"""A local RFC 3161 time-stamping authority for tests, over real HTTP on 127.0.0.1.

    with LocalTsa() as tsa:
        settings.BUZON_TSA_URL = tsa.url
        settings.BUZON_TSA_TRUST_ROOTS = str(tsa.root_pem_path)

or `override_settings(**tsa.settings())`. It makes its own root and TSA certificate (RSA, as
pyHanko's DummyTimeStamper requires; extendedKeyUsage timeStamping, critical), serves on an
ephemeral port from a background thread, and removes its temporary files on exit. Set
`refusing = True` to have it answer every request with an RFC 3161 rejection.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from evidence.tsa import QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE, TimeStampResponse

ROOT_NAME = "Buzón pruebas - CA raíz TSA"
TSA_NAME = "Buzón pruebas - TSA local"


class LocalTsa:
    def __init__(self) -> None:
        self.refusing = False
        self.requests_served = 0
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.root_cert = _certificate(
            ROOT_NAME, root_key.public_key(), issuer_key=root_key, issuer_name=ROOT_NAME, ca=True
        )
        self.tsa_cert = _certificate(
            TSA_NAME, tsa_key.public_key(), issuer_key=root_key, issuer_name=ROOT_NAME, ca=False
        )
        self._stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(
                self.tsa_cert.public_bytes(serialization.Encoding.DER)
            ),
            tsa_key=keys.PrivateKeyInfo.load(
                tsa_key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.url = ""
        self.root_pem_path = Path()

    def settings(self) -> dict[str, Any]:
        """The settings that point Buzón at this TSA (for override_settings)."""
        return {"BUZON_TSA_URL": self.url, "BUZON_TSA_TRUST_ROOTS": str(self.root_pem_path)}

    def __enter__(self) -> LocalTsa:
        self._tmp = tempfile.TemporaryDirectory(prefix="buzon-tsa-")
        self.root_pem_path = Path(self._tmp.name) / "tsa-root.pem"
        self.root_pem_path.write_bytes(self.root_cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/tsa"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="buzon-local-tsa", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        if self._tmp is not None:
            self._tmp.cleanup()

    def respond(self, body: bytes) -> bytes:
        """Answer one DER TimeStampReq with a DER TimeStampResp."""
        self.requests_served += 1
        request = tsp.TimeStampReq.load(body)
        if self.refusing:
            status = tsp.PKIStatusInfo(
                {
                    "status": tsp.PKIStatus("rejection"),
                    "status_string": ["refused by the test TSA"],
                    "fail_info": tsp.PKIFailureInfo({"system_failure"}),
                }
            )
            return bytes(TimeStampResponse({"status": status}).dump())
        return bytes(self._stamper.request_tsa_response(request).dump())


def _handler_for(tsa: LocalTsa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out in two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK, about 40 ms per request.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            content_type = self.headers.get("Content-Type", "")
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if content_type != QUERY_CONTENT_TYPE:
                self.send_error(415, f"expected {QUERY_CONTENT_TYPE}")
                return
            try:
                reply = tsa.respond(body)
            except ValueError:
                self.send_error(400, "malformed TimeStampReq")
                return
            self.send_response(200)
            self.send_header("Content-Type", REPLY_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def _certificate(
    subject: str,
    public_key: rsa.RSAPublicKey,
    *,
    issuer_key: rsa.RSAPrivateKey,
    issuer_name: str,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())
