"""The demo city, loaded once for the module into the test database and rolled back after it."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from chengguan.demo.geography import build_geography
from chengguan.demo.services import load_demo

SEED = 1


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # MD5 keeps the many sign-in checks fast; the demo itself uses whatever hasher is set.
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        report = load_demo(seed=SEED, cases_days=0, progress=False)
        yield report
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def ground():
    """The same seed's geography, built again without the database."""
    from django.conf import settings

    return build_geography(settings.SHARED_DATA_DIR, seed=SEED)
