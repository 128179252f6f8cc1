"""The one rule for what a procedure's correction requests make of its status (TUO Ley 27444,
art. 136): every change of a correction request that can move the procedure goes through
`settle()`, in the transaction of that change."""

from __future__ import annotations

from corrections.models import CorrectionRequest, RequestStatus
from procedures.models import Procedure, ProcedureStatus

# A request in one of these still keeps the procedure observed: waiting for the person's
# answer, or answered and waiting for the officer's review.
PENDING = (RequestStatus.OPEN, RequestStatus.ANSWERED)


def settle(procedure_id: int, *, expired: bool = False, reopened: bool = False) -> ProcedureStatus:
    """Set and return the procedure's status from all of its correction requests:

    - not filed stays not filed (art. 136.4), unless `reopened=True` (a decree moved the
      deadline of its expired request back to today or later, and that request is open again)
      and no other request of it is still expired;
    - `expired=True` (a request of it just expired with no answer): not filed;
    - any request open or answered (awaiting review): observed;
    - otherwise: in progress.

    Locks the procedure row first and only then reads its requests, so two changes to requests
    of the same procedure (two reviews at once) settle one after the other, each seeing the
    other's committed result. Call it inside the transaction of the change, after the change."""
    procedure = Procedure.objects.select_for_update().only("status").get(pk=procedure_id)
    if procedure.status == ProcedureStatus.NOT_FILED and not (
        reopened
        and not CorrectionRequest.objects.filter(
            notification__procedure_id=procedure_id, status=RequestStatus.EXPIRED
        ).exists()
    ):
        return ProcedureStatus.NOT_FILED
    if expired:
        status = ProcedureStatus.NOT_FILED
    elif CorrectionRequest.objects.filter(
        notification__procedure_id=procedure_id, status__in=PENDING
    ).exists():
        status = ProcedureStatus.OBSERVED
    else:
        status = ProcedureStatus.IN_PROGRESS
    if procedure.status != status:
        Procedure.objects.filter(pk=procedure_id).update(status=status)
    return status
