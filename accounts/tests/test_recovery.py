"""¿Olvidaste la contraseña?: a single-use link or code to a verified contact, the same answer
for anyone, throttled, and recorded as evidence."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import views
from accounts.models import PasswordReset
from evidence.models import Event, EventKind
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "una frase nueva y larga para el buzón"


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The answer's minimum duration, recorded instead of slept (tests never wait on time)."""
    calls: list[float] = []
    monkeypatch.setattr("accounts.views.time.sleep", calls.append)
    return calls


@pytest.fixture
def maria():
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    return registration


def ask(client: Client, registration: Any = None, number: str = "") -> Any:
    person = registration.procedure.person if registration else None
    return client.post(
        "/buzon/recuperar/",
        {
            "doc_type": person.doc_type if person else "CPP",
            "doc_number": number or (person.doc_number if person else "009876543"),
        },
        follow=True,
    )


def page(response) -> str:
    """The page without its per-session CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/buzon/recuperar/\d+/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_login_page_links_to_recovery(client):
    page = client.get("/buzon/ingresar/").content.decode()
    assert 'href="/buzon/recuperar/"' in page
    assert "¿Olvidó su contraseña?" in page


def test_known_and_unknown_identities_get_the_same_answer(client, maria, waits):
    known = ask(Client(), maria)
    unknown = ask(Client(), number="009999999")
    malformed = ask(Client(), number="12")
    assert known.status_code == unknown.status_code == malformed.status_code == 200
    assert page(known) == page(unknown) == page(malformed)
    assert known.redirect_chain == unknown.redirect_chain == malformed.redirect_chain
    # Every answer is held to the same minimum duration (the timing class).
    assert len(waits) == 3
    assert all(0 < w <= views.RECOVERY_ANSWER_SECONDS for w in waits)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maria@example.org"]


def test_the_link_works_once_ends_sessions_and_leaves_evidence(
    maria, django_capture_on_commit_callbacks
):
    person = maria.procedure.person
    other_session = Client()
    other_session.force_login(person.user)
    client = Client()
    ask(client, maria)
    link = link_in(mail.outbox[0])

    assert client.get(link)["Location"] == "/buzon/recuperar/nueva/"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/buzon/recuperar/nueva/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            follow=True,
        )
    assert "Listo: su contraseña cambió" in done.content.decode()
    person.user.refresh_from_db()
    assert person.user.check_password(NEW_PASSWORD)
    assert other_session.get("/buzon/").status_code == 302  # the old session is over
    event = Event.objects.get(kind=EventKind.PASSWORD_RESET)
    assert (event.person, event.data["channel"]) == (person, "email")
    assert mail.outbox[-1].subject == "Su contraseña cambió"

    again = Client().get(link, follow=True)
    assert again.status_code == 400
    assert "ya no sirve" in again.content.decode()


def test_a_link_expires_after_30_minutes(maria):
    client = Client()
    ask(client, maria)
    link = link_in(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert client.get(link, follow=True).status_code == 400


def test_a_new_request_ends_the_earlier_link(maria):
    ask(Client(), maria)
    first = link_in(mail.outbox[0])
    ask(Client(), maria)
    assert Client().get(first, follow=True).status_code == 400
    assert Client().get(link_in(mail.outbox[1]))["Location"] == "/buzon/recuperar/nueva/"


def test_with_only_a_verified_mobile_a_code_is_sent(settings):
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    client = Client()
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        ask(client, registration)
    number, text = backend.return_value.send.call_args.args
    assert number == "+51987654321"
    code = re.search(r"\b(\d{6})\b", text).group(1)

    guess = "000000" if code != "000000" else "111111"
    wrong = client.post("/buzon/recuperar/enviado/", {"code": guess})
    assert "El código no es válido" in wrong.content.decode()
    right = client.post("/buzon/recuperar/enviado/", {"code": code})
    assert right.status_code == 302
    assert right["Location"] == "/buzon/recuperar/nueva/"


def test_a_code_stops_after_five_wrong_tries(settings):
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    client = Client()
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        ask(client, registration)
    code = re.search(r"\b(\d{6})\b", backend.return_value.send.call_args.args[1]).group(1)
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        client.post("/buzon/recuperar/enviado/", {"code": guess if guess != code else "999999"})
    assert client.post("/buzon/recuperar/enviado/", {"code": code}).status_code == 200
    assert PasswordReset.objects.get().attempts == 5


def test_a_code_expires_after_10_minutes(settings):
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    client = Client()
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        ask(client, registration)
    code = re.search(r"\b(\d{6})\b", backend.return_value.send.call_args.args[1]).group(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert client.post("/buzon/recuperar/enviado/", {"code": code}).status_code == 200


def test_nobody_reaches_the_new_password_page_without_a_link_or_code(maria):
    client = Client()
    ask(client, maria)  # asked, but has not opened the link
    response = client.post(
        "/buzon/recuperar/nueva/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 400
    maria.procedure.person.user.refresh_from_db()
    assert not maria.procedure.person.user.check_password(NEW_PASSWORD)


def test_requests_are_throttled_per_identity_and_per_address(maria, settings):
    settings.BUZON_RECOVERY_PER_IDENTITY_PER_HOUR = 2
    settings.BUZON_RECOVERY_PER_IP_PER_HOUR = 4
    for _ in range(4):
        ask(Client(), maria)
    assert len(mail.outbox) == 2  # the identity's limit; the answers stay the same
    other = factories.register(doc_number="002223334")
    factories.verified(other, email="jose@example.org")
    ask(Client(), other)
    assert len(mail.outbox) == 2  # this address has made its 4 requests this hour
    ask(Client(REMOTE_ADDR="198.51.100.20"), other)
    assert [m.to for m in mail.outbox[2:]] == [["jose@example.org"]]


def test_a_weak_new_password_is_refused_and_the_link_still_works(maria):
    client = Client()
    ask(client, maria)
    client.get(link_in(mail.outbox[0]))
    weak = client.post(
        "/buzon/recuperar/nueva/", {"new_password1": "corta", "new_password2": "corta"}
    )
    assert weak.status_code == 200
    assert PasswordReset.objects.get().used_at is None


def test_a_code_never_opens_the_link_address(settings):
    """Codes are short: typed only where the session that asked for one can use it."""
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        ask(Client(), registration)
    code = re.search(r"\b(\d{6})\b", backend.return_value.send.call_args.args[1]).group(1)
    reset = PasswordReset.objects.get()
    stranger = Client()
    assert stranger.get(f"/buzon/recuperar/{reset.pk}/{code}/", follow=True).status_code == 400
    assert stranger.get("/buzon/recuperar/nueva/").status_code == 400


def test_wrong_guesses_at_a_link_do_not_spend_it(maria):
    ask(Client(), maria)
    link = link_in(mail.outbox[0])
    reset_id = link.split("/")[3]
    for _ in range(6):
        refused = Client().get(f"/buzon/recuperar/{reset_id}/wrong-token/", follow=True)
        assert refused.status_code == 400
    assert Client().get(link)["Location"] == "/buzon/recuperar/nueva/"


def test_the_password_change_is_confirmed_to_every_verified_contact(
    django_capture_on_commit_callbacks,
):
    registration = factories.register()
    factories.verified(registration, email="ana@example.org", phone="+51987654321")
    client = Client()
    ask(client, registration)
    client.get(link_in(mail.outbox[0]))
    with (
        mock.patch("accounts.actions.get_sms_backend") as backend,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(
            "/buzon/recuperar/nueva/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert mail.outbox[-1].to == ["ana@example.org"]
    assert backend.return_value.send.call_args.args[0] == "+51987654321"


def test_codes_are_capped_per_identity_and_day(settings):
    """5 requests an hour, each code with 5 tries, would be some 600 guesses a day at a
    6-digit code. A daily cap per identity stops the sending, with the same answer."""
    settings.BUZON_RECOVERY_PER_IDENTITY_PER_HOUR = 2
    settings.BUZON_RECOVERY_PER_IDENTITY_PER_DAY = 5
    registration = factories.register()
    factories.verified(registration, email="", phone="+51987654321")
    start = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    answers = []
    with mock.patch("accounts.actions.get_sms_backend") as backend:
        for hour in range(3):  # 2 an hour for 3 hours: 6 requests, each hour within its limit
            with time_machine.travel(start + timedelta(hours=hour, minutes=5), tick=False):
                for i in range(2):
                    answers.append(page(ask(Client(REMOTE_ADDR=f"10.0.{hour}.{i}"), registration)))
    assert backend.return_value.send.call_count == 5
    assert len(set(answers)) == 1  # the refused request reads like every other
    # Another identity is not affected.
    other = factories.register(doc_number="002223334")
    factories.verified(other, email="", phone="+51912345678")
    with (
        mock.patch("accounts.actions.get_sms_backend") as backend,
        time_machine.travel(start + timedelta(hours=2, minutes=30), tick=False),
    ):
        ask(Client(), other)
    assert backend.return_value.send.call_count == 1


def test_a_link_refused_for_the_rate_limit_answers_429_and_no_log_shows_its_token(
    maria, settings, caplog
):
    """The link's address carries a token that may still be good: Django logs every 4xx answer
    with its path, so the token address only ever redirects, and the refusal is answered at
    an address without it."""
    settings.BUZON_RECOVERY_PER_IP_PER_HOUR = 2
    ask(Client(), maria)
    link = link_in(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    reset_id = link.split("/")[3]
    visitor = Client(REMOTE_ADDR="203.0.113.50")
    with caplog.at_level(logging.DEBUG):
        wrong = visitor.get(f"/buzon/recuperar/{reset_id}/{token[:-1]}x/", follow=True)
        assert wrong.status_code == 400
        visitor.get(f"/buzon/recuperar/{reset_id}/another-wrong-token/")
        refused = visitor.get(link, follow=True)
    assert [r for r in caplog.records if r.name == "django.request"], "4xx answers are logged"
    for record in caplog.records:
        assert token[:-1] not in record.getMessage()
    assert refused.status_code == 429
    assert "Demasiados intentos desde su conexión" in refused.content.decode()
    # The link was never spent: from another address it still works.
    assert Client(REMOTE_ADDR="198.51.100.60").get(link)["Location"] == "/buzon/recuperar/nueva/"
