"""The staff inbox: who reaches it, which reports each person sees, filters, the report page
(every look recorded) and its photos."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from PIL import Image

from conftest import _member, login
from convive.accounts.roles import Role
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.institutions.tests.factories import MembershipFactory
from convive.reports.actions import ReportInput, check_add_note, check_create_report
from convive.reports.inbox_views import PAGE_SIZE
from convive.reports.models import Report
from convive.reports.tests.conftest import KENNEDY_POINT, SUBA_POINT

INBOX = reverse("inbox:list")


def make_report(
    code: str,
    point: tuple[float, float] | None = KENNEDY_POINT,
    *,
    reporter=None,
    description: str = "Un problema en la cuadra.",
    photos: list | None = None,
    **fields,
) -> Report:
    """A report through the real intake (routing included), as a citizen would send it."""
    lon, lat = point if point is not None else (None, None)
    answers = fields.pop("answers", {"horario": "noche"} if code == "ruido" else {})
    data = ReportInput(
        category_code=code,
        idempotency_key=uuid.uuid4().hex,
        channel=Report.Channel.WEB,
        lon=lon,
        lat=lat,
        description=description,
        answers=answers,
        sos=code == "sos",
        **fields,
    )
    with transaction.atomic():
        report, _created = check_create_report(reporter, data, photos=photos)
    return report


def a_photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(buffer, "JPEG")
    return SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")


def listed(client) -> set[int]:
    response = client.get(INBOX)
    assert response.status_code == 200
    return {report.pk for report in response.context["page"]}


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages in English (the msgids); the catalogue data then shows its ``_en`` columns.

    Routing notes are written in the site's language: English here too.
    """
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


class Reports:
    """One report per case of routing, by name."""


@pytest.fixture
def reports(english, catalogue, world) -> Reports:
    r = Reports()
    r.robo_kennedy = make_report("robo")  # police, city-wide rule
    r.robo_suba = make_report("robo", SUBA_POINT)
    r.robo_address = make_report("robo", None, address="Calle 26 # 40-12", city=world.city)
    r.ruido_kennedy = make_report("ruido")  # the Alcaldía Local de Kennedy
    r.ruido_suba = make_report("ruido", SUBA_POINT)  # no rule in Suba: the fallback queue
    r.alumbrado_suba = make_report("alumbrado", SUBA_POINT)  # the secretariat
    r.sos = make_report("sos")  # urgent, the secretariat
    return r


