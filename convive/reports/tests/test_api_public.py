"""``/api/v1/reports``: nearby reports, "me too", following with the tracking code, my reports."""

import json
import uuid

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import login
from convive.core.geo import h3_cell
from convive.core.ratelimit import Limit
from convive.reports import api
from convive.reports.actions import check_change_status, check_reply
from convive.reports.models import Category, Report, ReportEvent, Supporter
from convive.reports.tests.factories import ReportFactory

URL = "/api/v1/reports"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HERE = (-74.15, 4.60)  # lon, lat in Kennedy
METRES_PER_DEGREE_LAT = 111_195.0


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def post(client, path: str, payload: dict, **headers):
    return client.post(
        f"{URL}{path}", json.dumps(payload), content_type="application/json", **EN, **headers
    )


def place(world, category, *, north_m: float = 0.0, **fields) -> Report:
    """A report ``north_m`` metres north of HERE."""
    lon, lat = HERE[0], HERE[1] + north_m / METRES_PER_DEGREE_LAT
    return ReportFactory(
        city=world.city, category=category, lon=lon, lat=lat, h3_cell=h3_cell(lon, lat), **fields
    )


def key() -> str:
    return uuid.uuid4().hex


# --- Nearby ------------------------------------------------------------------------------------


def nearby(client, category: str, lon=HERE[0], lat=HERE[1]):
    return client.get(f"{URL}/nearby", {"category": category, "lat": lat, "lon": lon}, **EN)


def test_nearby_lists_open_reports_within_300_m_newest_first(client, world, catalogue):
    old = place(world, catalogue.ruido, north_m=100)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=1))
    new = place(world, catalogue.ruido, north_m=250, supporters_count=3)
    place(world, catalogue.ruido, north_m=450)  # too far
    place(world, catalogue.ruido, north_m=50, status=Report.Status.CLOSED)
    place(world, catalogue.ruido, north_m=50, is_hidden=True)
    place(world, catalogue.alumbrado, north_m=10)  # another category
    body = nearby(client, "ruido").json()
    assert [r["id"] for r in body["data"]] == [new.pk, old.pk]
    assert body["count"] == 2
    first = body["data"][0]
    assert set(first) == {
        "id",
        "category",
        "status",
        "distance_m",
        "supporters_count",
        "created_at",
        "description",
    }
    assert 245 <= first["distance_m"] <= 255
    assert first["supporters_count"] == 3
    assert first["description"] == new.description


def test_nearby_follows_the_publication_policy(client, world, catalogue):
    place(world, catalogue.robo, north_m=20)
    assert nearby(client, "robo").json() == {"data": [], "count": 0}
    catalogue.alumbrado.publication = Category.Publication.COARSE
    catalogue.alumbrado.save()
    place(world, catalogue.alumbrado, north_m=120)
    [item] = nearby(client, "alumbrado").json()["data"]
    assert item["description"] is None
    assert item["distance_m"] == 200  # to the next 100 m


def test_nearby_keeps_ten_at_most(client, world, catalogue):
    for _ in range(12):
        place(world, catalogue.ruido, north_m=30)
    assert nearby(client, "ruido").json()["count"] == 10


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"category": "nope", "lat": 4.6, "lon": -74.15}, 400),
        ({"category": "ruido", "lat": 95, "lon": -74.15}, 400),
        ({"category": "ruido", "lat": "x", "lon": -74.15}, 422),
        ({"category": "ruido"}, 422),
    ],
)
def test_nearby_bad_input(client, catalogue, params, status):
    response = client.get(f"{URL}/nearby", params)
    assert response.status_code == status
    assert response.json()["ok"] is False


# --- Me too ------------------------------------------------------------------------------------


