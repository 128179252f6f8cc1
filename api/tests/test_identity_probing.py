"""A system that guesses a person's birth date through POST /procedures, one date after
another, is locked out of that document (and, past a limit across documents, of every person
already registered); the right date is then refused too. Through the real HTTP API.

Also run on Redis by .ci/run (the RQ pass), where the counts live in production."""

from __future__ import annotations

import itertools
import json
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from api.keys import create_key
from api.models import ApiClient
from api.probing import IdentityAttemptsExceededError, MismatchLimit
from api.tests.conftest import mismatch
from people.models import Person
from procedures.actions import register_procedure
from procedures.models import Procedure
from tests import factories

pytestmark = pytest.mark.django_db

BORN = date(1988, 7, 23)
_keys = (f"probe-{n}" for n in itertools.count(1))


def key_for(name: str) -> tuple[str, str]:
    """A live client's key: (its plaintext, its prefix)."""
    client = ApiClient.objects.create(name=name)
    key, plaintext = create_key(client, "principal", ["procedures:write"], actor=None)
    return plaintext, key.prefix


def held(doc_number: str) -> Person:
    """A person Buzón already holds (created directly: no constancia to render)."""
    return Person.objects.create(
        doc_type="CE", doc_number=doc_number, given_names="Rosa Elena", first_surname="Quispe",
        second_surname="Mamani", birth_date=BORN, nationality="BO",
    )  # fmt: skip


class UncheckedClient(Client):
    """A client whose answers api/tests/conftest.py does not fail for being 5xx (it fails every
    5xx, this module's one expected 503 included): the original Client.request, taken before
    any test patches it."""

    request = Client.request


def register(key: str, doc_number: str, birth_date: date, *, client: type = Client) -> Any:
    body = {
        "person": {
            "doc_type": "CE", "doc_number": doc_number, "given_names": "Rosa Elena",
            "first_surname": "Quispe", "second_surname": "Mamani",
            "birth_date": birth_date.isoformat(), "nationality": "BO",
        },
        "procedure": {"procedure_type": "CPP", "office": "LM", "filing_date": "2026-03-02"},
    }  # fmt: skip
    return client().post(
        "/api/v1/procedures",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": next(_keys)},
    )


def guesses(start: date = date(1988, 1, 1)) -> Any:
    """Wrong birth dates, one after another, as an attacker would try them."""
    day = start
    while True:
        if day != BORN:
            yield day
        day += timedelta(days=1)


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    return body


def test_guessing_a_birth_date_locks_the_client_out_and_the_right_date_is_refused_too():
    held("000456789")
    key, _prefix = key_for("sistema-sonda")
    wrong = guesses()
    for _attempt in range(5):  # BUZON_API_MISMATCHES_PER_DOCUMENT
        answer = register(key, "000456789", next(wrong))
        assert answer.status_code == 422
        assert "no coinciden con los registrados" in problem(answer)["detail"]
    locked = register(key, "000456789", next(wrong))
    assert locked.status_code == 429
    assert problem(locked)["type"].endswith("/identity-attempts-exceeded")
    assert "demasiadas veces datos de identidad que no coinciden" in problem(locked)["detail"]
    assert int(locked["Retry-After"]) > 0

    right = register(key, "000456789", BORN)
    assert right.status_code == 429  # the same answer as a wrong date: the lock tells nothing
    assert problem(right) == problem(locked) | {"detail": problem(right)["detail"]}
    assert not Procedure.objects.exists()

    other_key, _ = key_for("sistema-honesto")
    assert register(other_key, "000456789", BORN).status_code == 201  # another client: as ever


def test_a_locked_client_still_registers_new_people_and_other_held_ones():
    held("000456789")
    held("000111222")
    key, _prefix = key_for("sistema-sonda")
    wrong = guesses()
    for _attempt in range(6):
        register(key, "000456789", next(wrong))
    assert register(key, "000456789", BORN).status_code == 429
    assert register(key, "000333444", BORN).status_code == 201  # a new person
    assert register(key, "000111222", BORN).status_code == 201  # held, not probed, right data


def test_mismatches_across_many_documents_lock_the_client_out_of_every_held_person(settings):
    settings.BUZON_API_MISMATCHES_PER_CLIENT = 4
    documents = [f"000{n:06d}" for n in range(100, 105)]
    for number in documents:
        held(number)
    key, _prefix = key_for("sistema-barrido")
    for number in documents[:4]:  # one wrong guess each: far below the per-document limit
        assert register(key, number, date(1970, 1, 1)).status_code == 422
    locked = register(key, documents[4], BORN)  # untouched, and the right data
    assert locked.status_code == 429
    assert "personas ya inscritas" in problem(locked)["detail"]
    assert int(locked["Retry-After"]) > 0
    assert register(key, "000999888", BORN).status_code == 201  # new people: as ever
    other_key, _ = key_for("sistema-honesto")
    assert register(other_key, documents[4], BORN).status_code == 201


