"""Legal state changes of notifications: deposit, opening, access, and the passing of time.

Each function owns its transaction and writes its evidence inside it. Views, the batch
command and the agency API all call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from alerts.actions import create_deposit_alerts, enqueue_alerts
from buzon.bulk import insert_new
from evidence import chain
from evidence.actions import EventSpec, about, record_about, record_many
from evidence.models import EventKind
from legaltime.policies import (
    Effect,
    Policy,
    current_policy,
    deadline_for,
    effect_of,
    pending_until,
)
from mailboxes import kinds
from mailboxes.inputs import (
    CleanNotification,
    Lookups,
    NotificationInput,
    check_notification,
    key_conflict,
)
from mailboxes.models import Attachment, Notification, Opening, State
from mailboxes.pdfs import CheckedPdf

if TYPE_CHECKING:
    from api.models import ApiClient


def notification_content(notification: Notification) -> dict[str, Any]:
    """The canonical content: what was notified, to whom, by whom. Exports carry it as is, so
    anyone can hash it again (evidence.chain.content_sha256) and compare with the log."""
    return {
        "id": str(notification.public_id),
        "procedure": notification.procedure.number,
        "person": notification.person.username,
        "unit": notification.unit.code,
        "authority": notification.authority,
        "authority_address": notification.authority_address,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body_markdown,
        "ends_administrative_route": notification.ends_administrative_route,
        "appeals": notification.appeals,
        "response_business_days": notification.response_business_days,
    } | ({"details": notification.details} if notification.details else {})


def content_sha256(notification: Notification) -> str:
    return chain.content_sha256(notification_content(notification))


def _apply_effect(notification: Notification, effect: Effect) -> None:
    notification.effective_date = effect.effective_date
    notification.effect_rule = effect.rule[:300]
    if effect.effective_date and notification.response_business_days:
        notification.deadline_date = deadline_for(
            effect.effective_date, notification.response_business_days
        )
    if effect.rejected:
        notification.state = State.REJECTED
    elif effect.deemed and notification.state == State.DEPOSITED:
        notification.state = State.DEEMED


def _build(
    clean: CleanNotification,
    *,
    actor: User | None,
    now: datetime,
    policy: Policy,
    effect: Effect,
    client: ApiClient | None = None,
) -> Notification:
    notification = Notification(
        procedure=clean.procedure,
        person=clean.procedure.person,
        unit=clean.unit,
        authority=clean.unit.authority,
        authority_address=clean.unit.address,
        kind=clean.kind,
        subject=clean.subject,
        body_markdown=clean.body_markdown,
        body_html=clean.body_html,
        ends_administrative_route=clean.ends_administrative_route,
        appeals=clean.appeals,
        response_business_days=clean.response_business_days,
        policy=f"{policy.kind}:{policy.days}" if policy.days else policy.kind,
        deposited_at=now,
        deposited_by=actor if actor is not None and actor.pk else None,
        idempotency_key=clean.idempotency_key,
        idempotency_digest=clean.digest if clean.idempotency_key else "",
        details=clean.details,
        api_client=client,
    )
    notification.content_sha256 = content_sha256(notification)
    _apply_effect(notification, effect)
    if notification.effective_date is None:
        notification.pending_until = pending_until(policy, now)
    return notification


def _store(
    notification: Notification, pdfs: Iterable[CheckedPdf], written: list[str]
) -> list[Attachment]:
    attachments = []
    for pdf in pdfs:
        attachment = Attachment(
            notification=notification,
            original_name=pdf.original_name,
            sha256=pdf.sha256,
            size=pdf.size,
        )
        attachment.file.save("x.pdf", ContentFile(pdf.loaded().content or b""), save=False)
        written.append(str(attachment.file.name))
        attachments.append(attachment)
    return attachments


def _effect_event(
    notification: Notification, attachments_sha256: list[str] | None = None
) -> EventSpec:
    """The event for a notification's legal effect, once it has one: set, or deemed rejected."""
    assert notification.effective_date is not None
    return about(
        notification,
        EventKind.NOTIFICATION_DEEMED_REJECTED
        if notification.state == State.REJECTED
        else EventKind.NOTIFICATION_EFFECTIVE,
        actor=None,
        data={
            "effective_date": notification.effective_date.isoformat(),
            "rule": notification.effect_rule,
            "deemed": notification.state in (State.DEEMED, State.REJECTED),
            "deadline_date": notification.deadline_date.isoformat()
            if notification.deadline_date
            else None,
        },
        attachments_sha256=attachments_sha256,
    )


