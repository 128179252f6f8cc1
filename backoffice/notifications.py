"""The officers' side of notifications: compose with a preview, follow the timeline."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import User
from alerts.actions import was_interrupted
from backoffice.access import officer_required
from backoffice.forms import DateInput
from evidence import certificates
from evidence.actions import issue_certificate
from evidence.limits import over_limit
from evidence.models import Event
from evidence.pki import PdfSignatureError
from evidence.proofs import ProofError
from evidence.tsa import TimestampError
from legaltime.policies import current_policy, deadline_for, effect_of
from mailboxes.actions import deposit_notification
from mailboxes.content import render_markdown
from mailboxes.inputs import (
    APPEAL_MAX_DAYS,
    APPEAL_MIN_DAYS,
    APPEAL_NAME_MAX_LENGTH,
    APPEAL_WHERE_MAX_LENGTH,
    Appeal,
    AttachmentInput,
    NotificationInput,
    check_notification,
)
from mailboxes.models import IssuingUnit, Kind, Notification
from payments.schedule import Row

log = logging.getLogger(__name__)
DRAFTS_KEY = "buzon_notification_drafts"
APPEAL_ROWS = 3
CORRECTION_ROWS = 5  # observed items of a correction request
ROUTE_CHOICES = [
    ("", gettext_lazy("No aplica")),
    ("si", gettext_lazy("Sí")),
    ("no", gettext_lazy("No")),
]


def units_of(user: User) -> QuerySet[IssuingUnit]:
    return IssuingUnit.objects.all() if user.is_superuser else user.units.all()


class ComposeForm(forms.Form):
    procedure_number = forms.CharField(label=gettext_lazy("Número de trámite"), max_length=20)
    unit = forms.ChoiceField(label=gettext_lazy("Unidad que emite"))
    kind = forms.ChoiceField(label=gettext_lazy("Tipo de notificación"), choices=Kind.choices)
    subject = forms.CharField(label=gettext_lazy("Asunto"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Texto completo del acto"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy(
            "Puede usar Markdown: **negrita**, listas con guiones, títulos con ##."
        ),
    )
    response_business_days = forms.IntegerField(
        label=gettext_lazy("Plazo para responder (días hábiles)"),
        required=False,
        min_value=1,
        max_value=365,
        help_text=gettext_lazy(
            "En una subsanación, si lo deja en blanco, rige el plazo del tipo de trámite "
            "(2 días hábiles, salvo que se haya fijado otro)."
        ),
    )
    ends_administrative_route = forms.ChoiceField(
        label=gettext_lazy("¿Agota la vía administrativa?"), choices=ROUTE_CHOICES, required=False
    )
    # A fine (Kind.FINE): payments/ checks these and assigns the payment code.
    fine_amount = forms.DecimalField(
        label=gettext_lazy("Monto (S/)"), required=False, max_digits=9, decimal_places=2
    )
    fine_due_date = forms.DateField(
        label=gettext_lazy("Fecha límite de pago"), required=False, widget=DateInput()
    )
    # An installment plan (Kind.INSTALLMENT).
    plan_total = forms.DecimalField(
        label=gettext_lazy("Deuda total (S/)"), required=False, max_digits=9, decimal_places=2
    )
    plan_installments = forms.IntegerField(
        label=gettext_lazy("Número de cuotas"), required=False, min_value=2, max_value=72
    )
    plan_first_due_date = forms.DateField(
        label=gettext_lazy("Vencimiento de la primera cuota"), required=False, widget=DateInput()
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Base legal"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("De la multa o del fraccionamiento."),
    )
    draft = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(u.code, u.name) for u in units_of(user)]
        for i in range(APPEAL_ROWS):  # the limits are check_notification()'s
            self.fields[f"appeal_{i}_name"] = forms.CharField(
                label=gettext_lazy("Recurso"), required=False, max_length=APPEAL_NAME_MAX_LENGTH
            )
            self.fields[f"appeal_{i}_where"] = forms.CharField(
                label=gettext_lazy("Dónde se presenta"),
                required=False,
                max_length=APPEAL_WHERE_MAX_LENGTH,
            )
            self.fields[f"appeal_{i}_days"] = forms.IntegerField(
                label=gettext_lazy("Plazo (días hábiles)"),
                required=False,
                min_value=APPEAL_MIN_DAYS,
                max_value=APPEAL_MAX_DAYS,
            )
        for i in range(CORRECTION_ROWS):
            self.fields[f"item_{i}_description"] = forms.CharField(
                label=gettext_lazy("Observación"), required=False, max_length=500
            )
            self.fields[f"item_{i}_document"] = forms.CharField(
                label=gettext_lazy("Documento que la subsana"), required=False, max_length=120
            )

    def clean(self) -> dict[str, Any]:
        """A fine or a plan composed here must say what is owed (an API caller may deposit
        an older-style one without details; an officer composing one may not)."""
        data = super().clean() or {}
        required = {
            Kind.FINE: ("fine_amount", "fine_due_date", "legal_basis"),
            Kind.INSTALLMENT: (
                "plan_total",
                "plan_installments",
                "plan_first_due_date",
                "legal_basis",
            ),
        }.get(data.get("kind", ""), ())
        for name in required:
            if data.get(name) in (None, ""):
                self.add_error(name, _("Este dato es obligatorio para este tipo de notificación."))
        return data

    def item_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"item_{i}_description"], self[f"item_{i}_document"])
            for i in range(CORRECTION_ROWS)
        ]

    def details(self) -> dict[str, Any] | None:
        """The kind's details (mailboxes/kinds.py), from the fields of that kind only."""
        d = self.cleaned_data
        kind = d.get("kind")
        if kind == Kind.CORRECTION:
            items = [
                {
                    "description": d.get(f"item_{i}_description") or "",
                    "document_kind": d.get(f"item_{i}_document") or "",
                }
                for i in range(CORRECTION_ROWS)
                if d.get(f"item_{i}_description") or d.get(f"item_{i}_document")
            ]
            return {"items": items} if items else None
        if kind == Kind.FINE:
            return {
                "amount": str(d["fine_amount"]) if d.get("fine_amount") is not None else "",
                "legal_basis": d.get("legal_basis") or "",
                "due_date": d["fine_due_date"].isoformat() if d.get("fine_due_date") else "",
            }
        if kind == Kind.INSTALLMENT:
            first = d.get("plan_first_due_date")
            return {
                "total": str(d["plan_total"]) if d.get("plan_total") is not None else "",
                "installments": d.get("plan_installments"),
                "first_due_date": first.isoformat() if first else "",
                "legal_basis": d.get("legal_basis") or "",
            }
        return None

    def appeal_rows(self) -> list[tuple[forms.BoundField, ...]]:
        return [
            (self[f"appeal_{i}_name"], self[f"appeal_{i}_where"], self[f"appeal_{i}_days"])
            for i in range(APPEAL_ROWS)
        ]

    def appeals(self) -> list[Appeal]:
        d = self.cleaned_data
        return [
            Appeal(d[f"appeal_{i}_name"] or "", d[f"appeal_{i}_where"] or "", d[f"appeal_{i}_days"])
            for i in range(APPEAL_ROWS)
            if d.get(f"appeal_{i}_name") or d.get(f"appeal_{i}_where") or d.get(f"appeal_{i}_days")
        ]

    def to_input(self, attachments: list[AttachmentInput]) -> NotificationInput:
        d = self.cleaned_data
        route = {"si": True, "no": False}.get(d.get("ends_administrative_route") or "")
        return NotificationInput(
            procedure_number=d["procedure_number"],
            unit=d["unit"],
            kind=d["kind"],
            subject=d["subject"],
            body=d["body"],
            attachments=attachments,
            ends_administrative_route=route,
            appeals=self.appeals(),
            response_business_days=d.get("response_business_days"),
            idempotency_key=f"oficina:{d['draft']}" if d.get("draft") else None,
            details=self.details(),
        )


