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


def _samples(endpoint: Endpoint, world, user) -> list[dict]:
    if "<" not in endpoint.route:
        return [{}]
    if endpoint.name.startswith("admin:"):
        return _admin_samples(endpoint.name)
    team = {"institution_id": world.police.pk}
    member = {**team, "membership_id": world.police_membership.pk}
    report = report_for(user, world)
    handled = {"report_id": report.pk}
    photo = world.police_report.photos.first()
    code = {"code": world.police_report.tracking_code}
    samples = {
        **{f"inbox:{name}": handled for name in INBOX_ACTIONS},
        "inbox:photo": {**handled, "photo_id": report.photos.first().pk},
        "reports:follow": code,
        "reports:live": code,
        "reports:message": code,
        "reports:rate": code,
        "reports:photo": {**code, "photo_id": photo.pk},
        "open311:discovery": {"fmt": "json"},
        "open311:services": {"fmt": "xml"},
        "open311:service_definition": {"fmt": "json", "service_code": "alumbrado"},
        "open311:requests": {"fmt": "json"},
        "open311:request": {"fmt": "xml", "service_request_id": str(world.public_report.pk)},
        "open311:token": {"fmt": "json", "token": "12345"},
        "institutions:members": team,
        "institutions:member_edit": member,
        "institutions:member_end": member,
        **{f"console:{name}": {"incident_id": world.incident.pk} for name in CONSOLE_ACTIONS},
        "units:progress": {"unit_id": world.unit.pk},
        "units:status": {"unit_id": world.unit.pk},
        "territories:city": {"city_slug": world.city.slug},
        "territories:detail": {
            "city_slug": world.city.slug,
            "layer_slug": world.localities.slug,
            "code": world.kennedy.code,
        },
    }
    assert endpoint.name in samples, f"add sample arguments for {endpoint.name} to this test"
    return [samples[endpoint.name]]


def _api_url(endpoint: Endpoint, world, user) -> str:
    values = {
        "city_slug": world.city.slug,
        "layer_slug": world.localities.slug,
        "code": world.police_report.tracking_code
        if "/reports/track/" in endpoint.route
        else world.kennedy.code,
        "event_id": "1",
        "report_id": report_for(user, world).pk,
        "incident_id": world.incident.pk,
        "unit_id": world.unit.pk,
    }
    path = endpoint.route
    for key, value in values.items():
        path = path.replace("{" + key + "}", str(value))
    assert "{" not in path, f"add a sample value for {endpoint.route} to this test"
    return path


INBOX_ACTIONS = [
    "detail",
    "reply",
    "note",
    "status",
    "assign",
    "reroute",
    "hide",
    "show",
    "restrict",
]
CONSOLE_ACTIONS = [
    "detail",
    "detail_live",
    "priority",
    "note",
    "close",
    "referral",
    "transfer",
    "reopen",
    "link",
    "dispatch",
]
# Public pages that answer 404 for any sample: Open311 tokens are never issued (realtime service).
ALWAYS_404 = {"open311:token"}


def report_for(user, world):
    """A report the user may handle, so that a granted page really opens (else any report)."""
    from convive.reports.access import reports_for

    if user is None:
        return world.police_report
    return reports_for(user).order_by("pk").first() or world.police_report


def _login_pages() -> tuple[str, ...]:
    return (reverse("accounts:login"), reverse("accounts:otp_verify"), reverse("admin:login"))


def _page_verdict(url: str, response, *, granted: bool, anonymous: bool, name: str = "") -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    to_login = location.startswith(_login_pages())
    if granted and name in ALWAYS_404:
        return response.status_code == 404
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


