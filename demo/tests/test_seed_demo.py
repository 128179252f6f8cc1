import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import User
from agency.models import CredentialRequest
from people.models import Person
from procedures.models import Procedure, Receipt

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        User.objects.count(),
        Person.objects.count(),
        Procedure.objects.count(),
        Receipt.objects.count(),
        CredentialRequest.objects.count(),
    )


def test_seed_demo_is_idempotent_and_prints_working_logins(capsys, client):
    call_command("seed_demo")
    first_output = capsys.readouterr().out
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    second_output = capsys.readouterr().out
    # The same logins; the demo API key is printed on the first run only (it is not stored).
    assert second_output.split("  API")[0] == first_output.split("  API")[0]
    demo_key = re.search(r"buzon_test_\S+", first_output)
    assert demo_key is not None
    assert demo_key.group() not in second_output
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {demo_key.group()}"})
    assert me.json()["test"] is True
    assert me.json()["units"] == ["SIN"]  # the unit of the demo's notifications
    assert "001234567" in first_output
    assert "demo-buzon-maria" in first_output
    response = client.post(
        "/buzon/ingresar/",
        {"doc_type": "CPP", "doc_number": "001234567", "password": "demo-buzon-maria"},
    )
    assert response.status_code == 302
    officer = client.post(
        "/oficina/ingresar/", {"username": "supervisor", "password": "demo-supervisor-2026"}
    )
    assert officer.status_code == 302
    assert officer["Location"] == "/oficina/"
    assert "SC-" in client.get("/oficina/solicitudes/").content.decode()  # one request waits


def test_the_demo_person_without_credentials_gets_in_through_the_agencia_digital(
    client, monkeypatch
):
    monkeypatch.setattr("agency.views.time.sleep", lambda seconds: None)
    call_command("seed_demo", stdout=io.StringIO())
    response = client.post(
        "/agencia/extranjero/",
        {
            "doc_type": "CE",
            "doc_number": "000456789",
            "given_names": "Yohana",
            "first_surname": "Pérez",
            "second_surname": "Díaz",
            "birth_date": "1994-07-21",
            "nationality": "VE",
            "procedure_number": "LM260000103",
            "filing_date": "2026-04-06",
        },
    )
    assert response["Location"] == "/agencia/inicio/"
    client.get("/agencia/buzon/")
    assert mail.outbox[-1].to == ["yohana.perez@example.org"]


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
