"""Legal state changes of a correction request (TUO Ley 27444 art. 136): the person's answer,
the officer's review and the expiry. Each owns its transaction and writes its evidence in it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from corrections import letters, procedure_status
from corrections.models import (
    Answer,
    AnswerFile,
    CorrectionItem,
    CorrectionRequest,
    Outcome,
    RequestStatus,
)
from corrections.receipts import ReceiptContent, ReceiptFile, render_receipt
from corrections.uploads import (
    ANSWER_MAX_TOTAL_BYTES,
    CheckedUpload,
    UploadInput,
    check_upload,
    scan,
    total_too_large,
)
from evidence import chain
from evidence.actions import record_about
from evidence.models import EventKind
from mailboxes.actions import Deposit, RequestMeta, deposit_notification
from mailboxes.inputs import AttachmentInput, NotificationInput
from mailboxes.models import Kind, Notification
from procedures.models import ProcedureStatus

log = logging.getLogger(__name__)

NOTE_MAX = 2000
COMMENT_MAX = 500


def invalid_characters(text: str) -> bool:
    """The one rule for the free text of an answer or a review (the person's note, the
    officer's comment): NUL (PostgreSQL refuses it in a text column) and the other control
    characters but tab and line breaks. None can be typed; a paste can carry them."""
    return any((ord(c) < 0x20 and c not in "\t\n\r") or 0x7F <= ord(c) < 0xA0 for c in text)


def item_key(position: int) -> str:
    """The form field of an item, and the key of its errors."""
    return f"item-{position}"


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # cleanup must not hide the original error
            log.exception("could not delete %s after a failed answer", name)


# --- The person's answer ----------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    files: Mapping[int, Sequence[UploadInput]]  # by item position
    note: str = ""
    strays: Sequence[str] = ()  # file fields that name no observation ("item-01", "foto")


def _refusal(request: CorrectionRequest, user: User, received_at: datetime) -> str | None:
    """Why this person may not answer this request at `received_at` (when the answer arrived),
    or None."""
    notification = request.notification
    if notification.person.user_id != user.pk:
        return _("Esta notificación no es suya.")
    if notification.opened_at is None:
        return _("Abra la notificación antes de responder.")
    late = request.deadline_passed(timezone.localdate(received_at))
    if request.status == RequestStatus.EXPIRED and late:
        return _(
            "El plazo para subsanar venció sin respuesta; el trámite se considera no presentado."
        )
    # An expired request whose deadline had not passed when the answer arrived was expired by
    # the hourly job meanwhile (while the files were checked and scanned): the answer is in
    # time, and file_answer() undoes that expiry under its lock.
    if (
        request.status not in (RequestStatus.OPEN, RequestStatus.EXPIRED)
        or notification.deadline_stopped_at is not None
    ):
        return _("Ya presentó su respuesta a esta subsanación.")
    if late:
        assert notification.deadline_date is not None
        return _(
            "El plazo para subsanar venció el %(date)s; ya no puede presentar la respuesta."
        ) % {"date": notification.deadline_date.strftime("%d/%m/%Y")}
    return None


def _check_answer(
    items: list[CorrectionItem], data: AnswerInput
) -> tuple[list[tuple[CorrectionItem, CheckedUpload]], str]:
    """Every file of every item, and the note: all problems at once, keyed by field."""
    errors: dict[str, list[str]] = {}
    positions = {item.position for item in items}
    if data.strays or any(position not in positions for position in data.files):
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            _("El formulario no corresponde a esta subsanación. Recargue la página.")
        )
    # The whole answer's size, from the sizes the files declare, before any file is read: the
    # files of one answer are held in memory together while they are checked and scanned.
    total = sum(upload.size for files in data.files.values() for upload in files)
    if total > ANSWER_MAX_TOTAL_BYTES:
        errors.setdefault(NON_FIELD_ERRORS, []).append(total_too_large(total))
        raise ValidationError(errors)
    checked: list[tuple[CorrectionItem, CheckedUpload]] = []
    limit = settings.BUZON_ANSWER_FILES_PER_ITEM
    for item in items:
        uploads = list(data.files.get(item.position, ()))
        key = item_key(item.position)
        if not uploads:
            errors.setdefault(key, []).append(
                _("Adjunte al menos un archivo para esta observación.")
                if len(items) > 1
                else _("Adjunte al menos un archivo.")
            )
            continue
        if len(uploads) > limit:
            errors.setdefault(key, []).append(
                _("Puede adjuntar como máximo %(n)d archivos por observación.") % {"n": limit}
            )
            continue
        for upload in uploads:
            try:
                checked.append((item, check_upload(upload)))
            except ValidationError as exc:
                errors.setdefault(key, []).extend(exc.messages)
    note = (data.note or "").strip()
    if len(note) > NOTE_MAX:
        errors.setdefault("note", []).append(
            _("La nota puede tener como máximo %(n)d caracteres.") % {"n": NOTE_MAX}
        )
    if invalid_characters(note):
        errors.setdefault("note", []).append(_("La nota contiene caracteres no válidos."))
    if errors:
        raise ValidationError(errors)
    return checked, note


def _receipt_content(
    request: CorrectionRequest, answer: Answer, files: list[AnswerFile]
) -> ReceiptContent:
    n = request.notification
    descriptions = {item.pk: item.description for item in request.items.all()}
    positions = {item.pk: item.position for item in request.items.all()}
    return ReceiptContent(
        answer_id=str(answer.public_id),
        procedure_number=n.procedure.number,
        procedure_type=n.procedure.procedure_type.name,
        person_name=n.person.full_name,
        document_label=n.person.document_label,
        notification_subject=n.subject,
        notification_id=str(n.public_id),
        deposited_at=n.deposited_at,
        deadline_date=n.deadline_date,
        unit=n.unit.name,
        filed_at=answer.filed_at,
        files=[
            ReceiptFile(
                item=positions[f.item_id],
                item_description=descriptions[f.item_id],
                name=f.original_name,
                size=f.size,
                sha256=f.sha256,
            )
            for f in files
        ],
        has_note=bool(answer.note),
    )


def file_answer(
    notification: Notification,
    *,
    user: User,
    data: AnswerInput,
    meta: RequestMeta,
    received_at: datetime | None = None,
) -> Answer:
    """File the person's answer: every file checked (and scanned) before anything is written;
    then the files, the rows, the cargo de presentación, the stopped deadline (art. 136.3) and
    the evidence, in one transaction. Raises ValidationError (keyed by item-N, note or
    __all__) and corrections.uploads.ScannerUnavailableError.

    `received_at` is when the answer arrived (the view takes it first thing): the deadline is
    checked against it and it is the filing time, however long the checks and the scan take,
    so an answer sent before the end of the deadline day is filed on that day."""
    received_at = received_at or timezone.now()
    try:
        request = CorrectionRequest.objects.select_related(
            "notification__person", "notification__procedure__procedure_type"
        ).get(notification=notification)
    except CorrectionRequest.DoesNotExist:
        raise ValidationError(_("Esta notificación no pide una subsanación.")) from None
    refusal = _refusal(request, user, received_at)
    if refusal:
        raise ValidationError({NON_FIELD_ERRORS: [refusal]})
    items = list(request.items.order_by("position"))
    checked, note = _check_answer(items, data)
    refused = scan([upload for _item, upload in checked])  # outside any transaction: network
    if refused:
        errors: dict[str, list[str]] = {}
        for index, error in refused.items():
            errors.setdefault(item_key(checked[index][0].position), []).extend(error.messages)
        raise ValidationError(errors)

    written: list[str] = []
    try:
        with transaction.atomic():
            locked = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("person", "procedure__procedure_type", "unit")
                .get(pk=notification.pk)
            )
            request = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
            request.notification = locked
            # Again, under the lock: a double submit stops here.
            refusal = _refusal(request, user, received_at)
            if refusal:
                raise ValidationError({NON_FIELD_ERRORS: [refusal]})
            now = received_at
            # The expiry recorded after the answer arrived is undone here, in the answer's
            # transaction: the request leaves `expired` as reopen() takes it out, and the
            # answer's entry records the notification's deadline as no longer expired.
            undone = request.status == RequestStatus.EXPIRED
            procedure = _set_status(locked, request, RequestStatus.OPEN) if undone else None
            files = []
            for item, upload in checked:
                row = AnswerFile(
                    item=item,
                    original_name=upload.name,
                    content_type=upload.content_type,
                    size=upload.size,
                    sha256=upload.sha256,
                )
                row.file.save("answer", ContentFile(upload.content), save=False)
                written.append(str(row.file.name))
                files.append(row)
            answer = Answer.objects.create(
                request=request,
                filed_at=now,
                filed_by=user,
                note=note,
                ip_address=meta.ip_address,
                user_agent=meta.user_agent[:300],
            )
            for row in files:
                row.answer = answer
            AnswerFile.objects.bulk_create(files)
            pdf = render_receipt(_receipt_content(request, answer, files))
            answer.receipt.save("cargo", ContentFile(pdf), save=False)
            written.append(str(answer.receipt.name))
            answer.receipt_sha256 = hashlib.sha256(pdf).hexdigest()
            answer.receipt_size = len(pdf)
            answer.save(update_fields=["receipt", "receipt_sha256", "receipt_size"])
            request.status = RequestStatus.ANSWERED
            request.save(update_fields=["status"])
            locked.deadline_stopped_at = now
            locked.deadline_expired_at = None
            locked.save(update_fields=["deadline_stopped_at", "deadline_expired_at"])
            in_time = (
                # As recalculate_legal_dates() records it, so verify_evidence replays the
                # deadline as not expired from this entry on.
                {"deadline_expired": [True, False], "procedure_status": procedure.value}
                if procedure is not None
                else {}
            )
            record_about(
                locked,
                EventKind.NOTIFICATION_ANSWERED,
                actor=user,
                data={
                    "answer": str(answer.public_id),
                    "filed_at": chain.timestamp(now),
                    "deadline_date": locked.deadline_date.isoformat()
                    if locked.deadline_date
                    else None,
                    "deadline_stopped": True,
                    "files": [
                        {
                            "item": row.item.position,
                            "name": row.original_name,
                            "content_type": row.content_type,
                            "size": row.size,
                            "sha256": row.sha256,
                        }
                        for row in files
                    ],
                    "note_sha256": hashlib.sha256(note.encode()).hexdigest() if note else None,
                    "receipt_sha256": answer.receipt_sha256,
                    "ip": meta.ip_address,
                    "user_agent": meta.user_agent[:300],
                    **in_time,
                },
            )
    except IntegrityError:
        _delete_files(written)
        # The one-to-one on the request: another submit filed first.
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Ya presentó su respuesta a esta subsanación.")]}
        ) from None
    except BaseException:
        _delete_files(written)
        raise
    notification.refresh_from_db()
    return answer


# --- The officer's review ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    met: bool | None  # None: not decided
    comment: str = ""


@dataclass(frozen=True)
class Review:
    request: CorrectionRequest
    follow_up: Notification | None = field(default=None)
    procedure_status: ProcedureStatus = ProcedureStatus.IN_PROGRESS


def _may_review(officer: User, notification: Notification) -> bool:
    return officer.is_superuser or (
        officer.is_officer
        and officer.has_perm("corrections.review_answer")
        and officer.units.filter(pk=notification.unit_id).exists()
    )


def _check_decisions(
    items: list[CorrectionItem], decisions: Mapping[int, Decision]
) -> dict[int, Decision]:
    errors: dict[str, list[str]] = {}
    clean: dict[int, Decision] = {}
    for item in items:
        decision = decisions.get(item.position) or Decision(None)
        comment = " ".join((decision.comment or "").split())
        key = item_key(item.position)
        if decision.met is None:
            errors.setdefault(key, []).append(_("Indique si la observación quedó subsanada."))
        elif not decision.met and not comment:
            errors.setdefault(key, []).append(
                _("Explique por qué no quedó subsanada: se le notificará a la persona.")
            )
        if len(comment) > COMMENT_MAX:
            errors.setdefault(key, []).append(
                _("El comentario puede tener como máximo %(n)d caracteres.") % {"n": COMMENT_MAX}
            )
        # On the comment as typed: split() above takes some control characters for spaces.
        if invalid_characters(decision.comment or ""):
            errors.setdefault(key, []).append(_("El comentario contiene caracteres no válidos."))
        clean[item.position] = Decision(decision.met, comment)
    if errors:
        raise ValidationError(errors)
    return clean


def _follow_up(request: CorrectionRequest, unmet: list[CorrectionItem], officer: User) -> Deposit:
    """Deposit the new correction request for what was not met (in the caller's transaction)."""
    n = request.notification
    answer = request.answer
    with translation.override(settings.LANGUAGE_CODE):  # the act is in the agency's language
        content = letters.FollowUp(
            procedure_number=n.procedure.number,
            procedure_type=n.procedure.procedure_type.name,
            person_name=n.person.full_name,
            document_label=n.person.document_label,
            unit=n.unit.name,
            authority=n.unit.authority,
            original_subject=n.subject,
            answered_at=answer.filed_at,
            reviewed_at=timezone.now(),
            business_days=n.procedure.procedure_type.correction_business_days,
            items=[
                letters.Unmet(
                    position=number,
                    description=item.description,
                    document_kind=item.document_kind or _("Documento que subsane lo observado"),
                    comment=item.comment,
                )
                for number, item in enumerate(unmet, start=1)
            ],
        )
        data = NotificationInput(
            procedure_number=n.procedure.number,
            unit=n.unit.code,
            kind=Kind.CORRECTION,
            subject=letters.subject(content),
            body=letters.body(content),
            attachments=[
                AttachmentInput(
                    f"subsanacion-{n.procedure.number}.pdf", letters.letter_pdf(content)
                )
            ],
            idempotency_key=f"subsanacion:{request.pk}:observaciones-no-subsanadas",
            details={
                "items": [
                    {"description": u.description, "document_kind": u.document_kind}
                    for u in content.items
                ]
            },
        )
    return deposit_notification(data, actor=officer)


def review_answer(
    request: CorrectionRequest, *, officer: User, decisions: Mapping[int, Decision]
) -> Review:
    """Record the officer's ruling on each observation. All met: the request is accepted. Any
    not met: a new correction request listing those is deposited, in the same transaction, and
    linked as the follow-up. Either way the procedure's status is then settled from all of its
    requests (`procedure_status.settle()`) and recorded in the event.

    The follow-up's deposit writes its letter to storage; if anything fails after it returned
    (the rest of this transaction, or its commit), those files are deleted with the rollback."""
    notification = request.notification
    if not _may_review(officer, notification):
        raise PermissionDenied
    items = list(request.items.order_by("position"))
    clean = _check_decisions(items, decisions)
    written: list[str] = []  # the follow-up deposit's files, to delete if this rolls back
    try:
        review = _record_review(request, officer, items, clean, written)
    except BaseException:
        _delete_files(written)
        raise
    request.refresh_from_db()
    return replace(review, request=request)


def _record_review(
    request: CorrectionRequest,
    officer: User,
    items: list[CorrectionItem],
    clean: dict[int, Decision],
    written: list[str],
) -> Review:
    with transaction.atomic():
        locked = (
            CorrectionRequest.objects.select_for_update(of=("self",))
            .select_related(
                "notification__procedure__procedure_type",
                "notification__person",
                "notification__unit",
                "answer",
            )
            .get(pk=request.pk)
        )
        if locked.status != RequestStatus.ANSWERED:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        _("Esta respuesta ya fue revisada.")
                        if locked.status in (RequestStatus.ACCEPTED, RequestStatus.PARTIALLY_MET)
                        else _("Esta subsanación no tiene una respuesta por revisar.")
                    ]
                }
            )
        now = timezone.now()
        for item in items:
            decision = clean[item.position]
            item.outcome = Outcome.MET if decision.met else Outcome.NOT_MET
            item.comment = decision.comment
        CorrectionItem.objects.bulk_update(items, ["outcome", "comment"])
        unmet = [item for item in items if item.outcome == Outcome.NOT_MET]
        follow_up = None
        if unmet:
            deposit = _follow_up(locked, unmet, officer)
            follow_up = deposit.notification
            if deposit.created:  # not an earlier deposit returned for the same key
                written.extend(str(a.file.name) for a in follow_up.attachments.all())
            locked.status = RequestStatus.PARTIALLY_MET
            locked.follow_up = follow_up
        else:
            locked.status = RequestStatus.ACCEPTED
        locked.reviewed_at = now
        locked.reviewed_by = officer
        locked.save(update_fields=["status", "follow_up", "reviewed_at", "reviewed_by"])
        status = procedure_status.settle(locked.notification.procedure_id)
        record_about(
            locked.notification,
            EventKind.ANSWER_REVIEWED,
            actor=officer,
            data={
                "answer": str(locked.answer.public_id),
                "outcome": RequestStatus(locked.status).value,
                "items": [
                    {
                        "item": item.position,
                        "outcome": Outcome(item.outcome).value,
                        "comment": item.comment,
                    }
                    for item in items
                ],
                "follow_up": str(follow_up.public_id) if follow_up else None,
                "procedure_status": status.value,
            },
        )
    return Review(locked, follow_up, status)