def test_support_counts_once_per_key(client, world, catalogue):
    report = place(world, catalogue.ruido)
    payload = {"idempotency_key": key(), "email": "vecino@example.org"}
    first = post(client, f"/{report.pk}/support", payload)
    again = post(client, f"/{report.pk}/support", payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"report_id": report.pk, "supporters_count": 1}
    assert again.json()["supporters_count"] == 1
    assert Supporter.objects.get().contact_email == "vecino@example.org"


def test_support_attaches_the_account_once(client, world, catalogue, citizen):
    report = place(world, catalogue.ruido)
    login(client, citizen)
    assert post(client, f"/{report.pk}/support", {"idempotency_key": key()}).status_code == 201
    response = post(client, f"/{report.pk}/support", {"idempotency_key": key()})
    assert response.status_code == 409
    assert Supporter.objects.get().user == citizen


def test_support_only_for_public_open_reports(client, world, catalogue):
    private = place(world, catalogue.robo)
    hidden = place(world, catalogue.ruido, is_hidden=True)
    for report in (private, hidden):
        response = post(client, f"/{report.pk}/support", {"idempotency_key": key()})
        assert response.status_code == 404
    closed = place(world, catalogue.ruido, status=Report.Status.CLOSED)
    assert post(client, f"/{closed.pk}/support", {"idempotency_key": key()}).status_code == 409
    assert post(client, "/999999/support", {"idempotency_key": key()}).status_code == 404
    assert not Supporter.objects.exists()


def test_a_support_key_of_another_report_is_a_conflict(client, world, catalogue):
    one, two = place(world, catalogue.ruido), place(world, catalogue.ruido)
    payload = {"idempotency_key": key()}
    post(client, f"/{one.pk}/support", payload)
    assert post(client, f"/{two.pk}/support", payload).status_code == 409
    assert Supporter.objects.count() == 1


def test_support_bad_email_or_phone_is_422(client, world, catalogue):
    report = place(world, catalogue.ruido)
    response = post(client, f"/{report.pk}/support", {"idempotency_key": key(), "email": "x"})
    assert response.status_code == 422
    response = post(client, f"/{report.pk}/support", {"idempotency_key": key(), "phone": "?"})
    assert response.status_code == 422


# --- Following with the tracking code ------------------------------------------------------------


@pytest.fixture
def followed(world, catalogue, supervisor):
    """A police report in Kennedy with a reply, an internal note and a status change."""
    report = place(world, catalogue.robo, institution=world.police)
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.CREATED, status="received")
    with transaction.atomic():
        check_reply(supervisor, report, body="Estamos revisando las cámaras.")
        ReportEvent.objects.create(
            report=report, kind=ReportEvent.Kind.NOTE, public=False, author=supervisor, body="ojo"
        )
        check_change_status(supervisor, report, status=Report.Status.IN_PROGRESS, text="")
    return report


def test_track_shows_the_public_timeline_without_staff_names(client, followed, supervisor):
    code = followed.display_code.lower()  # as a person might type it
    body = client.get(f"{URL}/track/{code}").json()
    assert body["display_code"] == followed.display_code
    assert body["status"] == "in_progress"
    assert body["institution"] == "Policía Metropolitana"
    assert [e["kind"] for e in body["timeline"]] == ["created", "reply", "status"]
    assert body["timeline"][1]["body"] == "Estamos revisando las cámaras."
    assert body["timeline"][1]["institution"] == "Policía Metropolitana"
    assert body["can_rate"] is False
    assert body["photos_count"] == 0
    text = json.dumps(body)
    assert "ojo" not in text
    assert supervisor.username not in text


def test_track_unknown_code_is_404(client, db):
    response = client.get(f"{URL}/track/AAAA-BBBB-CCCC")
    assert response.status_code == 404
    assert response.json()["ok"] is False


def test_track_is_rate_limited(client, followed, monkeypatch):
    monkeypatch.setattr(api, "TRACK_LIMITS", (Limit(1, 60),))
    assert client.get(f"{URL}/track/{followed.tracking_code}").status_code == 200
    response = client.get(f"{URL}/track/NOPE")
    assert response.status_code == 429
    assert response["Retry-After"]


