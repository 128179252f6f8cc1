"""Every URL outside a small public allow-list refuses an anonymous visitor."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "",  # redirects to the buzón login
    "buzon/ingresar/",
    "buzon/salir/",  # POST-only; logging out an anonymous visitor does nothing
    "buzon/recuperar/",  # ¿Olvidaste la contraseña?: for people who cannot log in
    "buzon/recuperar/enviado/",
    "buzon/recuperar/nueva/",  # only with a verified link or code in the session
    "buzon/recuperar/<int:reset_id>/<str:token>/",  # only redirects, so no path logs a token
    "buzon/recuperar/enlace/",  # where a refused link lands
    "oficina/ingresar/",
    "verificar/",
    "verificar/<str:code>",
    "i18n/setlang/",
    # Agencia Digital and Solicitud de credenciales: for people who have no credentials.
    "agencia/",
    "agencia/<str:kind>/",
    "agencia/solicitud/",
    "agencia/solicitud/recibida/",
    # Only with a matched "Verificar" (and, for the password, a right code) in the session;
    # without it they send the visitor back to /agencia/ (tested in agency/tests).
    "agencia/inicio/",
    "agencia/buzon/",
    "agencia/contrasena/",
    # The agency API's description: public, as for any API.
    "api/v1/openapi.json",
    "api/v1/docs",
}


def walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin guards itself; tested in test_backoffice
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


SAMPLES = {
    "procedure_number": "LM260000001",
    "verification_code": "ABCD-EFGH-JKMN-PQRS",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "int": "1",
}


def concrete(route):
    def sample(match):
        return SAMPLES.get(match.group(1) or "", "X1")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", sample, route).lstrip("^").rstrip("$")


def test_the_allow_list_names_real_routes():
    routes = set(walk(get_resolver().url_patterns))
    assert routes >= PUBLIC, PUBLIC - routes


@pytest.mark.parametrize("route", sorted(set(walk(get_resolver().url_patterns)) - PUBLIC))
def test_private_route_refuses_anonymous(client, route):
    for method in ("get", "post"):
        response = getattr(client, method)(concrete(route))
        if route.startswith("api/"):
            # An API answers 401 (problem+json), not a redirect to a login page; its root
            # is not an endpoint at all.
            assert response.status_code in (401, 404, 405), (method, route)
            continue
        assert response.status_code in (302, 403, 405), (method, route)
        if response.status_code == 302:
            assert "/ingresar/" in response["Location"], (method, route)


@pytest.mark.parametrize(
    "url",
    [
        "/oficina/tramites/%00/",
        "/oficina/tramites/LM260000001%00/",
        "/oficina/tramites/LM260000001/constancias/%00.pdf",
        "/verificar/%00",
        "/verificar/" + "A" * 5000,
    ],
)
def test_malformed_identifiers_are_a_404_not_an_error(client, officer, url):
    client.force_login(officer)
    assert client.get(url).status_code == 404
