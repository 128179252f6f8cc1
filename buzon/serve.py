"""`make run`: serve the site with gunicorn, the task worker, the clock and the SMTP receiver
for emailed credential requests, as one unit.

All run as child processes. Ctrl-C (SIGINT) or SIGTERM stops all; if one exits on its own,
the others are stopped too, so the product never runs half-alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType


def main() -> int:
    port = os.environ.get("PORT", "8000")
    if not port.isdigit():
        print(f"PORT must be a number, got {port!r}", file=sys.stderr)
        return 2
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    # Threads per worker: the recovery and Agencia Digital answers are held to a minimum time
    # (so that time says nothing), and a held answer must not hold a whole worker.
    threads = os.environ.get("WEB_THREADS", "4")
    python = sys.executable
    children: dict[str, subprocess.Popen[bytes]] = {
        "web": subprocess.Popen(  # noqa: S603
            [
                python,
                "-m",
                "gunicorn",
                "buzon.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                workers,
                "--threads",
                threads,
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ]
        ),
    }
    if os.environ.get("REDIS_URL"):
        # RQ over Redis: several workers (one also runs the scheduler for retries).
        count = int(os.environ.get("BUZON_WORKERS", "2"))
        for n in range(count):
            command = [python, "manage.py", "rqworker", "default"]
            if n == 0:
                command.append("--with-scheduler")
            children[f"worker-{n}"] = subprocess.Popen(command)  # noqa: S603
    else:
        children["worker"] = subprocess.Popen([python, "manage.py", "db_worker"])  # noqa: S603
    # Periodic commands: checkpoints, legal time, purges.
    children["clock"] = subprocess.Popen([python, "-m", "buzon.clock"])  # noqa: S603
    # Credential requests the information mailbox forwards by email (agency/smtp.py).
    smtp_host = os.environ.get("BUZON_SMTP_HOST", "127.0.0.1")
    smtp_port = os.environ.get("BUZON_SMTP_PORT", "2525")
    children["smtp"] = subprocess.Popen(  # noqa: S603
        [python, "manage.py", "smtp_receiver", "--host", smtp_host, "--port", smtp_port]
    )
    print(f"Correo entrante (SMTP): {smtp_host}:{smtp_port}", flush=True)
    print(f"Buzón: http://127.0.0.1:{port}/buzon/ingresar/  (Ctrl-C stops everything)", flush=True)

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping", file=sys.stderr)
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
