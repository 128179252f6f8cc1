import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evidence.models import Event, EventKind
from procedures.models import Procedure
from tests import factories

pytestmark = pytest.mark.django_db

FORM = {
    "doc_type": "DNI",
    "doc_number": "10117410",
    "given_names": "Luis Alberto",
    "first_surname": "Paredes",
    "second_surname": "Mendoza",
    "birth_date": "1985-09-30",
    "nationality": "PE",
    "email": "luis@example.org",
    "mobile_phone": "987654321",
    "procedure_type": "PAS",
    "office": "AQ",
    "filing_date": "2026-05-18",
}


def test_officer_login_and_dashboard(client, officer):
    response = client.post(
        "/oficina/ingresar/", {"username": "mesa1", "password": "officer-password-123"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/oficina/"
    assert "Registrar trámite" in client.get("/oficina/").content.decode()


def test_officer_registers_a_procedure_and_downloads_its_constancia(client, officer):
    client.force_login(officer)
    response = client.post("/oficina/tramites/nuevo/", FORM)
    assert response.status_code == 302
    procedure = Procedure.objects.get()
    assert response["Location"] == f"/oficina/tramites/{procedure.number}/"
    assert procedure.registered_by == officer
    page = client.get(response["Location"]).content.decode()
    assert "Luis Alberto Paredes Mendoza" in page
    assert "+51987654321" in page
    code = procedure.receipts.get().verification_code
    pdf = client.get(f"/oficina/tramites/{procedure.number}/constancias/{code}.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content.startswith(b"%PDF")
    download = Event.objects.get(kind=EventKind.RECEIPT_DOWNLOADED)
    assert download.actor == officer
    assert download.procedure == procedure


def test_bad_input_gets_specific_spanish_errors_not_a_500(client, officer):
    client.force_login(officer)
    response = client.post(
        "/oficina/tramites/nuevo/",
        {**FORM, "doc_number": "1234567", "mobile_phone": "01 4171000", "birth_date": "2999-01-01"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "No se registró el trámite" in page
    assert "El DNI debe tener 8 dígitos." in page
    assert "no un teléfono fijo" in page
    assert "no puede ser posterior a hoy" in page
    assert Procedure.objects.count() == 0


def test_garbage_input_is_refused_cleanly(client, officer):
    client.force_login(officer)
    response = client.post(
        "/oficina/tramites/nuevo/",
        {"doc_type": "\x00", "birth_date": "31/02/2020", "procedure_type": "'; DROP", "office": ""},
    )
    assert response.status_code == 200
    assert Procedure.objects.count() == 0


def test_identity_mismatch_is_shown_on_the_form(client, officer):
    client.force_login(officer)
    client.post("/oficina/tramites/nuevo/", FORM)
    response = client.post(
        "/oficina/tramites/nuevo/", {**FORM, "birth_date": "1985-09-29", "procedure_type": "PRR"}
    )
    assert "no coinciden en: fecha de nacimiento" in response.content.decode()


def test_reissue_needs_a_supervisor_and_is_audited(client, officer, supervisor):
    result = factories.register(actor=officer)
    _number, old_password = factories.credentials_of(result)
    url = f"/oficina/tramites/{result.procedure.number}/reemitir/"
    client.force_login(officer)
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    client.force_login(supervisor)
    assert client.post(url, {}).status_code == 302  # no confirmation: nothing happens
    assert result.procedure.receipts.count() == 1
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    newest = result.procedure.receipts.order_by("-issued_at", "-id").first()
    assert newest.credentials == "reissued"
    user = result.procedure.person.user
    user.refresh_from_db()
    assert not user.check_password(old_password)
    event = Event.objects.get(kind=EventKind.CREDENTIALS_REISSUED)
    assert event.actor == supervisor
    assert event.person == result.procedure.person


def test_reissue_ends_the_persons_open_sessions(client, officer, supervisor):
    result = factories.register(actor=officer)
    number, password = factories.credentials_of(result)
    person_client = Client()
    login = {"doc_type": "CE", "doc_number": number, "password": password}
    assert person_client.post("/buzon/ingresar/", login).status_code == 302
    assert person_client.get("/buzon/").status_code == 200
    client.force_login(supervisor)
    client.post(f"/oficina/tramites/{result.procedure.number}/reemitir/", {"confirm": "yes"})
    assert person_client.get("/buzon/").status_code == 302
    # The new constancia is the supervisor's to hand over, and its password works.
    newest = result.procedure.receipts.latest("issued_at", "id")
    url = f"/oficina/tramites/{result.procedure.number}/constancias/{newest.verification_code}.pdf"
    text = factories.pdf_text(client.get(url).content)
    new_number, new_password = factories.credentials_from_text(text)
    relogin = {"doc_type": "CE", "doc_number": new_number, "password": new_password}
    assert Client().post("/buzon/ingresar/", relogin).status_code == 302


def test_a_constancia_the_server_cannot_decrypt_is_said_not_a_500(client, officer, settings):
    result = factories.register(actor=officer)
    receipt = result.receipt
    settings.FILE_ENCRYPTION_KEY = "not-the-key-it-was-sealed-under"
    client.force_login(officer)
    number = result.procedure.number
    url = f"/oficina/tramites/{number}/constancias/{receipt.verification_code}.pdf"
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(f"/oficina/tramites/{number}/", 302)]
    assert "La constancia no se puede leer" in response.content.decode()
    assert not Event.objects.filter(kind=EventKind.RECEIPT_DOWNLOADED).exists()


def test_an_officer_without_permissions_sees_nothing(client, nobody):
    result = factories.register()
    client.force_login(nobody)
    assert client.get("/oficina/").status_code == 403
    assert client.get(f"/oficina/tramites/{result.procedure.number}/").status_code == 403
    assert client.get("/oficina/tramites/nuevo/").status_code == 403


def test_admin_is_for_superusers_only(client, officer, django_user_model):
    officer.is_staff = True
    officer.save()
    client.force_login(officer)
    assert client.get("/admin/").status_code == 302
    root = django_user_model.objects.create_superuser("root", password="root-password-123")
    assert root.kind == "officer"  # createsuperuser makes an officer who can use /oficina/
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_admin_cannot_edit_persons_or_their_accounts(client, django_user_model):
    result = factories.register()
    person = result.procedure.person
    root = django_user_model.objects.create_superuser("root", password="root-password-123")
    client.force_login(root)
    assert client.get(f"/admin/people/person/{person.pk}/change/").status_code == 200
    edit = client.post(f"/admin/people/person/{person.pk}/change/", {"doc_number": "999999999"})
    assert edit.status_code == 403
    account = client.post(
        f"/admin/accounts/user/{person.user.pk}/change/", {"username": "CE-999999999"}
    )
    assert account.status_code == 403
    person.refresh_from_db()
    assert person.doc_number != "999999999"
    assert person.user.username == person.username


def test_dashboard_queries_do_not_grow_with_rows(client, officer):
    factories.register()
    client.force_login(officer)
    with CaptureQueriesContext(connection) as one:
        client.get("/oficina/?q=LM26")
    for _ in range(4):
        factories.register()
    with CaptureQueriesContext(connection) as five:
        page = client.get("/oficina/?q=LM26").content.decode()
    assert page.count('href="/oficina/tramites/LM26') == 5
    assert len(five) == len(one) <= 10


def test_every_problem_is_shown_on_the_first_try(client, officer):
    client.force_login(officer)
    page = client.post(
        "/oficina/tramites/nuevo/", {"doc_type": "DNI", "doc_number": "1234", "mobile_phone": "1"}
    ).content.decode()
    assert "El DNI debe tener 8 dígitos." in page
    assert "El número de celular no es válido." in page
    assert page.count("Este campo es obligatorio.") >= 5
