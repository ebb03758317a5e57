"""Open311 fixtures: the reports catalogue, a key for an application, fresh rate-limit counters."""

import pytest
from django.core.cache import cache
from django.db import transaction

from convive.open311.actions import check_create_api_key
from convive.reports.tests.conftest import KENNEDY_POINT, SUBA_POINT, catalogue  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Counters live in the cache, which outlives a test: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


class App:
    """An application with an Open311 key: ``app.key`` is the secret, ``app.api_key`` the row."""


@pytest.fixture
def app(db):
    a = App()
    with transaction.atomic():
        a.api_key, a.key = check_create_api_key(None, name="Mi Barrio App")
    return a


@pytest.fixture
def kennedy_point():
    return KENNEDY_POINT


@pytest.fixture
def suba_point():
    return SUBA_POINT
