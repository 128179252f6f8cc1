"""The clock: runs the periodic commands, so `make run` is the whole product.

    python -m buzon.clock

| every                         | command                     |
|-------------------------------|-----------------------------|
| BUZON_CHECKPOINT_MINUTES (15) | seal_evidence               |
| hour                          | settle_notifications        |
| hour                          | retry_request_acks          |
| hour                          | payments_daily              |
| day                           | purge_receipt_credentials   |

Each runs once at start, then on its interval. A failing run is logged and tried again on the
next tick; it never stops the clock. Production may use cron or a scheduler instead (see
docs/operations.md): every command is idempotent, so a second clock does no harm.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import FrameType

log = logging.getLogger("buzon.clock")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buzon.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import close_old_connections

    jobs = [
        ("seal_evidence", settings.BUZON_CHECKPOINT_MINUTES * 60),
        ("settle_notifications", 3600),
        ("retry_request_acks", 3600),
        ("deliver_webhooks", 600),
        # Idempotent: reminders, overdue installments and lapses happen once whatever the rate.
        ("payments_daily", 3600),
        ("purge_receipt_credentials", 86400),
    ]
    due = dict.fromkeys((name for name, _every in jobs), 0.0)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        now = time.monotonic()
        for name, every in jobs:
            if now < due[name]:
                continue
            due[name] = now + every
            try:
                close_old_connections()
                call_command(name)
            except Exception:
                log.exception("%s failed; it runs again in %s s", name, every)
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
