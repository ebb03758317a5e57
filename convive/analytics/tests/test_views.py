"""The page and its CSV export: who may open them, what they show, and bad filters."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from conftest import login
from convive.analytics.tests.conftest import DAY

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

QUERY = {"start": DAY.isoformat(), "end": DAY.isoformat()}


def test_an_analyst_sees_tables_and_charts(client, cases, analyst):
    response = login(client, analyst).get(reverse("analytics:kpis"), QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="kpi-table-locality"' in html
    assert "Kennedy" in html
    assert "Suba" in html
    assert html.count('data-testid="kpi-chart"') == 5  # compliance + one per grouping
    assert "<title" in html  # charts are named for screen readers
    assert "<script" not in html  # strict CSP
    assert 'style="' not in html
    assert response.context["report"].overall.count == 4


def test_the_default_period_is_the_last_30_days(client, world, analyst):
    response = login(client, analyst).get(reverse("analytics:kpis"))
    assert response.status_code == 200
    filters = response.context["report"].filters
    assert (filters.end - filters.start).days == 30


@pytest.mark.parametrize("fixture", ["call_taker", "dispatcher", "field_unit", "citizen"])
def test_others_are_refused(client, world, request, fixture):
    user = request.getfixturevalue(fixture)
    login(client, user)
    assert client.get(reverse("analytics:kpis")).status_code == 403
    assert client.get(reverse("analytics:export_csv")).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client, world):
    response = client.get(reverse("analytics:kpis"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_supervisor_sees_only_their_territory(client, cases, supervisor):
    response = login(client, supervisor).get(reverse("analytics:kpis"), QUERY)
    assert response.status_code == 200
    assert response.context["report"].overall.count == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-11-20", "end": "2026-11-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-11-01"}, "end"),
        ({"locality": "abc"}, "locality"),
        ({"locality": "999999"}, "locality"),
        ({"priority": "9"}, "priority"),
        ({"type": "-1"}, "type"),
    ],
)
def test_bad_filters_get_a_form_error(client, world, analyst, query, field):
    login(client, analyst)
    response = client.get(reverse("analytics:kpis"), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "report" not in response.context
    export = client.get(reverse("analytics:export_csv"), query)
    assert export.status_code == 400
    assert export["Content-Type"].startswith("text/plain")


def test_the_csv_holds_every_group(client, cases, world, analyst):
    response = login(client, analyst).get(reverse("analytics:export_csv"), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="kpis-2026-11-20-2026-11-20.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["grouping"], r["label"]) for r in rows][:3] == [
        ("all", "All incidents"),
        ("locality", "Kennedy"),
        ("locality", "Suba"),
    ]
    overall = rows[0]
    assert overall["incidents"] == "4"
    assert (overall["answer_n"], overall["answer_p50_s"], overall["answer_p90_s"]) == (
        "3",
        "18.0",
        "23.6",
    )
    assert overall["processing_p90_s"] == "162.4"
    assert overall["nena_15_pct"] == "33.3"
    assert overall["mx_handover_pct"] == "100.0"
    night = next(r for r in rows if r["grouping"] == "shift" and r["key"] == "night")
    assert (night["incidents"], night["answer_p50_s"], night["nena_15_pct"]) == ("1", "", "")
    assert {r["grouping"] for r in rows} == {"all", "locality", "shift", "type", "priority"}


def test_the_csv_follows_the_filters(client, cases, world, analyst):
    query = {**QUERY, "locality": world.suba.pk}
    response = login(client, analyst).get(reverse("analytics:export_csv"), query)
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["incidents"] == "2"
    assert [r["label"] for r in rows if r["grouping"] == "locality"] == ["Suba"]


def test_nothing_is_written(client, cases, analyst, django_assert_max_num_queries):
    from convive.core.models import AuditEvent

    before = AuditEvent.objects.count()
    login(client, analyst)
    with django_assert_max_num_queries(20):
        client.get(reverse("analytics:export_csv"), QUERY)
    assert AuditEvent.objects.count() == before
