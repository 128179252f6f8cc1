from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from evidence.models import Event, EventKind
from tests import factories

pytestmark = pytest.mark.django_db
LOGIN = "/buzon/ingresar/"
GENERIC = "No pudimos iniciar sesión con esos datos."


@pytest.fixture
def registered():
    result = factories.register(doc_number="456789")
    number, password = factories.credentials_of(result)
    return result.procedure.person, number, password


def post_login(client, number, password, doc_type="CE", **extra):
    return client.post(
        LOGIN, {"doc_type": doc_type, "doc_number": number, "password": password}, **extra
    )


def test_login_page_has_the_three_labelled_fields(client):
    page = client.get(LOGIN).content.decode()
    for label in ("Tipo de documento", "Número de documento", "Contraseña"):
        assert f">{label}</label>" in page or f">{label} " in page


def test_login_with_printed_credentials_reaches_the_casilla(client, registered):
    person, _number, password = registered
    client.get(LOGIN)
    anonymous_key = client.session.session_key
    response = post_login(client, "456789", password)  # as printed on older cards: unpadded
    assert response.status_code == 302
    assert response["Location"] == "/buzon/"
    assert client.session.session_key != anonymous_key  # rotated at login
    page = client.get("/buzon/").content.decode()
    assert person.full_name in page
    assert "No tiene notificaciones" in page


def test_errors_are_generic_and_identical(client, registered):
    _person, number, password = registered
    wrong_password = post_login(client, number, "not-the-password").content.decode()
    unknown_document = post_login(client, "999999999", password).content.decode()
    malformed = post_login(client, "abc", password).content.decode()
    for page in (wrong_password, unknown_document, malformed):
        assert GENERIC in page
    assert "contraseña es incorrecta" not in wrong_password.lower()


def test_session_cookie_flags(client, registered):
    _person, number, password = registered
    response = post_login(client, number, password)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 15 * 60


def test_officer_cannot_enter_through_the_buzon_door(client, officer):
    response = client.post(
        LOGIN, {"doc_type": "DNI", "doc_number": "mesa1", "password": "officer-password-123"}
    )
    assert GENERIC in response.content.decode()
    # Even with a matching username, an officer account is refused and counted as a failure.
    User.objects.filter(pk=officer.pk).update(username="DNI-10117410")
    response = client.post(
        LOGIN, {"doc_type": "DNI", "doc_number": "10117410", "password": "officer-password-123"}
    )
    assert GENERIC in response.content.decode()
    assert client.get("/buzon/").status_code == 302
    attempt = AccessAttempt.objects.get(username="DNI-10117410")
    assert attempt.failures_since_start == 1


