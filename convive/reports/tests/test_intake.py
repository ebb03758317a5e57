"""Intake (``check_create_report``) and the citizen's follow-up: every rule, and that a refused
submission writes nothing at all."""

import asyncio
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from convive.accounts.tests.factories import UserFactory
from convive.core.errors import ActionError
from convive.core.geo import h3_cell
from convive.reports.actions import (
    SOS_GROUP,
    ReportInput,
    check_add_citizen_message,
    check_change_status,
    check_create_report,
    check_hide,
    check_rate_report,
    check_support_report,
)
from convive.reports.models import (
    Report,
    ReportEvent,
    ReportingRestriction,
    ReportPhoto,
    Supporter,
)
from convive.territories.tests.factories import CityFactory, LayerFactory, TerritoryFactory

KENNEDY_POINT = (-74.15, 4.60)  # inside Kennedy and its neighbourhood Timiza
SUBA_POINT = (-74.05, 4.70)


def report_input(**overrides) -> ReportInput:
    lon, lat = KENNEDY_POINT
    values = {
        "category_code": "alumbrado",
        "idempotency_key": uuid.uuid4().hex,
        "channel": Report.Channel.WEB,
        "lon": lon,
        "lat": lat,
        "description": "El poste de la esquina lleva una semana apagado.",
    }
    return ReportInput(**{**values, **overrides})


def rows() -> dict[str, int]:
    return {
        "reports": Report.objects.count(),
        "photos": ReportPhoto.objects.count(),
        "events": ReportEvent.objects.count(),
        "supporters": Supporter.objects.count(),
    }


@contextmanager
def refused(field=None, status=400):
    """The block raises an ActionError for ``field`` with ``status`` and writes no row at all."""
    before = rows()
    with pytest.raises(ActionError) as caught:
        yield caught
    assert (caught.value.field, caught.value.status) == (field, status), caught.value.message
    assert rows() == before


def a_photo() -> SimpleUploadedFile:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "green").save(buffer, "JPEG")
    return SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")


# --- Idempotency ------------------------------------------------------------------------------


def test_the_same_key_twice_makes_one_report(catalogue):
    data = report_input(idempotency_key="phone-7f3a-0001")

    first, created_first = check_create_report(None, data, photos=[a_photo()])
    second, created_second = check_create_report(None, data, photos=[a_photo()])

    assert (created_first, created_second) == (True, False)
    assert second.pk == first.pk
    assert rows() == {"reports": 1, "photos": 1, "events": 1, "supporters": 0}


def test_a_retry_with_the_same_key_is_answered_even_if_it_would_now_be_refused(catalogue):
    data = report_input(idempotency_key="phone-7f3a-0002")
    first, _ = check_create_report(None, data)
    catalogue.alumbrado.active = False
    catalogue.alumbrado.save(update_fields=["active"])

    again, created = check_create_report(None, data)

    assert (again.pk, created) == (first.pk, False)


@pytest.mark.parametrize(
    "key",
    ["", "       ", "short", "x" * 81, "clave-con-ñandú", "tab\tinside-key", "line\nbreak-key"],
    ids=["empty", "blank", "short", "long", "non-ascii", "tab", "newline"],
)
def test_a_bad_idempotency_key_is_refused(catalogue, key):
    with refused("idempotency_key"):
        check_create_report(None, report_input(idempotency_key=key))


def test_keys_are_compared_without_surrounding_spaces(catalogue):
    first, _ = check_create_report(None, report_input(idempotency_key="abcdefgh-1"))
    again, created = check_create_report(None, report_input(idempotency_key="  abcdefgh-1 "))
    assert (again.pk, created) == (first.pk, False)


def _wait_for_a_lock_waiter(timeout: float = 10.0) -> None:
    """Poll until another backend of this database waits on a lock (PostgreSQL)."""
    deadline = timezone.now() + timedelta(seconds=timeout)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for the transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
    raise AssertionError("the second submission never waited on the first one's key")