def _deposit_events(
    notification: Notification, attachments: list[Attachment], actor: User | None
) -> list[EventSpec]:
    """The events of a deposit; the caller writes them in its transaction."""
    hashes = [a.sha256 for a in attachments]
    events = [
        about(
            notification,
            EventKind.NOTIFICATION_DEPOSITED,
            actor=actor,
            data={
                "public_id": str(notification.public_id),
                "deposited_at": chain.timestamp(notification.deposited_at),
                "attachments": [
                    {"name": a.original_name, "sha256": a.sha256, "size": a.size}
                    for a in attachments
                ],
                "policy": notification.policy,
            }
            | ({"via": notification.api_client.name} if notification.api_client else {})
            | ({"test": True} if notification.person.is_test else {}),
            attachments_sha256=hashes,
        )
    ]
    if notification.effective_date is not None:
        events.append(_effect_event(notification, hashes))
    return events


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


@dataclass(frozen=True)
class Deposit:
    notification: Notification
    created: bool


def _same_or_conflict(earlier: Notification, clean: CleanNotification) -> Deposit:
    if earlier.idempotency_digest != clean.digest:
        raise key_conflict()
    return Deposit(earlier, created=False)


def deposit_notification(
    data: NotificationInput, *, actor: User | None, client: ApiClient | None = None
) -> Deposit:
    """Deposit one notification: content, attachments, legal dates, evidence and alert rows,
    in one transaction. The same idempotency key returns the first deposit. `client`: the
    agency system that deposits it through the API (named in the evidence)."""
    clean = check_notification(
        data, actor=actor, test_key=client.is_test if client else None, client=client
    )
    if clean.idempotency_key:
        earlier = Notification.objects.filter(idempotency_key=clean.idempotency_key).first()
        if earlier is not None:
            return _same_or_conflict(earlier, clean)
    written: list[str] = []
    committed: list[bool] = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))  # first: before any other
            now = timezone.now()
            policy = current_policy()
            effect = effect_of(policy, now, None, now)
            notification = _build(
                clean, actor=actor, now=now, policy=policy, effect=effect, client=client
            )
            notification.save()
            kinds.materialize([notification])
            attachments = _store(notification, clean.attachments, written)
            Attachment.objects.bulk_create(attachments)
            record_many(_deposit_events(notification, attachments, actor))
            alerts = create_deposit_alerts([notification])
    except IntegrityError:
        _delete_files(written)
        earlier = Notification.objects.filter(idempotency_key=clean.idempotency_key).first()
        if clean.idempotency_key and earlier is not None:
            return _same_or_conflict(earlier, clean)
        raise
    except BaseException:
        if not committed:  # files of a committed deposit stay, whatever failed after it
            _delete_files(written)
        raise
    enqueue_alerts(alerts)
    return Deposit(notification, created=True)


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    key: str
    notification: Notification | None
    created: bool
    errors: dict[str, list[str]] | None


