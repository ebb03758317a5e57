"""``load_demo``: what it writes, and when it refuses."""

import pytest
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.accounts.roles import STAFF_ROLES, Role
from convive.core.audit import verify_audit_chain
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.demo.generate import DEFAULT_SEED, generate_city
from convive.demo.people import DEMO_PASSWORD
from convive.demo.tests.conftest import run
from convive.incidents.models import Incident, IncidentSource
from convive.incidents.queries import LEARN_MIN_TRIPS, learned_travel_speeds
from convive.institutions.models import Institution
from convive.institutions.queries import scope_for
from convive.justice.models import JusticeService
from convive.reports.models import Report
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate
from convive.territories.tests.factories import CityFactory
from convive.units.fleet import KIND_CODE
from convive.units.models import Unit

# The documented personas: username -> (role, institution slug, localities it is limited to).
PERSONAS = {
    "ciudadana": (Role.CITIZEN, None, []),
    "operadora": (Role.CALL_TAKER, "c4", []),
    "despachador": (Role.DISPATCHER, "c4", []),
    "supervisora": (Role.SUPERVISOR, "estacion-policia-01", ["01"]),
    "patrulla": (Role.FIELD_UNIT, "estacion-policia-01", []),
    "analista": (Role.ANALYST, "secretaria-seguridad", []),
    "admin_policia": (Role.INSTITUTION_ADMIN, "policia-metropolitana", []),
    "socio_camaras": (Role.CAMERA_PARTNER, "banco-andino", []),
    "admin": (Role.PLATFORM_ADMIN, None, []),
}


def test_imports_the_generated_layers(demo):
    generated = generate_city(DEFAULT_SEED)
    assert demo.is_demo
    assert demo.country_code == "CO"
    for slug, areas in generated.layers.items():
        layer = Layer.objects.get(city=demo, slug=slug)
        stored = {t.code: t for t in layer.territories.select_related("parent")}
        assert set(stored) == {area.code for area in areas}
        for area in areas:
            assert stored[area.code].name == area.name
            assert stored[area.code].population == area.population
            parent = stored[area.code].parent
            assert (parent.code if parent else None) == area.parent_code
    kinds = dict(Layer.objects.filter(city=demo).values_list("slug", "kind"))
    assert kinds == {
        "locality": "locality",
        "neighbourhood": "neighbourhood",
        "quadrant": "quadrant",
    }


def test_locality_population_is_the_sum_of_its_neighbourhoods(demo):
    for locality in Territory.objects.filter(city=demo, layer__slug="locality"):
        children = locality.children.all()
        assert locality.population == sum(child.population for child in children)
        assert locality.population_source == "Generated demo data"
        assert locality.population_year == 2024


@pytest.mark.parametrize("username", PERSONAS)
def test_each_persona_has_its_role_and_membership(demo, username):
    role, institution_slug, limited_to = PERSONAS[username]
    user = User.objects.get(username=username)
    assert user.is_demo
    assert user.check_password(DEMO_PASSWORD)
    assert user.roles() == {role}
    if role is Role.CITIZEN:
        assert not user.memberships.exists()
        return
    membership = user.memberships.get()
    assert (membership.institution.slug if membership.institution else None) == institution_slug
    assert sorted(t.code for t in membership.territories.all()) == limited_to


def test_every_role_has_a_demo_account_and_staff_have_a_second_factor(demo):
    users = list(User.objects.filter(is_demo=True))
    assert set().union(*(user.roles() for user in users)) == set(Role)
    for user in users:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        assert devices.count() == (1 if user.roles() & STAFF_ROLES else 0), user.username


def test_supervisor_sees_one_locality(demo):
    supervisor = User.objects.get(username="supervisora")
    scope = scope_for(supervisor)
    locality = Territory.objects.get(city=demo, layer__slug="locality", code="01")
    assert scope.top_ids == {locality.pk}
    assert scope.territory_ids == {locality.pk} | set(
        locality.children.values_list("pk", flat=True)
    )
    for service in JusticeService.objects.filter(
        city=demo, kind=JusticeService.Kind.POLICE_STATION
    ):
        inside = service.territory_id == locality.pk
        assert scope.covers_point(demo, service.lon, service.lat) is inside