@pytest.mark.django_db(transaction=True)
def test_the_same_key_from_two_threads_at_once_makes_one_report(postgres, catalogue):
    """The second insert waits on the unique key until the first commits, then answers with it."""
    data = report_input(idempotency_key="double-tap-0001")
    first_inserted = threading.Event()
    results: dict[str, tuple[Report, bool]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        with transaction.atomic():
            results["first"] = check_create_report(None, data)
            first_inserted.set()
            _wait_for_a_lock_waiter()  # the twin is blocked on our uncommitted key

    def second() -> None:
        first_inserted.wait(timeout=10)
        with transaction.atomic():
            results["second"] = check_create_report(None, data)

    def run(work):
        def target():
            try:
                work()
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=target)

    threads = [run(first), run(second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    (report_a, created_a), (report_b, created_b) = results["first"], results["second"]
    assert (created_a, created_b) == (True, False)
    assert report_a.pk == report_b.pk
    assert Report.objects.filter(idempotency_key="double-tap-0001").count() == 1
    assert ReportEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_threads_with_one_key_make_one_report(postgres, catalogue):
    data = report_input(idempotency_key="reconnect-storm-1")
    start = threading.Barrier(6)
    results: list[tuple[Report, bool]] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic():
                results.append(check_create_report(None, data))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(created for _report, created in results) == [False] * 5 + [True]
    assert len({report.pk for report, _created in results}) == 1
    assert Report.objects.count() == 1


# --- What is refused, and where --------------------------------------------------------------


def test_an_unknown_category_is_refused(catalogue):
    with refused("category"):
        check_create_report(None, report_input(category_code="no-existe"))


def test_an_inactive_category_is_refused(catalogue):
    check_create_report(None, report_input(category_code="ruido", answers={"horario": "dia"}))
    catalogue.ruido.active = False
    catalogue.ruido.save(update_fields=["active"])
    with refused("category"):
        check_create_report(None, report_input(category_code="ruido", answers={"horario": "dia"}))


def test_an_sos_needs_an_urgent_category(catalogue):
    with refused("category"):
        check_create_report(None, report_input(category_code="alumbrado", sos=True))
    report, _ = check_create_report(None, report_input(category_code="sos", sos=True))
    assert report.status == Report.Status.SOS


def test_a_report_needs_a_place(catalogue):
    with refused("address"):
        check_create_report(None, report_input(lon=None, lat=None, address="   "))


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [(-74.15, None, "lat"), (None, 4.60, "lon")],
    ids=["no-latitude", "no-longitude"],
)
def test_half_a_point_is_refused_naming_the_missing_half(catalogue, lon, lat, field):
    with refused(field):
        check_create_report(None, report_input(lon=lon, lat=lat, address="Calle 40 sur"))


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (10.0, 10.0, "lat"),  # a real place, far from every city served
        (-74.15, 91.0, "lat"),
        (-181.0, 4.60, "lon"),
        (float("nan"), 4.60, "lon"),
        (-74.15, float("inf"), "lat"),
    ],
    ids=["outside-every-city", "lat-range", "lon-range", "nan", "inf"],
)
def test_a_point_outside_every_city_or_the_globe_is_refused(catalogue, lon, lat, field):
    with refused(field):
        check_create_report(None, report_input(lon=lon, lat=lat), photos=[a_photo()])


def test_a_point_in_another_city_than_the_one_named_is_refused(catalogue):
    other = CityFactory(slug="otra", name="Otra Ciudad")
    with refused("lat"):
        check_create_report(None, report_input(city=other))


def test_the_description_is_limited_to_4000_characters(catalogue):
    with refused("description"):
        check_create_report(None, report_input(description="a" * 4001))
    report, _ = check_create_report(None, report_input(description="a" * 4000))
    assert len(report.description) == 4000


def test_bad_answers_or_a_bad_photo_write_nothing(catalogue):
    with refused("attribute[horario]"):
        check_create_report(None, report_input(category_code="ruido", answers={}))
    fake = SimpleUploadedFile("foto.jpg", b"not a photo at all", content_type="image/jpeg")
    with refused("photos", status=415):
        check_create_report(None, report_input(), photos=[a_photo(), fake])


LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63]) + ".co"  # 259 characters