def _deposit_chunk(
    chunk: list[tuple[int, CleanNotification]],
    results: list[BatchItemResult | None],
    *,
    actor: User | None,
    policy: Policy,
    client: ApiClient | None,
) -> None:
    """One transaction of deposit_many(): the chunk's new keys are written, the keys already
    deposited are reported (the same content: existing; other content: refused)."""
    keys = [clean.idempotency_key for _i, clean in chunk]
    existing = {n.idempotency_key: n for n in Notification.objects.filter(idempotency_key__in=keys)}
    fresh = []
    for index, clean in chunk:
        if clean.idempotency_key in existing:
            continue
        try:
            # This batch's files only, re-read and re-checked before its transaction.
            loaded = [pdf.loaded() for pdf in clean.attachments]
        except ValidationError as exc:
            results[index] = BatchItemResult(
                index, clean.idempotency_key or "", None, False, {"attachments": exc.messages}
            )
            continue
        fresh.append((index, replace(clean, attachments=loaded)))
    for index, clean in chunk:
        earlier = existing.get(clean.idempotency_key)
        if earlier is None:
            continue
        if earlier.idempotency_digest != clean.digest:
            results[index] = BatchItemResult(
                index, clean.idempotency_key or "", None, False, key_conflict().message_dict
            )
        else:
            results[index] = BatchItemResult(
                index, clean.idempotency_key or "", earlier, False, None
            )
    written: list[str] = []
    committed: list[bool] = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))  # first: before any other
            now = timezone.now()
            # One deposit instant per batch, so one legal effect for all of it.
            effect = effect_of(policy, now, None, now)
            notifications = [
                _build(c, actor=actor, now=now, policy=policy, effect=effect, client=client)
                for _i, c in fresh
            ]
            events: list[EventSpec] = []
            insert_new(notifications)
            kinds.materialize(notifications)
            all_attachments: list[Attachment] = []
            for notification, (_i, clean) in zip(notifications, fresh, strict=True):
                attachments = _store(notification, clean.attachments, written)
                all_attachments.extend(attachments)
                events += _deposit_events(notification, attachments, actor)
            insert_new(all_attachments)
            record_many(events)
            alerts = create_deposit_alerts(notifications)
    except BaseException:
        if not committed:  # files of a committed deposit stay, whatever failed after it
            _delete_files(written)
        raise
    enqueue_alerts(alerts)
    for notification, (index, clean) in zip(notifications, fresh, strict=True):
        results[index] = BatchItemResult(
            index, clean.idempotency_key or "", notification, True, None
        )


def deposit_many(
    items: Sequence[NotificationInput],
    *,
    actor: User | None,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
    client: ApiClient | None = None,
) -> list[BatchItemResult]:
    """The bulk path: validate every item first, then write valid ones in batches.

    Every item needs its own idempotency key, so a rerun deposits nothing twice. A bad item is
    reported and rejects nothing else.
    """
    results: list[BatchItemResult | None] = [None] * len(items)
    valid: list[tuple[int, CleanNotification]] = []
    seen: set[str] = set()
    lookups = Lookups.for_items(items, actor, client)
    for index, item in enumerate(items):
        key = (item.idempotency_key or "").strip()
        try:
            if not key:
                raise ValidationError({"idempotency_key": ["Falta la clave de idempotencia."]})
            if key in seen:
                raise ValidationError({"idempotency_key": ["Clave repetida en el lote."]})
            seen.add(key)
            clean = check_notification(
                item, actor=actor, lookups=lookups, test_key=client.is_test if client else None
            )
            valid.append((index, clean))
        except ValidationError as exc:
            results[index] = BatchItemResult(index, key, None, False, exc.message_dict)
    policy = current_policy()
    for start in range(0, len(valid), batch_size):
        chunk = valid[start : start + batch_size]
        for attempt in range(3):
            try:
                _deposit_chunk(chunk, results, actor=actor, policy=policy, client=client)
                break
            except IntegrityError:
                # Another caller deposited some of these keys a moment ago (two runs of the
                # same campaign at once): look again, and report those as existing.
                if attempt == 2:
                    raise
        if progress is not None:
            progress(len(chunk))
    return [r for r in results if r is not None]


