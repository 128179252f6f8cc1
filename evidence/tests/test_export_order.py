"""The dates an export carries are replayed in the order the entries were written, as
verify_evidence replays them, not by their times: on PostgreSQL each lane keeps its own clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine

from evidence import actions, offline
from evidence.models import ChainHead, EventKind
from evidence.tests.test_concurrency import postgres_only
from evidence.tests.zips import export, trusted_key
from evidence.verify import verify
from legaltime.actions import declare_non_working_day
from tests import factories

LIMA = ZoneInfo("America/Lima")
pytestmark = pytest.mark.django_db


@postgres_only
def test_a_change_written_later_by_a_host_whose_clock_is_behind_still_verifies_offline(
    settings, tmp_path, capsys
):
    settings.BUZON_NOTIFICATION_POLICY = "on_deposit"
    tuesday = datetime(2026, 12, 1, 10, tzinfo=LIMA)
    registration = factories.register()
    with time_machine.travel(tuesday + timedelta(hours=1), tick=False):  # a clock one hour fast
        notification = factories.deposit(registration, kind="correction")
    effect = notification.events.get(kind=EventKind.NOTIFICATION_EFFECTIVE)
    lane_for = actions._lock_a_lane

    def another_lane() -> Any:
        head = lane_for()
        if head.lane != effect.lane:
            return head
        return ChainHead.objects.select_for_update().exclude(lane=effect.lane).first()

    # Later, a host with the right clock (10:05) records a decree on another lane: its entry is
    # dated before the effect it moves.
    before = notification.deadline_date
    with (
        time_machine.travel(tuesday + timedelta(minutes=5), tick=False),
        mock.patch.object(actions, "_lock_a_lane", another_lane),
    ):
        declare_non_working_day(
            date(2026, 12, 2), description="No laborable", legal_basis="D.S. 1", actor=None
        )
    notification.refresh_from_db()
    assert notification.deadline_date != before
    recalculated = notification.events.get(kind=EventKind.DATES_RECALCULATED)
    assert recalculated.occurred_at < effect.occurred_at  # written later, dated earlier

    with time_machine.travel(tuesday + timedelta(hours=3), tick=False):
        path = export(registration, tmp_path)
        report = verify()
    assert report.ok, report.problems
    status = offline.main([str(path), "--clave", str(trusted_key(tmp_path))])
    output = capsys.readouterr().out
    assert status == 0, output
    assert "ÍNTEGRA" in output