@pytest.mark.parametrize("email", ["ana@@example", "ana", LONG_EMAIL], ids=["@@", "no-at", "long"])
def test_an_invalid_contact_email_is_refused(catalogue, citizen, email):
    with refused("contact_email"):
        check_create_report(citizen, report_input(contact_email=email))
    # Anonymous: the contact is dropped, so it is not judged either.
    report, _ = check_create_report(citizen, report_input(contact_email=email, anonymous=True))
    assert report.contact_email == ""


def test_coordinates_given_as_text_are_stored_as_numbers(world, catalogue):
    report, _ = check_create_report(None, report_input(lon="-74.15", lat=" 4.60"))
    report.refresh_from_db()
    assert (report.lon, report.lat, report.locality) == (-74.15, 4.60, world.kennedy)
    assert report.h3_cell == h3_cell(-74.15, 4.60)


# --- What a report looks like ----------------------------------------------------------------


def test_the_place_fills_locality_neighbourhood_and_h3_cell(world, catalogue):
    lon, lat = KENNEDY_POINT
    report, _ = check_create_report(None, report_input(address="  Cra 78 # 40-10 sur  "))

    assert (report.city, report.locality, report.neighbourhood) == (
        world.city,
        world.kennedy,
        world.timiza,
    )
    assert report.h3_cell == h3_cell(lon, lat)
    assert report.address == "Cra 78 # 40-10 sur"
    assert (report.status, report.is_urgent) == (Report.Status.RECEIVED, False)
    assert report.institution == world.secretariat  # alumbrado: city-wide rule
    created = report.events.get()
    assert (created.kind, created.public, created.status) == (
        ReportEvent.Kind.CREATED,
        True,
        Report.Status.RECEIVED,
    )


def test_a_point_outside_every_neighbourhood_has_a_locality_only(world, catalogue):
    lon, lat = SUBA_POINT
    report, _ = check_create_report(None, report_input(lon=lon, lat=lat))
    assert (report.locality, report.neighbourhood) == (world.suba, None)


def test_an_address_only_report_lands_in_the_only_city(world, catalogue):
    report, _ = check_create_report(None, report_input(lon=None, lat=None, address="Parque Timiza"))
    assert (report.city, report.locality, report.h3_cell, report.lon) == (
        world.city,
        None,
        "",
        None,
    )


def test_an_address_only_report_names_its_city_when_there_are_several(world, catalogue):
    other = CityFactory(slug="otra", name="Otra Ciudad")
    with refused("city"):
        check_create_report(None, report_input(lon=None, lat=None, address="Parque Timiza"))
    report, _ = check_create_report(
        None, report_input(lon=None, lat=None, address="Plaza Mayor", city=other)
    )
    assert report.city == other


async def _receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=2)


def test_an_urgent_category_makes_an_sos_announced_after_commit(
    world, catalogue, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SOS_GROUP, channel)
    lon, lat = KENNEDY_POINT

    with django_capture_on_commit_callbacks(execute=False) as pending:
        report, _ = check_create_report(None, report_input(category_code="sos", anonymous=True))
    assert pending  # queued, not sent: a rolled-back SOS would never be announced
    for callback in pending:
        callback()
    message = async_to_sync(_receive)(layer, channel)

    assert (report.status, report.is_urgent) == (Report.Status.SOS, True)
    assert message["type"] == "sos_received"
    assert message["event"] == {
        "report_id": report.pk,
        "category": "sos",
        "city": "testopolis",
        "lon": lon,
        "lat": lat,
        "address": "",
        "created_at": report.created_at.isoformat(),
        "type": "sos.received",
    }
    async_to_sync(layer.group_discard)(SOS_GROUP, channel)


def test_a_non_urgent_report_announces_no_sos(catalogue, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SOS_GROUP, channel)
    with django_capture_on_commit_callbacks(execute=True):
        check_create_report(None, report_input())
    with pytest.raises(asyncio.TimeoutError):
        async_to_sync(_receive)(layer, channel)
    async_to_sync(layer.group_discard)(SOS_GROUP, channel)


def test_an_anonymous_report_keeps_nobody(catalogue, citizen):
    report, _ = check_create_report(
        citizen,
        report_input(
            anonymous=True,
            contact_name="Ana Pérez",
            contact_email="ana@example.org",
            contact_phone="+57 300 000 0000",
        ),
    )
    report.refresh_from_db()
    assert report.is_anonymous
    assert (report.reporter, report.contact_name, report.contact_email, report.contact_phone) == (
        None,
        "",
        "",
        "",
    )
    assert report.events.get().author is None


