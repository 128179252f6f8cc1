"""The person's profile at /buzon/perfil/: alert contacts, each verified before use."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mailboxes.access import current_person, person_required
from people.actions import confirm_contact, start_email_change, start_phone_change

PENDING_SMS_KEY = "buzon_pending_sms_verification"


class EmailForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Correo electrónico"), max_length=254)


class PhoneForm(forms.Form):
    mobile_phone = forms.CharField(
        label=gettext_lazy("Celular"),
        max_length=30,
        help_text=gettext_lazy("Ejemplo: 987 654 321. Si es de otro país, empiece con +."),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Código de 6 dígitos"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show the action's errors on the form's own field, where the person is looking."""
    field = next(iter(form.fields))
    if not hasattr(exc, "error_dict"):
        for error in exc.messages:
            form.add_error(field, error)
        return
    for name, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(name if name in form.fields else field, error)


@never_cache
@person_required
def profile(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    email_form = EmailForm(prefix="e")
    phone_form = PhoneForm(prefix="p")
    code_form = CodeForm(prefix="c")
    if request.method == "POST":
        if "e-email" in request.POST:
            email_form = EmailForm(request.POST, prefix="e")
            if email_form.is_valid():
                try:
                    start_email_change(person, email_form.cleaned_data["email"])
                except ValidationError as exc:
                    _form_errors(email_form, exc)
                else:
                    messages.success(
                        request,
                        _("Le enviamos un enlace a %(email)s. Ábralo para confirmar el correo.")
                        % {"email": email_form.cleaned_data["email"].strip().lower()},
                    )
                    return redirect("people:profile")
        elif "p-mobile_phone" in request.POST:
            phone_form = PhoneForm(request.POST, prefix="p")
            if phone_form.is_valid():
                try:
                    verification = start_phone_change(
                        person, phone_form.cleaned_data["mobile_phone"]
                    )
                except ValidationError as exc:
                    _form_errors(phone_form, exc)
                else:
                    request.session[PENDING_SMS_KEY] = verification.pk
                    messages.success(request, _("Le enviamos un código por SMS."))
                    return redirect("people:profile")
    return render(
        request,
        "people/profile.html",
        {
            "person": person,
            "email_form": email_form,
            "phone_form": phone_form,
            "code_form": code_form,
            "waiting_code": request.session.get(PENDING_SMS_KEY) is not None,
            "alerts_on": person.email_verified or person.mobile_phone_verified,
        },
    )


@require_POST
@person_required
def confirm_code(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    form = CodeForm(request.POST, prefix="c")
    pending = request.session.get(PENDING_SMS_KEY)
    if pending is None or not form.is_valid():
        messages.error(request, _("Escriba el código de 6 dígitos que recibió."))
        return redirect("people:profile")
    try:
        confirm_contact(person, int(pending), form.cleaned_data["code"])
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        request.session.pop(PENDING_SMS_KEY, None)
        messages.success(request, _("Su celular quedó confirmado. Ahí recibirá las alertas."))
    return redirect("people:profile")


@never_cache
@person_required
def confirm_link(request: HttpRequest, verification_id: int, token: str) -> HttpResponse:
    person = current_person(request)
    try:
        confirm_contact(person, verification_id, token)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Su correo quedó confirmado. Ahí recibirá las alertas."))
    return redirect("people:profile")
