import os

import pytest
from django.conf import settings

# Playwright's sync API keeps an event loop running in the process once the browser tests have
# started; Django's guard against database calls from async code would then refuse the ordinary,
# synchronous tests that run after them in the same process. Nothing here is async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE']}, tests on {db['TEST']['NAME']}"


@pytest.fixture(autouse=True, scope="session")
def _require_the_database_asked_for():
    # CI's PostgreSQL leg must really run on PostgreSQL, never fall back to SQLite quietly.
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the default working calendar once; each test's transaction rolls back to it."""
    from chengguan.worktime.services import default_calendar

    with django_db_blocker.unblock():
        default_calendar()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test starts with empty rate-limit counters (the shared file cache outlives a test).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "tests"}}
    from django.core.cache import cache

    cache.clear()  # one LocMem store per process: empty it, or counters carry over between tests


@pytest.fixture(autouse=True)
def _fresh_locators():
    # Rolled-back tests reuse primary keys; a locator cached for an old city must not answer.
    from chengguan.geo.services import clear_locators
    from chengguan.ttl import forget_all

    clear_locators()
    forget_all()
    yield


@pytest.fixture(autouse=True)
def _rate_limit_window_stays_put(monkeypatch):
    """Rate limits count per minute of the clock: a test that crossed into the next minute would
    find its count started afresh halfway. In-process tests keep the minute they started in."""
    import time
    import types

    from chengguan import ratelimit

    started = time.time()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: started))
