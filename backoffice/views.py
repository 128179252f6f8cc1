from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import OfficerLoginForm
from accounts.models import User
from backoffice.access import officer_required
from backoffice.forms import RegistrationForm, SearchForm
from buzon.secretbox import UnreadableError
from procedures.actions import download_receipt, register_procedure, reissue_credentials
from procedures.models import Procedure, Receipt
from procedures.receipts import credentials_copy_allowed

log = logging.getLogger(__name__)


class OfficerLoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    authentication_form = OfficerLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self) -> str:
        return "/oficina/"


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("backoffice:login")


@never_cache
@officer_required("procedures.view_procedure")
def dashboard(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    procedures = Procedure.objects.select_related("person", "procedure_type", "office")
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip().upper()
    if query:
        procedures = procedures.filter(
            Q(number__icontains=query) | Q(person__doc_number__icontains=query)
        )
    return render(
        request,
        "backoffice/dashboard.html",
        {"form": form, "procedures": procedures[:50], "query": query},
    )


@never_cache
@officer_required("procedures.add_procedure")
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            result = register_procedure(
                form.person_input(),
                form.procedure_input(),
                actor=request.user,
                idempotency_key=form.idempotency_key(),
                show_mismatches=True,  # the officer has the person and the document at hand
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    target = field if field in form.fields else None
                    for error in errors:
                        form.add_error(target, error)
            else:
                for error in exc.messages:
                    form.add_error(None, error)
        else:
            if not result.created:
                messages.info(request, _("Este trámite ya estaba registrado; no se creó otro."))
            elif result.credentials_issued:
                messages.success(
                    request,
                    _(
                        "Trámite registrado. La constancia contiene las credenciales del buzón: "
                        "descárguela y entréguela a la persona."
                    ),
                )
            else:
                messages.success(
                    request,
                    _(
                        "Trámite registrado. La persona ya tenía credenciales; la constancia le "
                        "indica que use las mismas."
                    ),
                )
            return redirect("backoffice:procedure", number=result.procedure.number)
    return render(request, "backoffice/register.html", {"form": form})


@never_cache
@officer_required("procedures.view_procedure")
def procedure_detail(request: HttpRequest, number: str) -> HttpResponse:
    procedure = get_object_or_404(
        Procedure.objects.select_related("person", "procedure_type", "office", "registered_by"),
        number=number,
    )
    receipts = list(procedure.receipts.select_related("issued_by").defer("record_pdf"))
    assert isinstance(request.user, User)
    for receipt in receipts:
        receipt.credentials_for_me = credentials_copy_allowed(receipt, request.user)  # type: ignore[attr-defined]
    return render(
        request,
        "backoffice/procedure.html",
        {"procedure": procedure, "person": procedure.person, "receipts": receipts},
    )


@never_cache
@officer_required("procedures.view_procedure")
def receipt_pdf(request: HttpRequest, number: str, code: str) -> HttpResponse:
    receipt = get_object_or_404(
        Receipt.objects.only("pk"), procedure__number=number, verification_code=code
    )
    assert isinstance(request.user, User)
    try:
        download = download_receipt(receipt, actor=request.user)
    except UnreadableError:
        log.exception("constancia %s cannot be decrypted", receipt.pk)
        messages.error(
            request,
            _(
                "La constancia no se puede leer con la clave de cifrado actual del servidor. "
                "Avise al equipo técnico de la entidad."
            ),
        )
        return redirect("backoffice:procedure", number=number)
    response = HttpResponse(download.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="constancia-{number}-{code[:4]}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@officer_required("procedures.view_procedure", "accounts.reissue_credentials")
def reissue(request: HttpRequest, number: str) -> HttpResponse:
    procedure = get_object_or_404(Procedure.objects.select_related("person"), number=number)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirme que desea reemitir las credenciales."))
        return redirect("backoffice:procedure", number=number)
    assert isinstance(request.user, User)
    reissue_credentials(procedure, actor=request.user)
    messages.success(
        request,
        _(
            "Se emitieron nuevas credenciales. Las anteriores ya no sirven y se cerraron las "
            "sesiones abiertas de la persona. Descargue la nueva constancia."
        ),
    )
    return redirect("backoffice:procedure", number=number)
