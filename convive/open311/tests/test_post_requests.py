"""POST requests: the spec's example, keys, idempotency, rate limits, and every refusal."""

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from convive.core.ratelimit import Limit
from convive.open311 import views
from convive.open311.actions import check_revoke_api_key
from convive.open311.tests.helpers import (
    SPEC_POST_BODY,
    SPEC_POST_RESPONSE_XML,
    element_paths,
    parse_json,
    parse_xml,
    spark,
    spec_xml,
)
from convive.reports.models import Category, Question, Report, ReportEvent
from convive.reports.tests.factories import CategoryFactory, QuestionFactory
from convive.territories.tests.factories import CityFactory, LayerFactory, TerritoryFactory

FORM = "application/x-www-form-urlencoded"


def post(client, fmt: str, data: dict | str, **headers):
    """POST a form; in English, so that tests can read the messages (Spanish is the default)."""
    body = data if isinstance(data, str) else urlencode(data, doseq=True)
    headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    return client.post(reverse("open311:requests", kwargs={"fmt": fmt}), body, FORM, **headers)


@pytest.fixture
def noise(app, catalogue, kennedy_point):
    """A valid noise report in Kennedy, as a form."""
    lon, lat = kennedy_point
    return {
        "api_key": app.key,
        "service_code": "ruido",
        "lat": str(lat),
        "long": str(lon),
        "attribute[horario]": "noche",
        "description": "Música a todo volumen toda la noche.",
    }


@pytest.fixture
def city_gov(catalogue):
    """The spec's example jurisdiction, with its example service ``001`` and two attributes."""
    city = CityFactory(slug="city.gov", name="City")
    layer = LayerFactory(city=city, slug="district", name="Districts")
    TerritoryFactory(layer=layer, code="D9", name="Mission", bounds=(-122.5, 37.7, -122.3, 37.8))
    category = CategoryFactory(
        code="001",
        name_es="Latas en la calle",
        name_en="Cans left out 24x7",
        notice_es="La ciudad inspeccionará en 24 horas.",
    )
    for code in ("WHISPAWN", "WHISDORN"):
        QuestionFactory(category=category, code=code, datatype=Question.Datatype.STRING)
    return city


def test_the_spec_example_request_creates_a_report(client, app, city_gov):
    body = SPEC_POST_BODY.replace("api_key=xyz", f"api_key={app.key}")
    response = post(client, "xml", body)
    assert response.status_code == 201
    root = parse_xml(response)
    assert element_paths(root) == element_paths(spec_xml(SPEC_POST_RESPONSE_XML))
    report = Report.objects.get()
    assert spark(root) == [
        {
            "service_request_id": str(report.pk),
            "service_notice": "La ciudad inspeccionará en 24 horas.",
            "account_id": None,
        }
    ]
    assert report.channel == Report.Channel.OPEN311
    assert report.api_key == app.api_key
    assert report.city == city_gov
    assert report.category.code == "001"
    assert (report.lat, report.lon) == (37.76524078, -122.4212043)
    assert report.address == "1234 5th street"
    assert report.description == "A large sinkhole is destroying the street"
    assert report.answers == {"WHISPAWN": "123456", "WHISDORN": "COISL001"}
    assert report.media_url == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert not report.is_anonymous
    assert report.reporter is None
    assert (report.contact_name, report.contact_email, report.contact_phone) == (
        "john smith",
        "smit333@sfgov.edu",
        "111111111",
    )
    # The device id is never kept, not even inside the idempotency key.
    stored = " ".join(str(v) for v in Report.objects.values().get().values())
    assert "tt222111" not in stored
    assert "tt222111" not in " ".join(ReportEvent.objects.values_list("body", flat=True))


def test_json_answer_is_the_same_document(client, noise):
    created = parse_json(post(client, "json", noise))
    report = Report.objects.get()
    assert created == [
        {"service_request_id": str(report.pk), "service_notice": None, "account_id": None}
    ]


def test_the_report_is_the_same_as_one_made_in_the_app(client, noise, catalogue):
    post(client, "json", noise)
    report = Report.objects.get()
    assert report.institution == catalogue.alcaldia  # routed like any other
    assert report.is_anonymous  # no contact was given
    assert report.status == Report.Status.RECEIVED
    assert report.events.get().kind == ReportEvent.Kind.CREATED


