"""/oficina/integraciones/: the API's systems, their keys, webhooks and delivery log, as a
supervisor uses them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.keys import KEY_PATTERN, authenticate, create_key, revoke
from api.models import (
    ApiClient,
    ApiKey,
    DeliveryState,
    WebhookDelivery,
    WebhookEvent,
    WebhookType,
)
from backoffice.groups import NOTIFIERS
from evidence.models import Event
from mailboxes.models import IssuingUnit
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/oficina/integraciones/"


def page_of(response: Any) -> str:
    return str(response.content.decode())


def new_client(name: str = "sistema-cpp", *, test: bool = False, **extra: Any) -> ApiClient:
    return ApiClient.objects.create(name=name, is_test=test, **extra)


def key_form(client_obj: ApiClient, **overrides: Any) -> dict[str, Any]:
    prefix = f"c{client_obj.pk}"
    data = {
        f"{prefix}-name": "servidor principal",
        f"{prefix}-scopes": ["notifications:write", "notifications:read"],
        f"{prefix}-submission": "a" * 32,
    }
    data.update({f"{prefix}-{k}": v for k, v in overrides.items()})
    return data


def create_key_through_the_page(client, client_obj: ApiClient, **overrides: Any) -> Any:
    return client.post(f"{LIST}{client_obj.pk}/claves/nueva/", key_form(client_obj, **overrides))


def heading_of(page: str, client_obj: ApiClient) -> str:
    """The heading of a system's section of the list."""
    match = re.search(rf'<h2 id="sistema-{client_obj.pk}-h">(.*?)</h2>', page)
    assert match
    return match.group(1)


def shown_key(response: Any) -> str:
    match = KEY_PATTERN.search(page_of(response))
    assert match, "no key on the page"
    return match.group(0)


# --- Who may see it ----------------------------------------------------------------------


def test_anonymous_visitors_go_to_the_officers_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/oficina/ingresar/?next=")


@pytest.mark.parametrize("who", ["officer", "nobody"])
def test_other_officers_get_403_and_no_link(client, request, who):
    api_client = new_client(callback_url="https://cpp.example.org/h", callback_secret="s" * 43)
    key, plaintext = create_key(api_client, "principal", ["notifications:read"], actor=None)
    client.force_login(request.getfixturevalue(who))
    for url in (
        LIST,
        f"{LIST}{api_client.pk}/",
        f"{LIST}{api_client.pk}/entregas/",
        f"{LIST}claves/{key.pk}/revocar/",
    ):
        assert client.get(url).status_code == 403, url
    assert create_key_through_the_page(client, api_client).status_code == 403
    assert client.post(f"{LIST}claves/{key.pk}/revocar/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"{LIST}{api_client.pk}/secreto/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"{LIST}nuevo/", {"name": "x", "kind": "live"}).status_code == 403
    assert client.post(f"{LIST}{api_client.pk}/unidades/", {"units": []}).status_code == 403
    assert ApiKey.objects.count() == 1
    assert authenticate(plaintext) is not None
    api_client.refresh_from_db()
    assert api_client.callback_secret == "s" * 43
    if who == "officer":
        assert "Integraciones" not in page_of(client.get("/oficina/"))


def test_supervisors_find_integrations_in_the_menu(client, supervisor):
    client.force_login(supervisor)
    page = page_of(client.get("/oficina/"))
    assert f'<a href="{LIST}">Integraciones</a>' in page
    assert client.get(LIST).status_code == 200


# --- Clients and keys ----------------------------------------------------------------------


def test_a_supervisor_creates_a_system_and_test_ones_are_marked_prueba(client, supervisor):
    client.force_login(supervisor)
    response = client.post(f"{LIST}nuevo/", {"name": " sistema-multas ", "kind": "test"})
    assert response.status_code == 302
    created = ApiClient.objects.get()
    assert (created.name, created.is_test) == ("sistema-multas", True)
    new_client("sistema-cpp")
    page = page_of(client.get(LIST))
    assert "Sistema «sistema-multas» creado" in page
    cpp = ApiClient.objects.get(name="sistema-cpp")
    assert '<span class="badge badge--warn">PRUEBA</span>' in heading_of(page, created)
    assert "PRUEBA" not in heading_of(page, cpp)
    assert "REAL" in heading_of(page, cpp)
    # A test system's keys say so.
    response = create_key_through_the_page(client, created)
    assert shown_key(response).startswith("buzon_test_")


def unit_ids(*codes: str) -> list[int]:
    return list(IssuingUnit.objects.filter(code__in=codes).values_list("pk", flat=True))


