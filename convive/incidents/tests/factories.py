from datetime import timedelta

import factory
from django.db import transaction
from django.utils import timezone

from convive.core.geo import h3_cell
from convive.incidents.actions import check_dispatch_unit, do_stamp_first_time
from convive.incidents.models import Incident, IncidentEvent, IncidentSource, IncidentType, Priority
from convive.territories.tests.factories import CityFactory


class IncidentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"type-{n}")
    name_es = factory.Sequence(lambda n: f"Tipo {n}")
    name_en = factory.Sequence(lambda n: f"Type {n}")
    default_priority = Priority.P3
    protocol = factory.LazyFunction(
        lambda: [{"code": "armas", "question_es": "¿Hay armas?", "question_en": "Weapons?"}]
    )
    required_capabilities = factory.LazyFunction(lambda: ["patrol"])


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident written straight to the table; use the actions to test intake."""

    class Meta:
        model = Incident

    city = factory.SubFactory(CityFactory)
    type = factory.SubFactory(IncidentTypeFactory)
    priority = factory.SelfAttribute("type.default_priority")
    lon = -74.15
    lat = 4.60
    h3_cell = factory.LazyAttribute(lambda o: h3_cell(o.lon, o.lat) if o.lon is not None else "")
    address = "Calle 38 sur # 78-20"
    summary = "Dos personas pelean en la calle."
    created_at = factory.LazyFunction(timezone.now)


class IncidentSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentSource

    incident = factory.SubFactory(IncidentFactory)
    kind = IncidentSource.Kind.CALL


class IncidentEventFactory(factory.django.DjangoModelFactory):
    """A timeline event written straight to the table; the incident's first time of that kind
    (``Incident.first_*_at``) is kept as ``_event`` keeps it in the actions."""

    class Meta:
        model = IncidentEvent
        skip_postgeneration_save = True

    incident = factory.SubFactory(IncidentFactory)
    kind = IncidentEvent.Kind.NOTE

    @factory.post_generation
    def first_time(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            do_stamp_first_time(self.incident, kind=self.kind, at=self.at)


KENNEDY_POINT = (-74.15, 4.60)  # lon, lat: inside Kennedy and its neighbourhood Timiza
SUBA_POINT = (-74.05, 4.70)
OUTSIDE_POINT = (-75.50, 6.25)  # another city altogether


def call_times(answered_after: int = 8):
    """A call received 40 s ago and answered ``answered_after`` seconds later."""
    received = timezone.now() - timedelta(seconds=40)
    return received, received + timedelta(seconds=answered_after)


def dispatch(actor, incident, unit, **overrides):
    """Send ``unit`` to ``incident`` through the action, with the versions both objects carry
    (``overrides``: other expected versions, ``reassign``), in a transaction of its own."""
    versions = {
        "expected_incident_version": incident.version,
        "expected_unit_version": unit.version,
    }
    with transaction.atomic():
        return check_dispatch_unit(actor, incident, unit, **{**versions, **overrides})
