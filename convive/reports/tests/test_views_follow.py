"""Following a report with its tracking code: the public timeline (never internal notes), photos
served only for their own report, the citizen's messages and rating; the code form; my reports;
and the pieces of the installable page (service worker, manifest)."""

import io
import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from conftest import login
from convive.accounts.tests.factories import UserFactory
from convive.reports.actions import (
    ReportInput,
    check_add_note,
    check_assign,
    check_change_status,
    check_create_report,
    check_hide,
    check_reply,
    check_reroute,
    check_support_report,
)
from convive.reports.models import Report, ReportEvent
from convive.reports.tests.conftest import KENNEDY_POINT


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def make_report(reporter=None, *, photos=0, **overrides) -> Report:
    lon, lat = KENNEDY_POINT
    values = {
        "category_code": "alumbrado",
        "idempotency_key": uuid.uuid4().hex,
        "channel": Report.Channel.WEB,
        "lon": lon,
        "lat": lat,
        "description": "Poste apagado frente al parque.",
        "anonymous": reporter is None,
    }
    with transaction.atomic():
        report, _ = check_create_report(
            reporter,
            ReportInput(**{**values, **overrides}),
            photos=[jpeg() for _ in range(photos)],
        )
    return report


def follow_url(report: Report) -> str:
    return f"/report/{report.tracking_code}/"


@pytest.fixture
def report(catalogue):
    return make_report(photos=1)


# --- The tracking page ------------------------------------------------------------------------


def test_follow_page_shows_category_status_place_and_code(client, report):
    response = client.get(follow_url(report))
    assert response.status_code == 200
    html = response.content.decode()
    assert report.display_code in html
    assert report.category.name in html
    assert report.get_status_display() in html
    assert "Kennedy" in html  # the locality
    assert "Secretaría de Seguridad" in html  # who handles it
    assert response["X-Robots-Tag"] == "noindex"
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("spelling", ["lower", "dashes", "spaces"])
def test_code_is_accepted_as_people_type_it(client, report, spelling):
    code = {
        "lower": report.tracking_code.lower(),
        "dashes": report.display_code,
        "spaces": report.display_code.replace("-", " ").lower(),
    }[spelling]
    assert client.get(f"/report/{code}/").status_code == 200


