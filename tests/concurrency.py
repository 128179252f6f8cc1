"""One call made from several threads at the same moment: concurrent requests, or two workers
taking the same job. Each thread has its own database connection, as each request or worker
would, and closes it when done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(
    call: Callable[..., T], times: int, *, before: Callable[[], Any] | None = None
) -> list[T]:
    """Run `call` in `times` threads released together; returns what each returned, in the
    order they finished, or raises what the first failing one raised. `before` runs in each
    thread ahead of the release (say, reading a row each request would have read), and what it
    returns is passed to `call`."""
    barrier = threading.Barrier(times)
    results: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            if before is None:
                barrier.wait()
                results.append(call())
            else:
                prepared = before()
                barrier.wait()
                results.append(call(prepared))
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
