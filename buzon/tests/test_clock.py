"""The clock process that `make run` starts: it runs the periodic commands and stops cleanly."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_clock_seals_settles_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "BUZON_ENV": "development",
        "BUZON_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "buzon.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    clock = subprocess.Popen(
        [sys.executable, "-m", "buzon.clock"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert clock.stdout is not None
    watchdog = threading.Timer(120, clock.kill)  # a hung clock fails the test, never the suite
    watchdog.start()
    seen = []
    for line in clock.stdout:  # each job prints one line when it has run
        seen.append(line)
        if line.startswith("purged"):
            break
    clock.send_signal(signal.SIGTERM)
    status = clock.wait(timeout=30)
    watchdog.cancel()
    assert status == 0
    output = "".join(seen)
    assert "checkpoint #1:" in output  # the first seal is made even over an empty log
    assert "settled 0 notifications" in output
    assert (tmp_path / "keys" / "current").exists()