@dataclass(frozen=True)
class RequestMeta:
    ip_address: str | None
    user_agent: str


def open_notification(notification: Notification, *, reader: User, meta: RequestMeta) -> Opening:
    """The acuse de lectura: recorded exactly once, even under concurrent requests.

    Under the opening-based policies the opening can be what makes the notification take
    effect, so the legal dates are settled in the same transaction.
    """
    try:
        with transaction.atomic():
            now = timezone.now()
            opening = Opening.objects.create(
                notification=notification,
                opened_at=now,
                user=reader,
                ip_address=meta.ip_address,
                user_agent=meta.user_agent[:300],
            )
            locked = Notification.objects.select_for_update().get(pk=notification.pk)
            locked.opened_at = now
            if locked.state == State.DEPOSITED:
                locked.state = State.OPENED
            had_effect = locked.effective_date is not None
            if not had_effect:
                _apply_effect(
                    locked, effect_of(Policy.parse(locked.policy), locked.deposited_at, now, now)
                )
            locked.save()
            record_about(
                locked,
                EventKind.NOTIFICATION_OPENED,
                actor=reader,
                data={
                    "ip": meta.ip_address,
                    "user_agent": meta.user_agent[:300],
                    "opened_at": chain.timestamp(now),
                },
            )
            if not had_effect and locked.effective_date is not None:
                # Opened after the calendar-days term, this records a rejection.
                record_many([_effect_event(locked)])
            notification.refresh_from_db()
            return opening
    except IntegrityError:
        # Someone opened it a moment before us: theirs is the acuse; this is a view.
        opening = Opening.objects.get(notification=notification)
        notification.refresh_from_db()
        return opening


def record_view(notification: Notification, *, reader: User, meta: RequestMeta) -> None:
    with transaction.atomic():
        record_about(
            notification,
            EventKind.NOTIFICATION_VIEWED,
            actor=reader,
            data={"ip": meta.ip_address, "user_agent": meta.user_agent[:300]},
        )


def record_download(attachment: Attachment, *, reader: User, meta: RequestMeta) -> None:
    notification = attachment.notification
    with transaction.atomic():
        record_about(
            notification,
            EventKind.ATTACHMENT_DOWNLOADED,
            actor=reader,
            data={
                "attachment": attachment.original_name,
                "sha256": attachment.sha256,
                "ip": meta.ip_address,
                "user_agent": meta.user_agent[:300],
            },
        )


