import json
import logging
from datetime import date

import pytest
from argon2 import PasswordHasher
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from api.models import ApiClient
from evidence.models import Event, EventKind
from people.models import Person
from procedures.actions import register_procedure
from procedures.models import Procedure, ProcedureNumberSequence, Receipt
from tests import factories

pytestmark = pytest.mark.django_db


def counts():
    return (
        Person.objects.count(),
        Procedure.objects.count(),
        Receipt.objects.count(),
        User.objects.count(),
        Event.objects.count(),
    )


def test_first_registration_creates_person_credentials_and_constancia(officer):
    result = factories.register(actor=officer, doc_number="456789")

    person = result.procedure.person
    assert result.created
    assert result.person_created
    assert result.credentials_issued
    assert person.doc_number == "000456789"
    assert person.user.username == "CE-000456789"
    assert person.user.kind == User.Kind.PERSON
    assert result.procedure.number == "LM260000001"
    assert result.receipt.credentials == Receipt.Credentials.NEW
    kinds = list(Event.objects.values_list("kind", flat=True))
    assert kinds == [
        EventKind.PROCEDURE_REGISTERED,
        EventKind.CREDENTIALS_ISSUED,
        EventKind.RECEIPT_ISSUED,
    ]
    receipt_entry = Event.objects.get(kind=EventKind.RECEIPT_ISSUED).data
    assert receipt_entry["code"] == result.receipt.verification_code
    assert receipt_entry["sha256"] == result.receipt.sha256
    assert set(Event.objects.values_list("actor", flat=True)) == {officer.pk}


def test_printed_credentials_log_in():
    result = factories.register()
    number, password = factories.credentials_of(result)
    user = User.objects.get(username=f"CE-{number}")
    assert user == result.procedure.person.user
    assert user.check_password(password)
    assert not user.check_password(password.swapcase())
    assert len(password) >= 12
    assert not set(password) & set("0O1lI")


def test_registration_is_idempotent_for_the_same_procedure():
    procedure = factories.procedure_input(number="LM260000123")
    first = factories.register(doc_number="111222333", procedure=procedure)
    before = counts()
    again = factories.register(doc_number="111222333", procedure=procedure)
    assert counts() == before
    assert not again.created
    assert not again.credentials_issued
    assert again.procedure == first.procedure
    assert again.receipt == first.receipt


def test_a_second_procedure_does_not_reissue_credentials():
    first = factories.register(doc_number="111222333")
    user = first.procedure.person.user
    hash_before = user.password
    second = factories.register(
        doc_number="111222333",
        given_names="MARIA ALEJANDRA",  # the same person, typed differently
        procedure=factories.procedure_input(procedure_type="PRR"),
    )
    user.refresh_from_db()
    assert user.password == hash_before
    assert Person.objects.count() == 1
    assert second.created
    assert not second.person_created
    assert not second.credentials_issued
    assert second.receipt.credentials == Receipt.Credentials.EXISTING
    text = factories.receipt_text(second)
    assert "ya tiene credenciales" in text
    assert "Contraseña:" not in text


def test_same_document_with_different_identity_is_refused_and_nothing_is_written():
    factories.register(doc_number="111222333")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register_procedure(  # as the officers' desk does: it asks which fields differ
            factories.person_input(
                doc_number="111222333", birth_date=date(1990, 1, 1), first_surname="Pérez"
            ),
            factories.procedure_input(procedure_type="PRR"),
            actor=None,
            show_mismatches=True,
        )
    message = exc.value.messages[0]
    assert "primer apellido" in message
    assert "fecha de nacimiento" in message
    assert counts() == before


def test_a_mismatch_names_no_field_unless_the_desk_asks(settings):
    """Otherwise an API system could find a person's birth date by trying dates one by one:
    every wrong guess must get the same answer, whichever fields it got wrong."""
    settings.BUZON_API_MISMATCHES_PER_DOCUMENT = 10  # six guesses here; the lock-out is
    # api/tests/test_identity_probing.py's
    factories.register(doc_number="111222333")  # born 12/04/1991
    client = ApiClient.objects.create(name="otro-sistema")
    before = counts()
    answers = set()
    for day in (date(1991, 4, 11), date(1991, 4, 13), date(1991, 4, 14)):
        for show in (False, True):  # an API client gets no list even if it were asked
            with pytest.raises(ValidationError) as exc:
                register_procedure(
                    factories.person_input(
                        doc_number="111222333", given_names="X", first_surname="Y",
                        birth_date=day, nationality="PE",
                    ),
                    factories.procedure_input(),
                    actor=None,
                    client=client,
                    show_mismatches=show,
                )  # fmt: skip
            answers.add(tuple(exc.value.messages))
    with pytest.raises(ValidationError) as without_client:  # nor a caller that does not ask
        factories.register(doc_number="111222333", birth_date=date(1991, 4, 11))
    answers.add(tuple(without_client.value.messages))
    assert answers == {
        (
            "Ya existe una persona con CE 111222333 y sus datos no coinciden con los "
            "registrados. Verifique el documento antes de registrar el trámite.",
        )
    }
    assert counts() == before


