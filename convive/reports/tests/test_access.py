"""Who reaches which report: staff by institution and territory, citizens by code or account."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import Http404

from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.institutions.models import Institution
from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
from convive.reports.access import (
    access_own_reports,
    access_report_by_code,
    access_report_by_id,
    reports_for,
)
from convive.reports.actions import ReportInput, check_create_report, check_support_report
from convive.reports.models import Report
from convive.reports.tests.factories import ReportFactory
from convive.territories.tests.factories import CityFactory


class Reports:
    """One report per (institution, place) the scoping rules tell apart, by name."""


@pytest.fixture
def reports(world, catalogue):
    r = Reports()

    def make(institution, locality=None, neighbourhood=None, city=None):
        return ReportFactory(
            city=city or world.city,
            category=catalogue.robo,
            institution=institution,
            locality=locality,
            neighbourhood=neighbourhood,
        )

    r.police_timiza = make(world.police, world.kennedy, world.timiza)
    r.police_kennedy = make(world.police, world.kennedy)
    r.police_suba = make(world.police, world.suba)
    r.police_unplaced = make(world.police)  # an address only
    r.secretariat_kennedy = make(world.secretariat, world.kennedy)
    r.secretariat_suba = make(world.secretariat, world.suba)
    r.alcaldia_kennedy = make(catalogue.alcaldia, world.kennedy)
    r.fallback_kennedy = make(None, world.kennedy)
    r.fallback_suba = make(None, world.suba)
    r.fallback_unplaced = make(None)
    r.fallback_elsewhere = make(None, city=CityFactory(slug="otra"))
    return r


def names(queryset, reports):
    by_pk = {report.pk: name for name, report in vars(reports).items()}
    return sorted(by_pk[pk] for pk in queryset.values_list("pk", flat=True))


POLICE_ALL = ["police_kennedy", "police_suba", "police_timiza", "police_unplaced"]
SECRETARIAT_AND_QUEUE = [
    "fallback_kennedy",
    "fallback_suba",
    "fallback_unplaced",
    "secretariat_kennedy",
    "secretariat_suba",
]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # Police, limited to Kennedy: placed in Kennedy, and the address-only ones to triage.
        (Role.SUPERVISOR, ["police_kennedy", "police_timiza", "police_unplaced"]),
        (Role.INSTITUTION_ADMIN, POLICE_ALL),
        (Role.DISPATCHER, SECRETARIAT_AND_QUEUE),  # secretariat: whole city + fallback queue
        (Role.CALL_TAKER, SECRETARIAT_AND_QUEUE),
        (Role.ANALYST, []),
        (Role.FIELD_UNIT, []),
        (Role.CAMERA_PARTNER, []),
        (Role.CITIZEN, []),
    ],
)
def test_each_persona_reaches_its_institutions_reports_in_its_territories(
    persona, reports, role, expected
):
    user = persona(role)
    assert names(reports_for(user), reports) == expected
    for name, report in vars(reports).items():
        if name in expected:
            assert access_report_by_id(user, report.pk) == report
        else:
            with pytest.raises(Http404):
                access_report_by_id(user, report.pk)


def test_a_platform_administrator_reaches_everything(platform_admin, reports):
    assert names(reports_for(platform_admin), reports) == sorted(vars(reports))


def test_a_logged_out_visitor_reaches_nothing(reports):
    assert not reports_for(AnonymousUser()).exists()
    with pytest.raises(Http404):
        access_report_by_id(AnonymousUser(), reports.police_kennedy.pk)


def test_an_unknown_id_is_not_found(dispatcher, reports):
    with pytest.raises(Http404):
        access_report_by_id(dispatcher, 10**9)


def test_each_membership_keeps_its_own_territories(world, reports):
    """A whole-city membership of one institution must not widen a Kennedy-only one of another."""
    user = UserFactory(username="doble")
    MembershipFactory(user=user, institution=world.secretariat, role=Role.DISPATCHER)
    MembershipFactory(
        user=user, institution=world.police, role=Role.SUPERVISOR, territories=[world.kennedy]
    )
    assert names(reports_for(user), reports) == sorted(
        [*SECRETARIAT_AND_QUEUE, "police_kennedy", "police_timiza", "police_unplaced"]
    )


def test_a_membership_without_report_roles_widens_nothing(world, reports):
    user = UserFactory(username="analista-supervisora")
    MembershipFactory(user=user, institution=world.secretariat, role=Role.ANALYST)
    MembershipFactory(
        user=user, institution=world.police, role=Role.SUPERVISOR, territories=[world.suba]
    )
    assert names(reports_for(user), reports) == ["police_suba", "police_unplaced"]


def test_an_ended_membership_reaches_nothing(world, reports):
    user = UserFactory(username="retirado")
    MembershipFactory(user=user, institution=world.police, role=Role.SUPERVISOR, active=False)
    assert names(reports_for(user), reports) == []


def test_a_dispatcher_limited_to_suba_sees_the_queue_in_suba_only(world, reports):
    user = UserFactory(username="despacho-suba")
    MembershipFactory(
        user=user, institution=world.secretariat, role=Role.DISPATCHER, territories=[world.suba]
    )
    assert names(reports_for(user), reports) == [
        "fallback_suba",
        "fallback_unplaced",
        "secretariat_suba",
    ]


def test_a_command_centre_covering_part_of_the_city_sees_the_queue_there(world, reports):
    c4 = InstitutionFactory(
        city=world.city, slug="c4", name="C4", kind=Institution.Kind.COMMAND_CENTRE
    )
    c4.coverage.set([world.kennedy])
    user = UserFactory(username="operador-c4")
    MembershipFactory(user=user, institution=c4, role=Role.CALL_TAKER)
    assert names(reports_for(user), reports) == ["fallback_kennedy", "fallback_unplaced"]


def test_staff_of_an_institution_see_its_reports_even_outside_its_coverage(
    world, reports, catalogue
):
    """A city-wide rule can send a report where the institution covers nothing: not stranded."""
    admin = UserFactory(username="admin-alcaldia")
    MembershipFactory(user=admin, institution=catalogue.alcaldia, role=Role.INSTITUTION_ADMIN)
    stray = ReportFactory(
        city=world.city,
        category=catalogue.robo,
        institution=catalogue.alcaldia,
        locality=world.suba,
    )
    assert set(reports_for(admin)) == {reports.alcaldia_kennedy, stray}


@pytest.mark.django_db(transaction=True)
def test_a_report_can_be_locked_for_update(postgres, supervisor, reports):
    with transaction.atomic():
        locked = access_report_by_id(supervisor, reports.police_kennedy.pk, for_update=True)
    assert locked == reports.police_kennedy


# --- Citizens: the tracking code and their account ------------------------------------------


@pytest.fixture
def tracked(world, catalogue):
    return ReportFactory(city=world.city, category=catalogue.robo, tracking_code="K7QF3M9DX2PA")


@pytest.mark.parametrize(
    "typed",
    ["K7QF3M9DX2PA", "k7qf3m9dx2pa", "K7QF-3M9D-X2PA", " k7qf 3m9d x2pa ", "k7qf-3m9dx2pa"],
)
def test_the_tracking_code_is_found_however_it_is_typed(tracked, typed):
    assert access_report_by_code(typed) == tracked


def test_letters_read_as_digits_are_forgiven(world, catalogue):
    report = ReportFactory(city=world.city, category=catalogue.robo, tracking_code="1010AB0C1D0E")
    assert access_report_by_code("IOLO-AB0C-lDoE") == report


@pytest.mark.parametrize("typed", ["", "K7QF3M9DX2PB", "K7QF3M9DX2P", "DROP TABLE", "*"])
def test_an_unknown_tracking_code_is_not_found(tracked, typed):
    with pytest.raises(Http404):
        access_report_by_code(typed)


@pytest.mark.django_db(transaction=True)
def test_a_report_can_be_locked_by_its_code(postgres, tracked):
    with transaction.atomic():
        assert access_report_by_code(tracked.tracking_code, for_update=True) == tracked


def submit(reporter, **overrides):
    data = ReportInput(
        category_code="alumbrado",
        idempotency_key=uuid.uuid4().hex,
        channel=Report.Channel.WEB,
        lon=-74.15,
        lat=4.60,
        **overrides,
    )
    return check_create_report(reporter, data)[0]


def test_my_reports_are_the_named_ones_and_the_ones_i_follow(catalogue, citizen):
    named = submit(citizen)
    anonymous = submit(citizen, anonymous=True)
    someone_elses = submit(UserFactory(username="otra"))
    followed = submit(None)
    check_support_report(followed, user=citizen, email="", phone="", idempotency_key="follow-001")

    mine = set(access_own_reports(citizen))

    assert mine == {named, followed}
    assert anonymous not in mine
    assert someone_elses not in mine
    assert not access_own_reports(AnonymousUser()).exists()


def test_a_report_followed_twice_is_listed_once(catalogue, citizen):
    followed = submit(None)
    check_support_report(followed, user=citizen, email="", phone="", idempotency_key="follow-001")
    check_support_report(followed, user=None, email="", phone="1", idempotency_key="follow-002")
    assert list(access_own_reports(citizen)) == [followed]


# --- Public reports (Open311, "nearby", "me too") -------------------------------------------


def test_public_reports_are_the_visible_ones_of_public_categories(world, catalogue):
    from convive.reports.access import access_public_report_by_id, public_reports

    shown = ReportFactory(city=world.city, category=catalogue.alumbrado)
    hidden = ReportFactory(city=world.city, category=catalogue.alumbrado, is_hidden=True)
    private = ReportFactory(city=world.city, category=catalogue.robo)  # publication: none

    assert list(public_reports()) == [shown]
    assert access_public_report_by_id(shown.pk) == shown
    for report in (hidden, private):
        with pytest.raises(Http404):
            access_public_report_by_id(report.pk)
