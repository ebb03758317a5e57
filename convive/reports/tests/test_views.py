"""The citizen's report and SOS pages through the test client: without JavaScript (plain posts)
and as the scripts call them (``Accept: application/json``). Every refusal leaves nothing behind."""

import io
import logging
import re
import uuid

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from conftest import login
from convive.core.ratelimit import Limit
from convive.reports import views
from convive.reports.models import Category, Question, Report, ReportEvent, ReportPhoto
from convive.reports.tests.conftest import KENNEDY_POINT
from convive.reports.tests.factories import CategoryFactory, QuestionFactory

NEW = "/report/"
SOS = "/report/sos/"
OUTSIDE_POINT = (-60.0, -30.0)  # lon, lat: far from the test city


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate counters live in the cache, which outlives a test: start each one with none."""
    cache.clear()
    yield
    cache.clear()


def report_data(**overrides) -> dict:
    lon, lat = KENNEDY_POINT
    data = {
        "category": "alumbrado",
        "lat": str(lat),
        "lon": str(lon),
        "address": "",
        "description": "El poste de la esquina lleva una semana apagado.",
        "idempotency_key": uuid.uuid4().hex,
        "anonymous": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def jpeg(size=(64, 48), exif: Image.Exif | None = None, name="IMG_0001.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    params = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, (200, 80, 20)).save(buffer, "JPEG", **params)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def counts() -> tuple[int, int, int]:
    return Report.objects.count(), ReportPhoto.objects.count(), ReportEvent.objects.count()


def errors_of(response) -> str:
    """The text of every error list in a rendered form."""
    html = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


# --- The page, before anything is sent -------------------------------------------------------


@pytest.fixture
def every_question(catalogue):
    """One question of each datatype on the ``robo`` category."""
    options = [
        {"key": "a", "name_es": "Uno", "name_en": "One"},
        {"key": "b", "name_es": "Dos", "name_en": "Two"},
    ]
    for order, kind in enumerate(Question.Datatype, start=1):
        values = options if kind in ("singlevaluelist", "multivaluelist") else []
        QuestionFactory(
            category=catalogue.robo, code=f"q-{kind}", datatype=kind, values=values, order=order
        )
    return catalogue


def test_report_page_groups_categories_and_marks_urgent_ones(client, catalogue):
    response = client.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.S))
    with translation.override("es"):
        security, coexistence = (str(kind.label) for kind in Category.Kind)
    assert list(groups) == [security, coexistence]
    assert 'value="robo"' in groups[security]
    assert 'value="sos"' in groups[security]
    assert 'value="ruido"' in groups[coexistence]
    urgent = re.search(r'<option value="sos">([^<]*)</option>', html).group(1)
    assert urgent.startswith("Emergencia ")  # marked as urgent


def test_report_page_renders_each_question_with_its_widget(client, every_question):
    html = client.get(NEW).content.decode()
    name = "q__robo__q-{}".format
    assert re.search(rf'<input type="text" name="{name("string")}"', html)
    assert re.search(rf'<textarea name="{name("text")}"', html)
    assert re.search(rf'<input type="number" name="{name("number")}"[^>]*step="any"', html)
    assert re.search(rf'<input type="datetime-local" name="{name("datetime")}"', html)
    assert re.search(rf'<select name="{name("singlevaluelist")}"', html)
    assert len(re.findall(rf'<input type="checkbox" name="{name("multivaluelist")}"', html)) == 2


def test_report_page_works_without_javascript(client, catalogue):
    """A plain multipart form with its server-made key; scripts only enhance it."""
    html = client.get(NEW).content.decode()
    form = re.search(r'<form method="post" action="/report/" enctype="multipart/form-data"', html)
    assert form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key
    assert len(key.group(1)) >= 16
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.search(r'<input type="file" name="photos"[^>]*accept="image/\*"[^>]*multiple', html)
    assert re.search(r'<input type="file" name="photos"[^>]*capture="environment"', html)
    assert re.search(r'<input type="text" name="address"', html)  # the place without a map
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    for attributes in scripts:  # no inline script: data, or a deferred file of the site
        assert 'type="application/json"' in attributes or (
            'src="/static/' in attributes and "defer" in attributes
        )
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_report_page_keys_differ_between_renderings(client, catalogue):
    keys = {
        re.search(r'name="idempotency_key" value="([^"]+)"', client.get(NEW).content.decode())[1]
        for _ in range(3)
    }
    assert len(keys) == 3


def test_map_draws_the_city_layer_from_the_site(client, catalogue, world, settings):
    settings.MAP_TILE_URL = ""
    config = client.get(NEW).context["config"]
    layer_url = f"/api/v1/territories/cities/{world.city.slug}/layers/locality?simplify=0.0005"
    assert config["layers"][0]["url"] == layer_url
    assert config["tiles"] is None
    assert client.get(layer_url).status_code == 200
    assert config["urgent"] == ["sos"]


def test_map_tiles_only_when_the_site_sets_them(client, catalogue, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© Ejemplo"
    config = client.get(NEW).context["config"]
    assert config["tiles"] == {
        "url": "https://tiles.example.org/{z}/{x}/{y}.png",
        "attribution": "© Ejemplo",
    }


def test_category_link_preselects_it(client, catalogue):
    html = client.get(NEW + "?category=ruido").content.decode()
    assert '<option value="ruido" selected>' in html


# --- Filing a report ----------------------------------------------------------------------------


def test_anonymous_report_leads_to_its_tracking_page(client, catalogue):
    response = client.post(NEW, report_data())
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/report/{report.tracking_code}/?new=1"
    assert report.channel == Report.Channel.WEB
    assert report.is_anonymous
    assert report.reporter is None
    assert report.institution == catalogue_institution(catalogue, "alumbrado")
    page = client.get(response["Location"])
    assert report.display_code in page.content.decode()
    assert "<svg" in page.content.decode()  # the QR code, drawn by the server


def catalogue_institution(catalogue, code):
    return Category.objects.get(code=code).routing_rules.get().institution


def test_named_report_keeps_the_account_and_contact(client, catalogue, citizen):
    login(client, citizen)
    data = report_data(
        anonymous=None,
        contact_name="Ana",
        contact_email="ana@example.org",
        contact_phone="3001234567",
    )
    client.post(NEW, data)
    report = Report.objects.get()
    assert report.reporter == citizen
    assert not report.is_anonymous
    assert (report.contact_name, report.contact_email, report.contact_phone) == (
        "Ana",
        "ana@example.org",
        "3001234567",
    )


def test_logged_in_citizen_can_still_report_anonymously(client, catalogue, citizen):
    login(client, citizen)
    client.post(NEW, report_data(contact_name="Ana", contact_email="ana@example.org"))
    report = Report.objects.get()
    assert report.is_anonymous
    assert report.reporter is None
    assert (report.contact_name, report.contact_email) == ("", "")


def test_address_alone_places_a_report(client, catalogue):
    response = client.post(NEW, report_data(lat="", lon="", address="Parque de Timiza"))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.address == "Parque de Timiza"
    assert report.lat is None


def test_answers_are_stored_in_the_category_terms(client, every_question):
    data = report_data(
        category="robo",
        **{
            "q__robo__q-string": "Una moto",
            "q__robo__q-number": "2",
            "q__robo__q-datetime": "2025-03-01T21:30",
            "q__robo__q-singlevaluelist": "b",
            "q__robo__q-multivaluelist": ["a", "b"],
            "q__ruido__horario": "dia",  # another category's answer: ignored
        },
    )
    assert client.post(NEW, data).status_code == 302
    assert Report.objects.get().answers == {
        "q-string": "Una moto",
        "q-number": 2,
        "q-datetime": "2025-03-01T21:30:00-05:00",
        "q-singlevaluelist": "b",
        "q-multivaluelist": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": "no-existe"}, "category", "no-existe"),
        ({"category": ""}, "category", ""),
        ({"lon": str(OUTSIDE_POINT[0]), "lat": str(OUTSIDE_POINT[1])}, "lat", ""),
        ({"lat": "", "lon": "", "address": ""}, "address", ""),
        ({"lat": "4.6", "lon": ""}, "lon", ""),
        ({"lat": "100", "lon": "-74"}, "lat", ""),
        ({"category": "ruido"}, "q__ruido__horario", ""),
        ({"category": "ruido", "q__ruido__horario": "madrugada"}, "q__ruido__horario", ""),
        ({"description": "x" * 4001}, "description", ""),
        ({"idempotency_key": ""}, "idempotency_key", ""),
    ],
    ids=[
        "unknown-category",
        "no-category",
        "outside-every-city",
        "no-place",
        "half-a-point",
        "latitude-out-of-range",
        "required-answer-missing",
        "answer-not-in-the-list",
        "description-too-long",
        "no-key",
    ],
)
def test_bad_input_is_refused_on_its_field_and_creates_nothing(
    client, catalogue, overrides, field, message
):
    before = counts()
    response = client.post(NEW, report_data(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert counts() == before


def test_place_errors_are_shown_at_the_place(client, catalogue):
    data = report_data(lon=str(OUTSIDE_POINT[0]), lat=str(OUTSIDE_POINT[1]))
    html = client.post(NEW, data).content.decode()
    place = re.search(r'<fieldset class="place" id="place">(.*?)</fieldset>', html, re.S).group(1)
    assert 'class="place-errors"' in place
    assert '<details class="coordinates" open>' in place


def test_huge_photo_is_refused_and_nothing_is_created(client, catalogue):
    huge = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\0" * (10 * 1024 * 1024), "image/jpeg")
    before = counts()
    response = client.post(NEW, {**report_data(), "photos": [jpeg(), huge]})
    assert response.status_code == 413
    assert "10 MB" in " ".join(response.context["form"].errors["photos"])
    assert counts() == before


def test_fake_photo_is_refused_and_nothing_is_created(client, catalogue):
    fake = SimpleUploadedFile("foto.jpg", b"this is text, not a photo\n", "image/jpeg")
    before = counts()
    response = client.post(NEW, {**report_data(), "photos": [fake]})
    assert response.status_code == 415
    assert response.context["form"].errors["photos"]
    assert counts() == before


def test_more_than_five_photos_are_refused(client, catalogue):
    response = client.post(NEW, {**report_data(), "photos": [jpeg() for _ in range(6)]})
    assert response.status_code == 400
    assert response.context["form"].errors["photos"]
    assert Report.objects.count() == 0


def test_photo_gps_never_reaches_the_stored_file(client, catalogue):
    exif = Image.Exif()
    exif[34853] = {1: "N", 2: (4.0, 36.0, 5.0), 3: "W", 4: (74.0, 9.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    upload = jpeg(size=(320, 240), exif=exif)
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif().get(34853)  # the test photo really carries a position
    upload.seek(0)
    assert client.post(NEW, {**report_data(), "photos": [upload]}).status_code == 302
    photo = ReportPhoto.objects.get()
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    assert "IMG_0001" not in photo.image.name  # the original name is not kept either


def test_photos_from_both_pickers_are_kept(client, catalogue):
    response = client.post(NEW, {**report_data(), "photos": [jpeg(), jpeg(name="camera.jpg")]})
    assert response.status_code == 302
    assert ReportPhoto.objects.count() == 2


def test_same_submission_twice_makes_one_report(client, catalogue):
    data = report_data()
    first = client.post(NEW, data)
    second = client.post(NEW, data)
    assert Report.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_urgent_category_asks_for_confirmation_first(client, catalogue):
    before = counts()
    response = client.post(NEW, report_data(category="sos"))
    assert response.status_code == 400
    assert "emergency_confirmed" in response.context["form"].errors
    html = response.content.decode()
    assert 'href="tel:123"' in html
    assert re.search(r'<div class="emergency" id="emergency" data-testid="emergency-notice">', html)
    assert counts() == before
    client.post(NEW, report_data(category="sos", emergency_confirmed="on"))
    report = Report.objects.get()
    assert report.status == Report.Status.SOS
    assert report.is_urgent


# --- The scripts' way: the same view answering JSON ----------------------------------------


def test_json_submission_answers_with_the_code_and_retries_are_one_report(client, catalogue):
    data = report_data()
    first = client.post(NEW, data, headers={"accept": "application/json"})
    assert first.status_code == 201
    body = first.json()
    report = Report.objects.get()
    assert body == {
        "ok": True,
        "code": report.tracking_code,
        "display_code": report.display_code,
        "url": f"/report/{report.tracking_code}/?new=1",
        "created": True,
    }
    again = client.post(NEW, data, headers={"accept": "application/json"})
    assert again.status_code == 200
    assert again.json()["code"] == report.tracking_code
    assert again.json()["created"] is False
    assert Report.objects.count() == 1


def test_json_refusal_names_the_form_fields(client, catalogue):
    response = client.post(
        NEW, report_data(category="ruido"), headers={"accept": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == 400
    assert [e["field"] for e in body["errors"]] == ["q__ruido__horario"]
    assert Report.objects.count() == 0


# --- Rate limits --------------------------------------------------------------------------


def test_too_many_reports_from_one_address_get_429(client, catalogue, monkeypatch):
    monkeypatch.setattr(views, "REPORT_LIMITS", (Limit(2, 60),))
    for _ in range(2):
        assert client.post(NEW, report_data()).status_code == 302
    refused = client.post(NEW, report_data())
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 61
    assert "reports/report_rate_limited.html" in [t.name for t in refused.templates]
    as_json = client.post(NEW, report_data(), headers={"accept": "application/json"})
    assert as_json.status_code == 429
    assert as_json.json()["status"] == 429
    assert "Retry-After" in as_json
    assert Report.objects.count() == 2
    other = client.post(NEW, report_data(), REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302  # another address has its own counter


# --- Privacy ------------------------------------------------------------------------------


def every_stored_text() -> str:
    """Every row of every table, as text: what the database would give away."""
    dumped = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            dumped.append(repr(row))
    return "\n".join(dumped)


def test_anonymous_report_stores_and_logs_nothing_identifying(client, catalogue, caplog):
    address, agent = "203.0.113.77", "PrivacyProbe/1.0 (Android 7; old phone)"
    caplog.set_level(logging.DEBUG)
    data = report_data(
        contact_name="Nombre Secreto",
        contact_email="secreto@example.org",
        contact_phone="3009998877",
    )
    response = client.post(NEW, data, REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    assert response.status_code == 302
    client.post(NEW, report_data(category="no-existe"), REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    report = Report.objects.get()
    assert report.is_anonymous
    assert report.reporter_id is None
    stored = every_stored_text()
    for secret in (address, agent, "Nombre Secreto", "secreto@example.org", "3009998877"):
        assert secret not in stored
        assert secret not in caplog.text


# --- SOS ----------------------------------------------------------------------------------


def test_sos_page_shows_the_emergency_notice_before_the_form(client, catalogue, world, settings):
    settings.EMERGENCY_NUMBERS = {world.city.slug: "112"}
    html = client.get(SOS).content.decode()
    notice = html.index('data-testid="emergency-notice"')
    form = html.index('data-testid="sos-form"')
    assert notice < form
    assert 'href="tel:112"' in html
    assert '<details class="sos-send" id="sos-send" data-testid="sos-send">' in html  # closed


def test_sos_needs_confirmation(client, catalogue):
    lon, lat = KENNEDY_POINT
    data = {"lat": lat, "lon": lon, "idempotency_key": uuid.uuid4().hex}
    response = client.post(SOS, data)
    assert response.status_code == 400
    assert "confirm" in response.context["form"].errors
    assert '<details class="sos-send" id="sos-send" data-testid="sos-send" open>' in (
        response.content.decode()
    )
    assert Report.objects.count() == 0


def test_confirmed_sos_is_an_urgent_report_with_its_own_status(client, catalogue):
    lon, lat = KENNEDY_POINT
    data = {
        "lat": lat,
        "lon": lon,
        "confirm": "on",
        "idempotency_key": uuid.uuid4().hex,
        "contact_phone": "3001112233",
    }
    response = client.post(SOS, data)
    report = Report.objects.get()
    assert response["Location"] == f"/report/{report.tracking_code}/?new=1"
    assert (report.category.code, report.status, report.is_urgent) == ("sos", "sos", True)
    assert report.contact_phone == "3001112233"
    page = client.get(response["Location"]).content.decode()
    assert report.display_code in page


def test_sos_with_an_address_only(client, catalogue):
    data = {"address": "Portal Américas", "confirm": "on", "idempotency_key": uuid.uuid4().hex}
    assert client.post(SOS, data).status_code == 302
    assert Report.objects.get().address == "Portal Américas"


def test_sos_without_any_place_is_refused(client, catalogue):
    data = {"confirm": "on", "idempotency_key": uuid.uuid4().hex}
    response = client.post(SOS, data)
    assert response.status_code == 400
    assert "address" in response.context["form"].errors
    assert Report.objects.count() == 0


def test_sos_uses_the_first_active_urgent_category(client, catalogue):
    CategoryFactory(code="sos-2", urgent=True, order=1, kind=Category.Kind.SECURITY)
    Category.objects.filter(code="sos-2").update(active=False)
    data = {"address": "Kennedy", "confirm": "on", "idempotency_key": uuid.uuid4().hex}
    client.post(SOS, data)
    assert Report.objects.get().category.code == "sos"


def test_sos_without_an_urgent_category_says_to_call(client, catalogue):
    Category.objects.filter(urgent=True).update(active=False)
    assert 'data-testid="sos-form"' not in client.get(SOS).content.decode()
    data = {"address": "Kennedy", "confirm": "on", "idempotency_key": uuid.uuid4().hex}
    response = client.post(SOS, data)
    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_report_page_links_to_sos_and_follow(client, catalogue):
    html = client.get(NEW).content.decode()
    assert f'href="{reverse("reports:sos")}"' in html
    assert f'href="{reverse("reports:track")}"' in html