def test_procedure_number_taken_by_someone_else_is_refused():
    procedure = factories.procedure_input(number="LM260000123")
    factories.register(doc_number="111222333", procedure=procedure)
    with pytest.raises(ValidationError) as exc:
        factories.register(doc_number="444555666", procedure=procedure)
    assert exc.value.message_dict["number"] == [
        "El trámite LM260000123 ya está registrado con otros datos."
    ]


def test_numbers_follow_the_office_and_year_sequence():
    a = factories.register(procedure=factories.procedure_input(office="LM"))
    b = factories.register(procedure=factories.procedure_input(office="LM"))
    c = factories.register(procedure=factories.procedure_input(office="AQ"))
    d = factories.register(procedure=factories.procedure_input(filing_date=date(2025, 12, 30)))
    assert [r.procedure.number for r in (a, b, c, d)] == [
        "LM260000001",
        "LM260000002",
        "AQ260000001",
        "LM250000001",
    ]


def test_test_procedures_are_numbered_apart_from_real_ones():
    """A test key learns nothing of how many real procedures an office has, and real
    numbering has no gaps where test registrations were."""
    sandbox = ApiClient.objects.create(name="pruebas", is_test=True)

    def number(*, test: bool, **procedure) -> str:
        return register_procedure(
            factories.person_input(),
            factories.procedure_input(**procedure),
            actor=None,
            client=sandbox if test else None,
        ).procedure.number

    real = [number(test=False) for _ in range(3)]
    trials = [number(test=True), number(test=True), number(test=True, office="AQ")]
    real.append(number(test=False))
    assert real == ["LM260000001", "LM260000002", "LM260000003", "LM260000004"]
    assert trials == ["LM269000001", "LM269000002", "AQ269000001"]
    assert Procedure.objects.get(number="LM269000001").person.is_test


@pytest.mark.parametrize(
    ("test", "last", "message"),
    [
        (True, 999_999, "Se agotó la numeración de trámites de prueba de la oficina LM para 2026"),
        (False, 8_999_999, "Se agotó la numeración de trámites de la oficina LM para 2026"),
    ],
)
def test_a_range_that_runs_out_is_refused_by_name_and_writes_nothing(test, last, message):
    """Seven digits: the last test number would overflow the format, and the last real one
    would run into the test range."""
    sandbox = ApiClient.objects.create(name="pruebas", is_test=True)
    ProcedureNumberSequence.objects.create(prefix="LM26", is_test=test, last=last)
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register_procedure(
            factories.person_input(),
            factories.procedure_input(),
            actor=None,
            client=sandbox if test else None,
        )
    assert message in " ".join(exc.value.messages)
    assert counts() == before
    assert ProcedureNumberSequence.objects.get(prefix="LM26", is_test=test).last == last


def test_bad_input_lists_every_problem_and_writes_nothing():
    before = counts()
    with pytest.raises(ValidationError) as exc:
        factories.register(
            doc_type="DNI",
            doc_number="1234",
            given_names="",
            birth_date=date(2999, 1, 1),
            nationality="ZZ",
            email="not-an-email",
            mobile_phone="123",
            procedure=factories.procedure_input(procedure_type="NOPE", office="XX"),
        )
    errors = exc.value.message_dict
    assert errors["doc_number"] == ["El DNI debe tener 8 dígitos."]
    assert set(errors) == {
        "doc_number",
        "given_names",
        "birth_date",
        "nationality",
        "email",
        "mobile_phone",
    }
    assert counts() == before
    with pytest.raises(ValidationError) as exc:
        factories.register(procedure=factories.procedure_input(procedure_type="NOPE", office="XX"))
    assert set(exc.value.message_dict) == {"procedure_type", "office"}


def test_password_is_stored_only_as_an_owasp_argon2id_hash(argon2):
    result = factories.register()
    _number, password = factories.credentials_of(result)
    stored = result.procedure.person.user.password
    assert stored.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(stored.removeprefix("argon2"), password)


def test_password_never_reaches_the_database_or_the_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(connection) as queries:
        result = factories.register()
    _number, password = factories.credentials_of(result)
    assert password not in caplog.text
    assert all(password not in q["sql"] for q in queries.captured_queries)
    # Scan every text column of every table, as a DBA with a dump would.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("latin-1")
                    assert not (isinstance(value, str) and password in value), table


