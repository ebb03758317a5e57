"""A small catalogue on top of the root ``world``: what the reports tests share.

- ``robo`` (security, ICCS 0401, not public) → the police, city-wide;
- ``ruido`` (coexistence, public) with a required question ``horario`` → the Alcaldía Local de
  Kennedy inside Kennedy, nobody elsewhere (so a noise report in Suba lands in the fallback queue);
- ``alumbrado`` (coexistence, public) → the secretariat, city-wide;
- ``sos`` (urgent) → the secretariat, city-wide.
"""

import pytest

from convive.institutions.models import Institution
from convive.institutions.tests.factories import InstitutionFactory
from convive.reports.models import Category, Question
from convive.reports.tests.factories import CategoryFactory, QuestionFactory, RoutingRuleFactory

KENNEDY_POINT = (-74.15, 4.60)  # lon, lat: inside Kennedy and its neighbourhood Timiza
SUBA_POINT = (-74.05, 4.70)


class Catalogue:
    """The categories and the extra institution, by name."""


@pytest.fixture
def catalogue(world):
    c = Catalogue()
    c.alcaldia = InstitutionFactory(
        city=world.city,
        slug="alcaldia-kennedy",
        name="Alcaldía Local de Kennedy",
        kind=Institution.Kind.MAYORS_OFFICE,
    )
    c.alcaldia.coverage.set([world.kennedy])
    c.robo = CategoryFactory(
        code="robo",
        kind=Category.Kind.SECURITY,
        name_es="Robo",
        name_en="Robbery",
        iccs_code="0401",
        publication=Category.Publication.NONE,
        notice_es="Si alguien está en peligro ahora, llame al 123.",
        notice_en="If someone is in danger now, call 123.",
    )
    c.ruido = CategoryFactory(code="ruido", name_es="Ruido", name_en="Noise")
    c.horario = QuestionFactory(
        category=c.ruido,
        code="horario",
        datatype=Question.Datatype.SINGLE,
        label_es="¿A qué hora?",
        label_en="At what time?",
        required=True,
        values=[
            {"key": "dia", "name_es": "De día", "name_en": "By day"},
            {"key": "noche", "name_es": "De noche", "name_en": "At night"},
        ],
    )
    c.alumbrado = CategoryFactory(
        code="alumbrado", name_es="Alumbrado dañado", name_en="Broken light"
    )
    c.sos = CategoryFactory(
        code="sos",
        kind=Category.Kind.SECURITY,
        name_es="Emergencia",
        name_en="Emergency",
        urgent=True,
        publication=Category.Publication.NONE,
        notice_es="Si alguien está en peligro ahora, llame al 123.",
    )
    RoutingRuleFactory(city=world.city, category=c.robo, institution=world.police)
    RoutingRuleFactory(
        city=world.city, category=c.ruido, territory=world.kennedy, institution=c.alcaldia
    )
    RoutingRuleFactory(city=world.city, category=c.alumbrado, institution=world.secretariat)
    RoutingRuleFactory(city=world.city, category=c.sos, institution=world.secretariat)
    return c


@pytest.fixture
def english(settings):
    """For tests that compare messages with their English msgids (the site default is Spanish).

    Routing notes are written in the site's language, so that changes too.
    """
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
