from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agency.actions import (
    CheckedDocument,
    IdentityClaim,
    RequestInput,
    check_identity_document,
    procedure_key,
    too_large,
)
from backoffice.forms import DateInput, _country_choices
from people.documents import DocumentType

FOREIGN_DOCUMENTS = [
    (DocumentType.CE.value, DocumentType.CE.label),
    (DocumentType.CPP.value, DocumentType.CPP.label),
    (DocumentType.PTP.value, DocumentType.PTP.label),
    (DocumentType.PASSPORT.value, DocumentType.PASSPORT.label),
]


class IdentityForm(forms.Form):
    """The Agencia Digital's personal data and "Regularización CPP / Calidad Humanitaria"."""

    doc_type = forms.ChoiceField(label=_("Tipo de documento"))
    doc_number = forms.CharField(label=_("Número de documento"), max_length=30)
    given_names = forms.CharField(label=_("Nombres"), max_length=120)
    first_surname = forms.CharField(label=_("Primer apellido"), max_length=80)
    second_surname = forms.CharField(label=_("Segundo apellido"), max_length=80, required=False)
    birth_date = forms.DateField(label=_("Fecha de nacimiento"), widget=DateInput())
    nationality = forms.ChoiceField(label=_("Nacionalidad"))
    procedure_number = forms.CharField(
        label=_("Número de trámite"),
        max_length=30,
        help_text=_("Está en su constancia de trámite. Ejemplo: LM260000123."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    filing_date = forms.DateField(
        label=_("Fecha de presentación del trámite"),
        widget=DateInput(),
    )

    def __init__(self, *args: Any, foreign: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.foreign = foreign
        doc_type = self.fields["doc_type"]
        nationality = self.fields["nationality"]
        assert isinstance(doc_type, forms.ChoiceField)
        assert isinstance(nationality, forms.ChoiceField)
        if foreign:
            doc_type.choices = FOREIGN_DOCUMENTS
            nationality.choices = _country_choices()
        else:
            doc_type.choices = [(DocumentType.DNI.value, DocumentType.DNI.label)]
            nationality.choices = [("PE", _("Peruana"))]
            nationality.initial = "PE"
            nationality.required = False
            nationality.widget = forms.HiddenInput()

    def claim(self) -> IdentityClaim:
        d = self.cleaned_data
        return IdentityClaim(
            doc_type=d["doc_type"],
            doc_number=d["doc_number"],
            given_names=d["given_names"],
            first_surname=d["first_surname"],
            second_surname=d.get("second_surname", ""),
            birth_date=d["birth_date"],
            nationality=d["nationality"] if self.foreign else "PE",
            procedure_number=d["procedure_number"],
            filing_date=d["filing_date"],
        )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Código de 6 dígitos"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )


class RequestForm(forms.Form):
    """Solicitud de credenciales, by web."""

    doc_type = forms.ChoiceField(label=_("Tipo de documento"), choices=DocumentType.choices)
    doc_number = forms.CharField(label=_("Número de documento"), max_length=30)
    given_names = forms.CharField(label=_("Nombres"), max_length=120)
    surnames = forms.CharField(label=_("Apellidos"), max_length=160)
    birth_date = forms.DateField(label=_("Fecha de nacimiento"), widget=DateInput())
    nationality = forms.ChoiceField(label=_("Nacionalidad"))
    procedure_number = forms.CharField(
        label=_("Número de trámite"),
        max_length=30,
        required=False,
        help_text=_("Si lo tiene: está en su constancia de trámite."),
    )
    contact_email = forms.EmailField(
        label=_("Correo electrónico de contacto"),
        max_length=254,
        help_text=_("Le enviaremos aquí el número de caso y la respuesta."),
    )
    phone = forms.CharField(label=_("Celular"), max_length=30, required=False)
    document = forms.FileField(
        label=_("Foto o PDF de su documento de identidad"),
        required=False,
        help_text=_("JPG, PNG o PDF, hasta 5 MB. Ayuda a que un servidor confirme su identidad."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    message = forms.CharField(
        label=_("Mensaje"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nationality = self.fields["nationality"]
        assert isinstance(nationality, forms.ChoiceField)
        nationality.choices = _country_choices()
        self.checked_document: CheckedDocument | None = None

    def clean_doc_number(self) -> str:
        value = " ".join(self.cleaned_data["doc_number"].split())
        if len(value.upper()) > 30:  # some letters grow when upper-cased (ß → SS)
            raise forms.ValidationError(_("Revise el número de documento."))
        return value

    def clean_procedure_number(self) -> str:
        value: str = self.cleaned_data.get("procedure_number") or ""
        if len(procedure_key(value)) > 20:
            raise forms.ValidationError(_("Revise el número de trámite."))
        return value

    def clean_document(self) -> Any:
        upload = self.cleaned_data.get("document")
        if upload:
            size = getattr(upload, "size", 0) or 0
            if size > settings.BUZON_REQUEST_DOCUMENT_MAX_BYTES:
                raise too_large(size)
            self.checked_document = check_identity_document(upload.read(), upload.name)
        return upload

    def request_input(self) -> RequestInput:
        d = self.cleaned_data
        return RequestInput(
            doc_type=d["doc_type"],
            doc_number=d["doc_number"],
            given_names=" ".join(d["given_names"].split()),
            surnames=" ".join(d["surnames"].split()),
            birth_date=d["birth_date"],
            nationality=d["nationality"],
            contact_email=d["contact_email"],
            phone=d.get("phone", ""),
            procedure_number=d.get("procedure_number", ""),
            message=d.get("message", ""),
        )
