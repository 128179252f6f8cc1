"""A person's evidence, as a ZIP they can keep and anyone can check offline.

    manifest.json                          what is inside, and the evidence that vouches for it
    LEEME.txt                              how to check it (in Spanish)
    notificaciones/<n>-<public id>/
        contenido.json                     the canonical content (hash it: evidence.chain)
        texto.md                           the body, as deposited
        adjuntos/<name>.pdf                the attachments, as deposited
        constancia-<code>.pdf              a signed certificate issued for the export

manifest.json holds every file's SHA-256 (LEEME.txt's included; only the manifest is not
listed); every evidence entry about the person (or the case) with its canonical JSON and the
Merkle inclusion proof that ties it to a signed checkpoint; the signed statements of those
checkpoints and of the ones its certificates print (so that a checkpoint the agency published,
or a certificate printed, can be compared with them); and the public keys that signed them.
The export seals the log first, after issuing the certificates, so every entry, theirs
included, has a proof.

The manifest itself is signed, with the key that signs checkpoints (`keys.current_key()`; the
manifest names its id, as a checkpoint statement does): the signature covers the canonical JSON
of the whole manifest but the signature (`offline.signed_bytes()`), so no file, entry,
notification or word of it can be added, removed or changed without the offline check seeing
it. `python -m evidence.offline export.zip --clave agencia.pub` checks all of it without the
database.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from evidence import chain, keys
from evidence.actions import issue_certificate, seal
from evidence.models import Checkpoint, Event, EventKind
from evidence.offline import EXPORT_TYPE, FORMAT, signed_bytes
from evidence.proofs import proofs as inclusion_proofs

if TYPE_CHECKING:
    from accounts.models import User
    from people.models import Person
    from procedures.models import Procedure

README = """\
Exportación de evidencia del Buzón electrónico de {agency}
Generada el {generated_at} (UTC) para {holder}.

Qué contiene
- notificaciones/: cada notificación con su contenido (contenido.json y texto.md), sus
  documentos adjuntos tal como se depositaron y una constancia de notificación firmada.
- manifest.json: la huella SHA-256 de cada archivo; cada registro de evidencia (depósito,
  alertas, fecha de efecto, acuse de lectura, consultas, descargas...) con la prueba de que
  forma parte de un punto de control firmado por la entidad; y las claves públicas.

Cómo comprobarla sin conexión
  python -m evidence.offline {filename} --clave <clave-publica-de-la-entidad.pub>