def test_extensions_return_the_tracking_code(client, noise, settings):
    settings.SITE_URL = "https://convive.example"
    created = parse_json(post(client, "json", {**noise, "extensions": "true"}))[0]
    report = Report.objects.get()
    assert created["tracking_code"] == report.display_code
    assert created["tracking_url"] == f"https://convive.example/report/{report.tracking_code}/"
    again = parse_json(post(client, "json", noise))[0]
    assert "tracking_code" not in again  # only on request, and the same report
    assert again["service_request_id"] == str(report.pk)


def test_multivaluelist_attributes(client, noise, catalogue):
    QuestionFactory(
        category=catalogue.ruido,
        code="fuente",
        datatype=Question.Datatype.MULTI,
        values=[{"key": k, "name_es": k} for k in ("musica", "gritos", "motos")],
    )
    form = {**noise, "attribute[fuente][]": ["musica", "motos"]}
    assert post(client, "json", form).status_code == 201
    assert Report.objects.get().answers["fuente"] == ["musica", "motos"]


def test_repeated_attribute_without_brackets_is_a_list_too(client, noise, catalogue):
    QuestionFactory(
        category=catalogue.ruido,
        code="fuente",
        datatype=Question.Datatype.MULTI,
        values=[{"key": k, "name_es": k} for k in ("musica", "gritos")],
    )
    response = post(client, "json", {**noise, "attribute[fuente]": ["musica", "gritos"]})
    assert response.status_code == 201
    assert Report.objects.get().answers["fuente"] == ["musica", "gritos"]


def test_address_id_is_taken_as_the_address(client, app, world, catalogue):
    form = {"api_key": app.key, "service_code": "alumbrado", "address_id": "CL 40 S 72-10"}
    assert post(client, "json", form).status_code == 201
    report = Report.objects.get()
    assert (report.address, report.lat, report.city) == ("CL 40 S 72-10", None, world.city)


# --- Idempotency -----------------------------------------------------------------------------


