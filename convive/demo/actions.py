"""Loading the demo city: territories through the importer, then institutions, people, services.

``check_load_demo`` refuses a database that already holds a city (the demo or a real one): demo
accounts share a published password and must never sit beside real data. The caller holds the
transaction (``transaction.atomic(durable=True)``), so a failure leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.accounts.roles import Role
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.tags import AuditTag
from convive.demo.facilities import COMMAND_CENTRE, InstitutionPlan
from convive.demo.generate import (
    CITY_NAME,
    CITY_SLUG,
    CODE_FIELD,
    COUNTRY_CODE,
    LAYERS,
    LOCALITY,
    NAME_FIELD,
    PARENT_FIELD,
    POPULATION_FIELD,
    POPULATION_SOURCE,
    POPULATION_YEAR,
    QUADRANT,
    DemoCity,
    LayerSpec,
    generate_city,
)
from convive.demo.incidents import do_load_demo_incidents
from convive.demo.people import DEMO_PASSWORD, PEOPLE, DemoPerson
from convive.demo.queries import DatabaseState, database_state
from convive.demo.reports import do_create_demo_routing_rules, do_load_demo_reports
from convive.demo.totp import demo_totp_key
from convive.incidents.actions import (
    check_create_incident_from_report,
    check_install_incident_types,
)
from convive.incidents.models import Incident, IncidentEvent
from convive.institutions.models import Institution, Membership
from convive.justice.actions import do_create_justice_service
from convive.justice.models import JusticeService
from convive.reports.catalogue import do_install_catalogue
from convive.reports.models import Report
from convive.territories.actions import ImportOptions, check_import_territories
from convive.territories.models import City, Territory
from convive.units.demo import demo_units
from convive.units.models import Unit

if TYPE_CHECKING:
    from collections.abc import Mapping

DEVICE_NAME = "Autenticador de demostración"  # stored data: Spanish, as the demo city is


@dataclass(frozen=True)
class DemoLoad:
    city: City
    seed: int
    territories: dict[str, int]  # layer slug -> territories imported
    institutions: int
    people: int
    services: int
    routing_rules: int = 0
    reports: int = 0
    incident_types: int = 0
    units: int = 0
    incidents: int = 0


def check_load_demo(actor: User | None, *, seed: int) -> DemoLoad:
    """Load the demo city of ``seed`` into an empty database; ActionError otherwise."""
    state = database_state()
    if state is DatabaseState.DEMO_LOADED:
        raise ActionError(
            _("The demo city is already loaded. To load it again, start from an empty database."),
            status=409,
        )
    if state is DatabaseState.NOT_EMPTY:
        raise ActionError(
            _(
                "This database already holds cities. The demo loads only into an empty database, "
                "because its accounts share a published password."
            ),
            status=409,
        )
    taken = sorted(
        User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise ActionError(
            _("These usernames are taken, so the demo cannot create them: %(names)s.")
            % {"names": ", ".join(taken)},
            status=409,
        )
    return do_load_demo(actor, seed=seed)


def _import_options(spec: LayerSpec, seed: int) -> ImportOptions:
    populated = spec is not QUADRANT
    return ImportOptions(
        city_slug=CITY_SLUG,
        layer_slug=spec.slug,
        code_field=CODE_FIELD,
        name_field=NAME_FIELD,
        population_field=POPULATION_FIELD if populated else None,
        parent_layer=spec.parent_slug,
        parent_field=PARENT_FIELD if spec.parent_slug else None,
        layer_name=spec.name,
        layer_kind=spec.kind,
        population_source=POPULATION_SOURCE if populated else "",
        population_year=POPULATION_YEAR if populated else None,
        source=f"Convive demo generator, seed {seed}",
    )


def _import_layers(actor: User | None, demo: DemoCity) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in LAYERS:  # parents first: localities, then neighbourhoods
        options = _import_options(spec, demo.seed)
        result = check_import_territories(actor, demo.collection(spec.slug), options)
        counts[spec.slug] = result.total
    return counts


def _create_institutions(
    city: City, plans: tuple[InstitutionPlan, ...], localities: Mapping[str, Territory]
) -> dict[str, Institution]:
    """Institutions in plan order (a parent always comes before its units)."""
    created: dict[str, Institution] = {}
    for plan in plans:
        institution = Institution.objects.create(
            city=city,
            slug=plan.slug,
            name=plan.name,
            kind=Institution.Kind(plan.kind),
            parent=created[plan.parent_slug] if plan.parent_slug else None,
            covers_whole_city=plan.covers_whole_city,
            email=plan.email,
            phone=plan.phone,
        )
        institution.coverage.set([localities[code] for code in plan.coverage])
        created[plan.slug] = institution
    return created


def _crew_patrol_cars(users: list[User], institutions: Mapping[str, Institution]) -> None:
    """Each field-unit account crews the first patrol car of its police station."""
    for person, user in zip(PEOPLE, users, strict=True):
        if person.role is not Role.FIELD_UNIT or not person.institution:
            continue
        cars = Unit.objects.filter(
            institution=institutions[person.institution], kind=Unit.Kind.PATROL_CAR
        )
        car = cars.order_by("call_sign").first()
        if car is not None:
            car.crew.add(user)


def _create_person(
    person: DemoPerson,
    *,
    seed: int,
    institutions: Mapping[str, Institution],
    localities: Mapping[str, Territory],
) -> User:
    user = User(
        username=person.username,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        is_demo=True,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    if person.role is Role.CITIZEN:
        return user
    institution = institutions[person.institution] if person.institution else None
    membership = Membership.objects.create(user=user, institution=institution, role=person.role)
    membership.territories.set([localities[code] for code in person.limited_to])
    key = demo_totp_key(seed, person.username)
    TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key, confirmed=True)
    return user


def _create_services(
    city: City,
    demo: DemoCity,
    institutions: Mapping[str, Institution],
    localities: Mapping[str, Territory],
) -> int:
    for facility in demo.facilities:
        do_create_justice_service(
            city=city,
            kind=JusticeService.Kind(facility.kind),
            name=facility.name,
            lon=facility.lon,
            lat=facility.lat,
            territory=localities[facility.locality_code],
            institution=institutions[facility.institution_slug],
            address=facility.address,
            phone=facility.phone,
            opening_hours=facility.opening_hours,
        )
    return len(demo.facilities)


def do_load_demo(actor: User | None, *, seed: int) -> DemoLoad:
    """Generate the city of ``seed`` and write all of it. Trusts ``check_load_demo``'s checks."""
    demo = generate_city(seed)
    city = City.objects.create(
        slug=CITY_SLUG, name=CITY_NAME, country_code=COUNTRY_CODE, is_demo=True
    )
    territories = _import_layers(actor, demo)
    localities = {t.code: t for t in Territory.objects.filter(city=city, layer__slug=LOCALITY.slug)}
    institutions = _create_institutions(city, demo.institutions, localities)
    users = [
        _create_person(person, seed=seed, institutions=institutions, localities=localities)
        for person in PEOPLE
    ]
    services = _create_services(city, demo, institutions, localities)
    do_install_catalogue(actor)
    rules = do_create_demo_routing_rules(city, institutions, localities)
    reports = do_load_demo_reports(
        city, seed=seed, demo=demo, institutions=institutions, now=timezone.now()
    )
    incident_types = check_install_incident_types(actor).created
    # As the intake does for a real SOS: the demo's SOS is an incident on the console, opened
    # when the SOS arrived (the demo's reports are dated back).
    for report in Report.objects.filter(city=city, is_urgent=True).order_by("pk"):
        incident, _created = check_create_incident_from_report(None, report)
        at = report.created_at
        Incident.objects.filter(pk=incident.pk).update(
            created_at=at, updated_at=at, first_created_at=at
        )
        incident.events.filter(kind=IncidentEvent.Kind.CREATED).update(at=at)
    units = len(demo_units(city, institutions, seed))
    _crew_patrol_cars(users, institutions)
    by_name = {person.username: user for person, user in zip(PEOPLE, users, strict=True)}
    incidents = do_load_demo_incidents(
        city,
        seed=seed,
        call_taker=by_name["operadora"],
        dispatcher=by_name["despachador"],
        institution=institutions[COMMAND_CENTRE],
        now=timezone.now(),
    )
    load = DemoLoad(
        city,
        seed,
        territories,
        len(institutions),
        len(PEOPLE),
        services,
        rules,
        reports,
        incident_types,
        units,
        incidents,
    )
    record_audit_event(
        actor,
        AuditTag.DEMO_CITY_LOADED,
        subject=city,
        data={
            "seed": seed,
            "territories": territories,
            "institutions": load.institutions,
            "services": services,
            "routing_rules": rules,
            "reports": reports,
            "incident_types": incident_types,
            "units": units,
            "incidents": incidents,
            "accounts": {p.username: str(p.role) for p in PEOPLE},
        },
    )
    return load