def test_a_named_report_keeps_the_account_and_the_contact(catalogue, citizen):
    report, _ = check_create_report(
        citizen,
        report_input(contact_name=" Ana ", contact_email="ana@example.org", contact_phone="300"),
    )
    assert (report.reporter, report.contact_name, report.contact_email, report.contact_phone) == (
        citizen,
        "Ana",
        "ana@example.org",
        "300",
    )


def test_a_logged_out_visitor_passed_as_the_reporter_is_nobody(catalogue):
    report, created = check_create_report(AnonymousUser(), report_input())
    assert created
    assert report.reporter is None


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_a_restricted_account_may_not_report_until_the_restriction_ends(
    catalogue, citizen, dispatcher, anonymous
):
    restriction = ReportingRestriction.objects.create(
        user=citizen, until=timezone.now() + timedelta(days=2), reason="spam", created_by=dispatcher
    )
    with refused(None, status=429) as caught:
        check_create_report(citizen, report_input(anonymous=anonymous))
    assert timezone.localtime(restriction.until).strftime("%Y-%m-%d") in caught.value.message

    restriction.until = timezone.now() - timedelta(seconds=1)
    restriction.save(update_fields=["until"])
    report, created = check_create_report(citizen, report_input(anonymous=anonymous))
    assert created
    assert report.reporter == (None if anonymous else citizen)


def test_a_restriction_of_another_account_changes_nothing(catalogue, citizen, dispatcher):
    other = UserFactory(username="otra")
    ReportingRestriction.objects.create(
        user=other, until=timezone.now() + timedelta(days=2), reason="spam", created_by=dispatcher
    )
    _report, created = check_create_report(citizen, report_input())
    assert created


def test_the_photos_are_stored_clean_under_a_random_name(catalogue):
    report, _ = check_create_report(None, report_input(), photos=[a_photo(), a_photo()])
    photos = list(report.photos.all())
    assert len(photos) == 2
    for photo in photos:
        assert "IMG_0001" not in photo.image.name
        assert photo.image.name.endswith(".jpg")
        assert (photo.width, photo.height) == (30, 20)
        assert photo.size_bytes == photo.image.size


# --- After reporting: messages, rating, "me too" ---------------------------------------------


@pytest.fixture
def report(catalogue, citizen):
    report, _ = check_create_report(citizen, report_input(category_code="robo"))
    return report


def close(report, dispatcher):
    return check_change_status(dispatcher, report, status=Report.Status.RESOLVED, text="Listo.")


def test_the_citizen_adds_a_message(report, citizen):
    event = check_add_citizen_message(report, body="  Pasó otra vez anoche.  ", author=citizen)
    assert (event.kind, event.public, event.body, event.author) == (
        ReportEvent.Kind.CITIZEN,
        True,
        "Pasó otra vez anoche.",
        citizen,
    )


@pytest.mark.parametrize(
    ("body", "field"), [("   ", "body"), ("a" * 4001, "body")], ids=["empty", "long"]
)
def test_a_citizen_message_needs_text_of_at_most_4000_characters(report, body, field):
    with refused(field):
        check_add_citizen_message(report, body=body, author=None)


def test_a_hidden_report_takes_no_more_messages(report, dispatcher):
    check_hide(dispatcher, report, reason="Insultos")
    with refused(None, status=409):
        check_add_citizen_message(report, body="¿Por qué?", author=None)


def test_a_message_on_an_anonymous_report_names_nobody_even_when_logged_in(catalogue, citizen):
    report, _ = check_create_report(citizen, report_input(anonymous=True))
    event = check_add_citizen_message(report, body="Sigue apagado.", author=citizen)
    assert event.author is None
    assert not ReportEvent.objects.filter(author=citizen).exists()


