from collections.abc import Iterator

import pytest
import time_machine
from pytest_django.fixtures import Settings

# A real SMTP server on loopback, and an empty RQ queue per test: the alerts app's fixtures.
from alerts.tests.conftest import _empty_queue, smtp  # noqa: F401
from payments.tests.helpers import lima


@pytest.fixture(autouse=True)
def _first_of_december() -> Iterator[time_machine.Traveller]:
    """Every test starts on Tuesday 1 December 2026, 10:00 in Lima; the clock stands still
    unless a test moves it (traveller.move_to)."""
    with time_machine.travel(lima(2026, 12, 1, 10, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def clock(_first_of_december: time_machine.Traveller) -> time_machine.Traveller:
    return _first_of_december


@pytest.fixture
def no_confirmation_grace(settings: Settings) -> None:
    """For tests that put the overdue and lapse rules on exact days (art. 145's carry-over,
    a late payment that cures, two missed installments): without the grace for a payment's
    confirmation, which moves both by that many business days. The grace itself is tested in
    test_review6_lapse.py."""
    settings.BUZON_PAYMENT_CONFIRMATION_GRACE_BUSINESS_DAYS = 0