def test_person_cannot_enter_the_office(client, registered):
    _person, number, password = registered
    response = client.post("/oficina/ingresar/", {"username": f"CE-{number}", "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username=f"CE-{number}").failures_since_start == 1


def test_five_failures_lock_the_identity_with_minutes_to_wait(client, registered):
    _person, number, password = registered
    for _ in range(4):
        assert post_login(client, number, "wrong-password").status_code == 200
    locked = post_login(client, number, "wrong-password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "inténtelo de nuevo en 15 minutos" in page
    # Someone who forgot the password need not wait: recovery and the Agencia Digital.
    assert 'href="/buzon/recuperar/"' in page
    assert 'href="/agencia/"' in page
    # The right password does not help while locked, from another IP either.
    other_ip = post_login(Client(), number, password, REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 429


def test_a_locked_identity_is_refused_before_any_hash_is_computed(client, registered):
    _person, number, password = registered
    # Control: while not locked, a failed attempt does reach the hasher.
    with mock.patch("django.contrib.auth.hashers.MD5PasswordHasher.verify") as verify:
        verify.return_value = False
        post_login(client, number, "wrong-password")
    verify.assert_called_once()
    for _ in range(4):
        post_login(client, number, "wrong-password")
    with (
        mock.patch("django.contrib.auth.hashers.MD5PasswordHasher.verify") as verify,
        mock.patch("django.contrib.auth.hashers.make_password") as make_password,
    ):
        assert post_login(client, number, password).status_code == 429
    verify.assert_not_called()
    make_password.assert_not_called()


def test_lock_expires_after_the_cooloff(client, registered):
    _person, number, password = registered
    for _ in range(5):
        post_login(client, number, "wrong-password")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert post_login(client, number, password).status_code == 302


def test_one_ip_trying_many_identities_is_locked(client, registered, settings):
    settings.BUZON_LOGIN_FAILURES_PER_IP = 8
    _person, number, password = registered
    for i in range(8):  # eight different identities, one failure each
        post_login(client, f"{200000 + i}", "wrong-password")
    assert post_login(client, number, password).status_code == 429
    # The person is not locked out everywhere: another IP still works.
    assert post_login(Client(REMOTE_ADDR="10.1.2.3"), number, password).status_code == 302


def test_idle_timeout_is_fifteen_minutes(client, registered):
    _person, number, password = registered
    post_login(client, number, password)
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert client.get("/buzon/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=14 + 16)):
        assert client.get("/buzon/").status_code == 302


def test_absolute_timeout_is_eight_hours_even_when_active(client, registered):
    _person, number, password = registered
    start = timezone.now()
    post_login(client, number, password)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(8 * 6):  # a request every 10 minutes for 8 hours
            traveller.shift(timedelta(minutes=10))
            assert client.get("/buzon/").status_code == 200
        traveller.shift(timedelta(minutes=10))
        response = client.get("/buzon/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logout_is_a_post_and_ends_the_session(client, registered):
    _person, number, password = registered
    post_login(client, number, password)
    assert client.get("/buzon/salir/").status_code == 405
    assert client.post("/buzon/salir/").status_code == 302
    assert client.get("/buzon/").status_code == 302


def change(client, old, new, repeat=None):
    return client.post(
        "/buzon/contrasena/",
        {"old_password": old, "new_password1": new, "new_password2": repeat or new},
    )


def test_password_change_rules(client, registered):
    _person, number, password = registered
    post_login(client, number, password)
    short = change(client, password, "corta-11ch").content.decode()
    assert "al menos 12 caracteres" in short
    common = change(client, password, "password1234").content.decode()
    assert "demasiado común" in common
    too_long = change(client, password, "x" * 129).content.decode()
    assert "como máximo 128 caracteres" in too_long
    # No composition rules: a long lowercase phrase is fine, as is 64 characters.
    assert change(client, password, "llama azul sobre el misti").status_code == 302
    assert change(client, "llama azul sobre el misti", "a" * 30 + "b" * 34).status_code == 302


def test_password_change_ends_the_other_sessions(registered):
    person, number, password = registered
    phone, laptop = Client(), Client()
    post_login(phone, number, password)
    post_login(laptop, number, password)
    assert change(laptop, password, "una frase nueva y larga").status_code == 302
    assert laptop.get("/buzon/").status_code == 200
    assert phone.get("/buzon/").status_code == 302
    event = Event.objects.get(kind=EventKind.PASSWORD_CHANGED)
    assert event.person == person
    assert event.actor == person.user
    assert post_login(Client(), number, "una frase nueva y larga").status_code == 302


def test_password_change_needs_a_person(client, officer):
    assert client.get("/buzon/contrasena/").status_code == 302
    client.force_login(officer)
    assert client.get("/buzon/contrasena/").status_code == 403


def test_a_password_typed_in_the_number_field_is_not_kept(client, registered, caplog):
    _person, _number, password = registered
    post_login(client, password, password)
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, get_data, post_data FROM axes_accessattempt")
        rows = cursor.fetchall()
    assert rows
    assert all(password not in str(v) and password.upper() not in str(v) for r in rows for v in r)
    assert password not in caplog.text
    assert password.upper() not in caplog.text


def test_guessing_the_current_password_ends_the_session(client, registered):
    _person, number, password = registered
    post_login(client, number, password)
    for _ in range(4):
        page = change(client, "not-my-password", "una frase nueva y larga").content.decode()
        assert "contraseña antigua" in page.lower() or "incorrect" in page.lower()
    response = change(client, "not-my-password", "una frase nueva y larga")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get("/buzon/").status_code == 302


def test_after_logging_in_the_person_returns_to_the_page_that_sent_them(client, registered):
    _person, number, password = registered
    response = client.get("/buzon/perfil/")
    assert response["Location"] == "/buzon/ingresar/?next=/buzon/perfil/"
    response = client.post(
        response["Location"], {"doc_type": "CE", "doc_number": number, "password": password}
    )
    assert response["Location"] == "/buzon/perfil/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/buzon/",
        "//evil.example/buzon/",
        "/oficina/",
        "/admin/",
        "/buzon/../oficina/",
        "/buzon/%2e%2e/admin/",
        "/buzon/%2E%2E/%2E%2E/oficina/",
        "/buzon/./../admin/",
        "/buzon/%252e%252e/admin/",  # arrives as %2e%2e, which browsers resolve as ..
        "/buzon/\\evil.example/",
    ],
)
def test_next_never_leads_out_of_the_buzon(client, registered, target):
    _person, number, password = registered
    response = client.post(
        f"{LOGIN}?next={target}", {"doc_type": "CE", "doc_number": number, "password": password}
    )
    assert response["Location"] == "/buzon/"


def test_a_form_sent_after_the_session_ended_says_it_was_not_saved(client, registered):
    _person, number, password = registered
    post_login(client, number, password)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        response = client.post(
            "/buzon/perfil/",
            {"email": "nuevo@example.org"},
            HTTP_REFERER="http://testserver/buzon/perfil/",
        )
        assert response["Location"] == "/buzon/ingresar/?next=/buzon/perfil/"
        page = client.get(response["Location"]).content.decode()
    assert "lo que envió no se guardó" in page
    # A referer from elsewhere is not followed.
    other = Client()
    response = other.post("/buzon/perfil/", {}, HTTP_REFERER="https://evil.example/buzon/x/")
    assert response["Location"] == "/buzon/ingresar/?next=/buzon/"


def test_a_form_sent_with_a_stale_security_token_gets_the_sites_own_page(registered):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"doc_type": "CE", "doc_number": "1", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "La página caducó" in page
    assert "No se envió nada" in page
    assert 'name="viewport"' in page  # the site's layout, readable on a phone
    assert "CSRF" not in page


def test_the_home_page_of_each_kind_of_user(client, registered, officer):
    assert client.get("/")["Location"] == "/buzon/ingresar/"
    client.force_login(officer)
    assert client.get("/")["Location"] == "/oficina/"


def test_a_person_sent_to_the_office_is_pointed_back_to_their_casilla(client, registered):
    person, _number, _password = registered
    client.force_login(person.user)
    page = client.get("/oficina/").content.decode()
    assert "no forma parte de su casilla" in page
    assert "supervisor" not in page


def test_the_password_change_form_says_what_to_type_again(client, registered):
    person, _number, _password = registered
    client.force_login(person.user)
    page = client.get("/buzon/contrasena/").content.decode()
    assert "Escriba otra vez la contraseña nueva." in page
    assert "la misma contraseña anterior" not in page
