"""Validation of deposits, shared by the officers' form, the batch command and the API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from mailboxes.content import render_markdown
from mailboxes.kinds import REGISTRY
from mailboxes.models import IssuingUnit, Kind
from mailboxes.pdfs import CheckedPdf, check_pdf
from procedures.models import Procedure

if TYPE_CHECKING:
    from api.models import ApiClient

# TUO Ley 27444 art. 136: a correction request gives at most 2 business days.
DEFAULT_CORRECTION_DAYS = 2
# What an appeal may hold, whoever deposits it; the officers' form takes its limits from here.
APPEAL_NAME_MAX_LENGTH = 100
APPEAL_WHERE_MAX_LENGTH = 200
APPEAL_MIN_DAYS, APPEAL_MAX_DAYS = 1, 365
MAX_APPEALS = 10  # a resolution lists two or three; more is a mistake


@dataclass(frozen=True)
class AttachmentInput:
    """A PDF given as bytes (forms, the API) or as a file path (bulk campaigns).

    A path is read to validate it and read again when written, so a campaign of 100,000 PDFs
    never holds them all in memory.
    """

    name: str
    content: bytes | None = field(default=None, repr=False)
    path: Path | None = None

    def read(self) -> bytes:
        if self.content is not None:
            return self.content
        if self.path is None:
            raise ValueError("an attachment needs its content or a path")
        return self.path.read_bytes()


@dataclass(frozen=True)
class Appeal:
    name: str  # e.g. "Reconsideración"
    where: str  # where to file it
    business_days: int | None  # deadline to file it


@dataclass(frozen=True)
class NotificationInput:
    procedure_number: str
    unit: str  # IssuingUnit.code
    kind: str
    subject: str
    body: str  # Markdown
    attachments: Sequence[AttachmentInput]
    ends_administrative_route: bool | None = None
    appeals: Sequence[Appeal] = ()
    response_business_days: int | None = None
    idempotency_key: str | None = None
    # Kind-specific data (mailboxes/kinds.py): correction items, a fine, an installment plan.
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CleanNotification:
    procedure: Procedure
    unit: IssuingUnit
    kind: str
    subject: str
    body_markdown: str
    body_html: str
    attachments: list[CheckedPdf]
    ends_administrative_route: bool | None
    appeals: list[dict[str, Any]]
    response_business_days: int | None
    idempotency_key: str | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        canonical: list[Any] = [
            self.procedure.number, self.unit.code, self.kind, self.subject, self.body_markdown,
            self.ends_administrative_route, self.appeals, self.response_business_days,
            [(a.original_name, a.sha256) for a in self.attachments],
        ]  # fmt: skip
        if self.details:  # only when present, so digests of earlier deposits stay the same
            canonical.append(self.details)
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


KEY_CONFLICT = gettext_noop(
    "Esta clave de idempotencia ya se usó para una notificación con otro contenido."
)


def key_conflict() -> ValidationError:
    return ValidationError({"idempotency_key": [_(KEY_CONFLICT)]}, code="key_conflict")


def _check_resolution(data: NotificationInput) -> list[str]:
    """What TUO Ley 27444 art. 24.1 requires of a resolution, listed exactly."""
    missing = []
    if data.ends_administrative_route is None:
        missing.append(_("si la resolución agota o no la vía administrativa"))
    if not data.appeals and data.ends_administrative_route is not True:
        missing.append(_("los recursos que proceden, dónde presentarlos y en qué plazo"))
    return missing + _appeal_gaps(data.appeals)


def _appeal_gaps(appeals: Sequence[Appeal]) -> list[str]:
    """What each appeal lacks of its name, where to file it and its deadline."""
    gaps = []
    for number, appeal in enumerate(appeals[:MAX_APPEALS], start=1):
        if not appeal.name.strip():
            gaps.append(_("el nombre del recurso %(n)d") % {"n": number})
        if not appeal.where.strip():
            gaps.append(_("dónde presentar el recurso %(n)d") % {"n": number})
        if appeal.business_days is None:
            gaps.append(_("el plazo en días hábiles del recurso %(n)d") % {"n": number})
    return gaps


def _appeal_problems(appeals: Sequence[Appeal]) -> list[str]:
    """Each appeal as the officers' form takes it, whatever the kind of notification: what
    the person reads must be a deadline they can meet, in a text that fits."""
    if len(appeals) > MAX_APPEALS:
        return [_("Indique como máximo %(n)d recursos.") % {"n": MAX_APPEALS}]
    problems = []
    for number, appeal in enumerate(appeals, start=1):
        if len(appeal.name.strip()) > APPEAL_NAME_MAX_LENGTH:
            problems.append(
                _("El nombre del recurso %(n)d puede tener como máximo %(max)d caracteres.")
                % {"n": number, "max": APPEAL_NAME_MAX_LENGTH}
            )
        if len(appeal.where.strip()) > APPEAL_WHERE_MAX_LENGTH:
            problems.append(
                _("Dónde presentar el recurso %(n)d puede tener como máximo %(max)d caracteres.")
                % {"n": number, "max": APPEAL_WHERE_MAX_LENGTH}
            )
        if "\x00" in appeal.name or "\x00" in appeal.where:
            problems.append(_("El recurso %(n)d contiene caracteres no válidos.") % {"n": number})
        days = appeal.business_days
        if days is not None and (
            isinstance(days, bool) or not APPEAL_MIN_DAYS <= days <= APPEAL_MAX_DAYS
        ):
            problems.append(
                _("El plazo del recurso %(n)d debe estar entre %(min)d y %(max)d días hábiles.")
                % {"n": number, "min": APPEAL_MIN_DAYS, "max": APPEAL_MAX_DAYS}
            )
    return problems


def _number(data: NotificationInput) -> str:
    return (data.procedure_number or "").strip().upper()


@dataclass
class Lookups:
    """Procedures, units and the units the caller may act for (an officer's, or an API
    client's), fetched once for a whole batch."""

    procedures: dict[str, Procedure]
    units: dict[str, IssuingUnit]
    actor_units: set[int] | None  # None: no restriction (system or superuser)
    # An API client's deposit: a unit it may not use is refused in the words of an unknown
    # one, so that a client learns nothing about the units it does not act for.
    for_client: bool = False

    @classmethod
    def for_items(
        cls,
        items: Sequence[NotificationInput],
        actor: User | None,
        client: ApiClient | None = None,
    ) -> Lookups:
        # A NUL character cannot be in any number or code (and PostgreSQL refuses it in a
        # query): such an item simply finds nothing, and is refused field by field.
        numbers = {n for n in (_number(item) for item in items) if "\x00" not in n}
        codes = {i.unit for i in items if isinstance(i.unit, str) and "\x00" not in i.unit}
        procedures = {
            p.number: p
            for p in Procedure.objects.select_related("person").filter(number__in=numbers)
        }
        units = {u.code: u for u in IssuingUnit.objects.filter(code__in=codes)}
        actor_units = None
        if actor is not None and not actor.is_superuser:
            actor_units = set(actor.units.values_list("pk", flat=True))
        if client is not None:  # a client with no units acts for none (fail closed)
            own = set(client.units.values_list("pk", flat=True))
            actor_units = own if actor_units is None else actor_units & own
        return cls(procedures, units, actor_units, for_client=client is not None)


def check_notification(
    data: NotificationInput,
    *,
    actor: User | None,
    lookups: Lookups | None = None,
    test_key: bool | None = None,
    client: ApiClient | None = None,
) -> CleanNotification:
    """Every problem at once, keyed by field; nothing is written here. `test_key`: whether an
    API key's deposit comes from a test key (True: only into a test mailbox) or a live one
    (False: only into a real mailbox); None for officers and commands, who may deposit into
    either (a test mailbox is marked PRUEBA wherever they see it). `client`: the API client that
    deposits, which may use only its own units, as an officer (ignored with `lookups`, which
    then carry them)."""
    errors: dict[str, list[str]] = {}
    lookups = lookups or Lookups.for_items([data], actor, client)

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    procedure = lookups.procedures.get(_number(data))
    if test_key and (procedure is None or not procedure.person.is_test):
        # The same words whether the number is unused or a real person's: a test key learns
        # nothing about real procedures.
        add(
            "procedure_number",
            _(
                "Una clave de prueba solo deposita en trámites de prueba; "
                "no hay uno con ese número."
            ),
        )
        procedure = None  # nothing further is checked against a real procedure
    elif procedure is None:
        add("procedure_number", _("No existe un trámite con ese número."))
    elif test_key is False and procedure.person.is_test:
        # A live system's deposit is a legal act: it never lands in a test mailbox, where no
        # real payment applies and nobody is notified for real.
        add(
            "procedure_number",
            _("Ese trámite es de prueba: solo una clave de prueba deposita en él."),
        )
        procedure = None
    unit = lookups.units.get(data.unit)
    if lookups.for_client and (unit is None or unit.pk not in (lookups.actor_units or ())):
        add("unit", _("Este sistema no deposita para una unidad emisora con ese código."))
        unit = None
    elif unit is None:
        add("unit", _("Elija una unidad emisora."))
    elif lookups.actor_units is not None and unit.pk not in lookups.actor_units:
        add("unit", _("Usted no pertenece a la unidad «%(unit)s».") % {"unit": unit.name})
    if data.kind not in Kind.values:
        add("kind", _("Elija el tipo de notificación."))
    subject = " ".join((data.subject or "").split())
    if not subject:
        add("subject", _("Escriba el asunto."))
    elif len(subject) > 200:
        add("subject", _("El asunto puede tener como máximo 200 caracteres."))
    body = (data.body or "").strip()
    if not body:
        add("body", _("Escriba el texto completo del acto que se notifica."))
    elif len(body) > 100_000:
        add("body", _("El texto es demasiado largo (máximo 100 000 caracteres)."))
    if "\x00" in subject or "\x00" in body:
        add("body", _("El texto contiene caracteres no válidos."))

    attachments: list[CheckedPdf] = []
    if not data.attachments:
        add("attachments", _("Adjunte al menos un documento en PDF."))
    elif len(data.attachments) > settings.BUZON_ATTACHMENTS_PER_NOTIFICATION:
        add(
            "attachments",
            _("Puede adjuntar como máximo %(n)d documentos.")
            % {"n": settings.BUZON_ATTACHMENTS_PER_NOTIFICATION},
        )
    else:
        for item in data.attachments:
            try:
                checked = check_pdf(item.read(), item.name)
            except OSError:
                add("attachments", _("No se puede leer «%(name)s».") % {"name": item.name})
                continue
            except ValidationError as exc:
                add("attachments", exc.messages[0])
                continue
            # Keep only the hash of a file on disk; it is read again when written.
            attachments.append(checked.without_content(item.path) if item.path else checked)

    response_days = data.response_business_days
    if data.kind == Kind.CORRECTION and response_days is None:
        response_days = (
            procedure.procedure_type.correction_business_days
            if procedure is not None and procedure.procedure_type.correction_business_days
            else DEFAULT_CORRECTION_DAYS
        )
    if response_days is not None and not 1 <= response_days <= 365:
        add("response_business_days", _("El plazo debe estar entre 1 y 365 días hábiles."))

    if data.kind == Kind.RESOLUTION:
        missing = _check_resolution(data)
        if missing:
            add(
                "appeals",
                _(
                    "A la resolución le falta lo que exige el art. 24.1 del TUO de la Ley N.° "
                    "27444: %(missing)s."
                )
                % {"missing": "; ".join(missing)},
            )
    elif gaps := _appeal_gaps(data.appeals):
        # Any kind may list appeals; those it lists must be complete, as in a resolution.
        add(
            "appeals",
            _("Cada recurso debe decir su nombre, dónde presentarlo y su plazo; falta %(missing)s.")
            % {"missing": "; ".join(gaps)},
        )
    for problem in _appeal_problems(data.appeals):
        add("appeals", problem)

    details: dict[str, Any] = {}
    rules = REGISTRY.get(data.kind)
    if rules is not None and procedure is not None:
        try:
            details = rules.check(data.details, procedure)
        except ValidationError as exc:
            for message in exc.messages:
                add("details", message)
    elif rules is None and data.details:
        add("details", _("Este tipo de notificación no lleva datos adicionales."))

    key = (data.idempotency_key or "").strip()
    if len(key) > 100:
        add("idempotency_key", _("La clave de idempotencia tiene más de 100 caracteres."))

    if errors:
        raise ValidationError(errors)
    assert procedure is not None
    assert unit is not None
    return CleanNotification(
        procedure=procedure,
        unit=unit,
        kind=data.kind,
        subject=subject,
        body_markdown=body,
        body_html=render_markdown(body),
        attachments=attachments,
        ends_administrative_route=data.ends_administrative_route,
        appeals=[
            {"name": a.name.strip(), "where": a.where.strip(), "business_days": a.business_days}
            for a in data.appeals
        ],
        response_business_days=response_days,
        idempotency_key=(data.idempotency_key or "").strip() or None,
        details=details,
    )
