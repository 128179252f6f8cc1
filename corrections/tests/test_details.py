"""What a correction request carries: its observed items, checked at deposit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from corrections.models import CorrectionRequest
from corrections.rules import check
from mailboxes.actions import deposit_many, record_expired_deadlines
from procedures.models import ProcedureStatus
from tests import factories

from .helpers import correction

pytestmark = pytest.mark.django_db


def test_items_are_stripped_and_kept_in_canonical_form():
    registration = factories.register()
    details = {"items": [{"description": "  Falta la foto.  ", "document_kind": " Fotografía\n"}]}
    assert check(details, registration.procedure) == {
        "items": [{"description": "Falta la foto.", "document_kind": "Fotografía"}]
    }
    assert check(None, registration.procedure) == {}
    assert check({}, registration.procedure) == {}


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"items": []}, "al menos una observación"),
        ({"items": [{"description": "x", "document_kind": "y"}] * 21}, "como máximo 20"),
        ({"items": [{"description": "x" * 501, "document_kind": "y"}]}, "500 caracteres"),
        ({"items": [{"description": "x", "document_kind": "y" * 121}]}, "120 caracteres"),
        ({"items": [{"description": "x", "document_kind": " "}]}, "qué documento subsana"),
        ({"items": [{"description": "", "document_kind": "y"}]}, "Describa la observación 1"),
        ({"items": "Falta todo"}, "al menos una observación"),
        ({"fine": 100}, "Indique las observaciones"),
    ],
)
def test_bad_details_are_refused_at_deposit_with_the_reason(details, message):
    registration = factories.register()
    with pytest.raises(ValidationError) as refused:
        factories.deposit(registration, kind="correction", details=details)
    assert any(message in m for m in refused.value.message_dict["details"])
    assert not CorrectionRequest.objects.exists()


def test_a_batch_deposit_creates_each_request_with_its_items():
    registrations = [factories.register() for _ in range(2)]
    items = [{"description": "Falta la foto.", "document_kind": "Fotografía"}]
    results = deposit_many(
        [
            factories.notification_input(
                r.procedure.number,
                kind="correction",
                details={"items": items} if i else None,
                idempotency_key=f"lote-{i}",
            )
            for i, r in enumerate(registrations)
        ],
        actor=None,
    )
    assert all(r.errors is None for r in results)
    general, listed = (CorrectionRequest.objects.get(notification=r.notification) for r in results)
    assert general.general
    assert list(general.items.values_list("description", flat=True)) == [
        results[0].notification.subject
    ]
    assert not listed.general
    assert list(listed.items.values_list("description", "document_kind")) == [
        ("Falta la foto.", "Fotografía")
    ]
    for registration in registrations:
        registration.procedure.refresh_from_db()
        assert registration.procedure.status == ProcedureStatus.OBSERVED


def test_a_new_correction_request_leaves_a_procedure_not_filed_as_it_is():
    registration = factories.register()
    correction(registration)
    assert record_expired_deadlines(timezone.now() + timedelta(days=60)) == 1
    registration.procedure.refresh_from_db()
    assert registration.procedure.status == ProcedureStatus.NOT_FILED
    correction(registration)  # a later deposit on the same procedure
    registration.procedure.refresh_from_db()
    assert registration.procedure.status == ProcedureStatus.NOT_FILED