(desde una copia del código de Buzón). Compare la huella de la clave con la que publica la
entidad. La comprobación confirma que la entidad generó exactamente este conjunto de
archivos y registros, y que ninguno fue alterado, añadido ni quitado después.
"""


@dataclass(frozen=True)
class ExportSummary:
    notifications: int
    entries: int
    files: int
    checkpoint: int | None


def _scope(person: Person, procedure: Procedure | None, opened_only: bool) -> tuple[Any, Q]:
    from mailboxes.models import Notification

    notifications = Notification.objects.filter(person=person)
    if opened_only:
        notifications = notifications.filter(opened_at__isnull=False)
    events = Q(person=person)
    if procedure is not None:
        notifications = notifications.filter(procedure=procedure)
        events = Q(procedure=procedure)
    return (
        notifications.select_related("procedure", "person", "unit")
        .prefetch_related("attachments")
        .order_by("deposited_at", "pk"),
        events,
    )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "documento"


def write_export(
    out: IO[bytes],
    *,
    person: Person,
    procedure: Procedure | None = None,
    requested_by: User | None,
    filename: str = "buzon.zip",
    opened_only: bool = False,
) -> ExportSummary:
    """Write the ZIP to `out` (a file or a temporary file; it is not held in memory).

    `opened_only` leaves out the content of notifications the person has not opened (their
    entries stay): the casilla exports only what was opened, since opening is the acuse.
    """
    from mailboxes.actions import notification_content

    notifications, event_scope = _scope(person, procedure, opened_only)
    # Certificates first, then a seal, so that their entries are covered by the proofs.
    certificates: dict[int, tuple[str, bytes]] = {}
    for notification in notifications:
        certificate, pdf = issue_certificate(notification, requested_by=requested_by)
        certificates[notification.pk] = (certificate.code, pdf)
    seal()

    files: dict[str, dict[str, Any]] = {}
    described: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, data: bytes) -> None:
            archive.writestr(path, data)
            files[path] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

        for number, notification in enumerate(notifications, start=1):
            folder = f"notificaciones/{number:04d}-{notification.public_id}"
            content = notification_content(notification)
            add(f"{folder}/contenido.json", chain.dumps(content).encode())
            add(f"{folder}/texto.md", notification.body_markdown.encode())
            attachments = []
            for attachment in sorted(notification.attachments.all(), key=lambda a: a.pk):
                path = f"{folder}/adjuntos/{attachment.pk}-{_safe(attachment.original_name)}"
                with default_storage.open(str(attachment.file.name), "rb") as handle:
                    add(path, handle.read())
                attachments.append(
                    {"name": attachment.original_name, "path": path, "sha256": attachment.sha256}
                )
            code, pdf = certificates[notification.pk]
            certificate_path = f"{folder}/constancia-{code}.pdf"
            add(certificate_path, pdf)
            described.append(
                {
                    "id": notification.pk,
                    "public_id": str(notification.public_id),
                    "procedure": notification.procedure.number,
                    "subject": notification.subject,
                    "deposited_at": chain.timestamp(notification.deposited_at),
                    "effective_date": notification.effective_date.isoformat()
                    if notification.effective_date
                    else None,
                    "deadline_date": notification.deadline_date.isoformat()
                    if notification.deadline_date
                    else None,
                    "content": f"{folder}/contenido.json",
                    "content_sha256": notification.content_sha256,
                    "attachments": attachments,
                    "certificate": {"code": code, "path": certificate_path},
                }
            )

        # In the order they were written (the ids), as verify_evidence replays them: on
        # PostgreSQL each lane keeps its own clock, so two lanes' times need not agree.
        events = list(Event.objects.filter(event_scope).order_by("pk"))
        proofs = inclusion_proofs(events)
        if len(proofs) < len(events):
            # Appended since the seal above, or that seal lost a race to another: seal once
            # more; whatever is still unsealed (appended this very moment) stays out.
            seal()
            proofs = inclusion_proofs(events)
        unsealed = len(events) - len(proofs)
        events = [event for event in events if event.pk in proofs]
        # The checkpoints that seal the entries, and those the certificates among them print
        # (its number and statement hash, to compare with what the agency publishes).
        cited = {
            event.data.get("checkpoint")
            for event in events
            if event.kind == EventKind.CERTIFICATE_ISSUED
        }
        used = sorted(
            {proof.checkpoint.number for proof in proofs.values()}
            | {number for number in cited if isinstance(number, int)}
        )
        checkpoints = list(Checkpoint.objects.filter(number__in=used).order_by("number"))
        signer = keys.current_key()
        public_keys = {
            key_id: keys.public_key_pem(key_id)
            for key_id in sorted({c.key_id for c in checkpoints} | {signer.key_id})
        }
        generated_at = chain.timestamp(timezone.now())
        add(
            "LEEME.txt",
            README.format(
                agency=settings.AGENCY["name"],
                generated_at=generated_at,
                holder=person.full_name,
                filename=filename,
            ).encode(),
        )
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "type": EXPORT_TYPE,
            "generated_at": generated_at,
            "agency": settings.AGENCY["name"],
            "holder": {
                "id": person.pk,
                "name": person.full_name,
                "document": person.document_label,
            },
            "scope": {
                "procedure": procedure.number if procedure else None,
                "procedure_id": procedure.pk if procedure else None,
            },
            "notifications": described,
            "entries": [
                {
                    "id": event.pk,
                    "position": event.position,
                    "canonical": event.canonical,
                    "hash": event.hash,
                    "inclusion": proofs[event.pk].as_dict() if event.pk in proofs else None,
                }
                for event in events
            ],
            "checkpoints": [
                {
                    "number": c.number,
                    "statement": c.statement,
                    "signature": c.signature,
                    "key_id": c.key_id,
                }
                for c in checkpoints
            ],
            "public_keys": public_keys,
            "files": files,
            "entries_left_for_the_next_checkpoint": unsealed,
            "key": signer.key_id,
        }
        manifest["signature"] = signer.sign(signed_bytes(manifest))
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        )
    return ExportSummary(
        notifications=len(described),
        entries=len(events),
        files=len(files),
        checkpoint=used[-1] if used else None,
    )
