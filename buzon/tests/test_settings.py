import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from buzon.env import env_bool, env_choice, env_int, env_list, env_secret

ROOT = Path(settings.BASE_DIR)


def test_typed_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    with pytest.raises(ImproperlyConfigured, match="'true' or 'false'"):
        env_bool("X_BOOL", default=False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="must be an integer"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_INT", 1, minimum=1)
    monkeypatch.setenv("X_CHOICE", "staging")
    with pytest.raises(ImproperlyConfigured, match="must be one of"):
        env_choice("X_CHOICE", "test", ("test", "production"))
    monkeypatch.setenv("X_LIST", " a.example, ,b.example ")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.delenv("X_BOOL")
    assert env_bool("X_BOOL", default=True) is True


def test_secrets_come_from_env_file_or_first_run(monkeypatch, tmp_path):
    monkeypatch.delenv("X_SECRET", raising=False)
    generated = env_secret("X_SECRET", dev_dir=tmp_path, generate=True)
    assert len(generated) >= 40
    assert env_secret("X_SECRET", dev_dir=tmp_path, generate=True) == generated  # reused
    assert stat.S_IMODE((tmp_path / "x_secret").stat().st_mode) == 0o600
    secret_file = tmp_path / "from-file"
    secret_file.write_text("s3cret-from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env_secret("X_SECRET", dev_dir=None, generate=False) == "s3cret-from-file"
    monkeypatch.setenv("X_SECRET", "s3cret-from-env")
    assert env_secret("X_SECRET", dev_dir=None, generate=False) == "s3cret-from-env"
    monkeypatch.delenv("X_SECRET")
    monkeypatch.delenv("X_SECRET_FILE")
    with pytest.raises(ImproperlyConfigured, match="required in production"):
        env_secret("X_SECRET", dev_dir=tmp_path, generate=False)


SECURITY_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS, s.DEBUG, s.PUBLIC_BASE_URL)"
)


def boot(env: dict[str, str], probe: str = SECURITY_SETTINGS) -> subprocess.CompletedProcess[str]:
    """Import the real settings in a clean process, as a deployment would."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BUZON_", "DJANGO_")) and k not in ("REDIS_URL", "DATABASE_URL")
    }
    clean.update(env)
    code = "import django; django.setup(); " + probe
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "buzon.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {
    "BUZON_ENV": "production",
    "BUZON_SMS_BACKEND": "alerts.sms.HttpSmsBackend",
    "BUZON_SMS_URL": "https://sms.example.pe/send",
    "BUZON_SMS_TOKEN": "t" * 20,
    "DJANGO_SECRET_KEY": "x" * 50,
    "BUZON_FILE_ENCRYPTION_KEY": "y" * 50,
    "DJANGO_ALLOWED_HOSTS": "buzon.example.gob.pe",
    "BUZON_PUBLIC_BASE_URL": "https://buzon.example.gob.pe/",
}


def test_production_runs_with_its_settings_and_secure_cookies(tmp_path):
    result = boot({**PRODUCTION, "BUZON_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "False",
        "https://buzon.example.gob.pe",
    ]
    assert not (tmp_path / "secrets").exists()  # nothing generated in production


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required"),
        ("BUZON_FILE_ENCRYPTION_KEY", "BUZON_FILE_ENCRYPTION_KEY (or"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS is required in production"),
        ("BUZON_PUBLIC_BASE_URL", "BUZON_PUBLIC_BASE_URL is required in production"),
    ],
)
def test_production_refuses_to_start_without(tmp_path, missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = boot({**env, "BUZON_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert message in result.stderr


def test_an_s3_bucket_switches_attachment_storage(tmp_path):
    result = boot(
        {
            "BUZON_ENV": "development",
            "BUZON_VAR_DIR": str(tmp_path),
            "BUZON_S3_BUCKET": "buzon-adjuntos",
            "BUZON_S3_ENDPOINT_URL": "https://s3.example.pe",
        },
        "from django.core.files.storage import storages; d = storages['default']; "
        "print(type(d).__name__, d.bucket_name, d.endpoint_url, d.default_acl)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "buzon-adjuntos",
        "https://s3.example.pe",
        "private",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BUZON_SMS_BACKEND": "alerts.sms.LoggingSmsBackend"}, "must be a real provider"),
        ({"BUZON_SMS_TOKEN": ""}, "needs BUZON_SMS_URL and BUZON_SMS_TOKEN"),
        ({"BUZON_NOTIFICATION_POLICY": "on_opening"}, "BUZON_NOTIFICATION_POLICY must be"),
    ],
)
def test_production_refuses_alert_and_policy_mistakes(tmp_path, env, message):
    result = boot({**PRODUCTION, **env, "BUZON_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_debug(tmp_path):
    result = boot({**PRODUCTION, "DJANGO_DEBUG": "true", "BUZON_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_DEBUG=true is not allowed" in result.stderr


def test_each_parallel_test_worker_gets_a_redis_database_of_its_own():
    from buzon.testing import worker_redis_url

    url = "redis://127.0.0.1:6379/15"
    assert worker_redis_url(url, "gw0") == url
    assert worker_redis_url(url, "gw1") == "redis://127.0.0.1:6379/14"
    assert worker_redis_url("redis://:pw@cache:6380/3?x=1", "gw2") == "redis://:pw@cache:6380/1?x=1"
    # Tests empty their database: none may count down to 0, where a developer's data usually is.
    with pytest.raises(SystemExit, match="too low for test worker gw1"):
        worker_redis_url("redis://127.0.0.1:6379/1", "gw1")
    with pytest.raises(SystemExit, match="too low for test worker gw0"):
        worker_redis_url("redis://127.0.0.1:6379", "gw0")
    # A database given another way would put every worker in the same one: refused.
    with pytest.raises(SystemExit, match="as the path"):
        worker_redis_url("redis://127.0.0.1:6379?db=15", "gw1")
    with pytest.raises(SystemExit, match="as the path"):
        worker_redis_url("unix:///run/redis.sock?db=15", "gw0")