# --- Who may use the inbox --------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["citizen", "analyst", "field_unit", "camera_partner"])
def test_people_without_the_inbox_are_refused_every_page(client, reports, request, fixture):
    login(client, request.getfixturevalue(fixture))
    report = reports.robo_kennedy
    assert client.get(INBOX).status_code == 403
    assert client.get(reverse("inbox:detail", args=[report.pk])).status_code == 403
    assert client.post(reverse("inbox:reply", args=[report.pk]), {}).status_code == 403
    assert client.post(reverse("inbox:hide", args=[report.pk]), {}).status_code == 403
    assert not AuditEvent.objects.filter(tag=AuditTag.REPORT_DETAIL_VIEWED).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, reports):
    response = client.get(reverse("inbox:detail", args=[reports.robo_kennedy.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_staff_menu_and_workspace_lead_to_the_inbox(client, call_taker, citizen):
    login(client, call_taker)
    page = client.get(reverse("accounts:workspace")).content.decode()
    assert f'href="{INBOX}"' in page
    assert 'data-testid="inbox-link"' in page
    client.logout()
    login(client, citizen)
    assert f'href="{INBOX}"' not in client.get(reverse("accounts:me")).content.decode()


# --- Which reports each person sees -----------------------------------------------------------


def test_a_supervisor_of_kennedy_sees_the_police_reports_of_kennedy_only(
    client, reports, supervisor
):
    login(client, supervisor)
    # The address-only report has no locality: the police's staff decide where it belongs.
    assert listed(client) == {reports.robo_kennedy.pk, reports.robo_address.pk}
    suba = reverse("inbox:detail", args=[reports.robo_suba.pk])
    assert client.get(suba).status_code == 404


def test_the_police_administrator_sees_every_police_report(client, reports, institution_admin):
    login(client, institution_admin)
    expected = {reports.robo_kennedy.pk, reports.robo_suba.pk, reports.robo_address.pk}
    assert listed(client) == expected


def test_secretariat_staff_see_their_reports_and_the_fallback_queue(client, reports, call_taker):
    login(client, call_taker)
    expected = {reports.ruido_suba.pk, reports.alumbrado_suba.pk, reports.sos.pk}
    assert listed(client) == expected
    page = client.get(reverse("inbox:detail", args=[reports.ruido_suba.pk])).content.decode()
    assert "Fallback queue" in page
    assert "No routing rule" in page  # the routing note says why


def test_staff_of_a_local_institution_never_see_the_fallback_queue(
    client, reports, catalogue, world
):
    local = _member(world, "gestora", Role.CALL_TAKER, catalogue.alcaldia)
    login(client, local)
    assert listed(client) == {reports.ruido_kennedy.pk}
    assert "unrouted" not in client.get(INBOX).context["form"].fields


def test_the_platform_administrator_sees_everything(client, reports, platform_admin):
    login(client, platform_admin)
    assert listed(client) == set(Report.objects.values_list("pk", flat=True))


def test_each_membership_counts_only_for_its_own_institution_and_territories(
    client, reports, world
):
    """A Kennedy police supervisor who is also a city-wide secretariat analyst: the analyst role
    grants no inbox, so it must not widen the police scope to Suba (nor open the fallback)."""
    person = _member(world, "doble", Role.SUPERVISOR, world.police, [world.kennedy])
    MembershipFactory(user=person, institution=world.secretariat, role=Role.ANALYST)
    login(client, person)
    assert listed(client) == {reports.robo_kennedy.pk, reports.robo_address.pk}


# --- Filters, order, pages --------------------------------------------------------------------


def test_filters(client, reports, call_taker, catalogue, world):
    login(client, call_taker)

    def pks(**query) -> set[int]:
        response = client.get(INBOX, query)
        assert response.status_code == 200, response.context["form"].errors
        return {report.pk for report in response.context["page"]}

    assert pks(territory=world.suba.pk) == {reports.ruido_suba.pk, reports.alumbrado_suba.pk}
    assert pks(category=catalogue.alumbrado.pk) == {reports.alumbrado_suba.pk}
    assert pks(urgent="on") == {reports.sos.pk}
    assert pks(unrouted="on") == {reports.ruido_suba.pk}
    assert pks(status="sos") == {reports.sos.pk}
    assert pks(status="open") == {reports.ruido_suba.pk, reports.alumbrado_suba.pk, reports.sos.pk}
    assert pks(status="closed") == set()


def test_search_finds_words_and_tracking_codes(client, catalogue, call_taker):
    wanted = make_report("alumbrado", description="La luminaria frente al colegio parpadea")
    make_report("alumbrado", description="Poste caído")
    login(client, call_taker)
    for text in ["luminaria", "COLEGIO", wanted.display_code.lower()]:
        response = client.get(INBOX, {"q": text})
        assert [r.pk for r in response.context["page"]] == [wanted.pk], text


def test_a_person_filters_only_by_the_localities_they_cover(client, reports, supervisor, world):
    login(client, supervisor)
    form = client.get(INBOX).context["form"]
    assert [value for value, _label in form.fields["territory"].choices] == ["", world.kennedy.pk]
    response = client.get(INBOX, {"territory": world.suba.pk})
    assert response.status_code == 400
    assert response.context["page"] is None


def test_open_urgent_reports_come_first_then_the_newest(client, catalogue, call_taker):
    old_sos = make_report("sos")
    closed_sos = make_report("sos")
    Report.objects.filter(pk=closed_sos.pk).update(status=Report.Status.CLOSED)
    newest = make_report("alumbrado")
    login(client, call_taker)
    order = [report.pk for report in client.get(INBOX).context["page"]]
    assert order == [old_sos.pk, newest.pk, closed_sos.pk]


def test_pages_and_count(client, catalogue, call_taker, django_assert_max_num_queries):
    for _ in range(PAGE_SIZE + 1):
        make_report("alumbrado")
    login(client, call_taker)
    with django_assert_max_num_queries(12):
        response = client.get(INBOX)
    page = response.content.decode()
    assert f"{PAGE_SIZE + 1} reports" in page
    assert len(response.context["page"]) == PAGE_SIZE
    assert len(client.get(INBOX, {"page": 2}).context["page"]) == 1


# --- One report -------------------------------------------------------------------------------


def test_opening_a_report_is_recorded_every_time(client, reports, supervisor):
    login(client, supervisor)
    url = reverse("inbox:detail", args=[reports.robo_kennedy.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    looks = AuditEvent.objects.filter(tag=AuditTag.REPORT_DETAIL_VIEWED)
    assert looks.count() == 2
    look = looks.last()
    assert (look.actor_username, look.subject_id) == ("supervisora", str(reports.robo_kennedy.pk))
    assert look.institution_name == "Policía Metropolitana"


def test_a_report_out_of_scope_is_not_found_and_its_look_not_recorded(client, reports, supervisor):
    login(client, supervisor)
    response = client.get(reverse("inbox:detail", args=[reports.robo_suba.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(tag=AuditTag.REPORT_DETAIL_VIEWED).exists()


def test_the_report_page_shows_everything_staff_need(client, catalogue, call_taker, citizen):
    report = make_report(
        "ruido",
        reporter=citizen,
        description="Música a todo volumen",
        address="Carrera 7 # 12-30",
        contact_name="Lucía Ríos",
        contact_email="lucia@example.org",
        contact_phone="+57 300 000 0000",
    )
    report.institution = None  # into the fallback queue, which the call-taker handles
    report.save(update_fields=["institution"])
    with transaction.atomic():
        check_add_note(call_taker, report, body="Llamar al conjunto residencial.")
    login(client, call_taker)
    response = client.get(reverse("inbox:detail", args=[report.pk]))
    page = response.content.decode()
    for text in [
        "Noise",
        "Música a todo volumen",
        "Carrera 7 # 12-30",
        "Kennedy",
        "Timiza",
        "At what time?",  # the question's label, not its code
        "At night",  # the option's name, not its key
        "lucia@example.org",
        "+57 300 000 0000",
        "Llamar al conjunto residencial.",
        "Internal: the citizen does not see it",
        report.display_code,
    ]:
        assert text in page, text
    assert '<svg class="territory-map"' in page
    assert 'class="point"' in page
    assert 'data-internal="true"' in page


def test_an_anonymous_report_says_nothing_is_stored(client, catalogue, call_taker):
    report = make_report("alumbrado", anonymous=True)
    login(client, call_taker)
    page = client.get(reverse("inbox:detail", args=[report.pk])).content.decode()
    assert 'data-testid="reporter-anonymous"' in page
    assert 'data-testid="reporter"' not in page


def test_only_what_the_person_may_do_is_offered(client, reports, call_taker, supervisor):
    login(client, call_taker)
    forms = client.get(reverse("inbox:detail", args=[reports.sos.pk])).context["forms"]
    assert set(forms) == {"reply", "note", "status", "assign", "reroute"}
    client.logout()
    login(client, supervisor)
    forms = client.get(reverse("inbox:detail", args=[reports.robo_kennedy.pk])).context["forms"]
    assert set(forms) == {"reply", "note", "status", "assign", "reroute", "hide"}


# --- Photos -----------------------------------------------------------------------------------


def test_photos_are_served_privately_to_staff_who_see_the_report(client, catalogue, supervisor):
    report = make_report("robo", photos=[a_photo()])
    photo = report.photos.get()
    login(client, supervisor)
    response = client.get(reverse("inbox:photo", args=[report.pk, photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    page = client.get(reverse("inbox:detail", args=[report.pk])).content.decode()
    assert reverse("inbox:photo", args=[report.pk, photo.pk]) in page


def test_photos_of_reports_out_of_scope_are_not_found(client, catalogue, supervisor, call_taker):
    suba = make_report("robo", SUBA_POINT, photos=[a_photo()])
    kennedy = make_report("robo", photos=[a_photo()])
    login(client, supervisor)
    assert client.get(reverse("inbox:photo", args=[suba.pk, suba.photos.get().pk])).status_code == (
        404
    )
    # A photo of another report, asked for under a report the person may see.
    mixed = reverse("inbox:photo", args=[kennedy.pk, suba.photos.get().pk])
    assert client.get(mixed).status_code == 404
    client.logout()
    login(client, call_taker)
    own = reverse("inbox:photo", args=[kennedy.pk, kennedy.photos.get().pk])
    assert client.get(own).status_code == 404