# --- Expiry -----------------------------------------------------------------------------------


def expire(notification: Notification) -> bool:
    """The deadline ran out with no answer: the request expires and the procedure counts as not
    filed (art. 136.4). Called by mailboxes.actions.record_expired_deadlines() through the kind's
    deadline_expired hook, inside its transaction; idempotent. A procedure already not filed
    stays so (`procedure_status.settle()`)."""
    return _move(
        notification,
        RequestStatus.OPEN,
        RequestStatus.EXPIRED,
        EventKind.CORRECTION_EXPIRED,
        "TUO Ley 27444, art. 136.4",
    )


def reopen(notification: Notification) -> bool:
    """A change to the calendar (a day decreed non-working) moved the deadline of an expired
    request back to today or later: the person may answer again until then (arts. 136 and
    145), so the request is open again and the procedure's status is settled anew. Called by
    mailboxes.actions.recalculate_legal_dates() through the kind's deadline_reopened hook,
    inside its transaction; idempotent."""
    return _move(
        notification,
        RequestStatus.EXPIRED,
        RequestStatus.OPEN,
        EventKind.CORRECTION_REOPENED,
        "TUO Ley 27444, arts. 136 y 145",
    )


def _move(
    notification: Notification,
    source: RequestStatus,
    target: RequestStatus,
    event: EventKind,
    rule: str,
) -> bool:
    """Expiry and its undoing: the request from `source` to `target`, the procedure's status
    settled again, and the event with the deadline, that status and the rule."""
    with transaction.atomic():
        request = (
            CorrectionRequest.objects.select_for_update().filter(notification=notification).first()
        )
        if request is None or request.status != source:
            return False
        status = _set_status(notification, request, target)
        record_about(
            notification,
            event,
            actor=None,
            data={
                "deadline_date": notification.deadline_date.isoformat()
                if notification.deadline_date
                else None,
                "procedure_status": status.value,
                "rule": rule,
            },
        )
    return True


def _set_status(
    notification: Notification, request: CorrectionRequest, target: RequestStatus
) -> ProcedureStatus:
    """The one rule for expiring a locked request and for undoing its expiry (`reopen()`, and
    `file_answer()` for an answer that arrived before the expiry was recorded): its status and
    expiry time, then the procedure's status settled again, which is returned."""
    expired = target == RequestStatus.EXPIRED
    request.status = target
    request.expired_at = timezone.now() if expired else None
    request.save(update_fields=["status", "expired_at"])
    return procedure_status.settle(notification.procedure_id, expired=expired, reopened=not expired)