def deposit_with(plaintext: str, unit: str, idempotency_key: str) -> int:
    """The status a deposit for `unit` gets through the API with this key."""
    from api.tests.test_keys_and_errors import notification_body, post

    number = factories.register().procedure.number
    body = notification_body(number, unit=unit)
    return int(post("/notifications", plaintext, body, idempotency_key).status_code)


def test_a_supervisor_chooses_the_units_a_system_acts_for_and_changes_them(
    client, supervisor, caplog
):
    client.force_login(supervisor)
    form = page_of(client.get(LIST))
    assert "Subgerencia de Fiscalización Migratoria (SFM)" in form  # a checkbox per unit
    response = client.post(
        f"{LIST}nuevo/", {"name": "sistema-cpp", "kind": "live", "units": unit_ids("SIN", "SFM")}
    )
    assert response.status_code == 302
    cpp = ApiClient.objects.get()
    page = page_of(client.get(LIST))
    assert re.search(r"Unidades emisoras:.*SFM</abbr>, .*SIN</abbr>", page)
    plaintext = shown_key(create_key_through_the_page(client, cpp))
    assert deposit_with(plaintext, "SFM", "antes") == 201
    # On the system's page, the supervisor narrows it to SIN: logged, and the API follows.
    detail = page_of(client.get(f"{LIST}{cpp.pk}/"))
    assert re.search(rf'value="{unit_ids("SFM")[0]}"[^>]*checked', detail)
    with caplog.at_level("INFO", logger="api.keys"):
        saved = client.post(f"{LIST}{cpp.pk}/unidades/", {"units": unit_ids("SIN")}, follow=True)
    assert "Unidades emisoras guardadas." in page_of(saved)
    assert "units of sistema-cpp set to ['SIN'] (were ['SFM', 'SIN']) by" in caplog.text
    assert deposit_with(plaintext, "SFM", "despues") == 422
    assert deposit_with(plaintext, "SIN", "propia") == 201
    # No unit at all: said plainly, on the page and in the list.
    emptied = client.post(f"{LIST}{cpp.pk}/unidades/", {}, follow=True)
    assert "ya no tiene unidades emisoras" in page_of(emptied)
    assert "Sin unidades emisoras" in page_of(client.get(LIST))
    assert not cpp.units.exists()
    wrong = client.post(f"{LIST}{cpp.pk}/unidades/", {"units": ["999999"]})
    assert wrong.status_code == 400
    assert "Elija unidades de la lista." in page_of(wrong)


def test_a_system_needs_a_unique_name_and_a_kind(client, supervisor):
    new_client("sistema-cpp")
    client.force_login(supervisor)
    response = client.post(f"{LIST}nuevo/", {"name": "SISTEMA-CPP"})
    page = page_of(response)
    assert response.status_code == 400
    assert "Ya existe un sistema con este nombre." in page
    assert "Elija si el sistema es real o de prueba." in page
    assert ApiClient.objects.count() == 1


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(client, supervisor):
    api_client = new_client()
    client.force_login(supervisor)
    response = create_key_through_the_page(client, api_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = page_of(response)
    assert "no se volverá a mostrar" in page
    plaintext = shown_key(response)
    assert plaintext.startswith("buzon_live_")
    # Only the hash is stored, and the key shown is a working key.
    stored = ApiKey.objects.get()
    assert plaintext not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert stored.created_by == supervisor
    assert stored.scopes == ["notifications:read", "notifications:write"]
    assert authenticate(plaintext) == stored
    # Not in a message or anywhere else afterwards: the list shows only the prefix.
    again = page_of(client.get(LIST))
    assert plaintext not in again
    assert f"buzon_live_{stored.prefix}_…" in again
    assert "servidor principal" in again
    assert "Rosa Quispe" in again  # created by
    # The same form sent again (a reload) makes no second key and shows nothing.
    reload = create_key_through_the_page(client, api_client)
    assert reload.status_code == 302
    assert ApiKey.objects.count() == 1
    follow = page_of(client.get(reload["Location"]))
    assert "no puede volver a mostrarse" in follow
    assert KEY_PATTERN.search(follow) is None


def test_a_key_needs_a_name_and_at_least_one_scope(client, supervisor):
    api_client = new_client()
    client.force_login(supervisor)
    response = client.post(
        f"{LIST}{api_client.pk}/claves/nueva/",
        {f"c{api_client.pk}-name": "", f"c{api_client.pk}-submission": "b" * 32},
    )
    page = page_of(response)
    assert response.status_code == 400
    assert "No se creó la clave." in page
    assert "Elija al menos un permiso." in page
    assert ApiKey.objects.count() == 0
    bogus = create_key_through_the_page(client, api_client, scopes=["admin:all"])
    assert bogus.status_code == 400
    assert ApiKey.objects.count() == 0


def test_revoking_asks_first_then_the_key_stops_working(client, supervisor):
    api_client = new_client()
    key, plaintext = create_key(api_client, "principal", ["payments:write"], actor=None)
    client.force_login(supervisor)
    url = f"{LIST}claves/{key.pk}/revocar/"
    confirm = page_of(client.get(url))
    assert "recibirá un error 401" in confirm
    assert f"buzon_live_{key.prefix}_…" in confirm
    # Without ticking the confirmation, nothing happens.
    assert client.post(url, {}).status_code == 302
    assert authenticate(plaintext) is not None
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert authenticate(plaintext) is None
    key.refresh_from_db()
    assert key.revoked_by == supervisor
    page = page_of(client.get(response["Location"]))
    assert "revocada" in page
    assert "Revocada" in page
    assert f"el {timezone.localtime(key.revoked_at):%d/%m/%Y %H:%M} por Rosa Quispe" in page
    assert f'href="{url}"' not in page  # no revoke link on a revoked key


# --- Webhook settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("no es una url", "Escriba una URL completa, por ejemplo https://…"),
        ("https://usuario:clave@cpp.example.org/h", "La URL no debe llevar usuario ni contraseña."),
    ],
)
def test_an_invalid_callback_url_shows_the_error_and_saves_nothing(client, supervisor, url, error):
    api_client = new_client()
    client.force_login(supervisor)
    response = client.post(f"{LIST}{api_client.pk}/", {"callback_url": url})
    page = page_of(response)
    assert response.status_code == 400
    assert "No se guardó la URL" in page
    assert f'<p class="error" id="id_callback_url_error">{error}</p>' in page.replace(
        "&amp;", "&"
    ).replace("&#x27;", "'")
    api_client.refresh_from_db()
    assert (api_client.callback_url, api_client.callback_secret) == ("", "")