def test_an_identical_retry_creates_nothing(client, noise):
    first = post(client, "json", noise)
    again = post(client, "json", {**noise, "device_id": "other", "extensions": "false"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert parse_json(first)[0]["service_request_id"] == parse_json(again)[0]["service_request_id"]
    assert Report.objects.count() == 1


def test_field_order_and_spaces_do_not_make_another_report(client, noise):
    post(client, "json", noise)
    shuffled = dict(reversed(list(noise.items())))
    shuffled["description"] = f"  {noise['description']}  "
    assert post(client, "xml", shuffled).status_code == 200
    assert Report.objects.count() == 1


def test_another_description_is_another_report(client, noise):
    post(client, "json", noise)
    assert post(client, "json", {**noise, "description": "Otra cosa"}).status_code == 201
    assert Report.objects.count() == 2


def test_the_same_body_from_another_application_is_another_report(client, noise, catalogue):
    from convive.open311.actions import check_create_api_key

    with transaction.atomic():
        _other, key = check_create_api_key(None, name="Otra app")
    post(client, "json", noise)
    assert post(client, "json", {**noise, "api_key": key}).status_code == 201
    assert Report.objects.count() == 2


def test_idempotency_key_header(client, noise):
    first = post(client, "json", noise, HTTP_IDEMPOTENCY_KEY="retry-me-1")
    edited = {**noise, "description": "editado"}
    again = post(client, "json", edited, HTTP_IDEMPOTENCY_KEY="retry-me-1")
    other = post(client, "json", noise, HTTP_IDEMPOTENCY_KEY="retry-me-2")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert Report.objects.count() == 2
    bad = post(client, "json", noise, HTTP_IDEMPOTENCY_KEY="x" * 201)
    assert bad.status_code == 400


def test_a_retry_the_next_day_still_finds_its_report(client, noise, monkeypatch):
    from django.utils import timezone

    post(client, "json", noise)
    tomorrow = timezone.now() + timezone.timedelta(hours=23)
    monkeypatch.setattr("convive.open311.params.timezone.now", lambda: tomorrow)
    assert post(client, "json", noise).status_code == 200
    assert Report.objects.count() == 1


# --- Keys and rate limits ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_invalid_or_revoked_key_is_403(client, noise, app, fmt):
    without = {k: v for k, v in noise.items() if k != "api_key"}
    for form in (without, {**noise, "api_key": "xyz"}, {**noise, "api_key": app.key + "x"}):
        response = post(client, fmt, form)
        assert response.status_code == 403
    with transaction.atomic():
        check_revoke_api_key(None, app.api_key)
    response = post(client, fmt, noise)
    assert response.status_code == 403
    description = (
        parse_xml(response).find("error/description").text
        if fmt == "xml"
        else parse_json(response)[0]["description"]
    )
    assert description == "Invalid api_key received -- can't proceed with create_request."
    assert not Report.objects.exists()


def test_rate_limit_per_address_answers_429_with_retry_after(client, noise, monkeypatch):
    monkeypatch.setattr(views, "POST_LIMIT_PER_ADDRESS", Limit(2, 60))
    for i in range(2):
        assert post(client, "json", {**noise, "description": f"n {i}"}).status_code == 201
    response = post(client, "xml", {**noise, "description": "n 3"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert parse_xml(response).find("error/code").text == "429"
    assert Report.objects.count() == 2


def test_rate_limit_per_key(client, noise, monkeypatch):
    monkeypatch.setattr(views, "POST_LIMIT_PER_KEY", Limit(1, 60))
    assert post(client, "json", noise).status_code == 201
    response = post(client, "json", {**noise, "description": "otra"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert response["Retry-After"]


# --- Bad input: a clear error and nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"service_code": "nope"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"long": ""}, 400, "lat and long"),
        ({"lat": "norte"}, 400, "lat"),
        ({"lat": "95"}, 400, "Latitude"),
        ({"lat": "40.71", "long": "-74.0"}, 400, "outside every city"),
        ({"attribute[horario]": "siempre"}, 400, "list"),
        ({"attribute[horario]": ""}, 400, "required"),
        ({"attribute[color]": "rojo"}, 400, "color"),
        ({"attribute]x[": "1"}, 400, "attribute"),
        ({"email": "no-es-correo"}, 400, "email"),
        ({"phone": "llámame"}, 400, "phone"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"media_url": "http://x.co/" + "a" * 500}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "4,000"),
        ({"jurisdiction_id": "atlantis"}, 404, "atlantis"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(client, noise, change, status, words):
    response = post(client, "json", {**noise, **change})
    assert response.status_code == status
    [error] = parse_json(response)
    assert error["code"] == status
    assert words in error["description"]
    assert not Report.objects.exists()


def test_several_cities_need_the_jurisdiction(client, noise, world, city_gov):
    response = post(client, "json", noise)
    assert response.status_code == 400
    assert "jurisdiction_id" in parse_json(response)[0]["description"]
    wrong_city = post(client, "json", {**noise, "jurisdiction_id": "city.gov"})
    assert wrong_city.status_code == 400  # the point is in Testópolis
    assert post(client, "json", {**noise, "jurisdiction_id": world.city.slug}).status_code == 201
    assert Report.objects.count() == 1


def test_a_body_that_is_not_a_form_is_415(client, noise):
    url = reverse("open311:requests", kwargs={"fmt": "json"})
    response = client.post(url, noise, content_type="application/json")
    assert response.status_code == 415
    assert not Report.objects.exists()


def test_files_are_refused_media_is_a_link(client, noise):
    url = reverse("open311:requests", kwargs={"fmt": "xml"})
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    response = client.post(url, {**noise, "media": photo})
    assert response.status_code == 415
    assert not Report.objects.exists()


def test_a_huge_body_is_413(client, noise, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, "json", {**noise, "description": "x" * 2000})
    assert response.status_code == 413
    assert not Report.objects.exists()


def test_post_needs_no_csrf_token(noise):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), "json", noise)
    assert response.status_code == 201


def test_an_urgent_category_makes_an_sos(client, app, catalogue, kennedy_point):
    lon, lat = kennedy_point
    form = {"api_key": app.key, "service_code": "sos", "lat": lat, "long": lon}
    assert post(client, "json", form).status_code == 201
    report = Report.objects.get()
    assert (report.status, report.is_urgent) == (Report.Status.SOS, True)
    assert report.category.publication == Category.Publication.NONE


def test_a_nul_character_is_refused_not_a_server_error(client, noise):
    for change in ({"description": "a\x00b"}, {"attribute[hor\x00ario]": "noche"}):
        response = post(client, "json", {**noise, **change})
        assert response.status_code == 400
        assert "NUL" in parse_json(response)[0]["description"]
    assert not Report.objects.exists()
