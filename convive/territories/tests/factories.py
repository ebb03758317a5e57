import uuid

import factory
import shapely
from shapely.geometry import box

from convive.territories.geometry import territory_columns
from convive.territories.models import City, Layer, Territory


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"city-{n}")
    name = factory.Sequence(lambda n: f"City {n}")
    country_code = "CO"


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Layer
        django_get_or_create = ("city", "slug")

    city = factory.SubFactory(CityFactory)
    slug = "locality"
    name = "Localities"
    kind = Layer.Kind.LOCALITY


def territory_fields(geometry: shapely.Geometry) -> dict:
    """The stored columns of a territory with this polygon (WKB, bounding box, point, area)."""
    return territory_columns(shapely.orient_polygons(geometry))


DEFAULT_BOUNDS = (-74.2, 4.5, -74.1, 4.6)


class TerritoryFactory(factory.django.DjangoModelFactory):
    """A square territory; pass ``bounds=(min_lon, min_lat, max_lon, max_lat)`` to place it."""

    class Meta:
        model = Territory

    layer = factory.SubFactory(LayerFactory)
    city = factory.SelfAttribute("layer.city")
    code = factory.Sequence(lambda n: f"{n:02d}")
    name = factory.Sequence(lambda n: f"Territory {n}")
    population = 100_000

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        bounds = kwargs.pop("bounds", None) or DEFAULT_BOUNDS
        for name, value in territory_fields(box(*bounds)).items():
            kwargs.setdefault(name, value)
        territory = super()._create(model_class, *args, **kwargs)
        City.objects.filter(pk=territory.city_id).update(index_token=uuid.uuid4())
        return territory
