"""Lookups and uploads are limited per client address; the counters live in a shared cache."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from tests import factories
from tests.concurrency import at_once
from verification.tests.helpers import pdf_file, text_of

pytestmark = pytest.mark.django_db

TOO_MANY = "Demasiadas consultas desde su conexión. Inténtelo de nuevo en unos minutos."


@pytest.fixture
def code(db):
    return factories.register().receipt.verification_code


def test_lookups_are_limited_per_address(client, settings, code):
    settings.BUZON_VERIFY_LOOKUPS_PER_IP = 3
    for _ in range(3):
        assert client.get(f"/verificar/{code}", REMOTE_ADDR="198.51.100.7").status_code == 200
    limited = client.get(f"/verificar/{code}", REMOTE_ADDR="198.51.100.7")
    assert limited.status_code == 429
    page = text_of(limited)
    assert TOO_MANY in page
    assert "Documento auténtico" not in page
    assert 'name="codigo"' in limited.content.decode()  # same page, forms included

    # Unknown codes count too, and another address is not affected.
    unknown = client.get("/verificar/ABCD-EFGH-JKMN-PQRS", REMOTE_ADDR="198.51.100.7")
    assert unknown.status_code == 429
    assert client.get(f"/verificar/{code}", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_showing_the_form_is_not_a_lookup(client, settings):
    settings.BUZON_VERIFY_LOOKUPS_PER_IP = 1
    for _ in range(3):
        assert client.get("/verificar/").status_code == 200
        assert client.get("/verificar/", {"codigo": "abc"}).status_code == 400


def test_uploads_have_their_own_limit(client, settings, code):
    settings.BUZON_VERIFY_UPLOADS_PER_IP = 2
    for path in ("/verificar/", f"/verificar/{code}"):
        response = client.post(path, {"archivo": pdf_file(factories.pdf_bytes())})
        assert response.status_code == 200
    limited = client.post("/verificar/", {"archivo": pdf_file(factories.pdf_bytes())})
    assert limited.status_code == 429
    assert TOO_MANY in text_of(limited)
    assert "No coincide" not in text_of(limited)
    assert client.get(f"/verificar/{code}").status_code == 200  # lookups still allowed
    other = client.post(
        "/verificar/", {"archivo": pdf_file(factories.pdf_bytes())}, REMOTE_ADDR="198.51.100.9"
    )
    assert other.status_code == 200


def test_behind_a_proxy_each_client_is_counted_apart(client, settings, code):
    settings.BUZON_TRUSTED_PROXY_COUNT = 1
    settings.BUZON_VERIFY_LOOKUPS_PER_IP = 2

    def get(client_address, forged=""):
        chain = f"{forged}, {client_address}" if forged else client_address
        return client.get(
            f"/verificar/{code}", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=chain
        ).status_code

    assert [get("203.0.113.5") for _ in range(3)] == [200, 200, 429]
    # A forged address on the left does not give a fresh counter.
    assert get("203.0.113.5", forged="192.0.2.44") == 429
    assert get("203.0.113.6") == 200


def test_a_window_keeps_its_count_past_the_default_cache_timeout():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        cache.add("window", 0, 10 * 60)
        assert [cache.incr("window") for _ in range(3)] == [1, 2, 3]
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        assert cache.get("window") == 3
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert cache.get("window") is None
        with pytest.raises(ValueError, match="not found"):
            cache.incr("window")


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_all_counted():
    cache.add("burst", 0, 600)

    def work() -> None:
        for _ in range(25):
            cache.incr("burst")

    at_once(work, 8)
    assert cache.get("burst") == 200
    cache.clear()