def test_the_citizen_adds_a_message(client, followed):
    response = post(client, f"/track/{followed.tracking_code}/messages", {"body": "Fue a las 9."})
    assert response.status_code == 201
    assert response.json()["kind"] == "citizen"
    event = followed.events.get(kind=ReportEvent.Kind.CITIZEN)
    assert (event.body, event.author) == ("Fue a las 9.", None)


def test_a_message_is_signed_only_by_the_reporter(client, world, catalogue, citizen):
    anonymous = place(world, catalogue.ruido, is_anonymous=True)
    own = place(world, catalogue.ruido, reporter=citizen)
    login(client, citizen)
    post(client, f"/track/{anonymous.tracking_code}/messages", {"body": "más datos"})
    post(client, f"/track/{own.tracking_code}/messages", {"body": "más datos"})
    assert anonymous.events.get(kind=ReportEvent.Kind.CITIZEN).author is None
    assert own.events.get(kind=ReportEvent.Kind.CITIZEN).author == citizen


@pytest.mark.parametrize(("payload", "status"), [({"body": ""}, 422), ({}, 422)])
def test_an_empty_message_is_refused(client, followed, payload, status):
    response = post(client, f"/track/{followed.tracking_code}/messages", payload)
    assert response.status_code == status
    assert not followed.events.filter(kind=ReportEvent.Kind.CITIZEN).exists()


def test_a_hidden_report_takes_no_messages(client, world, catalogue):
    report = place(world, catalogue.ruido, is_hidden=True)
    response = post(client, f"/track/{report.tracking_code}/messages", {"body": "hola"})
    assert response.status_code == 409


def test_rating_once_the_report_is_closed(client, followed, supervisor):
    path = f"/track/{followed.tracking_code}/rating"
    assert post(client, path, {"rating": 5}).status_code == 409  # still open
    with transaction.atomic():
        check_change_status(supervisor, followed, status=Report.Status.RESOLVED, text="Capturado.")
    assert client.get(f"{URL}/track/{followed.tracking_code}").json()["can_rate"] is True
    response = post(client, path, {"rating": 4, "comment": "Rápido"})
    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["can_rate"]) == (4, False)
    assert post(client, path, {"rating": 1}).status_code == 409
    assert post(client, path, {"rating": 9}).status_code == 422
    followed.refresh_from_db()
    assert (followed.rating, followed.rating_comment) == (4, "Rápido")


# --- My reports --------------------------------------------------------------------------------


def test_my_reports_give_codes_only_for_my_own(client, world, catalogue, citizen):
    mine = place(world, catalogue.ruido, reporter=citizen)
    supported = place(world, catalogue.ruido)
    Supporter.objects.create(report=supported, user=citizen)
    place(world, catalogue.ruido)  # somebody else's
    place(world, catalogue.ruido, is_anonymous=True)  # mine perhaps, but it names nobody
    login(client, citizen)
    body = client.get(f"{URL}/mine").json()
    assert body["count"] == 2
    by_id = {r["id"]: r for r in body["data"]}
    assert by_id[mine.pk]["tracking_code"] == mine.tracking_code
    assert by_id[mine.pk]["is_mine"] is True
    assert by_id[supported.pk]["tracking_code"] is None
    assert by_id[supported.pk]["display_code"] is None


def test_my_reports_need_an_account(db):
    response = Client().get(f"{URL}/mine")
    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_a_nul_character_in_a_path_or_query_is_400(client, followed):
    assert client.get(f"{URL}/track/AB%00CD").status_code == 400
    assert nearby(client, "rui\x00do").status_code == 400
    path = "/track/AB%00CD/messages"
    assert post(client, path, {"body": "hola"}).status_code == 400
    assert (
        post(client, f"/track/{followed.tracking_code}/messages", {"body": "\x00"}).status_code
        == 422
    )
