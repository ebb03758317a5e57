import factory

from convive.core.geo import h3_cell
from convive.justice.models import JusticeService
from convive.territories.tests.factories import CityFactory


class JusticeServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JusticeService

    city = factory.SubFactory(CityFactory)
    kind = JusticeService.Kind.JUSTICE_HOUSE
    name = factory.Sequence(lambda n: f"Casa de Justicia {n}")
    address = "Calle 23 # 45-12"
    phone = "+57 601 000 0000"
    opening_hours = "Lunes a viernes, 7:00 a 16:30"
    lon = -74.15
    lat = 4.60
    h3_cell = factory.LazyAttribute(lambda s: h3_cell(s.lon, s.lat))
