"""A few incident types on top of the root ``world`` (Testópolis: Kennedy with Timiza, Suba)."""

import pytest

from convive.incidents.models import Priority
from convive.incidents.tests.factories import IncidentFactory, IncidentTypeFactory


class Types:
    """The incident types, by name."""


@pytest.fixture
def types(world):
    t = Types()
    t.rina = IncidentTypeFactory(
        code="rina",
        name_es="Riña",
        name_en="Fight",
        default_priority=Priority.P2,
        protocol=[
            {"code": "armas", "question_es": "¿Hay armas?", "question_en": "Weapons?"},
            {"code": "heridos", "question_es": "¿Hay heridos?", "question_en": "Injured?"},
        ],
        iccs_code="02011",
    )
    t.robo = IncidentTypeFactory(code="robo-violencia", name_es="Robo", name_en="Robbery")
    t.sos = IncidentTypeFactory(code="sos", name_es="SOS", name_en="SOS", default_priority=1)
    return t


@pytest.fixture
def incident(world, types):
    """An open fight in Kennedy (Timiza), handled by the police."""
    return IncidentFactory(
        city=world.city,
        type=types.rina,
        institution=world.police,
        locality=world.kennedy,
        neighbourhood=world.timiza,
    )
