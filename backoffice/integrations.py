"""The agency's systems that use the API (/oficina/integraciones/): their keys, their webhook
settings and the delivery log of their webhooks.

The rules live in api/keys.py and api/webhooks.py; these views only call them. A new key is
shown once, in the answer to the POST that created it: it is never stored, put in a URL or in
a message (messages travel in the session).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from api import keys, probing, webhooks
from api.models import ApiClient, ApiKey, DeliveryState, Scope, WebhookDelivery
from backoffice.access import officer_required
from backoffice.forms import ApiClientForm, ApiKeyForm, CallbackForm, UnitsForm
from backoffice.notifications import units_of
from buzon import secretbox
from mailboxes.models import IssuingUnit

# Who may manage integrations: the model permissions of an API key (Supervisores).
MANAGE = ("api.add_apikey", "api.change_apikey")
PAGE_SIZE = 50
SUBMISSIONS_KEY = "buzon_key_submissions"
# The delivery log's filter: the value in the URL, the state, the tab's label.
STATES = {
    "fallidas": (DeliveryState.FAILED, gettext_lazy("Fallidas")),
    "pendientes": (DeliveryState.PENDING, gettext_lazy("Pendientes")),
    "entregadas": (DeliveryState.DELIVERED, gettext_lazy("Entregadas")),
}


@dataclass
class KeyRow:
    key: ApiKey
    shown_prefix: str
    scopes: list[str]


@dataclass
class ClientRow:
    client: ApiClient
    keys: list[KeyRow]
    form: ApiKeyForm
    failed: int
    active_keys: int
    # Lock-outs of the last day for identity data that did not match (api/probing.py).
    lockouts: list[probing.Lockout]


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def shown_prefix(key: ApiKey) -> str:
    """What identifies a key without giving it away: `buzon_live_k3m9x2p7q4rt_…`."""
    return f"buzon_{'test' if key.client.is_test else 'live'}_{key.prefix}_…"


def _scope_labels(values: list[str]) -> list[str]:
    labels = dict(Scope.choices)
    return [str(labels.get(v, v)) for v in values]


def _rows(forms_by_client: dict[int, ApiKeyForm] | None = None) -> list[ClientRow]:
    """Every client with its keys (newest first), its units, its number of failed deliveries
    and its recent lock-outs: four queries and one cache read, whatever the number of clients
    and keys."""
    forms_by_client = forms_by_client or {}
    clients = ApiClient.objects.order_by("is_test", "name").prefetch_related(
        Prefetch(
            "keys",
            queryset=ApiKey.objects.select_related("created_by", "revoked_by").order_by(
                "revoked_at", "-created_at", "-id"
            ),
        ),
        Prefetch("units", queryset=IssuingUnit.objects.order_by("code")),
    )
    failed = dict(
        WebhookDelivery.objects.filter(state=DeliveryState.FAILED)
        .values_list("event__client")
        .annotate(n=Count("id"))
        .values_list("event__client", "n")
    )
    lockouts = probing.recent_lockouts([client.pk for client in clients])
    rows = []
    for client in clients:
        key_rows = []
        for key in client.keys.all():
            key.client = client  # already at hand: no query per key
            key_rows.append(KeyRow(key, shown_prefix(key), _scope_labels(key.scopes)))
        rows.append(
            ClientRow(
                client=client,
                keys=key_rows,
                form=forms_by_client.get(client.pk) or ApiKeyForm(prefix=f"c{client.pk}"),
                failed=failed.get(client.pk, 0),
                active_keys=sum(1 for r in key_rows if r.key.revoked_at is None),
                lockouts=lockouts.get(client.pk, []),
            )
        )
    return rows


def _list_page(
    request: HttpRequest,
    *,
    client_form: ApiClientForm | None = None,
    key_forms: dict[int, ApiKeyForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "backoffice/integrations.html",
        {"rows": _rows(key_forms), "client_form": client_form or ApiClientForm()},
        status=status,
    )


@never_cache
@officer_required(*MANAGE)
def client_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@require_POST
@officer_required(*MANAGE)
def client_create(request: HttpRequest) -> HttpResponse:
    form = ApiClientForm(request.POST)
    if not form.is_valid():
        return _list_page(request, client_form=form, status=400)
    try:
        client, created = keys.client_named(
            form.cleaned_data["name"], test=form.cleaned_data["kind"] == "test"
        )
    except IntegrityError:  # the same name, created meanwhile by someone else
        created = False
    if not created:
        form.add_error("name", _("Ya existe un sistema con este nombre."))
        return _list_page(request, client_form=form, status=400)
    keys.set_units(client, form.cleaned_data["units"], actor=_actor(request))
    messages.success(
        request,
        _("Sistema «%(name)s» creado. Ahora cree una clave para que pueda conectarse.")
        % {"name": client.name},
    )
    return redirect(f"{_list_url()}#sistema-{client.pk}")


def _list_url() -> str:
    return reverse("backoffice:integrations")


@require_POST
@never_cache
@officer_required(*MANAGE)
def key_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=client_id)
    form = ApiKeyForm(request.POST, prefix=f"c{client.pk}")
    if not form.is_valid():
        return _list_page(request, key_forms={client.pk: form}, status=400)
    submission = form.submission_id()
    seen: list[str] = request.session.get(SUBMISSIONS_KEY, [])
    if submission and submission in seen:
        # The same form sent again (a reload of the page that showed the key): no new key,
        # and the first one cannot be shown again.
        messages.warning(
            request,
            _(
                "Esa clave ya se había creado y no puede volver a mostrarse. Si no la copió, "
                "revóquela y cree otra."
            ),
        )
        return redirect(f"{_list_url()}#sistema-{client.pk}")
    key, plaintext = keys.create_key(
        client, form.cleaned_data["name"], form.cleaned_data["scopes"], actor=_actor(request)
    )
    if submission:
        request.session[SUBMISSIONS_KEY] = [*seen, submission][-20:]
    return render(
        request,
        "backoffice/integrations_key_created.html",
        {
            "client": client,
            "key": key,
            "plaintext": plaintext,
            "scopes": _scope_labels(key.scopes),
        },
    )


@never_cache
@officer_required(*MANAGE)
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET: the confirmation page. POST with confirm=yes: revoked from the next request."""
    key = get_object_or_404(
        ApiKey.objects.select_related("client", "created_by", "revoked_by"), pk=key_id
    )
    if request.method == "POST" and key.revoked_at is None:
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Confirme que desea revocar la clave."))
            return redirect("backoffice:key_revoke", key_id=key.pk)
        keys.revoke(key, actor=_actor(request))
        messages.success(
            request,
            _(
                "Clave «%(name)s» de %(client)s revocada. Desde ahora, quien la use recibe "
                "un error 401."
            )
            % {"name": key.name, "client": key.client.name},
        )
        return redirect(f"{_list_url()}#sistema-{key.client_id}")
    if request.method == "POST":
        return redirect(f"{_list_url()}#sistema-{key.client_id}")
    return render(
        request,
        "backoffice/integrations_revoke.html",
        {"key": key, "shown_prefix": shown_prefix(key), "scopes": _scope_labels(key.scopes)},
    )


