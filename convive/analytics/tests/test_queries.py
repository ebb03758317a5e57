"""The figures, computed on hand-made incidents whose every interval is known."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from convive.accounts.tests.factories import UserFactory
from convive.analytics.queries import (
    STAMPS,
    KpiFilters,
    _group_percentiles,
    compute_kpis,
    incident_timestamps,
    kpi_incidents_for,
    shift_of,
)
from convive.analytics.tests.conftest import DAY, at, make_incident
from convive.incidents.models import Incident, Priority
from convive.incidents.tests.factories import IncidentTypeFactory
from convive.incidents.tests.first_times import first_times_from_events, live_incident
from convive.territories.tests.factories import CityFactory
from convive.units.tests.factories import UnitFactory

PERIOD = KpiFilters(start=DAY, end=DAY + timedelta(days=1))


def figures(report, grouping: str, key=None):
    return next(g for g in report.groups[grouping] if g.key == key)


def p(group, code: str) -> tuple[float | None, float | None]:
    figures = group.intervals[code]
    return (
        None if figures.p50 is None else round(figures.p50, 3),
        None if figures.p90 is None else round(figures.p90, 3),
    )


EXPECTED = {  # interval: (measured, p50, p90) over the four cases
    "answer": (3, 18.0, 23.6),
    "capture": (3, 60.0, 92.0),
    "processing": (3, 100.0, 162.4),
    "handover": (3, 40.0, 56.0),
    "turnout": (3, 60.0, 60.0),
    "travel": (3, 300.0, 540.0),
    "on_scene": (3, 600.0, 600.0),
    "total": (3, 1260.0, 1378.4),
}
COMPLIANCE = {  # norm: share (%)
    "nena_15": 100 / 3,
    "nena_20": 200 / 3,
    "nfpa_64": 100 / 3,
    "mx_capture": 200 / 3,
    "mx_handover": 100.0,
}


def test_every_interval_and_norm_over_all_incidents(cases, platform_admin):
    overall = compute_kpis(platform_admin, PERIOD).overall
    assert overall.count == 4
    for code, (measured, p50, p90) in EXPECTED.items():
        assert overall.intervals[code].count == measured, code
        assert p(overall, code) == (p50, p90), code
    for norm, share in COMPLIANCE.items():
        assert overall.compliance(norm) == pytest.approx(share), norm
    assert overall.meets_goal("mx_handover") is True
    assert overall.meets_goal("nena_15") is False


def test_groupings_by_locality_shift_type_and_priority(cases, world, platform_admin):
    report = compute_kpis(platform_admin, PERIOD)
    kennedy = figures(report, "locality", world.kennedy.pk)
    assert (kennedy.label, kennedy.count) == ("Kennedy", 2)
    assert p(kennedy, "answer") == (14.0, 17.2)
    assert p(kennedy, "processing") == (139.0, 170.2)
    suba = figures(report, "locality", world.suba.pk)
    assert suba.count == 2
    assert p(suba, "answer") == (25.0, 25.0)
    assert p(suba, "processing") == (40.0, 40.0)
    assert suba.compliance("nfpa_64") == 100.0

    assert [(g.key, g.count) for g in report.groups["shift"]] == [
        ("morning", 2),
        ("afternoon", 1),
        ("night", 1),
    ]
    assert figures(report, "shift", "night").intervals["answer"].count == 0
    assert figures(report, "shift", "night").compliance("nena_15") is None

    assert [(g.key, g.count) for g in report.groups["priority"]] == [
        (Priority.P1, 1),
        (Priority.P2, 2),
        (Priority.P3, 1),
    ]
    fight = figures(report, "type", cases.fight.pk)
    assert (fight.count, p(fight, "capture")) == (2, (45.0, 57.0))


def test_total_runs_to_clearance_when_never_closed(cases, platform_admin):
    only_b = KpiFilters(start=DAY, end=DAY + timedelta(days=1), type_id=cases.robbery.pk)
    overall = compute_kpis(platform_admin, only_b).overall
    assert overall.count == 1
    assert p(overall, "total") == (1408.0, 1408.0)


def test_filters_narrow_the_incidents(cases, world, platform_admin):
    def count(**kwargs):
        filters = KpiFilters(start=DAY, end=DAY + timedelta(days=1), **kwargs)
        return compute_kpis(platform_admin, filters).overall.count

    assert count(locality_id=world.suba.pk) == 2
    assert count(type_id=cases.fight.pk) == 2
    assert count(priority=Priority.P2) == 2
    assert count(priority=Priority.P4) == 0
    assert (
        compute_kpis(
            platform_admin, KpiFilters(DAY + timedelta(1), DAY + timedelta(2))
        ).overall.count
        == 0
    )


def test_the_first_event_of_each_kind_counts_and_merged_duplicates_do_not(
    cases, world, platform_admin
):
    from convive.incidents.tests.factories import IncidentEventFactory

    # A second dispatch later on does not change the processing time of a.
    IncidentEventFactory(incident=cases.a, kind="dispatched", at=at(12))
    duplicate = make_incident(
        world,
        cases.fight,
        received=at(10),
        steps={"call_received": 0, "call_answered": 1, "created": 2},
        locality=world.kennedy,
        priority=Priority.P2,
    )
    Incident.objects.filter(pk=duplicate.pk).update(status="closed", merged_into=cases.a)
    overall = compute_kpis(platform_admin, PERIOD).overall
    assert overall.count == 4
    assert p(overall, "processing") == (100.0, 162.4)


def test_the_figures_read_the_first_times_the_actions_keep(
    call_taker, dispatcher, world, platform_admin
):
    """A whole lifecycle through the real actions (call, dispatch, field steps, close, reopen,
    dispatch, close): the per-incident row is the first event of each kind, as ``Min`` over the
    incident's events gives it (docs/kpis.md)."""
    IncidentTypeFactory(code="rina", name_es="Riña", required_capabilities=["patrol"])
    unit = UnitFactory(institution=world.police, at=(-74.15, 4.60))
    incident = live_incident(call_taker, dispatcher, unit, city=world.city, type_code="rina")
    today = timezone.localdate()
    filters = KpiFilters(start=today, end=today + timedelta(days=1))

    (row,) = incident_timestamps(platform_admin, filters)
    expected = first_times_from_events()[incident.pk]
    fields = Incident.FIRST_TIME_FIELDS
    assert {kind: row[column] for kind, column in zip(fields, STAMPS, strict=True)} == {
        kind: expected[name] for kind, name in fields.items()
    }
    overall = compute_kpis(platform_admin, filters).overall
    assert overall.count == 1
    answered, received = expected["first_call_answered_at"], expected["first_call_received_at"]
    assert p(overall, "answer") == ((answered - received).total_seconds(),) * 2
    assert overall.intervals["total"].count == 1


