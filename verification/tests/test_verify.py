import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_real_code_is_authentic_and_shows_little_personal_data(client):
    result = factories.register()
    code = result.receipt.verification_code
    page = client.get(f"/verificar/{code}").content.decode()
    assert "Documento auténtico." in page
    assert result.procedure.number in page
    assert result.receipt.sha256 in page
    assert "M**** A******** G******* R****" in page
    assert "María" not in page


def test_a_typed_code_is_normalised(client):
    code = factories.register().receipt.verification_code
    response = client.get("/verificar/", {"codigo": code.replace("-", " ").lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/verificar/{code}"


def test_unknown_and_malformed_codes(client):
    unknown = client.get("/verificar/ABCD-EFGH-JKMN-PQRS")
    assert unknown.status_code == 404
    assert "No encontramos ningún documento" in unknown.content.decode()
    malformed = client.get("/verificar/", {"codigo": "abc"})
    assert malformed.status_code == 400
    assert "16 letras y números" in malformed.content.decode()