def input_digest(data: NotificationInput) -> str:
    """What the officer previewed: every field and every file's hash."""
    canonical = {
        "procedure": data.procedure_number.strip().upper(),
        "unit": data.unit,
        "kind": data.kind,
        "subject": data.subject,
        "body": data.body,
        "ends_route": data.ends_administrative_route,
        "appeals": [(a.name, a.where, a.business_days) for a in data.appeals],
        "days": data.response_business_days,
        "details": data.details or {},
        "files": [(a.name, hashlib.sha256(a.read()).hexdigest()) for a in data.attachments],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _save_draft(request: HttpRequest, files: list[Any]) -> tuple[str, list[AttachmentInput]]:
    """Keep uploaded PDFs between the preview and the deposit (owner: this session)."""
    token = uuid.uuid4().hex
    saved = []
    inputs = []
    limit = settings.BUZON_ATTACHMENT_MAX_BYTES
    for upload in files[: settings.BUZON_ATTACHMENTS_PER_NOTIFICATION + 1]:
        if upload.size > limit:
            # Keep a stub so validation names the file; never store an oversized upload.
            inputs.append(AttachmentInput(upload.name, b"\0" * (limit + 1)))
            continue
        content = upload.read()
        path = default_storage.save(f"drafts/{token}/{uuid.uuid4().hex}.pdf", ContentFile(content))
        saved.append({"path": path, "name": upload.name})
        inputs.append(AttachmentInput(upload.name, content))
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts[token] = {"files": saved, "digest": ""}
    request.session[DRAFTS_KEY] = drafts
    return token, inputs


def _details_preview(details: dict[str, Any]) -> dict[str, Any]:
    """A kind's details as the preview shows them (dates as dates, to format as the page does):
    read here, not in the template, where a missing "items" key would find dict.items()."""
    due = details.get("due_date")
    return {
        "observations": details.get("items") or [],
        "fine_due": date.fromisoformat(due) if due else None,
        "schedule": [Row.of(row) for row in details.get("schedule") or []],
    }


def _bind_draft(request: HttpRequest, token: str, digest: str) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts[token]["digest"] = digest
    request.session[DRAFTS_KEY] = drafts


def _load_draft(request: HttpRequest, token: str) -> tuple[list[AttachmentInput], str] | None:
    draft = request.session.get(DRAFTS_KEY, {}).get(token)
    if draft is None:
        return None
    inputs = []
    for item in draft["files"]:
        with default_storage.open(item["path"], "rb") as handle:
            inputs.append(AttachmentInput(item["name"], handle.read()))
    return inputs, draft["digest"]


def _drop_draft(request: HttpRequest, token: str) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    for item in drafts.pop(token, {"files": []})["files"]:
        default_storage.delete(item["path"])
    request.session[DRAFTS_KEY] = drafts


def _absorb(form: ComposeForm, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)


@never_cache
@officer_required("mailbox.add_notification")
def compose(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    initial = {"procedure_number": request.GET.get("tramite", "")}
    form = ComposeForm(request.POST or None, request.FILES or None, user=user, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data.get("draft") or ""
        if request.POST.get("action") == "deposit" and token:
            draft = _load_draft(request, token)
            if draft is None:
                messages.error(
                    request, _("La vista previa caducó. Adjunte los documentos otra vez.")
                )
                return redirect("backoffice:compose")
            attachments, previewed = draft
            data = form.to_input(attachments)
            if input_digest(data) != previewed:
                # What is deposited must be exactly what was previewed.
                _drop_draft(request, token)
                messages.error(
                    request,
                    _(
                        "Los datos cambiaron después de la vista previa. Revíselos y vuelva a "
                        "generar la vista previa antes de depositar."
                    ),
                )
                return redirect("backoffice:compose")
            try:
                result = deposit_notification(data, actor=user)
            except ValidationError as exc:
                _absorb(form, exc)
            else:
                _drop_draft(request, token)
                messages.success(request, _("Notificación depositada en la casilla."))
                return redirect("backoffice:notification", public_id=result.notification.public_id)
        else:
            files = request.FILES.getlist("attachments")
            token, attachments = _save_draft(request, files)
            data = form.to_input(attachments)
            try:
                clean = check_notification(data, actor=user)
            except ValidationError as exc:
                _drop_draft(request, token)
                _absorb(form, exc)
            else:
                _bind_draft(request, token, input_digest(data))
                now = timezone.now()
                policy = current_policy()
                effect = effect_of(policy, now, None, now)
                preview = {
                    "clean": clean,
                    "html": render_markdown(clean.body_markdown),
                    "policy": policy.label,
                    "effect": effect,
                    "deadline": deadline_for(effect.effective_date, clean.response_business_days)
                    if effect.effective_date and clean.response_business_days
                    else None,
                    **_details_preview(clean.details or {}),
                }
                form = ComposeForm({**request.POST.dict(), "draft": token}, user=user)
                form.is_valid()
    return render(request, "backoffice/compose.html", {"form": form, "preview": preview})


@never_cache
@officer_required("mailbox.view_notification")
def notification_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    notifications = (
        Notification.objects.filter(unit__in=units_of(user))
        .select_related("unit", "procedure", "person")
        .defer("body_markdown", "body_html")
    )
    query = request.GET.get("q", "").strip()
    if query:
        notifications = notifications.filter(
            Q(procedure__number__iexact=query.upper()) | Q(subject__icontains=query)
        )
    return render(
        request,
        "backoffice/notifications.html",
        {"notifications": notifications[:100], "query": query},
    )


def _of_my_units(request: HttpRequest, public_id: uuid.UUID) -> Notification:
    """A notification of one of the officer's units; any other is a 404."""
    user = request.user
    assert isinstance(user, User)
    try:
        return Notification.objects.select_related(
            "unit", "procedure__procedure_type", "person", "deposited_by", "api_client"
        ).get(public_id=public_id, unit__in=units_of(user))
    except Notification.DoesNotExist:
        raise Http404 from None


def _with_heading(event: Event) -> Event:
    """The event with the title the constancia prints for it (`heading`), and, for an alert
    attempt whose job stopped midway, a Spanish note in place of the internal error."""
    event.heading = certificates.heading(event)  # type: ignore[attr-defined]
    event.interrupted = was_interrupted((event.data or {}).get("error"))  # type: ignore[attr-defined]
    return event


@never_cache
@officer_required("mailbox.view_notification")
def notification_timeline(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    notification = _of_my_units(request, public_id)
    return render(
        request,
        "backoffice/notification.html",
        {
            "n": notification,
            "events": [
                _with_heading(event)
                for event in notification.events.select_related("actor").order_by(
                    "occurred_at", "id"
                )
            ],
            "alerts": notification.alerts.all(),
            "attachments": notification.attachments.all(),
            "opening": getattr(notification, "opening", None),
        },
    )


@never_cache
@officer_required("mailbox.view_notification")
def notification_certificate(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The constancia de notificación, as the person would get it (officers may issue it before
    the notification is opened: it then certifies the deposit and the alerts)."""
    notification = _of_my_units(request, public_id)
    user = request.user
    assert isinstance(user, User)
    if over_limit(request, "certificate"):
        messages.error(
            request,
            _("Ha pedido muchas constancias en poco tiempo. Inténtelo de nuevo en una hora."),
        )
        return redirect("backoffice:notification", public_id=notification.public_id)
    try:
        issued, pdf = issue_certificate(notification, requested_by=user)
    except (TimestampError, PdfSignatureError, ProofError):
        log.exception("certificate for notification %s not issued", notification.pk)
        messages.error(
            request, _("No se pudo emitir la constancia en este momento. Inténtelo más tarde.")
        )
        return redirect("backoffice:notification", public_id=notification.public_id)
    return certificates.download_response(notification, issued, pdf)


def purge_stale_drafts(now: datetime, older_than: timedelta = timedelta(hours=24)) -> int:
    """Delete preview drafts nobody confirmed: they hold PDFs with personal data."""
    try:
        folders, _files = default_storage.listdir("drafts")
    except FileNotFoundError:
        return 0
    purged = 0
    for folder in folders:
        _sub, files = default_storage.listdir(f"drafts/{folder}")
        paths = [f"drafts/{folder}/{name}" for name in files]
        if all(default_storage.get_modified_time(p) < now - older_than for p in paths):
            for path in paths:
                default_storage.delete(path)
            purged += 1
    return purged
