import io

import pytest
from django.core.management import call_command
from django.utils import translation

from convive.demo.generate import CITY_SLUG
from convive.territories.models import City


@pytest.fixture(autouse=True)
def english():
    """Command output is compared with the English msgids."""
    with translation.override("en"):
        yield


def run(command: str, *args: str) -> str:
    """Run a management command; its standard output."""
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db) -> City:
    """The demo city of the default seed, loaded as ``make run`` loads it."""
    run("load_demo")
    return City.objects.get(slug=CITY_SLUG)
