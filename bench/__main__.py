"""`make bench`: measured figures, each beside its baseline from the same run.

Login throughput through the real view (/buzon/ingresar/, the whole middleware stack with
throttling, session rotation and the access log, on a fresh SQLite database) against the raw
floor: Argon2id verifications per second with the same parameters and the same hash.
Rounds alternate between the two so that machine noise hits both alike; medians are reported.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "40"))
TARGET_RATIO = 0.8
# What a browser sends for a login form (the test client defaults to multipart).
FORM_ENCODED = "application/x-www-form-urlencoded"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def setup_django(var_dir: str) -> None:
    os.environ["BUZON_ENV"] = "development"  # production hashers, no test shortcuts
    os.environ["BUZON_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buzon.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="buzon-bench-") as var_dir:
        setup_django(var_dir)
        from argon2 import PasswordHasher, Type
        from django.test import Client

        from accounts.actions import change_password
        from accounts.hashers import BuzonArgon2PasswordHasher
        from tests.factories import register

        password = "una frase de prueba para medir"
        person = register().procedure.person
        assert person.user is not None
        change_password(person.user, password, actor=None)
        person.user.refresh_from_db()
        encoded = person.user.password
        hasher = BuzonArgon2PasswordHasher()
        raw = PasswordHasher(
            time_cost=hasher.time_cost,
            memory_cost=hasher.memory_cost,
            parallelism=hasher.parallelism,
            type=Type.ID,
        )
        raw_hash = encoded.removeprefix("argon2")
        form = {"doc_type": person.doc_type, "doc_number": person.doc_number, "password": password}

        def raw_round() -> float:
            start = time.perf_counter()
            for _ in range(PER_ROUND):
                raw.verify(raw_hash, password)
            return PER_ROUND / (time.perf_counter() - start)

        # One client, as one server process: middleware is built once. Cookies are cleared
        # before each login, so every login starts a fresh session like a new visitor.
        login_client = Client()

        def login_round() -> float:
            start = time.perf_counter()
            for _ in range(PER_ROUND):
                login_client.cookies.clear()
                response = login_client.post(
                    "/buzon/ingresar/", urlencode(form), content_type=FORM_ENCODED
                )
                if response.status_code != 302:
                    raise SystemExit(f"login failed during the benchmark: {response.status_code}")
            return PER_ROUND / (time.perf_counter() - start)

        def trivial_round() -> float:
            client = Client()
            start = time.perf_counter()
            for _ in range(PER_ROUND):
                client.get("/verificar/")
            return PER_ROUND / (time.perf_counter() - start)

        login_round()  # warm up caches, templates, connections
        raw_rates, login_rates, trivial_rates = [], [], []
        for _ in range(ROUNDS):
            raw_rates.append(raw_round())
            login_rates.append(login_round())
            trivial_rates.append(trivial_round())

    raw_rate = statistics.median(raw_rates)
    login_rate = statistics.median(login_rates)
    ratio = login_rate / raw_rate
    result: dict[str, object] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "login": {
            "what": "POST /buzon/ingresar/ through the full stack, one client at a time",
            "argon2": {
                "type": "argon2id",
                "memory_kib": hasher.memory_cost,
                "time_cost": hasher.time_cost,
                "parallelism": hasher.parallelism,
            },
            "rounds": ROUNDS,
            "per_round": PER_ROUND,
            "logins_per_second": round(login_rate, 2),
            "baseline_raw_argon2_verifications_per_second": round(raw_rate, 2),
            "ratio_to_baseline": round(ratio, 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": ratio >= TARGET_RATIO,
            "all_rounds": {
                "logins_per_second": [round(r, 2) for r in login_rates],
                "raw_verifications_per_second": [round(r, 2) for r in raw_rates],
            },
        },
        "trivial_view": {
            "what": "GET /verificar/ (no database work): the framework's own floor",
            "requests_per_second": round(statistics.median(trivial_rates), 1),
        },
    }
    # Issue 3: bulk deposits and the inbox at scale, each database in a process of its own.
    from bench import deposit, inbox

    result["deposit_many"] = deposit.run_all()
    result["inbox"] = inbox.run_all()
    # Issue 4: the evidence log at scale, and certificates.
    from bench import certificates, evidence

    result["evidence"] = evidence.run_all()
    result["certificates"] = certificates.run_all()
    # Issue 5: credential requests by email, and the Agencia Digital's identity check.
    from bench import intake

    result["intake"] = intake.run_all()
    # Issue 7: the batch deposit over HTTP (gunicorn started by the bench) vs deposit_many().
    from bench import api

    result["api_batch"] = api.run_all()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"logins/s {login_rate:.2f} vs raw Argon2id verifications/s {raw_rate:.2f}: "
        f"ratio {ratio:.3f} (target {TARGET_RATIO})"
    )
    for database, figures in result["deposit_many"].items():  # type: ignore[attr-defined]
        print(
            f"deposit_many on {database}: {figures['deposit_many_per_second']}/s vs raw floor "
            f"{figures['raw_floor_per_second']}/s: ratio {figures['ratio']} (target 0.5"
            f"{'' if figures['target_applies'] else ', binding PostgreSQL only'}); "
            f"best possible {figures['ceiling']['best_possible_ratio']}"
        )
    for database, figures in result["inbox"].items():  # type: ignore[attr-defined]
        print(
            f"inbox on {database}: p95 {figures['small']['p95_ms']} ms at 10k, "
            f"{figures['large']['p95_ms']} ms at 1M (ratio {figures['p95_ratio']}, target 2.0); "
            f"queries {figures['small']['queries']} and {figures['large']['queries']}"
        )
    for database, figures in result["evidence"].items():  # type: ignore[attr-defined]
        appends, check = figures["appends"], figures["verification"]
        print(
            f"evidence on {database}: {appends['entries_per_second_in_deposit_many']} entries/s "
            f"appended inside deposit_many; verify {check['entries']} entries in "
            f"{check['verify_seconds']} s vs SHA-256 alone {check['baseline_sha256_seconds']} s: "
            f"ratio {check['ratio']} (target 0.5); the least verification "
            f"{check['least_verification']['ratio']}"
        )
    for database, figures in result["certificates"].items():  # type: ignore[attr-defined]
        print(f"certificates on {database}: {figures}")
    for database, figures in result["intake"].items():  # type: ignore[attr-defined]
        smtp, check = figures["smtp_intake"], figures["agency_verify"]
        print(
            f"smtp_intake on {database}: {smtp['messages_per_second']} requests/s filed vs "
            f"SMTP floor {smtp['floor_messages_per_second']}/s: ratio {smtp['ratio']} "
            f"({smtp['rounds']} rounds of {smtp['per_round']})"
        )
        p99 = " / ".join(f"{name} {case['p99_ms']}" for name, case in check["cases"].items())
        print(
            f"agency_verify on {database}: p99 ms {p99} vs trivial query "
            f"{check['baseline_trivial_query']['p99_ms']}; padding {check['padding_ms']} ms "
            f"covers p99: {check['padding_covers_p99']}; "
            f"median spread {check['median_spread_ms']} ms"
        )
    for database, figures in result["api_batch"].items():  # type: ignore[attr-defined]
        print(
            f"api_batch on {database}: POST /api/v1/notifications/batch as "
            f"{figures['encoding']} {figures['http_per_second']}/s vs deposit_many "
            f"{figures['direct_per_second']}/s: ratio {figures['ratio']} (target "
            f"{figures['target_ratio']}, met: {figures['meets_target']}); as JSON "
            f"{figures['encodings']['json']['ratio']}; {figures['items_per_request']} items per "
            f"request, {figures['concurrency']} in flight, {figures['rounds']} rounds"
        )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