def _client_page(
    request: HttpRequest,
    client: ApiClient,
    form: CallbackForm | None = None,
    status: int = 200,
    units_form: UnitsForm | None = None,
) -> HttpResponse:
    counts = WebhookDelivery.objects.filter(event__client=client).aggregate(
        failed=Count("id", filter=Q(state=DeliveryState.FAILED)),
        pending=Count("id", filter=Q(state=DeliveryState.PENDING)),
    )
    try:
        secret, unreadable = client.callback_secret, False
    except secretbox.UnreadableError:
        secret, unreadable = "", True
    return render(
        request,
        "backoffice/integrations_client.html",
        {
            "client": client,
            "form": form or CallbackForm(initial={"callback_url": client.callback_url}),
            "secret": secret,
            "secret_hint": secret[-4:],
            "secret_unreadable": unreadable,
            "counts": counts,
            "units_form": units_form or UnitsForm(initial={"units": list(client.units.all())}),
        },
        status=status,
    )


@never_cache
@officer_required(*MANAGE)
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    """The webhook settings: the callback URL and the signing secret (readable here, so the
    supervisor can configure the receiving system)."""
    client = get_object_or_404(ApiClient, pk=client_id)
    if request.method != "POST":
        return _client_page(request, client)
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            webhooks.configure_callback(
                client, form.cleaned_data["callback_url"], actor=_actor(request)
            )
        except ValidationError as exc:
            client.refresh_from_db()
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            if client.callback_url:
                messages.success(request, _("URL de notificación guardada."))
            else:
                messages.success(
                    request, _("URL de notificación quitada: ya no se enviarán eventos.")
                )
            return redirect("backoffice:integration", client_id=client.pk)
    return _client_page(request, client, form, status=400)