def test_plain_http_is_refused_where_https_is_required(client, supervisor, settings):
    settings.BUZON_WEBHOOK_ALLOW_HTTP = False
    api_client = new_client()
    client.force_login(supervisor)
    response = client.post(f"{LIST}{api_client.pk}/", {"callback_url": "http://cpp.example.org"})
    assert "La URL debe usar https." in page_of(response)
    api_client.refresh_from_db()
    assert api_client.callback_url == ""


def test_the_callback_url_is_saved_and_the_secret_can_be_read_and_rotated(client, supervisor):
    api_client = new_client()
    client.force_login(supervisor)
    detail = f"{LIST}{api_client.pk}/"
    assert "El secreto se crea al guardar" in page_of(client.get(detail))
    response = client.post(detail, {"callback_url": " https://cpp.example.org/buzon "})
    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.callback_url == "https://cpp.example.org/buzon"
    secret = api_client.callback_secret
    assert secret
    page = page_of(client.get(detail))
    assert "URL de notificación guardada." in page
    assert 'value="https://cpp.example.org/buzon"' in page
    # Masked, with its end visible; the whole secret is behind "Mostrar el secreto".
    assert f"termina en {secret[-4:]}" in page
    summary = page.index("Mostrar el secreto")
    assert page.index(secret) > summary
    # Rotating needs the confirmation, then gives a new secret.
    client.post(f"{detail}secreto/", {})
    api_client.refresh_from_db()
    assert api_client.callback_secret == secret
    client.post(f"{detail}secreto/", {"confirm": "yes"})
    api_client.refresh_from_db()
    assert api_client.callback_secret != secret
    assert "Secreto de firma cambiado." in page_of(client.get(detail))


def test_a_secret_the_server_can_no_longer_read_is_said_and_can_be_replaced(
    client, supervisor, settings
):
    api_client = new_client(callback_url="https://cpp.example.org/buzon", callback_secret="s" * 43)
    settings.FILE_ENCRYPTION_KEY = "another-key-than-the-one-it-was-sealed-under"
    client.force_login(supervisor)
    detail = f"{LIST}{api_client.pk}/"
    response = client.get(detail)
    assert response.status_code == 200
    page = page_of(response)
    assert "El secreto de firma no se puede leer" in page
    assert "Mostrar el secreto" not in page
    client.post(f"{detail}secreto/", {"confirm": "yes"})
    api_client.refresh_from_db()
    new = api_client.callback_secret  # readable again: sealed under the current key
    assert len(new) >= 40
    assert f"termina en {new[-4:]}" in page_of(client.get(detail))


# --- Delivery log ------------------------------------------------------------------------


@pytest.fixture
def deposited():
    """A notification deposited by an officer of the SIN unit, and its deposit entry."""
    notification = factories.deposit()
    return notification, Event.objects.filter(notification=notification).order_by("id").first()


