import pytest
from django.utils import translation


@pytest.fixture
def english():
    """Messages in English, whatever the catalogues hold: tests read the msgids."""
    with translation.override("en"):
        yield
