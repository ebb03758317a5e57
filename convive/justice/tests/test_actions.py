from convive.core.geo import h3_cell
from convive.justice.actions import do_create_justice_service, do_save_justice_service
from convive.justice.models import JusticeService
from convive.justice.queries import list_justice_services, locality_at


def test_create_stores_the_h3_cell_of_the_point(world):
    service = do_create_justice_service(
        city=world.city,
        kind=JusticeService.Kind.FAMILY_COMMISSARY,
        name="Comisaría de Familia Kennedy",
        lon=-74.15,
        lat=4.60,
        territory=world.kennedy,
    )
    assert service.h3_cell == h3_cell(-74.15, 4.60)
    assert service in list(list_justice_services(world.city))


def test_locality_at_skips_other_layers(world):
    assert locality_at(world.city, lon=-74.18, lat=4.60) == world.kennedy  # also in Timiza
    assert locality_at(world.city, lon=-74.05, lat=4.70) == world.suba
    assert locality_at(world.city, lon=-70.0, lat=4.70) is None


def test_saving_a_moved_service_follows_its_point(world):
    service = do_create_justice_service(
        city=world.city,
        kind=JusticeService.Kind.POLICE_POST,
        name="CAI Timiza",
        lon=-74.18,
        lat=4.60,
        territory=world.kennedy,
    )
    service.lon, service.lat = -74.05, 4.70
    do_save_justice_service(service)
    service.refresh_from_db()
    assert service.territory == world.suba
    assert service.h3_cell == h3_cell(-74.05, 4.70)


def test_a_point_outside_every_locality_keeps_the_locality_it_had(world):
    service = do_create_justice_service(
        city=world.city,
        kind=JusticeService.Kind.VICTIM_CARE,
        name="Centro de Atención a Víctimas",
        lon=-74.15,
        lat=4.60,
        territory=world.kennedy,
    )
    service.lon = -73.0
    do_save_justice_service(service)
    service.refresh_from_db()
    assert service.territory == world.kennedy
    assert service.h3_cell == h3_cell(-73.0, 4.60)