def settle(now: datetime | None = None) -> int:
    """Let time pass: unopened notifications under an opening-based policy take effect (or are
    deemed rejected) once their term runs out. Idempotent; run it periodically."""
    now = now or timezone.now()
    settled = 0
    pending = Notification.objects.filter(
        effective_date__isnull=True,
        opened_at__isnull=True,
        pending_until__lte=timezone.localtime(now).date(),
    )
    for pk in list(pending.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = (
                Notification.objects.select_for_update()
                .select_related("person", "procedure")
                .get(pk=pk)
            )
            if locked.effective_date is not None or locked.opened_at is not None:
                continue
            effect = effect_of(Policy.parse(locked.policy), locked.deposited_at, None, now)
            if effect.effective_date is None:
                continue
            _apply_effect(locked, effect)
            locked.save()
            record_many([_effect_event(locked)])
            settled += 1
    return settled


def record_expired_deadlines(now: datetime | None = None) -> int:
    """Record, once per notification, that its response deadline has run out (the deadline
    day counts whole, so it has run out from the next day on, Lima time)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    due = Notification.objects.filter(
        deadline_date__lt=today, deadline_expired_at__isnull=True, deadline_stopped_at__isnull=True
    )
    recorded = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = (
                Notification.objects.select_for_update()
                .select_related("person", "procedure")
                .get(pk=pk)
            )
            if (
                locked.deadline_expired_at is not None
                or locked.deadline_stopped_at is not None
                or locked.deadline_date is None
                or locked.deadline_date >= today
            ):
                continue
            locked.deadline_expired_at = now
            locked.save(update_fields=["deadline_expired_at"])
            record_about(
                locked,
                EventKind.DEADLINE_EXPIRED,
                actor=None,
                data={"deadline_date": locked.deadline_date.isoformat()},
            )
            kinds.deadline_expired(locked)
            recorded += 1
    return recorded


def recalculate_legal_dates(since: date, *, actor: User | None, reason: str) -> int:
    """After the calendar changes from `since` on (a day declared non-working by decree, or
    such a declaration withdrawn): move every effect date and deadline that the change reaches,
    each with an evidence event giving the old and new dates. Returns how many moved.

    An effect that already happened before `since` stays; only its deadline may move.
    """
    now = timezone.now()
    reached = Notification.objects.filter(
        Q(effective_date__gte=since)
        | Q(deadline_date__gte=since)
        | Q(effective_date__isnull=True, pending_until__gte=since)
    ).values_list("pk", flat=True)
    moved = 0
    for pk in list(reached):
        with transaction.atomic():
            locked = (
                Notification.objects.select_for_update()
                .select_related("person", "procedure")
                .get(pk=pk)
            )
            before = (locked.effective_date, locked.deadline_date, locked.pending_until)
            rule_before, expired_before = locked.effect_rule, locked.deadline_expired_at is not None
            policy = Policy.parse(locked.policy)
            if locked.effective_date is None and locked.pending_until is not None:
                locked.pending_until = pending_until(policy, locked.deposited_at)
            if locked.effective_date is not None and locked.effective_date >= since:
                effect = effect_of(policy, locked.deposited_at, locked.opened_at, now)
                if effect.effective_date is not None:
                    locked.effective_date = effect.effective_date
                    locked.effect_rule = effect.rule[:300]
                else:
                    # Deemed served on a day now declared non-working: the new deemed day is
                    # still to come, so the notification is pending again until then, and
                    # settle() gives it its effect (and its deadline) on that day.
                    _unsettle(locked, policy)
            if locked.effective_date is not None and locked.response_business_days:
                locked.deadline_date = deadline_for(
                    locked.effective_date, locked.response_business_days
                )
            after = (locked.effective_date, locked.deadline_date, locked.pending_until)
            if after == before:
                continue
            today = timezone.localtime(now).date()
            reopened = False
            if locked.deadline_date is None or locked.deadline_date >= today:
                # A deadline moved past today runs again; its expiry is recorded anew.
                reopened = locked.deadline_expired_at is not None
                locked.deadline_expired_at = None
            locked.save(
                update_fields=[
                    "effective_date",
                    "effect_rule",
                    "deadline_date",
                    "pending_until",
                    "deadline_expired_at",
                    "state",
                ]
            )
            record_about(
                locked,
                EventKind.DATES_RECALCULATED,
                actor=actor,
                data={
                    "reason": reason,
                    "effective_date": [str(before[0]), str(after[0])],
                    "deadline_date": [str(before[1]), str(after[1])],
                    "pending_until": [str(before[2]), str(after[2])],
                    # What the constancia prints beside the dates, so verify_evidence can
                    # hold the row to it.
                    "rule": [rule_before, locked.effect_rule],
                    "deadline_expired": [expired_before, locked.deadline_expired_at is not None],
                },
            )
            if reopened:
                # What the kind made of the expiry is undone in the same transaction (a
                # correction request: open again, art. 136).
                kinds.deadline_reopened(locked)
            moved += 1
    return moved


def _unsettle(notification: Notification, policy: Policy) -> None:
    notification.effective_date = None
    notification.effect_rule = ""
    notification.deadline_date = None
    notification.pending_until = pending_until(policy, notification.deposited_at)
    if notification.state == State.DEEMED:
        notification.state = State.DEPOSITED
