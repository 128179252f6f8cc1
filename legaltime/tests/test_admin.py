from datetime import date

import pytest

from legaltime.calendar import is_business_day
from legaltime.models import NonWorkingDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="root-password-123")
    client.force_login(root)
    return client


def test_str_shows_the_date_and_description():
    day = NonWorkingDay.objects.create(
        date=date(2026, 12, 24),
        description="Día no laborable para el sector público",
        legal_basis="Decreto Supremo N.° 099-2026-PCM",
    )
    assert str(day) == "24/12/2026 · Día no laborable para el sector público"


def test_days_are_listed_in_date_order():
    for day in (date(2026, 12, 31), date(2026, 7, 27), date(2026, 12, 24)):
        NonWorkingDay.objects.create(date=day, description="No laborable", legal_basis="D.S.")
    assert [d.date for d in NonWorkingDay.objects.all()] == [
        date(2026, 7, 27),
        date(2026, 12, 24),
        date(2026, 12, 31),
    ]


def test_a_superuser_declares_a_day_non_working_in_the_admin(root_client):
    response = root_client.post(
        "/admin/legaltime/nonworkingday/add/",
        {
            "date": "2026-12-24",
            "description": "Día no laborable para el sector público",
            "legal_basis": "Decreto Supremo N.° 099-2026-PCM",
        },
    )
    assert response.status_code == 302
    assert not is_business_day(date(2026, 12, 24))

    listing = root_client.get("/admin/legaltime/nonworkingday/", {"q": "099-2026"})
    assert "Decreto Supremo N.° 099-2026-PCM" in listing.content.decode()


def test_officers_cannot_reach_the_admin(client, officer):
    client.force_login(officer)
    response = client.get("/admin/legaltime/nonworkingday/")
    assert response.status_code == 302
    assert NonWorkingDay.objects.count() == 0
