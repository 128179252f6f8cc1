import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db


def logged_in(registration):
    number, password = factories.credentials_of(registration)
    client = Client()
    response = client.post(
        "/buzon/ingresar/", {"doc_type": "CE", "doc_number": number, "password": password}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def maria():
    return factories.register(
        given_names="María", procedure=factories.procedure_input(number="LM260000111")
    )


@pytest.fixture
def jose():
    return factories.register(
        given_names="José",
        first_surname="Ramírez",
        procedure=factories.procedure_input(number="LM260000222"),
    )


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/buzon/")
    assert response.status_code == 302
    assert response["Location"] == "/buzon/ingresar/?next=/buzon/"


def test_casilla_shows_own_name_procedures_and_an_honest_empty_state(maria, jose):
    page = logged_in(maria).get("/buzon/notificaciones/").content.decode()
    assert "María González Rivas" in page
    assert "LM260000111" in page
    assert "No tiene notificaciones" in page
    assert 'action="/buzon/salir/"' in page


def test_a_person_sees_only_their_own_casilla(maria, jose):
    client = logged_in(maria)
    page = client.get("/buzon/").content.decode()
    assert "LM260000222" not in page
    assert "Ramírez" not in page
    # Someone else's procedure, constancia and the office pages are closed to a person.
    code = jose.receipt.verification_code
    for url in (
        "/oficina/",
        "/oficina/tramites/LM260000222/",
        f"/oficina/tramites/LM260000222/constancias/{code}.pdf",
        "/oficina/tramites/nuevo/",
    ):
        assert client.get(url).status_code == 403, url
    password_hash = jose.procedure.person.user.password
    reissue = client.post("/oficina/tramites/LM260000222/reemitir/", {"confirm": "yes"})
    assert reissue.status_code == 403
    jose.procedure.person.user.refresh_from_db()
    assert jose.procedure.person.user.password == password_hash
    assert jose.procedure.receipts.count() == 1


def test_casilla_queries_do_not_grow_with_procedures(maria):
    client = logged_in(maria)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/buzon/").status_code == 200
    for _ in range(3):
        factories.register(
            doc_number=maria.procedure.person.doc_number,
            given_names="María",
            procedure=factories.procedure_input(procedure_type="PRR"),
        )
    with CaptureQueriesContext(connection) as four:
        page = client.get("/buzon/").content.decode()
    assert page.count("Prórroga de residencia") == 3
    assert len(four) == len(one) == 10  # pinned: a change here is a decision
