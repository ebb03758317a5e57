"""Territories in the admin site: read-mostly geometry, audited, index refreshed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import login
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag

pytestmark = pytest.mark.django_db


def test_territory_change_page_hides_the_geometry(client, platform_admin, world):
    login(client, platform_admin)
    url = reverse("admin:territories_territory_change", args=[world.kennedy.pk])
    page = client.get(url).content.decode()
    assert 'name="geometry_wkb"' not in page
    assert 'name="name"' in page
    assert 'name="area_km2"' not in page  # shown, read-only
    assert f"{world.kennedy.area_km2:.3f}"[:5] in page.replace(",", ".")


def test_saving_a_territory_is_audited_and_renews_the_index(client, platform_admin, world):
    login(client, platform_admin)
    token = world.city.index_token
    url = reverse("admin:territories_territory_change", args=[world.kennedy.pk])
    data = {
        "name": "Kennedy Central",
        "parent": "",
        "population": "1000",
        "population_source": "",
        "population_year": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    world.kennedy.refresh_from_db()
    world.city.refresh_from_db()
    assert world.kennedy.name == "Kennedy Central"
    assert world.city.index_token != token
    assert AuditEvent.objects.filter(tag=AuditTag.ADMIN_OBJECT_CHANGED).exists()


def test_territories_are_added_by_import_only(client, platform_admin, world):
    login(client, platform_admin)
    assert client.get(reverse("admin:territories_territory_add")).status_code == 403
    assert client.get(reverse("admin:territories_territory_changelist")).status_code == 200
    assert (
        client.get(
            reverse("admin:territories_layer_change", args=[world.localities.pk])
        ).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:territories_city_change", args=[world.city.pk])).status_code
        == 200
    )


def test_deleting_a_layer_renews_the_index(client, platform_admin, world):
    login(client, platform_admin)
    token = world.city.index_token
    url = reverse("admin:territories_layer_delete", args=[world.neighbourhoods.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    world.city.refresh_from_db()
    assert world.city.index_token != token
