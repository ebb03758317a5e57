from django.urls import reverse

from conftest import login
from convive.core.geo import h3_cell
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.justice.models import JusticeService
from convive.justice.tests.factories import JusticeServiceFactory

CHANGELIST = reverse("admin:justice_justiceservice_changelist")
ADD = reverse("admin:justice_justiceservice_add")


def test_platform_admin_lists_searches_and_filters_services(client, platform_admin, world):
    JusticeServiceFactory(city=world.city, name="Casa de Justicia Kennedy")
    JusticeServiceFactory(city=world.city, name="CAI Timiza", kind=JusticeService.Kind.POLICE_POST)
    login(client, platform_admin)
    page = client.get(CHANGELIST).content.decode()
    assert "Casa de Justicia Kennedy" in page
    assert "CAI Timiza" in page
    found = client.get(CHANGELIST, {"q": "Timiza"}).content.decode()
    assert "CAI Timiza" in found
    assert "Casa de Justicia Kennedy" not in found
    posts = client.get(CHANGELIST, {"kind__exact": "police_post"}).content.decode()
    assert "CAI Timiza" in posts
    assert "Casa de Justicia Kennedy" not in posts


def test_adding_a_service_places_it_and_is_audited(client, platform_admin, world):
    login(client, platform_admin)
    response = client.post(
        ADD,
        {
            "city": world.city.pk,
            "kind": JusticeService.Kind.FAMILY_COMMISSARY,
            "name": "Comisaría de Familia Suba",
            "institution": "",
            "address": "Carrera 91 # 146-20",
            "phone": "+57 601 000 1111",
            "opening_hours": "Lunes a viernes, 7:00 a 16:30",
            "lon": "-74.05",
            "lat": "4.70",
        },
    )
    assert response.status_code == 302
    service = JusticeService.objects.get(name="Comisaría de Familia Suba")
    assert service.territory == world.suba
    assert service.h3_cell == h3_cell(-74.05, 4.70)
    event = AuditEvent.objects.get(tag=AuditTag.ADMIN_OBJECT_ADDED)
    assert event.subject_id == str(service.pk)


def test_a_longitude_out_of_range_is_refused(client, platform_admin, world):
    login(client, platform_admin)
    response = client.post(
        ADD,
        {
            "city": world.city.pk,
            "kind": JusticeService.Kind.JUSTICE_HOUSE,
            "name": "Casa de Justicia perdida",
            "lon": "-274.05",
            "lat": "4.70",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["lon"]
    assert not JusticeService.objects.filter(name="Casa de Justicia perdida").exists()


def test_other_roles_do_not_reach_the_catalogue(client, supervisor):
    login(client, supervisor)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