def test_constancia_is_encrypted_at_rest():
    result = factories.register()
    _number, password = factories.credentials_of(result)
    receipt = Receipt.objects.get(pk=result.receipt.pk)
    assert receipt.credentials_pdf is not None
    for stored in (bytes(receipt.credentials_pdf), bytes(receipt.record_pdf)):
        assert not stored.startswith(b"%PDF")
        assert password.encode() not in stored


def test_constancias_sealed_before_secretbox_existed_still_open(settings):
    """Each purpose derives its own key; the constancias' one must stay what it always was."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    from procedures.receipts import decrypt

    key = hashlib.sha256(("buzon-files:" + settings.FILE_ENCRYPTION_KEY).encode()).digest()
    old_token = Fernet(base64.urlsafe_b64encode(key)).encrypt(b"%PDF-1.7 constancia")
    assert decrypt(old_token) == b"%PDF-1.7 constancia"
    assert decrypt(memoryview(old_token)) == b"%PDF-1.7 constancia"


def test_a_constancia_that_cannot_be_decrypted_is_not_recorded_as_handed_out(settings):
    from buzon.secretbox import UnreadableError
    from procedures.actions import download_receipt

    result = factories.register()
    officer = result.receipt.issued_by
    downloads = Event.objects.filter(kind=EventKind.RECEIPT_DOWNLOADED)
    before = downloads.count()
    settings.FILE_ENCRYPTION_KEY = "not-the-key-it-was-sealed-under"
    with pytest.raises(UnreadableError, match="BUZON_FILE_ENCRYPTION_KEY"):
        download_receipt(result.receipt, actor=officer)
    assert downloads.count() == before


def test_command_prints_json(capsys):
    call_command(
        "register_procedure",
        "--doc-type=DNI",
        "--doc-number=10117410",
        "--given-names=Luis",
        "--first-surname=Paredes",
        "--birth-date=1985-09-30",
        "--nationality=PE",
        "--procedure-type=PAS",
        "--office=AQ",
        "--filing-date=2026-05-18",
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True
    assert payload["procedure_number"] == "AQ260000001"
    assert payload["username"] == "DNI-10117410"
    assert payload["credentials_issued"] is True
    assert "password" not in json.dumps(payload).lower()


def test_command_reports_errors_as_json(capsys):
    with pytest.raises(CommandError):
        call_command(
            "register_procedure",
            "--doc-type=DNI",
            "--doc-number=123",
            "--given-names=Luis",
            "--first-surname=Paredes",
            "--birth-date=1985-09-30",
            "--nationality=PE",
            "--procedure-type=PAS",
            "--office=AQ",
            "--filing-date=2026-05-18",
        )
    payload = json.loads(capsys.readouterr().out)
    assert payload == {"ok": False, "errors": {"doc_number": ["El DNI debe tener 8 dígitos."]}}
    assert Procedure.objects.count() == 0


def test_names_must_print_on_the_constancia():
    with pytest.raises(ValidationError) as exc:
        factories.register(given_names="Łukasz", first_surname="Nguyễn")
    errors = exc.value.message_dict
    assert "alfabeto latino" in errors["given_names"][0]
    assert "alfabeto latino" in errors["first_surname"][0]
    result = factories.register(given_names="François Müller", first_surname="Ñañez-O'Brien")
    assert "François Müller Ñañez-O'Brien" in factories.receipt_text(result)


def test_a_test_key_registration_sends_no_mail(django_capture_on_commit_callbacks):
    """A test mailbox's address is whatever an agency system's tests typed, maybe a real
    person's; nobody signs in to a test mailbox to use a confirmation link anyway."""
    client = ApiClient.objects.create(name="sistema-pruebas", is_test=True)
    with django_capture_on_commit_callbacks(execute=True):
        first = register_procedure(
            factories.person_input(doc_number="000777111", email="vecina.real@example.org"),
            factories.procedure_input(),
            actor=None,
            client=client,
        )
        # A later registration that fills in an email the test mailbox lacked.
        register_procedure(
            factories.person_input(doc_number="000777222"),
            factories.procedure_input(),
            actor=None,
            client=client,
        )
        register_procedure(
            factories.person_input(doc_number="000777222", email="otra.vecina@example.org"),
            factories.procedure_input(),
            actor=None,
            client=client,
        )
    assert first.procedure.person.is_test
    assert mail.outbox == []
    # The same registration at the desk asks the real person to confirm it.
    with django_capture_on_commit_callbacks(execute=True):
        factories.register(doc_number="000777111", email="vecina.real@example.org")
    assert [m.to for m in mail.outbox] == [["vecina.real@example.org"]]