def test_unknown_code_is_the_404_page(client, report):
    response = client.get("/report/ZZZZ-ZZZZ-ZZZZ/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


def test_just_made_report_shows_the_code_large_with_its_qr(client, report):
    html = client.get(follow_url(report) + "?new=1").content.decode()
    assert 'data-testid="report-received"' in html
    code = re.search(r'<p class="tracking-code" data-testid="tracking-code">([^<]+)</p>', html)
    assert code
    assert code.group(1) == report.display_code
    qr = re.search(r'<div class="qr" data-testid="tracking-qr"[^>]*>(.*?)</div>', html, re.S)
    assert qr
    assert "<svg" in qr.group(1)
    assert "<path" in qr.group(1)
    assert f'href="http://127.0.0.1:8000/report/{report.tracking_code}/"' in html


def test_timeline_shows_public_steps_and_never_internal_notes(client, report, call_taker):
    with transaction.atomic():
        check_add_note(call_taker, report, body="NOTA INTERNA: vecino conflictivo")
        check_reply(call_taker, report, body="Enviamos una cuadrilla el lunes.")
        check_change_status(call_taker, report, status="in_progress", text="")
        check_change_status(call_taker, report, status="resolved", text="Cambiamos la bombilla.")
    html = client.get(follow_url(report)).content.decode()
    assert "NOTA INTERNA" not in html
    assert "vecino conflictivo" not in html
    assert "operadora" not in html  # no staff names, only the institution
    timeline = re.search(r'<ol class="timeline" data-testid="timeline">(.*?)</ol>', html, re.S)
    kinds = re.findall(r'data-kind="([a-z_]+)"', timeline.group(1))
    assert kinds == ["created", "reply", "status", "status"]
    assert "Enviamos una cuadrilla el lunes." in timeline.group(1)
    assert "Cambiamos la bombilla." in timeline.group(1)


def test_timeline_names_the_institutions_it_went_to(client, report, call_taker, world):
    with transaction.atomic():
        check_assign(call_taker, report, assignee=call_taker)
        check_reroute(call_taker, report, institution=world.police, reason="Es de la policía.")
        check_change_status(call_taker, report, status="rejected", text="No es competencia.")
    html = client.get(follow_url(report)).content.decode()
    timeline = re.search(r'<ol class="timeline" data-testid="timeline">(.*?)</ol>', html, re.S)
    items = re.findall(r'data-kind="([a-z_]+)">(.*?)</li>', timeline.group(1), re.S)
    assert [kind for kind, _ in items] == ["created", "assigned", "routed", "status"]
    assigned, routed, rejected = (text for _, text in items[1:])
    assert "Secretaría de Seguridad" in assigned
    assert "Policía Metropolitana" in routed
    assert "Es de la policía." in routed
    assert "No es competencia." in rejected
    assert "operadora" not in html


def test_hidden_moderation_steps_and_ratings_stay_internal(client, report, supervisor, world):
    report.institution = world.police
    report.save(update_fields=["institution"])
    with transaction.atomic():
        check_hide(supervisor, report, reason="RAZON DE MODERACION")
    html = client.get(follow_url(report)).content.decode()
    assert "RAZON DE MODERACION" not in html
    assert 'data-testid="message-form"' not in html  # a hidden report takes no messages


def test_answers_are_shown_with_their_questions(client, catalogue):
    report = make_report(category_code="ruido", answers={"horario": "noche"})
    html = client.get(follow_url(report)).content.decode()
    answers = re.search(r'data-testid="report-answers">(.*?)</dl>', html, re.S).group(1)
    assert catalogue.horario.label in answers
    assert dict(catalogue.horario.options())["noche"] in answers


def test_contact_details_are_never_on_the_tracking_page(client, catalogue):
    reporter = UserFactory(username="usuaria-privada-77")
    report = make_report(
        reporter,
        anonymous=False,
        contact_name="Ana Privada",
        contact_email="ana.privada@example.org",
        contact_phone="3005550000",
    )
    html = client.get(follow_url(report)).content.decode()
    for secret in ("Ana Privada", "ana.privada@example.org", "3005550000", reporter.username):
        assert secret not in html


# --- Photos -----------------------------------------------------------------------------------


def test_photo_is_served_privately_for_its_report(client, report):
    photo = report.photos.get()
    response = client.get(f"/report/{report.tracking_code}/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=86400"
    assert response.content[:2] == b"\xff\xd8"
    html = client.get(follow_url(report)).content.decode()
    assert f"/report/{report.tracking_code}/photos/{photo.pk}/" in html


def test_photo_of_another_report_is_refused(client, report, catalogue):
    other = make_report(photos=1)
    foreign = other.photos.get()
    response = client.get(f"/report/{report.tracking_code}/photos/{foreign.pk}/")
    assert response.status_code == 404
    assert client.get(f"/report/{report.tracking_code}/photos/999999/").status_code == 404
    assert client.get(f"/report/ZZZZZZZZZZZZ/photos/{foreign.pk}/").status_code == 404


# --- The citizen writes and rates --------------------------------------------------------


def test_citizen_adds_information(client, report):
    url = f"/report/{report.tracking_code}/message/"
    response = client.post(url, {"body": "Ahora también el poste de al lado."})
    assert response.status_code == 302
    assert response["Location"] == follow_url(report) + "#timeline"
    event = report.events.get(kind=ReportEvent.Kind.CITIZEN)
    assert event.body == "Ahora también el poste de al lado."
    assert event.author is None
    assert "Ahora también el poste de al lado." in client.get(follow_url(report)).content.decode()


def test_empty_message_is_refused(client, report):
    response = client.post(f"/report/{report.tracking_code}/message/", {"body": "   "})
    assert response.status_code == 400
    assert response.context["message_form"].errors["body"]
    assert not report.events.filter(kind=ReportEvent.Kind.CITIZEN).exists()


def test_message_on_a_hidden_report_is_refused(client, report, supervisor, world):
    report.institution = world.police
    report.save(update_fields=["institution"])
    with transaction.atomic():
        check_hide(supervisor, report, reason="spam")
    response = client.post(f"/report/{report.tracking_code}/message/", {"body": "hola"})
    assert response.status_code == 400
    assert response.context["message_form"].non_field_errors()
    assert not report.events.filter(kind=ReportEvent.Kind.CITIZEN).exists()


def test_logged_in_writer_is_not_linked_to_an_anonymous_report(client, report, citizen):
    login(client, citizen)
    client.post(f"/report/{report.tracking_code}/message/", {"body": "Sigue apagado."})
    assert report.events.get(kind=ReportEvent.Kind.CITIZEN).author is None


def test_named_reporter_messages_keep_their_author(client, catalogue, citizen):
    report = make_report(citizen, anonymous=False)
    login(client, citizen)
    client.post(f"/report/{report.tracking_code}/message/", {"body": "Sigue apagado."})
    assert report.events.get(kind=ReportEvent.Kind.CITIZEN).author == citizen


def test_message_to_an_unknown_code_is_404(client, catalogue):
    assert client.post("/report/ZZZZZZZZZZZZ/message/", {"body": "hola"}).status_code == 404
    assert client.get("/report/ZZZZZZZZZZZZ/message/").status_code == 405


def test_rating_only_once_the_report_is_closed(client, report, call_taker):
    url = f"/report/{report.tracking_code}/rate/"
    assert 'data-testid="rating-form"' not in client.get(follow_url(report)).content.decode()
    refused = client.post(url, {"rating": "4"})
    assert refused.status_code == 400
    assert refused.context["rating_form"].non_field_errors()
    with transaction.atomic():
        check_change_status(call_taker, report, status="resolved", text="Arreglado.")
    assert 'data-testid="rating-form"' in client.get(follow_url(report)).content.decode()
    assert client.post(url, {"rating": "9"}).status_code == 400  # not a choice
    response = client.post(url, {"rating": "4", "comment": "Rápido."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.rating, report.rating_comment) == (4, "Rápido.")
    html = client.get(follow_url(report)).content.decode()
    assert 'data-testid="rating-given"' in html
    assert "Rápido." not in html
    assert client.post(url, {"rating": "1"}).status_code == 400  # rated already
    report.refresh_from_db()
    assert report.rating == 4


# --- Track by code, and my reports -----------------------------------------------------------


def test_track_form_opens_the_report(client, report):
    assert client.get("/report/track/").status_code == 200
    response = client.get("/report/track/", {"code": report.display_code.lower()})
    assert response.status_code == 302
    assert response["Location"] == follow_url(report)


def test_track_form_says_when_a_code_is_unknown(client, report):
    response = client.get("/report/track/", {"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert client.get("/report/track/", {"code": ""}).context["form"].errors["code"]


def test_my_reports_needs_an_account(client, catalogue):
    response = client.get("/report/mine/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_my_reports_lists_mine_and_those_i_support_never_anonymous_ones(client, catalogue, citizen):
    mine = make_report(citizen, anonymous=False, description="MIO")
    make_report(citizen, anonymous=True, description="ANONIMO")
    someone = UserFactory(username="vecino")
    theirs = make_report(someone, anonymous=False, description="AJENO")
    supported = make_report(someone, anonymous=False, description="APOYADO")
    with transaction.atomic():
        check_support_report(
            supported, user=citizen, email="", phone="", idempotency_key=uuid.uuid4().hex
        )
    login(client, citizen)
    html = client.get("/report/mine/").content.decode()
    assert mine.display_code in html
    assert supported.display_code in html
    assert theirs.display_code not in html
    assert html.count('class="report-link"') == 2


# --- The installable page --------------------------------------------------------------------


def test_service_worker_is_served_for_the_report_scope(client, catalogue, world):
    response = client.get("/report/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/report/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert '"/report/", "/report/sos/"' in body
    assert "/static/vendor/leaflet/leaflet.js" in body
    assert f"/api/v1/territories/cities/{world.city.slug}/layers/locality" in body
    version = re.search(r'var VERSION = "([0-9a-f]+)"', body)
    assert version
    assert version.group(1) in client.get("/report/sw.js").content.decode()


def test_manifest_names_the_app_and_its_icons(client, catalogue):
    response = client.get("/report/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/report/"
    assert manifest["scope"] == "/report/"
    assert manifest["display"] == "standalone"
    assert manifest["lang"] == "es"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])


def test_report_pages_link_the_manifest(client, report):
    for url in ("/report/", "/report/sos/", "/report/track/", follow_url(report)):
        html = client.get(url).content.decode()
        assert '<link rel="manifest" href="/report/manifest.webmanifest">' in html, url


def test_every_citizen_page_keeps_the_strict_content_security_policy(client, report, citizen):
    """No inline script, no style attribute, no event handler attribute, nothing from elsewhere."""
    pages = ["/report/", "/report/sos/", "/report/track/", follow_url(report) + "?new=1"]
    login(client, citizen)
    pages.append("/report/mine/")
    for url in pages:
        response = client.get(url)
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        for attributes in re.findall(r"<script([^>]*)>", html):
            assert 'type="application/json"' in attributes or 'src="/static/' in attributes, url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        assert not re.search(r'(?:src|href)="https?://(?!127\.0\.0\.1:8000/report/)', html), url
