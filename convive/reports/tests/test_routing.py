"""Routing: which institution handles a new report, or why it waits in the fallback queue."""

import uuid

import pytest
from django.utils import translation

from convive.institutions.tests.factories import InstitutionFactory
from convive.reports.actions import ReportInput, check_create_report
from convive.reports.models import Report
from convive.reports.routing import BOUNDARY_METRES, route_report
from convive.reports.tests.factories import CategoryFactory, RoutingRuleFactory
from convive.territories.models import Layer
from convive.territories.queries import locate
from convive.territories.tests.factories import CityFactory, LayerFactory, TerritoryFactory

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

KENNEDY_POINT = (-74.15, 4.60)  # inside Kennedy and Timiza
KENNEDY_OUTSIDE_TIMIZA = (-74.12, 4.64)
SUBA_POINT = (-74.05, 4.70)
CORNER = (-74.10, 4.66)  # the only point Kennedy and Suba share
DEGREES_PER_METRE = 1 / 111_320


def submit(category_code, lon=None, lat=None, **overrides):
    data = ReportInput(
        category_code=category_code,
        idempotency_key=uuid.uuid4().hex,
        channel=Report.Channel.APP,
        lon=lon,
        lat=lat,
        **overrides,
    )
    report, _ = check_create_report(None, data)
    return report


def route(city, category, lon, lat):
    return route_report(city, category, locate(city, lon=lon, lat=lat), lon=lon, lat=lat)


@pytest.fixture
def vandalism(world, catalogue):
    """A category without rules, for tests that write their own."""
    return CategoryFactory(code="vandalismo", name_es="Vandalismo", name_en="Vandalism")


# --- Rules -----------------------------------------------------------------------------------


def test_a_territory_rule_beats_a_city_wide_one_whatever_their_priority(
    world, catalogue, vandalism
):
    RoutingRuleFactory(
        city=world.city, category=vandalism, institution=world.secretariat, priority=1
    )
    RoutingRuleFactory(
        city=world.city,
        category=vandalism,
        territory=world.kennedy,
        institution=catalogue.alcaldia,
        priority=500,
    )

    in_kennedy = submit("vandalismo", *KENNEDY_POINT)
    in_suba = submit("vandalismo", *SUBA_POINT)

    assert (in_kennedy.institution, in_kennedy.routing_note) == (
        catalogue.alcaldia,
        "Rule for Kennedy.",
    )
    assert (in_suba.institution, in_suba.routing_note) == (world.secretariat, "City-wide rule.")


def test_the_lower_priority_wins(world, catalogue, vandalism):
    for institution, priority in ((catalogue.alcaldia, 20), (world.police, 10)):
        RoutingRuleFactory(
            city=world.city,
            category=vandalism,
            territory=world.kennedy,
            institution=institution,
            priority=priority,
        )
    for institution, priority in ((world.partner, 7), (world.secretariat, 5)):
        RoutingRuleFactory(
            city=world.city, category=vandalism, institution=institution, priority=priority
        )

    assert route(world.city, vandalism, *KENNEDY_POINT).institution == world.police
    assert route(world.city, vandalism, *SUBA_POINT).institution == world.secretariat


def test_priority_wins_over_depth(world, catalogue, vandalism):
    RoutingRuleFactory(
        city=world.city,
        category=vandalism,
        territory=world.timiza,
        institution=catalogue.alcaldia,
        priority=50,
    )
    RoutingRuleFactory(
        city=world.city,
        category=vandalism,
        territory=world.kennedy,
        institution=world.police,
        priority=10,
    )
    assert route(world.city, vandalism, *KENNEDY_POINT).institution == world.police


def test_the_deeper_layer_wins_a_tie(world, catalogue, vandalism):
    RoutingRuleFactory(
        city=world.city, category=vandalism, territory=world.kennedy, institution=world.police
    )
    RoutingRuleFactory(
        city=world.city, category=vandalism, territory=world.timiza, institution=catalogue.alcaldia
    )

    in_timiza = route(world.city, vandalism, *KENNEDY_POINT)
    elsewhere_in_kennedy = route(world.city, vandalism, *KENNEDY_OUTSIDE_TIMIZA)

    assert (in_timiza.institution, in_timiza.note) == (catalogue.alcaldia, "Rule for Timiza.")
    assert elsewhere_in_kennedy.institution == world.police