def add_reports(world, citizen) -> None:
    """Reports (one with a photo), a restriction and an API key for the sample URLs."""
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from convive.open311.actions import check_create_api_key
    from convive.reports.actions import ReportInput, check_create_report
    from convive.reports.models import Category, ReportingRestriction
    from convive.reports.tests.factories import CategoryFactory, RoutingRuleFactory

    robo = CategoryFactory(
        code="robo",
        kind=Category.Kind.SECURITY,
        iccs_code="0401",
        publication=Category.Publication.NONE,
    )
    alumbrado = CategoryFactory(code="alumbrado", publication=Category.Publication.FULL)
    RoutingRuleFactory(city=world.city, category=robo, institution=world.police)
    RoutingRuleFactory(city=world.city, category=alumbrado, institution=world.secretariat)
    buffer = BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, format="JPEG")
    photo = SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")
    world.police_report, _ = check_create_report(
        citizen,
        ReportInput(
            category_code="robo",
            idempotency_key="sample-police",
            channel="web",
            lon=-74.15,
            lat=4.60,
            description="Me robaron el celular.",
        ),
        photos=[photo],
    )
    world.public_report, _ = check_create_report(
        None,
        ReportInput(
            category_code="alumbrado",
            idempotency_key="sample-light",
            channel="web",
            lon=-74.05,
            lat=4.70,
            description="Poste apagado.",
            anonymous=True,
        ),
        photos=[photo],
    )
    ReportingRestriction.objects.create(
        user=citizen, until=world.public_report.created_at, reason="muestra"
    )
    check_create_api_key(None, name="Aplicación de prueba")


def add_command_centre(world) -> None:
    """An incident with its source and timeline, and a unit with a position, for the admin."""
    from convive.devices.actions import check_create_panic_button
    from convive.devices.models import DeviceRejection
    from convive.incidents.tests.factories import (
        IncidentEventFactory,
        IncidentFactory,
        IncidentSourceFactory,
    )
    from convive.units.tests.factories import UnitFactory, UnitPositionFactory

    incident = IncidentFactory(
        city=world.city,
        institution=world.police,
        locality=world.kennedy,
        neighbourhood=world.timiza,
    )
    IncidentSourceFactory(incident=incident)
    IncidentEventFactory(incident=incident)
    unit = UnitFactory(institution=world.police)
    UnitPositionFactory(unit=unit)
    world.incident, world.unit = incident, unit
    check_create_panic_button(
        None, city=world.city, code="TOTEM-0001", name="Parque Timiza", lon=-74.15, lat=4.60
    )
    DeviceRejection.objects.create(
        device_code="TOTEM-9999", reason=DeviceRejection.Reason.UNKNOWN_DEVICE
    )


@pytest.fixture
def everyone(world, request):
    """One user per role, the police membership and the reports the sample URLs point at."""
    users = {role: request.getfixturevalue(fixture) for role, fixture in PERSONAS.items()}
    world.police_membership = users[Role.FIELD_UNIT].active_memberships[0]
    add_reports(world, users[Role.CITIZEN])
    add_command_centre(world)
    world.unit.crew.add(users[Role.FIELD_UNIT])
    return users


@pytest.mark.parametrize("column", COLUMNS)
def test_each_role_reaches_exactly_what_the_table_grants(column, client, world, everyone):
    anonymous = column == ANONYMOUS
    user = None if anonymous else everyone[Role(column)]
    if not anonymous:
        login(client, user)
    wrong = []
    refused = refused_to_everyone(everyone[Role.PLATFORM_ADMIN])
    for endpoint in site_endpoints():
        granted = is_granted(endpoint.action, column) and endpoint.name not in refused
        for kwargs in _samples(endpoint, world, user):
            url = reverse(endpoint.name, kwargs=kwargs) + QUERIES.get(endpoint.name, "")
            response = client.get(url)
            if response.streaming:  # file responses (photos) hold their file open until read
                b"".join(response.streaming_content)
            verdict = _page_verdict(
                url, response, granted=granted, anonymous=anonymous, name=endpoint.name
            )
            if not verdict:
                wrong.append(f"GET {url} [{endpoint.action}] -> {response.status_code}")
    for endpoint in api_endpoints():
        granted = is_granted(endpoint.action, column)
        method = endpoint.name.split(" ", 1)[0]
        url = _api_url(endpoint, world, user)
        response = client.generic(method, url, data="{}", content_type="application/json")
        if not _api_verdict(response, granted=granted, anonymous=anonymous):
            wrong.append(f"{method} {url} [{endpoint.action}] -> {response.status_code}")
    assert wrong == [], f"{column}: code and permission table disagree:\n" + "\n".join(wrong)
