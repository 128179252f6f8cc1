import uuid

import pytest


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Counters start at zero in every test, whichever cache holds them."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
