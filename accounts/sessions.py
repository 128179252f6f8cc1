"""Database sessions without a redundant round trip on every login.

Django's store checks that a fresh random key is unused (a SELECT) and then inserts it with
must_create=True, which already turns a duplicate into a retry. With 32 characters from a
36-symbol alphabet (about 165 bits) the SELECT never finds anything, so it is skipped.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # create() saves with must_create=True and retries on a (practically impossible) clash.
        return get_random_string(32, VALID_KEY_CHARS)
