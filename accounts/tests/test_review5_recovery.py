"""Review 5: a reset link or code must not outlive the password it was meant to replace, and
recovery must be a way around a login lockout (docs/security.md, "Login throttling")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.actions import change_password, send_activation_link
from procedures.actions import reissue_credentials
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "una frase nueva y larga para el buzón"
OWN_PASSWORD = "la frase que eligió la propia persona"


@pytest.fixture(autouse=True)
def no_waits(monkeypatch):
    monkeypatch.setattr("accounts.views.time.sleep", lambda seconds: None)


@pytest.fixture
def maria():
    registration = factories.register()
    factories.verified(registration, email="maria@example.org")
    return registration


def ask(client: Client, registration: Any) -> None:
    person = registration.procedure.person
    client.post("/buzon/recuperar/", {"doc_type": person.doc_type, "doc_number": person.doc_number})


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/buzon/recuperar/\d+/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_reset_link_no_longer_works_after_the_person_changes_the_password(maria):
    """Someone who read the mail (a shared inbox, a phone left unlocked) asks for a link; the
    person notices, logs in and changes the password. The old link must be dead: it was meant
    to replace a password that no longer exists (Django's own reset tokens follow the hash)."""
    person = maria.procedure.person
    ask(Client(), maria)
    link = link_in(mail.outbox[0])

    change_password(person.user, OWN_PASSWORD, actor=person.user)

    attacker = Client()
    opened = attacker.get(link, follow=True)
    assert opened.status_code == 400, "the link still opens the new-password page"
    attacker.post(
        "/buzon/recuperar/nueva/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    person.user.refresh_from_db()
    assert person.user.check_password(OWN_PASSWORD)


def test_a_reset_link_no_longer_works_after_a_supervisor_reissues_the_credentials(maria):
    """A supervisor reissues credentials (say, because the account was compromised): links
    sent before must not still set a password for the next 30 minutes."""
    ask(Client(), maria)
    link = link_in(mail.outbox[0])

    reissue_credentials(maria.procedure, actor=factories.supervisor())

    assert Client().get(link, follow=True).status_code == 400


def test_an_activation_link_dies_once_the_password_was_set_another_way(maria):
    """An approved activation link (48 hours) is for a person who had no way in. Once the
    person sets a password by recovery, the activation link must not set it again."""
    person = maria.procedure.person
    send_activation_link(person)
    activation = link_in(mail.outbox[-1])

    client = Client()
    ask(client, maria)
    client.get(link_in(mail.outbox[-1]))
    client.post(
        "/buzon/recuperar/nueva/",
        {"new_password1": OWN_PASSWORD, "new_password2": OWN_PASSWORD},
    )
    person.user.refresh_from_db()
    assert person.user.check_password(OWN_PASSWORD)

    assert Client().get(activation, follow=True).status_code == 400


def test_recovery_gets_a_locked_out_person_back_in(maria):
    """docs/security.md: someone who knows a document number can lock its owner out, and "the
    way around that is account recovery through a verified contact". After recovering, the
    owner logs in with the new password and is still refused for 15 minutes."""
    person = maria.procedure.person
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        stranger.post(
            "/buzon/ingresar/",
            {"doc_type": person.doc_type, "doc_number": person.doc_number, "password": "x" * 12},
        )

    owner = Client(REMOTE_ADDR="198.51.100.7")
    ask(owner, maria)
    owner.get(link_in(mail.outbox[-1]))
    done = owner.post(
        "/buzon/recuperar/nueva/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Ingrese con su contraseña nueva" in done.content.decode()

    login = owner.post(
        "/buzon/ingresar/",
        {"doc_type": person.doc_type, "doc_number": person.doc_number, "password": NEW_PASSWORD},
    )
    assert login.status_code == 302, "locked out right after proving the verified contact"
    assert login["Location"] == "/buzon/"
