"""Every role over every URL and API endpoint, against the table in ``docs/permissions.md``.

Three things must agree: ``ROLE_ACTIONS`` in ``convive/accounts/permissions.py``, what each URL
and endpoint declares and really does when each role requests it, and the document (whose two
tables ``convive permissions_doc`` regenerates after an intended change).
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from conftest import PERSONAS, login
from convive.accounts.endpoints import (
    COLUMNS,
    DOC,
    Endpoint,
    api_endpoints,
    is_granted,
    read_section,
    render_endpoint_table,
    render_role_table,
    site_endpoints,
)
from convive.accounts.permissions import ANONYMOUS
from convive.accounts.roles import Role
from convive.core.admin import admin_site


@pytest.mark.django_db
def test_document_shows_the_role_table_of_the_code():
    assert read_section(DOC.read_text(), "roles") == render_role_table()


@pytest.mark.django_db
def test_document_lists_every_endpoint_with_its_action():
    assert read_section(DOC.read_text(), "endpoints") == render_endpoint_table()


def _admin_samples(name: str) -> list[dict]:
    """Arguments for the admin site's URLs, from the registered models' first rows."""
    if name == "admin:app_list":
        labels = sorted({model._meta.app_label for model in admin_site._registry})
        return [{"app_label": label} for label in labels]
    if name == "admin:view_on_site":
        return []  # a redirect helper, not a page
    if name == "admin:auth_user_password_change":  # Django names it so for any user model
        return [{"id": str(admin_site_user_pk())}]
    for model in admin_site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            obj = model._default_manager.order_by("pk").first()
            assert obj is not None, f"the world fixture has no {model.__name__} for {name}"
            return [{"object_id": str(obj.pk)}]
    raise AssertionError(f"no sample arguments for {name}")


def admin_site_user_pk() -> int:
    from convive.accounts.models import User

    return User.objects.order_by("pk").values_list("pk", flat=True).first()


def _samples(endpoint: Endpoint, world) -> list[dict]:
    if "<" not in endpoint.route:
        return [{}]
    if endpoint.name.startswith("admin:"):
        return _admin_samples(endpoint.name)
    team = {"institution_id": world.police.pk}
    member = {**team, "membership_id": world.police_membership.pk}
    samples = {
        "institutions:members": team,
        "institutions:member_edit": member,
        "institutions:member_end": member,
        "territories:city": {"city_slug": world.city.slug},
        "territories:detail": {
            "city_slug": world.city.slug,
            "layer_slug": world.localities.slug,
            "code": world.kennedy.code,
        },
    }
    assert endpoint.name in samples, f"add sample arguments for {endpoint.name} to this test"
    return [samples[endpoint.name]]


def _api_url(endpoint: Endpoint, world) -> str:
    values = {
        "city_slug": world.city.slug,
        "layer_slug": world.localities.slug,
        "code": world.kennedy.code,
        "event_id": "1",
    }
    path = endpoint.route
    for key, value in values.items():
        path = path.replace("{" + key + "}", str(value))
    assert "{" not in path, f"add a sample value for {endpoint.route} to this test"
    return path


def _login_pages() -> tuple[str, ...]:
    return (reverse("accounts:login"), reverse("accounts:otp_verify"), reverse("admin:login"))


def _page_verdict(url: str, response, *, granted: bool, anonymous: bool) -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    to_login = location.startswith(_login_pages())
    if granted:
        refused = response.status_code in (401, 403, 404) or response.status_code >= 500
        return not refused and not to_login
    if response.status_code == 403 and not anonymous:
        return True
    return to_login and (anonymous or location.startswith(reverse("admin:login")))


def _api_verdict(response, *, granted: bool, anonymous: bool) -> bool:
    if granted:
        return response.status_code not in (401, 403) and response.status_code < 500
    return response.status_code == (401 if anonymous else 403)


QUERIES = {"admin:autocomplete": "?app_label=institutions&model_name=membership&field_name=user"}


def refused_to_everyone(platform_admin) -> set[str]:
    """Admin URLs that no role may use: the model admin refuses the operation itself.

    Audit entries are never added, changed or deleted there; accounts and memberships are
    deactivated, not deleted; territories come only from imports.
    """
    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    refused = set()
    for model, model_admin in admin_site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if not model_admin.has_add_permission(request):
            refused.add(prefix + "add")
        if not model_admin.has_delete_permission(request):
            refused.add(prefix + "delete")
    return refused


@pytest.fixture
def everyone(world, request):
    """One user per role, and the police membership that the sample URLs point at."""
    users = {role: request.getfixturevalue(fixture) for role, fixture in PERSONAS.items()}
    world.police_membership = users[Role.FIELD_UNIT].active_memberships[0]
    return users


@pytest.mark.parametrize("column", COLUMNS)
def test_each_role_reaches_exactly_what_the_table_grants(column, client, world, everyone):
    anonymous = column == ANONYMOUS
    if not anonymous:
        login(client, everyone[Role(column)])
    wrong = []
    refused = refused_to_everyone(everyone[Role.PLATFORM_ADMIN])
    for endpoint in site_endpoints():
        granted = is_granted(endpoint.action, column) and endpoint.name not in refused
        for kwargs in _samples(endpoint, world):
            url = reverse(endpoint.name, kwargs=kwargs) + QUERIES.get(endpoint.name, "")
            response = client.get(url)
            if not _page_verdict(url, response, granted=granted, anonymous=anonymous):
                wrong.append(f"GET {url} [{endpoint.action}] -> {response.status_code}")
    for endpoint in api_endpoints():
        granted = is_granted(endpoint.action, column)
        method = endpoint.name.split(" ", 1)[0]
        url = _api_url(endpoint, world)
        response = client.generic(method, url, data="{}", content_type="application/json")
        if not _api_verdict(response, granted=granted, anonymous=anonymous):
            wrong.append(f"{method} {url} [{endpoint.action}] -> {response.status_code}")
    assert wrong == [], f"{column}: code and permission table disagree:\n" + "\n".join(wrong)