def test_scope_by_role(cases, world, supervisor, analyst, institution_admin, platform_admin):
    elsewhere = make_incident(
        world, cases.fight, received=at(8), steps={"created": 0}, priority=Priority.P2
    )
    Incident.objects.filter(pk=elsewhere.pk).update(city=CityFactory(slug="otra"))
    everything = {cases.a.pk, cases.b.pk, cases.c.pk, cases.d.pk}
    assert set(kpi_incidents_for(platform_admin).values_list("pk", flat=True)) == everything | {
        elsewhere.pk
    }
    assert set(kpi_incidents_for(analyst).values_list("pk", flat=True)) == everything
    assert set(kpi_incidents_for(institution_admin).values_list("pk", flat=True)) == everything
    # The supervisor covers Kennedy only.
    assert set(kpi_incidents_for(supervisor).values_list("pk", flat=True)) == {
        cases.a.pk,
        cases.b.pk,
    }
    assert compute_kpis(supervisor, PERIOD).overall.count == 2


def test_no_figures_without_a_kpi_role(cases, call_taker, citizen):
    from django.contrib.auth.models import AnonymousUser

    assert not kpi_incidents_for(call_taker).exists()
    assert not kpi_incidents_for(citizen).exists()
    assert not kpi_incidents_for(AnonymousUser()).exists()
    assert not kpi_incidents_for(UserFactory()).exists()


def test_an_empty_period_gives_empty_figures(world, analyst):
    overall = compute_kpis(analyst, PERIOD).overall
    assert overall.count == 0
    assert overall.intervals["answer"].p50 is None
    assert overall.compliance("nena_15") is None


@pytest.mark.parametrize(
    ("hour", "shift"),
    [
        (0, "night"),
        (5, "night"),
        (6, "morning"),
        (13, "morning"),
        (14, "afternoon"),
        (21, "afternoon"),
        (22, "night"),
        (23, "night"),
    ],
)
def test_shifts(hour, shift):
    assert shift_of(hour) == shift


def test_percentiles_interpolate_like_percentile_cont():
    # Three groups, their values sorted one after the other: [7], [], [1, 2, 3, 4], [10, 20].
    ordered = np.array([7.0, 1.0, 2.0, 3.0, 4.0, 10.0, 20.0])
    counts = np.array([1, 0, 4, 2])
    p50 = _group_percentiles(ordered, counts, 0.5)
    p90 = _group_percentiles(ordered, counts, 0.9)
    assert p50[0] == 7.0
    assert np.isnan(p50[1])
    assert p50[2] == 2.5
    assert p90[2] == pytest.approx(3.7)
    assert p90[3] == pytest.approx(19.0)


def test_postgresql_and_python_give_the_same_figures(postgres, cases, world, platform_admin):
    # More incidents than the four, with scattered times, so that interpolation matters.
    for index in range(40):
        make_incident(
            world,
            cases.robbery if index % 3 else cases.fight,
            received=at(index % 24),
            steps={
                "call_received": 0,
                "call_answered": 3 + index % 17,
                "created": 40 + index,
                "dispatched": 50 + 3 * index,
                "en_route": 90 + 4 * index,
                "on_scene": 400 + 7 * index,
                "cleared": 900 + 11 * index,
            },
            locality=world.suba if index % 2 else world.kennedy,
            priority=1 + index % 4,
        )
    reference = compute_kpis(platform_admin, PERIOD, engine="sql")
    for engine in ("copy", "python"):
        report = compute_kpis(platform_admin, PERIOD, engine=engine)
        for grouping, groups in reference.groups.items():
            other = {g.key: g for g in report.groups[grouping]}
            assert set(other) == {g.key for g in groups}, (engine, grouping)
            for group in groups:
                twin = other[group.key]
                assert (twin.count, twin.label, twin.met) == (group.count, group.label, group.met)
                for code, figures in group.intervals.items():
                    assert twin.intervals[code].count == figures.count
                    assert p(twin, code) == p(group, code), (engine, grouping, group.key, code)


def test_postgresql_engines_agree_on_the_hand_made_incidents(postgres, cases, platform_admin):
    for engine in ("sql", "copy"):
        overall = compute_kpis(platform_admin, PERIOD, engine=engine).overall
        for code, (measured, p50, p90) in EXPECTED.items():
            assert overall.intervals[code].count == measured, (engine, code)
            assert p(overall, code) == (p50, p90), (engine, code)
