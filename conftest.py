import os

import pytest
from django.conf import settings


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']} {settings.DATABASES['default']['NAME']}"


@pytest.fixture(autouse=True, scope="session")
def _require_the_database_asked_for():
    # CI's PostgreSQL leg must really run on PostgreSQL, never fall back to SQLite quietly.
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
