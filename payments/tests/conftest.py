from collections.abc import Iterator

import pytest
import time_machine

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
