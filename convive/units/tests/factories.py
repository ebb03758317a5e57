import factory
from django.utils import timezone

from convive.institutions.tests.factories import InstitutionFactory
from convive.units.models import DEFAULT_CAPABILITIES, Unit, UnitPosition


class UnitFactory(factory.django.DjangoModelFactory):
    """A unit written straight to the table. ``at=(lon, lat)`` gives it a position of now
    (``position_at`` to date it otherwise)."""

    class Meta:
        model = Unit

    institution = factory.SubFactory(InstitutionFactory)
    call_sign = factory.Sequence(lambda n: f"U-{n:03d}")
    kind = Unit.Kind.PATROL_CAR
    capabilities = factory.LazyAttribute(lambda u: list(DEFAULT_CAPABILITIES[u.kind]))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        at = kwargs.pop("at", None)
        position_at = kwargs.pop("position_at", None)
        if at is not None:
            kwargs["last_lon"], kwargs["last_lat"] = at
            kwargs["last_position_at"] = position_at or timezone.now()
        return super()._create(model_class, *args, **kwargs)


class UnitPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnitPosition

    unit = factory.SubFactory(UnitFactory)
    lon = -74.15
    lat = 4.60
    recorded_at = factory.LazyFunction(timezone.now)
    source = UnitPosition.Source.API
