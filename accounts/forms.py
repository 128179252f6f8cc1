from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from people.documents import DocumentType, normalize_document, username_for

MALFORMED = "?"  # stands for any document number that cannot be valid

GENERIC_LOGIN_ERROR = _(
    "No pudimos iniciar sesión con esos datos. Revise el tipo y número de documento y la "
    "contraseña, e inténtelo de nuevo."
)


class PersonLoginForm(forms.Form):
    """The buzón login: document type, document number and password."""

    doc_type = forms.ChoiceField(label=_("Tipo de documento"), choices=DocumentType.choices)
    doc_number = forms.CharField(
        label=_("Número de documento"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
    )
    password = forms.CharField(
        label=_("Contraseña"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        doc_type = data.get("doc_type", "")
        raw_number = data.get("doc_number", "")
        password = data.get("password", "")
        if not (doc_type and raw_number and password):
            return data
        try:
            username = normalize_document(doc_type, raw_number, "XX").username
        except ValidationError:
            # Still authenticate, so a malformed number costs the same time and is throttled.
            # Never keep what was typed: it may be a password in the wrong field.
            username = username_for(doc_type, MALFORMED)
        user = authenticate(self.request, username=username, password=password)
        if user is not None and not user.is_person:
            # An officer account cannot enter a buzón; count it as a failed attempt.
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=self.request
            )
            user = None
        if user is None:
            raise ValidationError(GENERIC_LOGIN_ERROR, code="invalid_login")
        self.user = user
        return data


class OfficerLoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_officer:
            # A person's credentials at the office door count as a failed attempt.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class BuzonPasswordChangeForm(PasswordChangeForm):
    """Django's form, which checks the current password and runs AUTH_PASSWORD_VALIDATORS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's hint ("la misma contraseña anterior") reads as "your old password".
        self.fields["new_password2"].help_text = _("Escriba otra vez la contraseña nueva.")


class RecoveryStartForm(forms.Form):
    """¿Olvidaste la contraseña?: who you are, as on the login form."""

    doc_type = forms.ChoiceField(label=_("Tipo de documento"), choices=DocumentType.choices)
    doc_number = forms.CharField(
        label=_("Número de documento"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
    )

    def username(self) -> str:
        """The account name this would be, or one that matches nobody (never an error: the
        answer must not say whether the number was even possible)."""
        doc_type = self.cleaned_data["doc_type"]
        try:
            return normalize_document(doc_type, self.cleaned_data["doc_number"], "XX").username
        except ValidationError:
            return username_for(doc_type, MALFORMED)


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Código recibido por SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RecoveryPasswordForm(forms.Form):
    new_password1 = forms.CharField(
        label=_("Contraseña nueva"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Al menos 12 caracteres. Una frase que recuerde es una buena contraseña."),
    )
    new_password2 = forms.CharField(
        label=_("Repita la contraseña nueva"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("Las dos contraseñas no coinciden."))
        return data
