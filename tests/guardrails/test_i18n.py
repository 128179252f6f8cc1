"""Spanish (es-PE) is the default; the English translation is complete and really used."""

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def load_catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_english_catalogue_is_complete():
    catalog = load_catalog()
    missing = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing, missing[:5]
    assert not fuzzy, fuzzy[:5]


@pytest.fixture
def compiled_english(settings, tmp_path):
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "django.mo").open("wb") as handle:
        write_mo(handle, load_catalog())
    settings.LOCALE_PATHS = [tmp_path]


@pytest.mark.django_db
def test_spanish_is_the_default(client):
    page = client.get("/buzon/ingresar/").content.decode()
    assert '<html lang="es-pe">' in page
    assert "Ingresar a su Buzón Electrónico" in page


@pytest.mark.django_db
def test_english_visitors_get_english(client, compiled_english):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/buzon/ingresar/"})
    assert response.status_code == 302
    page = client.get("/buzon/ingresar/").content.decode()
    assert '<html lang="en">' in page
    assert "Ingresar a su Buzón Electrónico" not in page
    assert "Tipo de documento" not in page
    assert "Password" in page


@pytest.mark.django_db
def test_an_english_browser_still_gets_spanish_until_the_person_chooses(client, compiled_english):
    page = client.get("/buzon/ingresar/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Ingresar a su Buzón Electrónico" in page
