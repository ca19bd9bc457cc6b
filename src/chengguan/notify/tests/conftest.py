import pytest
from django.core.cache import cache

from chengguan.cases.tests.conftest import World


@pytest.fixture
def world(db):
    return World()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()