def test_institutions_cover_what_they_should(demo):
    localities = Territory.objects.filter(city=demo, layer__slug="locality")
    stations = Institution.objects.filter(city=demo, parent__slug="policia-metropolitana")
    assert stations.count() == localities.count()
    for station in stations:
        assert station.coverage.count() == 1
    for slug in ("secretaria-seguridad", "c4", "policia-metropolitana"):
        assert Institution.objects.get(city=demo, slug=slug).covers_whole_city
    assert Institution.objects.filter(city=demo, kind=Institution.Kind.MAYORS_OFFICE).count() == (
        localities.count()
    )
    partners = Institution.objects.filter(city=demo, kind=Institution.Kind.CAMERA_PARTNER)
    assert {p.name for p in partners} == {"Banco Andino", "Centro Comercial El Mirador"}
    assert all(1 <= p.coverage.count() <= 2 for p in partners)


def test_every_justice_service_is_located_in_its_locality(demo):
    services = list(JusticeService.objects.filter(city=demo).select_related("territory"))
    assert len(services) == len(generate_city(DEFAULT_SEED).facilities)
    for service in services:
        found = {t.layer.slug: t for t in locate(demo, lon=service.lon, lat=service.lat)}
        assert found["locality"] == service.territory, service.name
        assert "neighbourhood" in found
        assert "quadrant" in found
        assert service.institution is not None
        assert service.institution.city_id == demo.pk


def test_the_demo_sos_is_an_open_p1_incident_on_the_console(demo):
    sos = Report.objects.get(city=demo, status=Report.Status.SOS)
    source = IncidentSource.objects.select_related("incident").get(report=sos)
    assert source.kind == IncidentSource.Kind.SOS
    assert (source.incident.priority, source.incident.status) == (1, Incident.Status.NEW)
    assert (source.incident.lon, source.incident.lat) == (sos.lon, sos.lat)
    # Opened when the SOS arrived, as the intake does, not when the demo was loaded.
    assert source.incident.created_at == sos.created_at
    assert source.incident.first_created_at == sos.created_at
    assert source.incident.events.get().at == sos.created_at


def test_records_one_demo_event_and_keeps_the_chain(demo):
    events = AuditEvent.objects.filter(tag=AuditTag.DEMO_CITY_LOADED)
    assert events.count() == 1
    assert events.get().subject_id == str(demo.pk)
    assert verify_audit_chain().ok


def test_if_empty_loads_into_an_empty_database_then_does_nothing(db):
    output = run("load_demo", "--if-empty")
    assert "Loaded the demo city Villa Esperanza" in output
    counts = (User.objects.count(), Territory.objects.count(), JusticeService.objects.count())
    assert "already loaded" in run("load_demo", "--if-empty")
    assert counts == (
        User.objects.count(),
        Territory.objects.count(),
        JusticeService.objects.count(),
    )


def test_a_second_load_without_if_empty_stops(demo):
    with pytest.raises(CommandError, match="already loaded"):
        run("load_demo")
    assert City.objects.count() == 1


def test_a_database_with_a_real_city_gets_no_demo(db):
    CityFactory(slug="bogota", name="Bogotá")
    assert "not empty" in run("load_demo", "--if-empty")
    with pytest.raises(CommandError, match="already holds cities"):
        run("load_demo")
    assert not User.objects.filter(is_demo=True).exists()


def test_taken_usernames_stop_the_load_before_anything_is_written(db):
    User.objects.create_user("admin", password="an-existing-admin-password")
    with pytest.raises(CommandError, match="admin"):
        run("load_demo", "--if-empty")
    assert not City.objects.exists()


def test_the_seed_changes_the_city_but_not_the_accounts(db):
    run("load_demo", "--seed", "7")
    expected = generate_city(7)
    localities = Territory.objects.filter(layer__slug="locality").order_by("code")
    assert [t.name for t in localities] == [area.name for area in expected.localities]
    assert User.objects.filter(username__in=PERSONAS, is_demo=True).count() == len(PERSONAS)


def test_the_demo_has_enough_past_trips_to_learn_patrol_car_speeds(demo):
    speeds = learned_travel_speeds(demo, fresh=True)
    code = KIND_CODE[Unit.Kind.PATROL_CAR]
    assert speeds.trips[code] >= LEARN_MIN_TRIPS
    assert 3.0 <= speeds.mps[code] <= 6.0
