"""Constancias de notificación per second: render and sign, against rendering alone.

A notification with ten timeline entries (deposit, effect, opening, five views, two downloads),
whose deposit entry is sealed by a checkpoint over a few hundred entries, so every certificate
carries a Merkle inclusion proof. Three figures, in alternating rounds so that machine noise hits
them alike (medians reported):

- unsigned: evidence.certificates.snapshot() + draw(), the same PDF without the signature (the
  baseline);
- signed: render_certificate(), the same plus the agency's PAdES signature (no TSA);
- issued: evidence.actions.issue_certificate(), the signed PDF plus its Certificate row and
  evidence entry; each call goes to a fresh notification with the same history, since an issue
  adds an entry to the timeline it certifies.

    python -m bench.certificates sqlite

prints one JSON object as the last line of stdout; `run_all()` launches it and returns
{"sqlite": {...}}.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.deposit import child_main, run_child

if TYPE_CHECKING:
    from mailboxes.models import Notification

ROUNDS = int(os.environ.get("BENCH_CERTIFICATE_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("BENCH_CERTIFICATE_PER_ROUND", "20"))
WARM_UP = 3
SEALED_FILLER = 100  # other deposits in the sealing checkpoint (about 3 entries each)
VIEWS, DOWNLOADS = 5, 2


def run_all() -> dict[str, Any]:
    return {"sqlite": run_child("bench.certificates", "sqlite")}


def _history(count: int) -> list[Notification]:
    """`count` notifications with ten timeline entries each, sealed with SEALED_FILLER others."""
    from evidence.actions import seal
    from mailboxes.actions import RequestMeta, open_notification, record_download, record_view
    from mailboxes.inputs import AttachmentInput
    from tests.factories import deposit, pdf_bytes, register

    registration = register()
    user = registration.procedure.person.user
    assert user is not None
    meta = RequestMeta(ip_address="190.234.10.5", user_agent="Mozilla/5.0 (bench)")
    for _ in range(SEALED_FILLER):
        deposit(registration)
    notifications = []
    for _ in range(count):
        notification = deposit(
            registration,
            attachments=[
                AttachmentInput("resolucion.pdf", pdf_bytes()),
                AttachmentInput("anexo.pdf", pdf_bytes(pages=2)),
            ],
        )
        open_notification(notification, reader=user, meta=meta)
        for _view in range(VIEWS):
            record_view(notification, reader=user, meta=meta)
        for attachment in notification.attachments.all():
            record_download(attachment, reader=user, meta=meta)
        notification.refresh_from_db()
        notifications.append(notification)
    seal(force=True)
    return notifications


def measure(database: str) -> dict[str, Any]:
    from django.conf import settings
    from django.utils import timezone

    from evidence.actions import issue_certificate
    from evidence.certificates import draw, render_certificate, snapshot
    from evidence.pki import validate_pdf
    from verification.codes import new_code

    if settings.BUZON_TSA_URL:
        raise SystemExit("unset BUZON_TSA_URL: this benchmark measures signing without a TSA")
    fresh = _history(1 + WARM_UP + ROUNDS * PER_ROUND)
    subject = fresh.pop()
    entries = subject.events.count()
    if entries != 2 + 1 + VIEWS + DOWNLOADS:
        raise SystemExit(f"the benchmark notification has {entries} timeline entries, not 10")

    def unsigned() -> bytes:
        now = timezone.now()
        return bytes(draw(snapshot(subject, as_of=now), code=new_code(), issued_at=now))

    def signed() -> bytes:
        return render_certificate(subject, code=new_code(), issued_at=timezone.now())

    def issued() -> bytes:
        return issue_certificate(fresh.pop(), requested_by=None)[1]

    sample = signed()
    summary = validate_pdf(sample)
    if not (summary.intact and summary.trusted):
        raise SystemExit("the benchmark certificate does not validate")
    if "Prueba de inclusión" not in _text(sample):
        raise SystemExit("the benchmark certificate carries no inclusion proof")
    for _ in range(WARM_UP):
        unsigned()
        issued()

    def rate(make: Callable[[], bytes]) -> float:
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            make()
        return PER_ROUND / (time.perf_counter() - start)

    rates: dict[str, list[float]] = {"unsigned": [], "signed": [], "issued": []}
    for _round in range(ROUNDS):
        rates["unsigned"].append(rate(unsigned))
        rates["signed"].append(rate(signed))
        rates["issued"].append(rate(issued))
    median = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "database": database,
        "timeline_entries": entries,
        "checkpoint_entries": _sealed_entries(),
        "pdf_bytes": len(sample),
        "pdf_pages": _pages(sample),
        "certificates_per_second": round(median["signed"], 1),
        "unsigned_per_second": round(median["unsigned"], 1),
        "issued_per_second": round(median["issued"], 1),
        "signed_over_unsigned": round(median["signed"] / median["unsigned"], 3),
        "all_rounds": {name: [round(r, 1) for r in values] for name, values in rates.items()},
    }


def _sealed_entries() -> int:
    from evidence.models import Checkpoint

    latest = Checkpoint.objects.order_by("-number").first()
    return latest.entries if latest else 0


def _text(pdf: bytes) -> str:
    from tests.factories import pdf_text

    return pdf_text(pdf)


def _pages(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


if __name__ == "__main__":
    os.environ["BUZON_TSA_URL"] = ""  # no RFC 3161 round trip in the measured signature
    sys.exit(child_main(["bench.certificates", *sys.argv[1:]], measure))
