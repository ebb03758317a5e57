"""``/api/v1/reports``: the catalogue and intake (JSON and multipart), idempotency, limits."""

import io
import json
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from conftest import login
from convive.core.ratelimit import Limit
from convive.reports import api
from convive.reports.models import Report, ReportingRestriction
from convive.reports.tests.conftest import KENNEDY_POINT, SUBA_POINT

URL = "/api/v1/reports"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # to read messages: Spanish is the default


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate counters live in the cache, which outlives a test: start each one with none."""
    cache.clear()
    yield
    cache.clear()


def noise(**fields) -> dict:
    lon, lat = KENNEDY_POINT
    return {
        "category": "ruido",
        "lat": lat,
        "lon": lon,
        "description": "Música a todo volumen.",
        "answers": {"horario": "noche"},
        "idempotency_key": uuid.uuid4().hex,
        **fields,
    }


def post(client, payload: dict, **headers):
    return client.post(URL, json.dumps(payload), content_type="application/json", **EN, **headers)


def png(size=(32, 24)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")


# --- The catalogue ------------------------------------------------------------------------------


def test_categories_with_questions_urgency_and_notice(client, catalogue):
    catalogue.alumbrado.active = False
    catalogue.alumbrado.save()
    body = client.get(f"{URL}/categories").json()
    assert body["count"] == 3
    by_code = {c["code"]: c for c in body["data"]}
    assert set(by_code) == {"robo", "ruido", "sos"}
    assert by_code["sos"]["urgent"] is True
    assert by_code["robo"]["notice"] == "Si alguien está en peligro ahora, llame al 123."
    assert by_code["ruido"]["questions"] == [
        {
            "code": "horario",
            "datatype": "singlevaluelist",
            "label": "¿A qué hora?",
            "help": "",
            "required": True,
            "options": [{"key": "dia", "name": "De día"}, {"key": "noche", "name": "De noche"}],
        }
    ]
    english = client.get(f"{URL}/categories", **EN).json()
    names = {c["code"]: c["name"] for c in english["data"]}
    assert names["ruido"] == "Noise"
    assert {c["code"]: c for c in english["data"]}["robo"]["notice"].startswith("If someone")


# --- Intake ------------------------------------------------------------------------------------


def test_create_answers_201_with_the_tracking_code(client, catalogue, settings):
    settings.SITE_URL = "https://convive.example"
    response = post(client, noise())
    assert response.status_code == 201
    report = Report.objects.get()
    assert response.json() == {
        "id": report.pk,
        "tracking_code": report.tracking_code,
        "display_code": report.display_code,
        "status": "received",
        "follow_url": f"https://convive.example/report/{report.tracking_code}/",
    }
    assert report.channel == Report.Channel.APP
    assert report.institution == catalogue.alcaldia
    assert report.answers == {"horario": "noche"}


def test_the_same_key_twice_makes_one_report(client, catalogue):
    payload = noise()
    first, again = post(client, payload), post(client, payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Report.objects.count() == 1


def test_a_key_reused_for_another_report_is_a_conflict_and_reveals_nothing(client, catalogue):
    payload = noise()
    post(client, payload)
    response = post(client, {**payload, "description": "Otra cosa"})
    assert response.status_code == 409
    body = response.json()
    assert body["ok"] is False
    assert body["errors"] == [{"field": "idempotency_key", "message": body["error"]}]
    assert Report.objects.get().tracking_code not in response.content.decode()


def test_intake_needs_no_session_and_no_csrf_token(catalogue):
    response = post(Client(enforce_csrf_checks=True), noise())
    assert response.status_code == 201
    assert Report.objects.get().reporter is None


def test_a_logged_in_citizen_is_attached_when_not_anonymous(client, catalogue, citizen):
    login(client, citizen)
    assert post(client, noise(contact_phone="3001112233")).status_code == 201
    report = Report.objects.get()
    assert (report.reporter, report.is_anonymous, report.contact_phone) == (
        citizen,
        False,
        "3001112233",
    )


def test_an_anonymous_report_stores_no_one_even_when_logged_in(client, catalogue, citizen):
    login(client, citizen)
    payload = noise(anonymous=True, contact_email="yo@example.org", contact_name="Yo")
    assert post(client, payload).status_code == 201
    report = Report.objects.get()
    assert report.is_anonymous
    assert report.reporter is None
    assert (report.contact_name, report.contact_email, report.contact_phone) == ("", "", "")


def test_a_session_without_its_csrf_token_may_not_report_in_its_name(catalogue, citizen):
    client = login(Client(enforce_csrf_checks=True), citizen)
    response = post(client, noise())
    assert response.status_code == 403
    assert not Report.objects.exists()
    client.get("/report/")  # the report page sets the CSRF cookie, as the app's page does
    token = client.cookies["csrftoken"].value
    assert post(client, noise(), HTTP_X_CSRFTOKEN=token).status_code == 201
    assert Report.objects.get().reporter == citizen


def test_an_sos(client, catalogue):
    response = post(client, noise(category="sos", answers={}, sos=True))
    assert response.status_code == 201
    assert response.json()["status"] == "sos"
    assert Report.objects.get().is_urgent


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"category": "nope"}, 400, "category"),
        ({"category": "ruido", "sos": True}, 400, "category"),
        ({"lat": None, "lon": None}, 400, "address"),
        ({"lat": 40.7, "lon": -74.0}, 400, "lat"),
        ({"lat": 123.0}, 400, "lat"),
        ({"answers": {}}, 400, "attribute[horario]"),
        ({"answers": {"horario": "siempre"}}, 400, "attribute[horario]"),
        ({"city": "atlantis"}, 400, "city"),
        ({"contact_email": "no-es-correo"}, 422, "body.payload.contact_email"),
        ({"contact_phone": "llámame"}, 422, "body.payload.contact_phone"),
        ({"idempotency_key": "corta"}, 422, "body.payload.idempotency_key"),
        ({"description": "x" * 4001}, 422, "body.payload.description"),
    ],
)
def test_bad_input_gets_the_error_envelope_and_creates_nothing(
    client, catalogue, change, status, field
):
    response = post(client, noise(**change))
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == status
    assert body["error"]
    assert field in [e["field"] for e in body["errors"]]
    assert not Report.objects.exists()


def test_an_address_without_a_point(client, catalogue, world):
    payload = noise(lat=None, lon=None, address="Parque Timiza", city=world.city.slug)
    assert post(client, payload).status_code == 201
    report = Report.objects.get()
    assert (report.address, report.lat, report.city) == ("Parque Timiza", None, world.city)


def test_a_restricted_account_is_refused(client, catalogue, citizen, supervisor):
    ReportingRestriction.objects.create(
        user=citizen, until=timezone.now() + timezone.timedelta(days=2), reason="spam"
    )
    login(client, citizen)
    response = post(client, noise())
    assert response.status_code == 429
    assert not Report.objects.exists()
    assert post(client, noise(anonymous=True)).status_code == 201  # the rate limits apply


# --- Rate limits -------------------------------------------------------------------------------


def test_rate_limit_per_address_is_429_with_retry_after(client, catalogue, monkeypatch):
    monkeypatch.setattr(api, "CREATE_LIMITS_PER_ADDRESS", (Limit(2, 60),))
    accepted = [noise(), noise()]
    for payload in accepted:
        assert post(client, payload).status_code == 201
    response = post(client, noise())
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert response.json()["status"] == 429
    assert Report.objects.count() == 2
    # What was accepted stays reachable: a retry is answered without counting.
    assert post(client, accepted[0]).status_code == 200
    other_address = post(client, noise(), REMOTE_ADDR="10.9.8.7")
    assert other_address.status_code == 201


def test_rate_limit_per_account(client, catalogue, citizen, monkeypatch):
    monkeypatch.setattr(api, "CREATE_LIMITS_PER_ACCOUNT", (Limit(1, 60),))
    login(client, citizen)
    assert post(client, noise()).status_code == 201
    response = post(client, noise(anonymous=True), REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 429
    assert response["Retry-After"]


# --- Multipart, with photos --------------------------------------------------------------------


def multipart(client, payload: dict, photos: list):
    data = {"payload": json.dumps(payload), "photos": photos}
    return client.post(f"{URL}/with-photos", data, **EN)


def test_with_photos(client, catalogue):
    response = multipart(client, noise(), [png(), png((10, 10))])
    assert response.status_code == 201
    report = Report.objects.get()
    assert response.json()["id"] == report.pk
    photos = list(report.photos.all())
    assert [(p.width, p.height) for p in photos] == [(32, 24), (10, 10)]
    with photos[0].image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()


def test_with_photos_is_idempotent_too(client, catalogue):
    payload = noise()
    assert multipart(client, payload, [png()]).status_code == 201
    assert multipart(client, payload, [png()]).status_code == 200
    assert Report.objects.get().photos.count() == 1


def test_without_photos(client, catalogue):
    response = client.post(f"{URL}/with-photos", {"payload": json.dumps(noise())})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("photos", "status"),
    [
        ([SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")], 415),
        ([png() for _ in range(6)], 400),
    ],
)
def test_bad_photos_create_nothing(client, catalogue, photos, status):
    response = multipart(client, noise(), photos)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == "photos"
    assert not Report.objects.exists()


def test_a_photo_too_large_is_413(client, catalogue, monkeypatch):
    monkeypatch.setattr("convive.reports.photos.MAX_BYTES", 100)
    response = multipart(client, noise(), [png((200, 200))])
    assert response.status_code == 413
    assert not Report.objects.exists()


@pytest.mark.parametrize("payload", ["{not json", json.dumps({"category": "ruido"})])
def test_a_bad_payload_is_422(client, catalogue, payload):
    response = client.post(f"{URL}/with-photos", {"payload": payload}, **EN)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("payload")
    assert not Report.objects.exists()


def test_suba_noise_is_accepted_into_the_fallback_queue(client, catalogue):
    lon, lat = SUBA_POINT
    assert post(client, noise(lat=lat, lon=lon)).status_code == 201
    report = Report.objects.get()
    assert report.institution is None
    assert report.routing_note
    with transaction.atomic():  # the report is a normal row: nothing pending
        assert Report.objects.filter(pk=report.pk).exists()


@pytest.mark.parametrize(
    "change",
    [{"description": "a\x00b"}, {"answers": {"horario": "noche\x00"}}, {"address": "\x00"}],
)
def test_a_nul_character_is_422_not_a_server_error(client, catalogue, change):
    response = post(client, noise(**change))
    assert response.status_code == 422
    assert response.json()["ok"] is False
    assert not Report.objects.exists()


def test_a_body_too_large_is_413_in_the_envelope(client, catalogue, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, noise(description="x" * 2000))
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert not Report.objects.exists()
