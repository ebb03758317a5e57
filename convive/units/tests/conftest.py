"""Units on top of the root ``world`` (Kennedy and Suba, the police covering both)."""

import pytest
from django.utils import translation

KENNEDY_POINT = (-74.15, 4.60)  # lon, lat
SUBA_POINT = (-74.05, 4.70)


@pytest.fixture
def english():
    """Reasons and messages are compared with their English msgids."""
    with translation.override("en"):
        yield