def test_the_answer_is_rated_once_when_closed(report, dispatcher):
    with refused(None, status=409):
        check_rate_report(report, rating=5, comment="")
    close(report, dispatcher)

    rated = check_rate_report(report, rating=4, comment="  Rápido.  ")

    assert (rated.rating, rated.rating_comment) == (4, "Rápido.")
    event = report.events.get(kind=ReportEvent.Kind.RATED)
    assert (event.public, event.body) == (False, "4/5 Rápido.")
    with refused(None, status=409):
        check_rate_report(report, rating=5, comment="")


@pytest.mark.parametrize("rating", [0, 6, -1, "5", True, 4.5], ids=str)
def test_a_rating_goes_from_1_to_5(report, dispatcher, rating):
    close(report, dispatcher)
    with refused("rating"):
        check_rate_report(report, rating=rating, comment="")


@pytest.mark.parametrize("status", [Report.Status.CLOSED, Report.Status.REJECTED])
def test_closed_and_rejected_answers_can_be_rated(report, dispatcher, status):
    check_change_status(dispatcher, report, status=status, text="Motivo.")
    assert check_rate_report(report, rating=1, comment="").rating == 1


def test_me_too_is_idempotent_and_counted(report, catalogue):
    neighbour = UserFactory(username="vecino")

    supporter, created = check_support_report(
        report, user=neighbour, email="", phone="301", idempotency_key="metoo-0001"
    )
    again, created_again = check_support_report(
        report, user=neighbour, email="", phone="301", idempotency_key="metoo-0001"
    )
    anonymous, _ = check_support_report(
        report, user=None, email="x@example.org", phone="", idempotency_key="metoo-0002"
    )

    assert (created, created_again, again.pk) == (True, False, supporter.pk)
    assert anonymous.user is None
    report.refresh_from_db()
    assert report.supporters_count == 2
    assert report.events.filter(kind=ReportEvent.Kind.SUPPORTED).count() == 2


def test_me_too_only_once_per_account(report, citizen):
    neighbour = UserFactory(username="vecino")
    check_support_report(report, user=neighbour, email="", phone="", idempotency_key="metoo-0001")
    with refused(None, status=409):
        check_support_report(
            report, user=neighbour, email="", phone="", idempotency_key="metoo-0002"
        )
    with refused(None, status=409):  # the reporter follows it already
        check_support_report(report, user=citizen, email="", phone="", idempotency_key="metoo-0003")


def test_me_too_needs_a_key_and_a_valid_email(report):
    with refused("idempotency_key"):
        check_support_report(report, user=None, email="", phone="", idempotency_key="x")
    for email in ("no@", LONG_EMAIL):
        with refused("email"):
            check_support_report(
                report, user=None, email=email, phone="", idempotency_key="metoo-0004"
            )


def test_me_too_keeps_a_phone_number_the_column_can_hold(report):
    supporter, _ = check_support_report(
        report, user=None, email="", phone="+57 " + "3" * 40, idempotency_key="metoo-0005"
    )
    supporter.refresh_from_db()
    assert len(supporter.contact_phone) == 32


def test_no_me_too_on_closed_or_hidden_reports(report, catalogue, dispatcher):
    other, _ = check_create_report(None, report_input())
    close(report, dispatcher)
    check_hide(dispatcher, other, reason="Duplicado")
    for target in (report, other):
        with refused(None, status=409):
            check_support_report(
                target, user=None, email="", phone="", idempotency_key=uuid.uuid4().hex
            )


def test_a_boundary_gap_point_goes_to_the_fallback_queue_not_an_error(world, catalogue):
    """A GPS fix a few metres off a shared corner lands in no locality but is not refused."""
    report, _ = check_create_report(
        None,
        report_input(category_code="ruido", lon=-74.09997, lat=4.65997, answers={"horario": "dia"}),
    )
    assert (report.city, report.locality, report.institution) == (world.city, None, None)
    assert "Kennedy" in report.routing_note
    assert "Suba" in report.routing_note


def test_a_second_city_is_found_by_its_territories(catalogue):
    other = CityFactory(slug="bordeville", name="Bordeville")
    layer = LayerFactory(city=other, slug="locality")
    TerritoryFactory(layer=layer, code="01", name="Centro", bounds=(-75.2, 5.0, -75.1, 5.1))
    report, _ = check_create_report(None, report_input(lon=-75.15, lat=5.05))
    assert report.city == other
    assert report.institution is None  # Bordeville has no rules yet
