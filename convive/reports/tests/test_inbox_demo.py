"""The demo city's catalogue, routing rules and reports, as the demo personas find them in their
inboxes."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from conftest import login
from convive.accounts.models import User
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.demo.generate import CITY_SLUG, DEFAULT_SEED, generate_city
from convive.demo.reports import STORIES, plan_reports
from convive.integrations.sms.console import NullSmsBackend
from convive.reports.catalogue import CATALOGUE
from convive.reports.models import Category, Report, ReportEvent, RoutingRule
from convive.territories.models import City


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks) -> City:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    return City.objects.get(slug=CITY_SLUG)


def test_the_demo_installs_the_catalogue_and_routes_every_category(demo):
    assert Category.objects.count() == len(CATALOGUE)
    localities = demo.layers.get(slug="locality").territories.count()
    for category in Category.objects.all():
        rules = RoutingRule.objects.filter(city=demo, category=category)
        local = rules.filter(territory__isnull=False).count()
        citywide = rules.filter(territory__isnull=True).count()
        assert local in (0, localities), category.code
        assert local or citywide, f"{category.code} is routed nowhere"


def test_the_demo_reports_tell_a_varied_story(demo):
    reports = Report.objects.filter(city=demo)
    assert 15 <= reports.count() <= 25
    assert reports.count() == len(STORIES)
    assert reports.values("locality").distinct().count() >= 4
    statuses = set(reports.values_list("status", flat=True))
    assert {"sos", "received", "in_progress", "resolved", "rejected"} <= statuses
    assert reports.filter(is_urgent=True, status=Report.Status.SOS).count() == 1
    [unrouted] = reports.filter(institution__isnull=True)
    assert unrouted.locality is not None  # placed, but on a border: a person decides
    assert unrouted.locality.name in unrouted.routing_note
    assert reports.filter(is_anonymous=True).count() >= 5
    assert reports.filter(supporters_count__gt=0).count() >= 2
    assert reports.filter(is_hidden=True).count() == 1
    assert ReportEvent.objects.filter(report__city=demo, kind="note", public=False).exists()
    assert ReportEvent.objects.filter(report__city=demo, kind="reply", public=True).exists()
    assert reports.filter(outcome__gt="").exists()
    # Dated as the past they pretend to be: spread over weeks, every step after its report.
    span = (
        reports.order_by("created_at").last().created_at
        - reports.order_by("created_at")[0].created_at
    )
    assert span.days >= 14
    for event in ReportEvent.objects.filter(report__city=demo).select_related("report"):
        assert event.created_at >= event.report.created_at


def test_loading_the_demo_tells_nobody_and_records_one_truth(demo):
    assert mail.outbox == []
    assert NullSmsBackend.sent == []
    staff_tags = [str(tag) for tag in AuditTag if str(tag).startswith("report:")]
    assert not AuditEvent.objects.filter(tag__in=staff_tags).exists()
    loaded = AuditEvent.objects.get(tag=AuditTag.DEMO_CITY_LOADED)
    assert f'"reports":{len(STORIES)}' in loaded.data


def test_the_same_seed_places_the_same_reports():
    demo = generate_city(DEFAULT_SEED)
    first, again = plan_reports(DEFAULT_SEED, demo), plan_reports(DEFAULT_SEED, demo)
    assert first == again
    other = plan_reports(DEFAULT_SEED + 1, generate_city(DEFAULT_SEED + 1))
    assert [(p.lon, p.lat) for p in other] != [(p.lon, p.lat) for p in first]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("supervisora", {"estacion-policia-01"}),
        ("supervisor_02", {"estacion-policia-02"}),
        ("operadora", {"c4", None}),  # the command centre: emergencies and the fallback queue
        ("comisaria", {"comisaria-familia-01"}),
    ],
)
def test_demo_staff_find_their_reports_in_the_inbox(client, demo, username, expected):
    login(client, User.objects.get(username=username))
    response = client.get(reverse("inbox:list"))
    assert response.status_code == 200
    found = {r.institution.slug if r.institution else None for r in response.context["page"]}
    assert found == expected
    first = response.context["page"][0]
    assert client.get(reverse("inbox:detail", args=[first.pk])).status_code == 200
