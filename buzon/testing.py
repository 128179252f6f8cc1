"""pytest plugin loaded with `-p buzon.testing`, before pytest-django reads the settings.

It pins the environment that the test settings depend on, so a bare `pytest` behaves like
`make test`.
"""

import os

os.environ["BUZON_ENV"] = "test"
# Playwright's sync API runs an event loop in the test thread; the ORM calls our tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