def test_a_lock_out_is_logged_with_the_client_and_key_but_no_document_or_date(caplog):
    held("000456789")
    key, prefix = key_for("sistema-sonda")
    wrong = guesses(date(1988, 7, 1))
    tried = [next(wrong) for _ in range(5)]
    with caplog.at_level(logging.INFO):
        for day in tried:
            register(key, "000456789", day)
        register(key, "000456789", BORN)
    warnings = [r for r in caplog.records if r.name == "api.probing"]
    assert len(warnings) == 1  # one lock-out, one line (not one per refused request)
    assert warnings[0].levelno == logging.WARNING
    line = warnings[0].getMessage()
    assert "sistema-sonda" in line
    assert prefix in line
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ["456789", "1988", *(d.isoformat() for d in tried), BORN.isoformat()]:
        assert secret not in everything


def test_the_counts_keep_no_document_number(settings):
    """In Redis (or the cache table) a document is a keyed hash, never its number."""
    from django.core.cache import cache

    held("000456789")
    key, _prefix = key_for("sistema-sonda")
    register(key, "000456789", date(1970, 1, 1))
    client = ApiClient.objects.get(name="sistema-sonda")
    limit = MismatchLimit(client, key_prefix="", document="CE:000456789:0")
    assert cache.get(limit.doc_count) == 1
    assert "456789" not in limit.doc_count


def test_parallel_guesses_get_no_more_answers_than_the_limit():
    """Each request for a held document takes its place before its data are compared: with
    five in flight, a sixth is refused, whatever the data it carries."""
    client = ApiClient.objects.create(name="sistema-paralelo")
    in_flight = [MismatchLimit(client, key_prefix="", document="CE:000456789:0") for _ in range(5)]
    for limit in in_flight:
        limit.reserve()
    with pytest.raises(IdentityAttemptsExceededError):
        MismatchLimit(client, key_prefix="", document="CE:000456789:0").reserve()
    for limit in in_flight:  # all five were right: their places come back
        limit.settle(mismatch=False)
    MismatchLimit(client, key_prefix="", document="CE:000456789:0").reserve()


def test_without_the_cache_held_documents_are_refused_and_new_ones_register(monkeypatch):
    held("000456789")
    key, _prefix = key_for("sistema-sonda")

    class Down:
        def __getattr__(self, name: str) -> Any:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr("api.probing.cache", Down())
    refused = register(key, "000456789", BORN, client=UncheckedClient)
    assert refused.status_code == 503
    assert mismatch("POST", "/api/v1/procedures", refused) is None  # as the document says
    assert problem(refused)["type"].endswith("/identity-check-unavailable")
    assert refused["Retry-After"]
    assert not Procedure.objects.exists()
    assert register(key, "000333444", BORN).status_code == 201


def test_the_officers_desk_is_not_held_back_by_a_clients_lock_out():
    held("000456789")
    key, _prefix = key_for("sistema-sonda")
    wrong = guesses()
    for _attempt in range(6):
        register(key, "000456789", next(wrong))
    assert register(key, "000456789", BORN).status_code == 429
    registration = register_procedure(
        factories.person_input(
            doc_number="000456789", given_names="Rosa Elena", first_surname="Quispe",
            second_surname="Mamani", birth_date=BORN, nationality="BO",
        ),
        factories.procedure_input(),
        actor=factories.officer(),
        show_mismatches=True,
    )  # fmt: skip
    assert registration.created


def test_the_lock_out_shows_on_the_clients_card_in_integraciones(client, supervisor):
    held("000456789")
    key, prefix = key_for("sistema-sonda")
    key_for("sistema-honesto")
    wrong = guesses()
    for _attempt in range(5):
        register(key, "000456789", next(wrong))
    client.force_login(supervisor)
    page: str = client.get("/oficina/integraciones/").content.decode()

    def card(name: str) -> str:
        start = page.index(f'id="sistema-{ApiClient.objects.get(name=name).pk}"')
        return page[start : page.index("</section>", start)]

    assert "Bloqueos por datos de identidad que no coinciden" in card("sistema-sonda")
    assert f"un documento, con la clave {prefix}…" in card("sistema-sonda")
    assert "Bloqueos" not in card("sistema-honesto")
    assert "456789" not in page