def test_the_deepest_of_three_layers_wins_a_tie(world, catalogue, vandalism):
    upz_layer = LayerFactory(
        city=world.city,
        slug="upz",
        name="UPZ",
        kind=Layer.Kind.OTHER,
        parent_layer=world.localities,
    )
    block_layer = LayerFactory(
        city=world.city,
        slug="block",
        name="Manzanas",
        kind=Layer.Kind.OTHER,
        parent_layer=upz_layer,
    )
    upz = TerritoryFactory(
        layer=upz_layer, code="U1", parent=world.kennedy, bounds=(-74.20, 4.58, -74.14, 4.62)
    )
    block = TerritoryFactory(
        layer=block_layer, code="M1", parent=upz, bounds=(-74.16, 4.59, -74.14, 4.61)
    )
    # Created shallow first, so that rule order alone would pick the wrong one.
    for territory, institution in (
        (world.kennedy, world.secretariat),
        (upz, world.police),
        (block, catalogue.alcaldia),
    ):
        RoutingRuleFactory(
            city=world.city, category=vandalism, territory=territory, institution=institution
        )

    assert route(world.city, vandalism, *KENNEDY_POINT).institution == catalogue.alcaldia


def test_rules_of_inactive_institutions_are_skipped(world, catalogue, vandalism):
    closed = InstitutionFactory(
        city=world.city, slug="cerrada", name="Oficina cerrada", active=False
    )
    RoutingRuleFactory(
        city=world.city, category=vandalism, territory=world.kennedy, institution=closed, priority=1
    )
    RoutingRuleFactory(city=world.city, category=vandalism, institution=world.secretariat)

    assert route(world.city, vandalism, *KENNEDY_POINT).institution == world.secretariat


def test_rules_of_another_category_or_city_do_not_apply(world, catalogue, vandalism):
    other_city = CityFactory(slug="otra")
    RoutingRuleFactory(city=other_city, category=vandalism, institution=world.police)
    RoutingRuleFactory(city=world.city, category=catalogue.robo, institution=world.partner)

    assert route(world.city, vandalism, *KENNEDY_POINT).institution is None


# --- The fallback queue ----------------------------------------------------------------------


def test_no_rule_sends_the_report_to_the_fallback_queue_naming_category_and_locality(
    world, catalogue
):
    report = submit("ruido", *SUBA_POINT, answers={"horario": "noche"})
    assert report.institution is None
    assert report.routing_note == "No routing rule for “Noise” in Suba."


def test_the_note_is_kept_in_the_site_language_whatever_the_reporter_reads(
    world, catalogue, settings
):
    settings.LANGUAGE_CODE = "es"  # a Spanish site; the citizen reads it in English
    with translation.override("en"):
        report = submit("ruido", *SUBA_POINT, answers={"horario": "noche"})
    assert report.routing_note == "No hay regla de asignación para “Ruido” en Suba."


def test_an_address_only_report_follows_a_city_wide_rule(world, catalogue):
    report = submit("alumbrado", address="Frente al colegio de Timiza")
    assert (report.institution, report.routing_note) == (world.secretariat, "City-wide rule.")


def test_an_address_only_report_without_a_city_wide_rule_waits(world, catalogue):
    report = submit("ruido", address="Frente al colegio de Timiza", answers={"horario": "dia"})
    assert report.institution is None
    assert report.routing_note == "No place was given and no city-wide rule covers this category."


def test_a_point_in_the_city_but_in_no_locality_waits(world, catalogue):
    quadrants = LayerFactory(city=world.city, slug="cuadrante", kind=Layer.Kind.QUADRANT)
    TerritoryFactory(layer=quadrants, code="Q9", bounds=(-74.30, 4.50, -74.25, 4.55))
    report = submit("alumbrado", -74.27, 4.52)
    assert (report.city, report.locality, report.institution) == (world.city, None, None)
    assert report.routing_note == "The place is outside every locality of the city."


def near(point, east_metres, north_metres):
    lon, lat = point
    return (lon + east_metres * DEGREES_PER_METRE, lat + north_metres * DEGREES_PER_METRE)


