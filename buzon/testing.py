"""pytest plugin loaded with `-p buzon.testing`, before pytest-django reads the settings.

It pins the environment that the test settings depend on, so a bare `pytest` behaves like
`make test`. `make test` runs the suite in parallel (pytest-xdist, one worker per CPU): each
worker has its own test database (pytest-django names them after the worker), and here its
own Redis database, so that emptying the queue or the cache in one worker's test never
touches another's.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ["BUZON_ENV"] = "test"
# Playwright's sync API runs an event loop in the test thread; the ORM calls our tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `worker` ("gw0", "gw1"...): the URL's database number minus
    the worker's number (gw0 keeps it). The tests empty their database (the queue, the
    cache), so no worker may land on database 0, where a developer's own data usually is:
    name a high one (.ci/run names 15)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or "db=" in parts.query:
        raise SystemExit(
            f"REDIS_URL {parts.scheme}://… for parallel tests: give the database as the path "
            "of a redis:// or rediss:// URL (redis://host:6379/15), or run one worker (-n 0)"
        )
    number = int(worker.removeprefix("gw"))
    base = int(parts.path.strip("/") or 0)
    if base - number < 1:
        raise SystemExit(
            f"REDIS_URL names database {base}: too low for test worker {worker}, as each "
            "worker needs a database of its own above 0; name a higher one (e.g. /15) or run "
            "fewer workers (TEST_WORKERS=…)"
        )
    return urlunsplit(parts._replace(path=f"/{base - number}"))


if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = worker_redis_url(
        os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"]
    )
