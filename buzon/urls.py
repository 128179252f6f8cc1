from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path, register_converter

from api import v1
from buzon.converters import ProcedureNumberConverter, VerificationCodeConverter

register_converter(ProcedureNumberConverter, "procedure_number")
register_converter(VerificationCodeConverter, "verification_code")


def _superusers_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def _home(request: HttpRequest) -> HttpResponse:
    """An officer's home is the office; everyone else's, the buzón's login (which sends a
    person already logged in on to the casilla)."""
    user = request.user
    if user.is_authenticated and not getattr(user, "is_person", True):
        return redirect("backoffice:dashboard")
    return redirect("accounts:login")


# /admin/ is for superusers only; officers work in /oficina/.
admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.site_header = "Buzón · administración"

handler400 = "ui.views.bad_request"

urlpatterns = [
    path("", _home, name="root"),
    path("buzon/", include("accounts.urls")),
    path("buzon/", include("mailboxes.urls")),
    path("buzon/", include("people.urls")),
    path("buzon/", include("corrections.urls")),
    path("buzon/", include("payments.urls")),
    path("oficina/", include("backoffice.urls")),
    path("oficina/subsanaciones/", include("corrections.office_urls")),
    path("oficina/pagos/", include("payments.office_urls")),
    path("verificar/", include("verification.urls")),
    path("agencia/", include("agency.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", v1.api.urls),
    path("admin/", admin.site.urls),
]