@pytest.mark.parametrize(
    ("east", "north"),
    [(0, 0), (-5, -5), (5, 5), (5, -5), (-5, 5), (-9, 0), (0, 9)],
    ids=["corner", "in-kennedy", "in-suba", "gap-south-east", "gap-north-west", "west", "north"],
)
def test_a_point_within_10_m_of_the_corner_goes_where_both_sides_would_send_it(
    world, catalogue, east, north
):
    report = submit("alumbrado", *near(CORNER, east, north))  # alumbrado has a city-wide rule
    assert report.institution == world.secretariat
    assert report.routing_note == (
        "On the boundary between Kennedy / Suba, both handled by Secretaría de Seguridad."
    )


@pytest.mark.parametrize(
    ("east", "north"),
    [(0, 0), (-5, -5), (5, 5), (-9, 0), (0, 9)],
    ids=["corner", "in-kennedy", "in-suba", "west", "north"],
)
def test_a_point_within_10_m_of_the_corner_waits_when_the_sides_disagree(
    world, catalogue, east, north
):
    # ruido goes to the Alcaldía Local in Kennedy and to nobody in Suba: a person decides.
    report = submit("ruido", *near(CORNER, east, north), answers={"horario": "noche"})
    assert report.institution is None
    assert report.routing_note == "On the boundary between Kennedy / Suba: choose who handles it."


@pytest.mark.parametrize(
    ("point", "institution"),
    [
        (near(CORNER, -30, -30), "secretariat"),
        (near(CORNER, 30, 30), "secretariat"),
        ((-74.10, 4.60), "secretariat"),  # on Kennedy's east edge, where it has no neighbour
    ],
    ids=["kennedy-30m", "suba-30m", "outer-edge"],
)
def test_a_point_farther_from_any_neighbour_is_routed(world, catalogue, point, institution):
    assert BOUNDARY_METRES < 30
    report = submit("alumbrado", *point)
    assert report.institution == getattr(world, institution)


@pytest.fixture
def edge_pair(db):
    """A second city whose two localities share a whole edge (lon -75.1), each with a rule."""
    city = CityFactory(slug="bordeville", name="Bordeville")
    localities = LayerFactory(city=city, slug="locality", kind=Layer.Kind.LOCALITY)
    west = TerritoryFactory(
        layer=localities, code="01", name="Oeste", bounds=(-75.2, 5.0, -75.1, 5.1)
    )
    east = TerritoryFactory(
        layer=localities, code="02", name="Este", bounds=(-75.1, 5.0, -75.0, 5.1)
    )
    category = CategoryFactory(code="basuras", name_es="Basuras", name_en="Rubbish")
    for territory in (west, east):
        RoutingRuleFactory(
            city=city,
            category=category,
            territory=territory,
            institution=InstitutionFactory(city=city, name=f"Alcaldía {territory.name}"),
        )
    return city, category


@pytest.mark.parametrize(
    ("east_metres", "boundary"),
    [(-8, True), (-0.5, True), (0, True), (0.5, True), (8, True), (-30, False), (30, False)],
)
def test_a_shared_edge_is_a_boundary_for_10_m_on_each_side(edge_pair, east_metres, boundary):
    city, category = edge_pair
    lon, lat = near((-75.1, 5.05), east_metres, 0)
    found = route(city, category, lon, lat)
    if boundary:
        assert found.institution is None
        assert found.note == "On the boundary between Oeste / Este: choose who handles it."
    else:
        expected = "Alcaldía Oeste" if east_metres < 0 else "Alcaldía Este"
        assert found.institution.name == expected


def test_a_city_without_localities_routes_by_its_other_layers_rules(db):
    city = CityFactory(slug="cuadrantes", name="Solo cuadrantes")
    quadrants = LayerFactory(city=city, slug="cuadrante", kind=Layer.Kind.QUADRANT)
    TerritoryFactory(layer=quadrants, code="Q1", bounds=(-76.2, 3.4, -76.1, 3.5))
    category = CategoryFactory(code="basuras", name_es="Basuras")
    RoutingRuleFactory(city=city, category=category, institution=InstitutionFactory(city=city))
    found = route(city, category, -76.15, 3.45)
    assert (found.institution, found.note) == (
        None,
        "The place is outside every locality of the city.",
    )
