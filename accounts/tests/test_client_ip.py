"""The per-IP limit must count real clients, and must not trust a forged header."""

import pytest
from django.test import RequestFactory

from accounts.throttling import client_ip


def request(**meta):
    return RequestFactory().post("/buzon/ingresar/", **meta)


def test_without_a_proxy_a_forged_forwarded_header_is_ignored():
    forged = request(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(forged) == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left entry was forged by the client
        (2, "203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (2, "10.0.0.5", "10.0.0.2"),  # too short: fall back to the socket
        (1, "not-an-ip", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_proxies_the_client_is_counted_from_the_right(settings, proxies, header, expected):
    settings.BUZON_TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)) == expected


@pytest.mark.django_db
def test_two_clients_behind_the_proxy_are_throttled_apart(settings, client):
    settings.BUZON_TRUSTED_PROXY_COUNT = 1
    settings.BUZON_LOGIN_FAILURES_PER_IP = 3
    form = {"doc_type": "CE", "password": "wrong-password"}
    for i in range(3):
        client.post(
            "/buzon/ingresar/",
            {**form, "doc_number": f"{300000 + i}"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    blocked = client.post(
        "/buzon/ingresar/", {**form, "doc_number": "399999"}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    other = client.post(
        "/buzon/ingresar/", {**form, "doc_number": "399999"}, HTTP_X_FORWARDED_FOR="198.51.100.4"
    )
    assert blocked.status_code == 429
    assert other.status_code == 200
