"""The incident actions: intake, triage, hand-off, referral, closure, merge, and their refusals.

A refused action writes nothing at all (``refused``), and a stale ``expected_version`` is a 409
that carries the incident's current state.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.actions import (
    VersionConflictError,
    check_add_note,
    check_advance_status,
    check_change_priority,
    check_close,
    check_create_incident_from_call,
    check_create_incident_from_report,
    check_link_incidents,
    check_merge_incident,
    check_record_referral,
    check_reopen,
    check_transfer,
    check_update_incident,
    do_record_incident_view,
)
from convive.incidents.models import Incident, IncidentEvent, IncidentSource, Priority
from convive.incidents.tests.factories import (
    KENNEDY_POINT,
    OUTSIDE_POINT,
    SUBA_POINT,
    IncidentFactory,
    IncidentSourceFactory,
    call_times,
)
from convive.institutions.tests.factories import InstitutionFactory
from convive.justice.tests.factories import JusticeServiceFactory
from convive.reports.models import Report
from convive.reports.tests.factories import CategoryFactory, ReportFactory
from convive.territories.tests.factories import CityFactory

Kind = IncidentEvent.Kind


def rows() -> dict[str, int]:
    return {
        "incidents": Incident.objects.count(),
        "sources": IncidentSource.objects.count(),
        "events": IncidentEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "versions": sum(Incident.objects.values_list("version", flat=True)),
    }


@contextmanager
def refused(field=None, status=400):
    """The block raises an ActionError for ``field`` with ``status`` and writes nothing."""
    before = rows()
    with pytest.raises(ActionError) as caught:
        yield caught
    assert (caught.value.field, caught.value.status) == (field, status), caught.value.message
    assert rows() == before


def kinds(incident) -> list[str]:
    return list(incident.events.order_by("at", "pk").values_list("kind", flat=True))


def tags() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))


def from_call(actor, world, **overrides):
    lon, lat = KENNEDY_POINT
    received, answered = call_times()
    values = {
        "city": world.city,
        "type_code": "rina",
        "lon": lon,
        "lat": lat,
        "address": "Parque de Timiza",
        "summary": "Riña entre cinco personas.",
        "caller_name": "",
        "caller_phone": "3001234567",
        "received_at": received,
        "answered_at": answered,
        "protocol_answers": {"armas": "Cuchillos", "heridos": ""},
    }
    return check_create_incident_from_call(actor, **{**values, **overrides})


# --- A call becomes an incident -------------------------------------------------------------


def test_a_call_becomes_an_incident_with_its_source_and_timeline(call_taker, world, types):
    received, answered = call_times(answered_after=6)
    incident = from_call(call_taker, world, received_at=received, answered_at=answered)

    assert incident.type == types.rina
    assert incident.priority == Priority.P2  # the type's default
    assert incident.status == Incident.Status.NEW
    assert (incident.locality, incident.neighbourhood) == (world.kennedy, world.timiza)
    assert incident.institution == world.secretariat  # the call-taker's own
    assert incident.h3_cell
    assert incident.version == 1
    assert incident.protocol_answers == {"armas": "Cuchillos"}  # unanswered left out
    (source,) = incident.sources.all()
    assert source.kind == IncidentSource.Kind.CALL
    assert (source.received_at, source.answered_at) == (received, answered)
    assert (source.caller_name, source.caller_phone) == ("", "3001234567")
    events = list(incident.events.order_by("at", "pk"))
    assert [e.kind for e in events] == [Kind.CALL_RECEIVED, Kind.CALL_ANSWERED, Kind.CREATED]
    assert [e.at for e in events[:2]] == [received, answered]
    assert {e.actor for e in events} == {call_taker}
    assert tags()[-1] == AuditTag.INCIDENT_CREATED


def test_the_call_taker_may_set_the_priority_and_the_institution(call_taker, world, types):
    incident = from_call(call_taker, world, priority=1, institution=world.police)
    assert (incident.priority, incident.institution) == (1, world.police)


def test_a_call_placed_by_an_address_only_has_no_territory(call_taker, world, types):
    incident = from_call(call_taker, world, lon=None, lat=None, address="Frente al colegio")
    assert (incident.lon, incident.locality, incident.h3_cell) == (None, None, "")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type_code": "no-existe"}, "type"),
        ({"lon": OUTSIDE_POINT[0], "lat": OUTSIDE_POINT[1]}, "location"),
        ({"lon": None, "lat": None, "address": "  "}, "location"),
        ({"lat": None}, "lat"),
        ({"lon": 200.0}, "lon"),
        ({"protocol_answers": {"color-del-carro": "rojo"}}, "protocol_answers"),
        ({"summary": "x" * 301}, "summary"),
        ({"caller_phone": "1" * 40}, "caller_phone"),
        ({"priority": 7}, "priority"),
    ],
    ids=[
        "unknown-type",
        "outside-the-city",
        "nowhere",
        "half-a-point",
        "bad-longitude",
        "unknown-question",
        "long-summary",
        "long-phone",
        "bad-priority",
    ],
)
def test_bad_calls_are_refused_naming_the_field(call_taker, world, types, overrides, field):
    with refused(field):
        from_call(call_taker, world, **overrides)


def test_an_inactive_type_is_unknown(call_taker, world, types):
    types.rina.active = False
    types.rina.save(update_fields=["active"])
    with refused("type"):
        from_call(call_taker, world)


def test_a_point_in_another_city_is_outside_this_one(call_taker, world, types):
    other = CityFactory(slug="otra")
    with refused("location") as caught:
        from_call(call_taker, world, city=other)
    assert other.name in caught.value.message


def test_a_call_cannot_be_answered_before_it_was_received(call_taker, world, types):
    received, _ = call_times()
    with refused("answered_at"):
        from_call(call_taker, world, received_at=received, answered_at=received - timedelta(1))


def test_a_call_cannot_be_answered_in_the_future(call_taker, world, types):
    received = timezone.now()
    with refused("answered_at"):
        from_call(
            call_taker, world, received_at=received, answered_at=received + timedelta(minutes=1)
        )


def test_call_times_need_a_time_zone(call_taker, world, types):
    received, _answered = call_times()
    with refused("received_at"):
        from_call(call_taker, world, received_at=received.replace(tzinfo=None))


# --- An SOS or a report becomes an incident ---------------------------------------------------


@pytest.fixture
def sos_report(world):
    category = CategoryFactory(code="sos-app", urgent=True)
    return ReportFactory(
        city=world.city,
        category=category,
        status=Report.Status.SOS,
        is_urgent=True,
        lon=KENNEDY_POINT[0],
        lat=KENNEDY_POINT[1],
        locality=world.kennedy,
        institution=world.secretariat,
    )


def test_an_sos_becomes_a_p1_incident_once(world, types, sos_report):
    incident, created = check_create_incident_from_report(None, sos_report)
    again, created_again = check_create_incident_from_report(None, sos_report)

    assert (created, created_again) == (True, False)
    assert again.pk == incident.pk
    assert (incident.type, incident.priority) == (types.sos, Priority.P1)
    assert (incident.locality, incident.institution) == (world.kennedy, world.secretariat)
    (source,) = incident.sources.all()
    assert (source.kind, source.report, source.received_at) == (
        IncidentSource.Kind.SOS,
        sos_report,
        sos_report.created_at,
    )
    assert kinds(incident) == [Kind.CREATED]
    assert Incident.objects.count() == 1


def test_staff_promote_a_report_with_a_type(call_taker, world, types):
    report = ReportFactory(city=world.city, description="Atracan en la esquina todas las noches.")
    with refused("type"):
        check_create_incident_from_report(call_taker, report)
    incident, created = check_create_incident_from_report(
        call_taker, report, type_code="robo-violencia"
    )
    assert created
    assert incident.sources.get().kind == IncidentSource.Kind.APP_REPORT
    assert incident.summary.startswith("Atracan")
    assert incident.created_by == call_taker


def test_only_an_sos_becomes_an_incident_by_itself(world, types):
    report = ReportFactory(city=world.city)
    with refused("report"):
        check_create_incident_from_report(None, report, type_code="rina")


def test_a_hidden_report_is_not_promoted(call_taker, world, types):
    report = ReportFactory(city=world.city, is_hidden=True)
    with refused(status=409):
        check_create_incident_from_report(call_taker, report, type_code="rina")


# --- Versions -------------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict_with_the_current_state(dispatcher, incident):
    check_change_priority(dispatcher, incident, priority=1, reason="Hay armas", expected_version=1)
    with refused("expected_version", status=409) as caught:
        check_close(dispatcher, incident, outcome="Se fueron", expected_version=1)
    conflict = caught.value
    assert isinstance(conflict, VersionConflictError)
    assert (conflict.current.version, conflict.current.priority) == (2, 1)
    assert conflict.current.status == Incident.Status.NEW


def test_a_change_made_elsewhere_since_loading_is_a_conflict(dispatcher, incident):
    """The copy in hand says version 1, but the row moved on: the conditional write refuses."""
    elsewhere = Incident.objects.filter(pk=incident.pk).first()
    check_add_note(dispatcher, elsewhere, body="Llaman otra vez")
    with refused("expected_version", status=409) as caught:
        check_close(dispatcher, incident, outcome="Se fueron", expected_version=1)
    assert caught.value.current.version == 2
    assert incident.version == 2  # refreshed: the console can show it


def test_the_version_must_be_a_number(dispatcher, incident):
    with refused("expected_version"):
        check_close(dispatcher, incident, outcome="Se fueron", expected_version="1")


def test_every_write_bumps_the_version(dispatcher, incident):
    check_add_note(dispatcher, incident, body="Nota")
    check_change_priority(dispatcher, incident, priority=1, reason="Armas", expected_version=2)
    check_advance_status(dispatcher, incident, status="dispatched", expected_version=3)
    incident.refresh_from_db()
    assert incident.version == 4


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_on_the_same_version_one_wins(postgres, dispatcher, supervisor, incident):
    """Both load version 1 and act at once: exactly one change is written, the other is a 409."""
    start = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def act(actor, priority: int) -> None:
        try:
            mine = Incident.objects.filter(pk=incident.pk).first()  # both read version 1
            start.wait(timeout=10)
            with transaction.atomic():
                check_change_priority(
                    actor, mine, priority=priority, reason="Triage", expected_version=1
                )
            results.append("won")
        except VersionConflictError as exc:
            results.append(f"conflict at version {exc.current.version}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(dispatcher, 1)),
        threading.Thread(target=act, args=(supervisor, 4)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == ["conflict at version 2", "won"]
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.events.filter(kind=Kind.PRIORITY_CHANGED).count() == 1


# --- Triage and field steps ------------------------------------------------------------------


def test_change_priority(dispatcher, incident):
    check_change_priority(dispatcher, incident, priority=1, reason="Hay armas", expected_version=1)
    event = incident.events.get()
    assert (event.kind, event.data, event.body) == (
        Kind.PRIORITY_CHANGED,
        {"from": 2, "to": 1},
        "Hay armas",
    )
    assert tags()[-1] == AuditTag.INCIDENT_PRIORITY_CHANGED
    with refused(status=409):
        check_change_priority(dispatcher, incident, priority=1, reason="x", expected_version=2)
    with refused("priority"):
        check_change_priority(dispatcher, incident, priority=0, reason="x", expected_version=2)
    with refused("reason"):
        check_change_priority(dispatcher, incident, priority=3, reason=" ", expected_version=2)


def test_field_steps_move_forward_only(dispatcher, incident):
    check_advance_status(
        dispatcher, incident, status="dispatched", expected_version=1, data={"unit": "P-12"}
    )
    check_advance_status(None, incident, status="on_scene", expected_version=2)  # skips en route
    assert incident.status == Incident.Status.ON_SCENE
    assert kinds(incident) == [Kind.DISPATCHED, Kind.ON_SCENE]
    assert incident.events.first().data == {"unit": "P-12"}
    with refused("status", status=409):
        check_advance_status(dispatcher, incident, status="en_route", expected_version=3)
    with refused("status"):
        check_advance_status(dispatcher, incident, status="closed", expected_version=3)


def test_notes_need_a_body(dispatcher, incident):
    with refused("body"):
        check_add_note(dispatcher, incident, body="   ")
    event = check_add_note(dispatcher, incident, body="El vecino confirma", expected_version=1)
    assert (event.kind, event.actor, incident.version) == (Kind.NOTE, dispatcher, 2)


def test_update_relocates_the_incident(dispatcher, world, incident):
    check_update_incident(
        dispatcher, incident, expected_version=1, lon=SUBA_POINT[0], lat=SUBA_POINT[1]
    )
    assert (incident.locality, incident.neighbourhood) == (world.suba, None)
    assert incident.events.get().data == {
        "fields": ["h3_cell", "lat", "locality", "lon", "neighbourhood"]
    }
    with refused("location"):
        check_update_incident(
            dispatcher, incident, expected_version=2, lon=OUTSIDE_POINT[0], lat=OUTSIDE_POINT[1]
        )
    with refused(status=409):
        check_update_incident(dispatcher, incident, expected_version=2, summary=incident.summary)


# --- Hand-off, referral, closure --------------------------------------------------------------


def test_transfer_to_another_institution(dispatcher, world, incident):
    prosecutor = InstitutionFactory(city=world.city, slug="fiscalia", kind="prosecutor")
    check_transfer(
        dispatcher, incident, to_institution=prosecutor, reason="Denuncia", expected_version=1
    )
    event = incident.events.get()
    assert (incident.institution, event.kind, event.institution) == (
        prosecutor,
        Kind.TRANSFERRED,
        prosecutor,
    )
    assert event.data == {"from": world.police.pk, "to": prosecutor.pk}
    assert tags()[-1] == AuditTag.INCIDENT_TRANSFERRED


def test_bad_transfers_are_refused(dispatcher, world, incident):
    elsewhere = InstitutionFactory(slug="lejos")
    with refused("reason"):
        check_transfer(
            dispatcher, incident, to_institution=world.secretariat, reason="", expected_version=1
        )
    with refused("to_institution", status=409):
        check_transfer(
            dispatcher, incident, to_institution=world.police, reason="x", expected_version=1
        )
    with refused("to_institution"):
        check_transfer(
            dispatcher, incident, to_institution=elsewhere, reason="x", expected_version=1
        )


def test_a_referral_without_consent_is_refused(dispatcher, world, incident):
    for consent in (False, None, "yes"):
        with refused("consent_given"):
            check_record_referral(
                dispatcher,
                incident,
                service=world.justice_house,
                consent_given=consent,
                consent_note="",
            )


def test_a_referral_with_consent_is_in_the_timeline_and_the_audit_log(dispatcher, world, incident):
    with refused("consent_note"):
        check_record_referral(
            dispatcher, incident, service=world.justice_house, consent_given=True, consent_note=""
        )
    event = check_record_referral(
        dispatcher,
        incident,
        service=world.justice_house,
        consent_given=True,
        consent_note="La víctima aceptó por teléfono a las 22:10.",
    )
    assert event.kind == Kind.REFERRED
    assert event.data["consent"] is True
    assert event.data["service"] == world.justice_house.pk
    entry = AuditEvent.objects.order_by("-seq").first()
    assert entry.tag == AuditTag.INCIDENT_VICTIM_REFERRED
    assert entry.reason == "La víctima aceptó por teléfono a las 22:10."


def test_a_referral_to_another_city_is_refused(dispatcher, incident):
    service = JusticeServiceFactory()
    with refused("service"):
        check_record_referral(
            dispatcher, incident, service=service, consent_given=True, consent_note="Sí"
        )


def test_close_and_reopen(dispatcher, world, incident):
    with refused("outcome"):
        check_close(dispatcher, incident, outcome=" ", expected_version=1)
    with refused(status=409):
        check_reopen(dispatcher, incident, reason="x", expected_version=1)
    check_close(dispatcher, incident, outcome="Se dispersaron", expected_version=1)
    assert (incident.status, incident.outcome) == (Incident.Status.CLOSED, "Se dispersaron")
    assert incident.closed_at is not None
    with refused(status=409):
        check_close(dispatcher, incident, outcome="otra vez", expected_version=2)
    with refused(status=409):  # a closed incident is not handed over
        check_transfer(
            dispatcher, incident, to_institution=world.secretariat, reason="x", expected_version=2
        )
    check_reopen(dispatcher, incident, reason="Volvieron", expected_version=2)
    assert (incident.status, incident.closed_at) == (Incident.Status.NEW, None)
    assert kinds(incident) == [Kind.CLOSED, Kind.REOPENED]
    assert tags()[-2:] == [AuditTag.INCIDENT_CLOSED, AuditTag.INCIDENT_REOPENED]


def test_recording_a_view_is_audited(dispatcher, incident):
    with transaction.atomic():
        do_record_incident_view(dispatcher, incident)
    assert tags()[-1] == AuditTag.INCIDENT_VIEWED


# --- Linking and merging -----------------------------------------------------------------------


@pytest.fixture
def duplicate(world, types, incident):
    """A second call about the same fight, P1 because the caller saw a knife."""
    dup = IncidentFactory(city=world.city, type=types.rina, priority=1, locality=world.kennedy)
    IncidentSourceFactory(incident=dup, caller_phone="3100000000")
    IncidentSourceFactory(incident=dup, kind=IncidentSource.Kind.PANIC_BUTTON)
    IncidentSourceFactory(incident=incident)
    check_add_note(None, dup, body="El llamante vio un cuchillo")
    return dup


def test_merge_keeps_every_source_and_both_timelines(dispatcher, incident, duplicate):
    before = rows()
    check_merge_incident(
        dispatcher,
        duplicate,
        incident,
        reason="Misma riña",
        expected_versions={duplicate.pk: 2, incident.pk: 1},
    )
    duplicate.refresh_from_db()
    assert duplicate.status == Incident.Status.CLOSED
    assert (duplicate.merged_into, duplicate.outcome) == (incident, "Misma riña")
    assert incident.sources.count() == 3
    assert duplicate.sources.count() == 0
    assert kinds(duplicate) == [Kind.NOTE, Kind.MERGED]  # its own history stays with it
    assert kinds(incident) == [Kind.MERGED, Kind.PRIORITY_CHANGED]
    assert incident.priority == 1  # the more urgent of the two
    assert Incident.objects.count() == before["incidents"]
    assert IncidentSource.objects.count() == before["sources"]
    assert IncidentEvent.objects.count() == before["events"] + 3
    assert tags()[-2:] == [AuditTag.INCIDENT_MERGED, AuditTag.INCIDENT_MERGED]
    with refused(status=409):  # a merged duplicate is not reopened: work on the survivor
        check_reopen(dispatcher, duplicate, reason="x", expected_version=3)


def test_bad_merges_are_refused(dispatcher, world, incident, duplicate):
    versions = {duplicate.pk: 2, incident.pk: 1}
    with refused("incident"):
        check_merge_incident(
            dispatcher, incident, incident, reason="x", expected_versions={incident.pk: 1}
        )
    with refused("reason"):
        check_merge_incident(dispatcher, duplicate, incident, reason="", expected_versions=versions)
    with refused("expected_versions"):
        check_merge_incident(
            dispatcher, duplicate, incident, reason="x", expected_versions={incident.pk: 1}
        )
    with refused("expected_version", status=409):
        check_merge_incident(
            dispatcher,
            duplicate,
            incident,
            reason="x",
            expected_versions={**versions, duplicate.pk: 1},
        )
    other_city = IncidentFactory()
    with refused("incident"):
        check_merge_incident(
            dispatcher,
            other_city,
            incident,
            reason="x",
            expected_versions={other_city.pk: 1, incident.pk: 1},
        )


def test_link_two_incidents(dispatcher, incident, duplicate):
    versions = {duplicate.pk: 2, incident.pk: 1}
    check_link_incidents(
        dispatcher, incident, duplicate, reason="Misma zona", expected_versions=versions
    )
    assert list(incident.linked.all()) == [duplicate]
    assert list(duplicate.linked.all()) == [incident]
    assert kinds(incident) == [Kind.LINKED]
    assert incident.events.get().data == {"incident": duplicate.pk}
    assert (incident.version, duplicate.version) == (2, 3)
    assert incident.is_open
    assert duplicate.is_open
    with refused(status=409):
        check_link_incidents(
            dispatcher,
            duplicate,
            incident,
            reason="otra vez",
            expected_versions={duplicate.pk: 3, incident.pk: 2},
        )


def test_update_the_words_and_the_address_only(dispatcher, incident):
    point = (incident.lon, incident.lat)
    check_update_incident(
        dispatcher, incident, expected_version=1, description="Ya son diez", address="Parque"
    )
    assert (incident.description, incident.address) == ("Ya son diez", "Parque")
    assert (incident.lon, incident.lat) == point
    assert incident.events.get().data == {"fields": ["address", "description"]}


def test_a_referral_may_carry_the_version_seen(dispatcher, world, incident):
    with refused("expected_version", status=409):
        check_record_referral(
            dispatcher,
            incident,
            service=world.justice_house,
            consent_given=True,
            consent_note="Sí",
            expected_version=7,
        )
    check_record_referral(
        dispatcher,
        incident,
        service=world.justice_house,
        consent_given=True,
        consent_note="Sí",
        expected_version=1,
    )
    assert incident.version == 2


def test_merging_a_less_urgent_duplicate_keeps_the_priority(dispatcher, world, types, incident):
    dup = IncidentFactory(city=world.city, type=types.rina, priority=4)
    check_merge_incident(
        dispatcher, dup, incident, reason="Igual", expected_versions={dup.pk: 1, incident.pk: 1}
    )
    assert incident.priority == 2
    assert kinds(incident) == [Kind.MERGED]


def test_a_report_that_is_gone_is_not_promoted(call_taker, world, types):
    with refused(status=404):
        check_create_incident_from_report(call_taker, ReportFactory.build(pk=987654))
