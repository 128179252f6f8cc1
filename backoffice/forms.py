from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from api.keys import client_name_taken
from mailboxes.models import IssuingUnit
from people.documents import DocumentType
from procedures.inputs import PersonInput, ProcedureInput, check_person, check_procedure
from procedures.models import Office, ProcedureType


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _country_choices() -> list[tuple[str, str]]:
    return [("", gettext("Elija un país")), *[(c.code, str(c.name)) for c in countries]]


class RegistrationForm(forms.Form):
    """Officer input for register_procedure(). The rules live in procedures.inputs."""

    doc_type = forms.ChoiceField(label=_("Tipo de documento"), choices=DocumentType.choices)
    doc_number = forms.CharField(label=_("Número de documento"), max_length=30)
    doc_country = forms.ChoiceField(
        label=_("País emisor"),
        required=False,
        help_text=_("Solo para pasaporte u otro documento extranjero."),
    )
    given_names = forms.CharField(label=_("Nombres"), max_length=120)
    first_surname = forms.CharField(label=_("Primer apellido"), max_length=80)
    second_surname = forms.CharField(label=_("Segundo apellido"), max_length=80, required=False)
    birth_date = forms.DateField(label=_("Fecha de nacimiento"), widget=DateInput())
    nationality = forms.ChoiceField(label=_("Nacionalidad"))
    email = forms.CharField(label=_("Correo electrónico"), max_length=254, required=False)
    mobile_phone = forms.CharField(
        label=_("Celular"),
        max_length=30,
        required=False,
        help_text=_("Para avisarle cuando tenga una notificación. Ejemplo: 987 654 321."),
    )
    procedure_type = forms.ModelChoiceField(
        label=_("Tipo de trámite"),
        queryset=ProcedureType.objects.filter(active=True),
        to_field_name="code",
        empty_label=_("Elija el trámite"),
    )
    office = forms.ModelChoiceField(
        label=_("Sede"),
        queryset=Office.objects.filter(active=True),
        to_field_name="code",
        empty_label=_("Elija la sede"),
    )
    filing_date = forms.DateField(label=_("Fecha de presentación"), widget=DateInput())
    number = forms.CharField(
        label=_("Número de trámite"),
        max_length=20,
        required=False,
        help_text=_("Déjelo en blanco para asignar el siguiente número de la sede."),
    )

    # A fresh id per form page: a double submit returns the first registration.
    submission_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("doc_country", "nationality"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _country_choices()
        if not self.is_bound:
            self.initial.setdefault("submission_id", uuid.uuid4().hex)
            self.initial.setdefault("filing_date", timezone.localdate())
            self.initial.setdefault("office", "LM")

    def clean(self) -> dict[str, Any]:
        """Run the registration rules on whatever was given, so every problem shows at once."""
        data = super().clean() or {}
        try:
            check_person(self.person_input())
        except ValidationError as exc:
            self._absorb(exc)
        try:
            check_procedure(self.procedure_input())
        except ValidationError as exc:
            self._absorb(exc)
        return data

    def _absorb(self, exc: ValidationError) -> None:
        for name, messages in exc.message_dict.items():
            if name in self.fields and name not in self.errors:
                for message in messages:
                    self.add_error(name, message)

    def idempotency_key(self) -> str | None:
        value = self.cleaned_data.get("submission_id") or ""
        return f"form:{value}" if re.fullmatch(r"[0-9a-f]{32}", value) else None

    def person_input(self) -> PersonInput:
        d = self.cleaned_data
        return PersonInput(
            doc_type=d.get("doc_type") or "",
            doc_number=d.get("doc_number") or "",
            doc_country=d.get("doc_country") or "",
            given_names=d.get("given_names") or "",
            first_surname=d.get("first_surname") or "",
            second_surname=d.get("second_surname") or "",
            birth_date=d.get("birth_date"),
            nationality=d.get("nationality") or "",
            email=d.get("email") or "",
            mobile_phone=d.get("mobile_phone") or "",
        )

    def procedure_input(self) -> ProcedureInput:
        d = self.cleaned_data
        return ProcedureInput(
            procedure_type=d["procedure_type"].code if d.get("procedure_type") else "",
            office=d["office"].code if d.get("office") else "",
            filing_date=d.get("filing_date"),
            number=d.get("number") or "",
        )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Buscar por número de trámite o de documento"), required=False)


# --- Integrations (/oficina/integraciones/) --------------------------------------------------


class UnitChoiceField(forms.ModelMultipleChoiceField[IssuingUnit]):
    """The issuing units an API client acts for, as checkboxes: «Subgerencia de … (SIN)»."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=IssuingUnit.objects.order_by("name"),
            label=_("Unidades emisoras"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_(
                "El sistema deposita solo a nombre de estas unidades y solo consulta sus "
                "notificaciones. Sin ninguna, no puede depositar ni consultar notificaciones."
            ),
            error_messages={
                "invalid_choice": _("Elija unidades de la lista."),
                "invalid_pk_value": _("Elija unidades de la lista."),
            },
            **kwargs,
        )

    def label_from_instance(self, obj: IssuingUnit) -> str:
        return f"{obj.name} ({obj.code})"


class UnitsForm(forms.Form):
    """The units of an existing client (its page in /oficina/integraciones/)."""

    units = UnitChoiceField()


class ApiClientForm(forms.Form):
    """A new system of the agency that talks to the API."""

    name = forms.CharField(
        label=_("Nombre del sistema"),
        max_length=100,
        help_text=_("Por ejemplo: sistema-cpp o multas. Aparece en el registro de evidencias."),
    )
    kind = forms.ChoiceField(
        label=_("Tipo de sistema"),
        choices=[
            ("live", _("Real: actúa sobre casillas de personas reales")),
            ("test", _("De prueba: solo casillas de prueba; sus claves empiezan con buzon_test_")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Elija si el sistema es real o de prueba.")},
    )
    units = UnitChoiceField()

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Escriba el nombre del sistema."))
        if client_name_taken(name):
            raise ValidationError(_("Ya existe un sistema con este nombre."))
        return name


class ApiKeyForm(forms.Form):
    """A new key for one client. Rendered once per client, with the client's id as prefix."""

    name = forms.CharField(
        label=_("Nombre de la clave"),
        max_length=100,
        help_text=_("Para reconocerla después, por ejemplo: servidor principal."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Permisos"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Elija al menos un permiso.")},
    )
    # A fresh id per form: a resubmitted form (reload, double click) creates no second key.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from api.models import Scope

        super().__init__(*args, **kwargs)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(s.value, f"{s.label} ({s.value})") for s in Scope]
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4().hex)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Escriba el nombre de la clave."))
        return name

    def submission_id(self) -> str | None:
        value = self.cleaned_data.get("submission") or ""
        return value if re.fullmatch(r"[0-9a-f]{32}", value) else None


class CallbackForm(forms.Form):
    """The client's webhook URL. Checked by api.webhooks.configure_callback()."""

    callback_url = forms.CharField(
        label=_("URL de notificación (webhook)"),
        max_length=500,
        required=False,
        help_text=_(
            "Enviamos a esta dirección, firmados, los eventos de las notificaciones del "
            "sistema. Déjela en blanco para no enviar nada."
        ),
        widget=forms.TextInput(
            attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