@require_POST
@officer_required(*MANAGE)
def client_units(request: HttpRequest, client_id: int) -> HttpResponse:
    """The issuing units the client acts for (api.keys.set_units(), which logs the change)."""
    client = get_object_or_404(ApiClient, pk=client_id)
    form = UnitsForm(request.POST)
    if not form.is_valid():
        return _client_page(request, client, units_form=form, status=400)
    keys.set_units(client, form.cleaned_data["units"], actor=_actor(request))
    if form.cleaned_data["units"]:
        messages.success(request, _("Unidades emisoras guardadas."))
    else:
        messages.warning(
            request,
            _(
                "El sistema ya no tiene unidades emisoras: no podrá depositar ni consultar "
                "notificaciones hasta que se le asigne alguna."
            ),
        )
    return redirect("backoffice:integration", client_id=client.pk)


@require_POST
@officer_required(*MANAGE)
def secret_rotate(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=client_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirme que desea cambiar el secreto de firma."))
    else:
        webhooks.rotate_secret(client, actor=_actor(request))
        messages.success(
            request,
            _(
                "Secreto de firma cambiado. Configure el nuevo secreto en el sistema receptor: "
                "las firmas con el anterior ya no valen."
            ),
        )
    return redirect("backoffice:integration", client_id=client.pk)


def _state_filter(value: str | None) -> str:
    return value if value in STATES else ""


@never_cache
@officer_required(*MANAGE)
def delivery_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's webhook deliveries, newest first. A constant number of queries: the event
    and its notification come in the same query as the page of deliveries."""
    client = get_object_or_404(ApiClient, pk=client_id)
    user = _actor(request)
    deliveries = WebhookDelivery.objects.filter(event__client=client)
    counts = deliveries.aggregate(
        total=Count("id"),
        **{name: Count("id", filter=Q(state=state)) for name, (state, _label) in STATES.items()},
    )
    show = _state_filter(request.GET.get("estado"))
    if show:
        deliveries = deliveries.filter(state=STATES[show][0])
    listed = deliveries.select_related("event__notification").defer(
        "event__payload", "event__notification__body_markdown", "event__notification__body_html"
    )
    page = Paginator(listed.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("pagina")
    )
    if user.has_perm("mailbox.view_notification"):
        visible_units = set(units_of(user).values_list("pk", flat=True))
    else:
        visible_units = set()
    rows: list[tuple[WebhookDelivery, bool]] = [
        (d, d.event.notification.unit_id in visible_units) for d in page.object_list
    ]
    return render(
        request,
        "backoffice/integrations_deliveries.html",
        {
            "client": client,
            "page": page,
            "rows": rows,
            "counts": counts,
            "show": show,
            "tabs": [(name, label, counts[name]) for name, (_s, label) in STATES.items()],
            "query_string": f"estado={show}" if show else "",
        },
    )


@require_POST
@officer_required(*MANAGE)
def delivery_resend(request: HttpRequest, client_id: int, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.only("pk", "state"), pk=delivery_id, event__client_id=client_id
    )
    if delivery.state != DeliveryState.FAILED:
        messages.info(request, _("Esta entrega no estaba fallida; no se reenvió."))
    else:
        webhooks.redeliver(delivery)
        messages.success(
            request,
            _("Entrega puesta otra vez en cola. Su estado cambiará cuando se intente enviar."),
        )
    target = _deliveries_url(client_id, _state_filter(request.POST.get("estado")))
    return redirect(target)


def _deliveries_url(client_id: int, show: str) -> str:
    url = reverse("backoffice:integration_deliveries", kwargs={"client_id": client_id})
    return f"{url}?estado={show}" if show else url
