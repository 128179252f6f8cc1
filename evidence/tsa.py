"""RFC 3161 timestamps: ask a time-stamping authority (TSA) to vouch for a SHA-256 digest.

`timestamp(digest)` returns the DER-encoded TimeStampToken (a CMS ContentInfo) from the TSA at
settings.BUZON_TSA_URL, or None when no TSA is configured. `verify_token(token, digest)` checks
that a stored token covers that digest, that its CMS signature is sound and that the TSA's
certificate chains to one of the roots in settings.BUZON_TSA_TRUST_ROOTS (comma-separated PEM
files; each may hold several certificates).

Both raise `TimestampError` with a message fit for a log; the caller decides whether to go on
without a timestamp. The HTTP client is httpx; pyHanko (through `HttpxTimeStamper`, which
evidence/pki.py also uses for PAdES signature timestamps) builds the request and checks the
nonce and the PKI status, and pyHanko's validator checks the token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

DIGEST_ALGORITHM = "sha256"
DIGEST_SIZE = 32
REQUEST_TIMEOUT_SECONDS = 10.0
QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"

T = TypeVar("T")


class TimestampError(Exception):
    """A timestamp could not be obtained, or a token does not prove what it should."""


@dataclass(frozen=True)
class TokenInfo:
    gen_time: datetime
    """When the TSA says it saw the digest (timezone-aware)."""
    tsa_name: str
    """The TSA's name from the token, or its certificate's subject."""
    serial_number: int


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a pyHanko coroutine to completion from synchronous code.

    pyHanko's synchronous wrappers call asyncio.run(), which fails in a thread that already runs
    an event loop (an async view, Playwright's sync API in the browser tests). There the
    coroutine runs on a fresh loop in a short-lived worker thread instead.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is None:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class TimeStampResponse(core.Sequence):  # type: ignore[misc]  # asn1crypto has no types
    """RFC 3161 TimeStampResp. asn1crypto's own class requires the token, which a TSA omits
    when it refuses a request; with it, a refusal would read as a malformed reply."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class HttpxTimeStamper(TimeStamper):
    """pyHanko's TimeStamper over httpx: pyHanko builds the request, we carry it."""

    def __init__(self, url: str, *, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> TimeStampResponse:
        headers = {"Content-Type": QUERY_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=_tls_context()) as client:
                response = await client.post(self.url, content=req.dump(), headers=headers)
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"cannot reach the TSA at {self.url}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise TimestampRequestError(
                f"the TSA at {self.url} answered HTTP {response.status_code}"
            )
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != REPLY_CONTENT_TYPE:
            raise TimestampRequestError(
                f"the TSA at {self.url} answered {content_type!r}, not {REPLY_CONTENT_TYPE}"
            )
        try:
            resp: TimeStampResponse = TimeStampResponse.load(response.content)
            resp.native  # noqa: B018  # parse eagerly, so garbage fails here
        except (ValueError, TypeError) as exc:
            raise TimestampRequestError(f"the TSA at {self.url} sent a malformed reply") from exc
        return resp


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once: httpx would otherwise load the CA bundle for every client (about 20 ms)."""
    return httpx.create_ssl_context()


@functools.cache
def timestamper(url: str) -> HttpxTimeStamper:
    """One TimeStamper per URL and process: pyHanko caches a sample token in it for sizing."""
    return HttpxTimeStamper(url)


def timestamp(digest: bytes) -> bytes | None:
    """Return a DER TimeStampToken for a SHA-256 digest, or None if no TSA is configured."""
    _check_digest(digest)
    url: str = settings.BUZON_TSA_URL
    if not url:
        return None
    try:
        token = run_blocking(timestamper(url).async_timestamp(digest, DIGEST_ALGORITHM))
        tst_info = _tst_info(token)
    except TimestampRequestError as exc:
        raise TimestampError(f"RFC 3161 request failed: {exc}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"the TSA at {url} sent a malformed token: {exc}") from exc
    if tst_info["message_imprint"]["hashed_message"].native != digest:
        raise TimestampError(f"the TSA at {url} timestamped a different digest")
    return bytes(token.dump())


def verify_token(token: bytes, digest: bytes) -> TokenInfo:
    """Check that `token` timestamps `digest` and comes from a trusted TSA; describe it."""
    _check_digest(digest)
    try:
        content_info = cms.ContentInfo.load(token)
        if content_info["content_type"].native != "signed_data":
            raise TimestampError("the token is not CMS SignedData")
        signed_data = content_info["content"]
        tst_info = _tst_info(content_info)
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"the token cannot be parsed: {exc}") from exc

    imprint = tst_info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm != DIGEST_ALGORITHM:
        raise TimestampError(f"the token uses {algorithm}, not {DIGEST_ALGORITHM}")
    if imprint["hashed_message"].native != digest:
        raise TimestampError("the token timestamps a different digest")

    context = ValidationContext(trust_roots=tsa_trust_roots(), allow_fetching=False)
    try:
        status = run_blocking(
            validate_tst_signed_data(signed_data, context, lambda _algorithm: digest)
        )
    except (SignatureValidationError, ValueError) as exc:
        raise TimestampError(f"the token's signature cannot be checked: {exc}") from exc
    if not (status["intact"] and status["valid"]):
        raise TimestampError("the token's signature does not verify")
    if status["trust_problem_indic"] is not None or status["validation_path"] is None:
        subject = status["signing_cert"].subject.human_friendly
        raise TimestampError(
            f"the TSA certificate ({subject}) does not chain to a trusted root "
            f"({status['trust_problem_indic']}); check BUZON_TSA_TRUST_ROOTS"
        )
    return TokenInfo(
        gen_time=tst_info["gen_time"].native,
        tsa_name=_tsa_name(tst_info, status["signing_cert"]),
        serial_number=tst_info["serial_number"].native,
    )


def tsa_trust_roots() -> list[asn1_x509.Certificate]:
    """The roots from settings.BUZON_TSA_TRUST_ROOTS (empty when unset)."""
    return list(_load_roots(settings.BUZON_TSA_TRUST_ROOTS))


def reset_cache() -> None:
    """Forget cached TSA clients and trust roots (tests, or after a settings change)."""
    timestamper.cache_clear()
    _load_roots.cache_clear()


@functools.cache
def _load_roots(paths: str) -> tuple[asn1_x509.Certificate, ...]:
    roots: list[asn1_x509.Certificate] = []
    for name in (item.strip() for item in paths.split(",")):
        if not name:
            continue
        try:
            pem = Path(name).read_bytes()
            certs = x509.load_pem_x509_certificates(pem)
        except (OSError, ValueError) as exc:
            raise TimestampError(f"BUZON_TSA_TRUST_ROOTS: cannot read {name}: {exc}") from exc
        roots.extend(asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in certs)
    return tuple(roots)


def _check_digest(digest: bytes) -> None:
    if len(digest) != DIGEST_SIZE:
        raise ValueError(f"expected a {DIGEST_SIZE}-byte SHA-256 digest, got {len(digest)} bytes")


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    encapsulated = token["content"]["encap_content_info"]
    if encapsulated["content_type"].native != "tst_info":
        raise TimestampError("the token does not encapsulate a TSTInfo")
    return encapsulated["content"].parsed


def _tsa_name(tst_info: tsp.TSTInfo, tsa_cert: asn1_x509.Certificate) -> str:
    """The TSA's common name (or whole name) from the token, else from its certificate."""
    general_name = tst_info["tsa"]
    if general_name.native is not None and general_name.name == "directory_name":
        name = general_name.chosen
    else:
        name = tsa_cert.subject
    return str(name.native.get("common_name") or name.human_friendly)