def delivery(api_client, deposited, state=DeliveryState.PENDING, **extra) -> WebhookDelivery:
    notification, evidence = deposited
    event = WebhookEvent.objects.create(
        client=api_client,
        type=WebhookType.DEPOSITED,
        notification=notification,
        evidence=evidence,
        occurred_at=evidence.occurred_at,
        payload={},
    )
    return WebhookDelivery.objects.create(
        event=event, url="https://cpp.example.org/buzon", state=state, **extra
    )


def test_the_delivery_log_shows_each_delivery_and_resends_a_failed_one(
    client, supervisor, deposited
):
    api_client = new_client(callback_url="https://cpp.example.org/buzon", callback_secret="x")
    delivery(api_client, deposited, DeliveryState.DELIVERED, attempts=1, last_status_code=204)
    failed = delivery(
        api_client,
        deposited,
        DeliveryState.FAILED,
        attempts=8,
        last_status_code=500,
        last_error="HTTP 500",
    )
    delivery(api_client, deposited, DeliveryState.PENDING, attempts=2, last_error="ConnectError")
    other = delivery(new_client("otro-sistema"), deposited, DeliveryState.FAILED)
    client.force_login(supervisor)
    url = f"{LIST}{api_client.pk}/entregas/"
    page = page_of(client.get(url))
    for text in ("entregado", "fallido", "pendiente", "HTTP 500", "ConnectError", "depositada"):
        assert text in page, text
    assert "https://cpp.example.org/buzon" in page
    assert str(deposited[0].public_id) in page
    assert page.count(">Reenviar</button>") == 1  # only the failed one
    assert "Fallidas (1)" in page
    assert str(other.pk) not in re.findall(r"entregas/(\d+)/reenviar", page)
    # The supervisor does not follow the SIN unit's notifications: the id, not a link.
    assert f"/oficina/notificaciones/{deposited[0].public_id}/" not in page

    only_failed = page_of(client.get(url, {"estado": "fallidas"}))
    assert "fallido" in only_failed
    assert "entregado</span>" not in only_failed
    assert "pendiente</span>" not in only_failed

    response = client.post(f"{url}{failed.pk}/reenviar/", {"estado": "fallidas"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?estado=fallidas"
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (DeliveryState.PENDING, 0)
    after = page_of(client.get(response["Location"]))
    assert "Entrega puesta otra vez en cola" in after
    assert "No hay entregas en este estado." in after
    # Another system's delivery is not reachable through this one's log.
    assert client.post(f"{url}{other.pk}/reenviar/").status_code == 404
    other.refresh_from_db()
    assert other.state == DeliveryState.FAILED


def test_an_officer_who_follows_the_unit_gets_a_link_to_the_timeline(client, deposited):
    user = factories.unit_officer("supernotif", unit="SIN")
    user.groups.add(Group.objects.get(name="Supervisores"), Group.objects.get(name=NOTIFIERS))
    api_client = new_client()
    delivery(api_client, deposited)
    client.force_login(user)
    page = page_of(client.get(f"{LIST}{api_client.pk}/entregas/"))
    assert f'href="/oficina/notificaciones/{deposited[0].public_id}/"' in page


def test_the_delivery_log_costs_the_same_queries_for_one_row_or_many(
    client, supervisor, deposited, django_assert_num_queries
):
    api_client = new_client()
    delivery(api_client, deposited, DeliveryState.FAILED, last_error="HTTP 502")
    client.force_login(supervisor)
    url = f"{LIST}{api_client.pk}/entregas/"
    client.get(url)  # warm up whatever is cached per process
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for state in [DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.PENDING] * 10:
        delivery(api_client, deposited, state, attempts=1, last_status_code=200)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert page_of(response).count(">Reenviar</button>") == 11
    # Session and user (2), the user's and the groups' permissions (2), the client, the counts
    # per state, the paginator's count, the page of deliveries with their events and
    # notifications, and saving the session (3).
    assert len(one.captured_queries) == 11, [q["sql"] for q in one.captured_queries]


def test_the_list_of_systems_costs_the_same_queries_for_one_key_or_many(
    client, supervisor, django_assert_num_queries
):
    first = new_client()
    create_key(first, "una", ["payments:write"], actor=supervisor)
    client.force_login(supervisor)
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for n in range(5):
        other = new_client(f"sistema-{n}", test=bool(n % 2))
        for k in range(3):
            key, _plain = create_key(other, f"clave {k}", ["payments:write"], actor=supervisor)
        revoke(key, actor=supervisor)
    with django_assert_num_queries(len(one.captured_queries)):
        page = page_of(client.get(LIST))
    assert page.count("clave 2") == 5
    assert page.count(">Revocada</span>") == 5
