"""GET requests and requests/<id>: filters, the publication policy, and both formats agreeing."""

from datetime import timedelta

import h3
import pytest
from django.urls import reverse
from django.utils import timezone

from convive.core.geo import h3_cell
from convive.open311.tests.helpers import (
    SPEC_REQUESTS_XML,
    as_text,
    element_paths,
    parse_json,
    parse_xml,
    spark,
    spec_xml,
)
from convive.reports.models import Category, Report, ReportEvent
from convive.reports.tests.factories import ReportFactory
from convive.territories.tests.factories import CityFactory

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def get(client, fmt: str, params: dict | None = None, **headers):
    return client.get(reverse("open311:requests", kwargs={"fmt": fmt}), params or {}, **headers)


def get_one(client, fmt: str, service_request_id, params: dict | None = None):
    kwargs = {"fmt": fmt, "service_request_id": str(service_request_id)}
    return client.get(reverse("open311:request", kwargs=kwargs), params or {}, **EN)


def make(world, category, point=(-74.15, 4.60), **fields) -> Report:
    lon, lat = point
    fields.setdefault("address", "Calle 38 Sur # 72")
    fields.setdefault("contact_name", "Ana Pérez")
    fields.setdefault("contact_email", "ana@example.org")
    fields.setdefault("contact_phone", "3001234567")
    return ReportFactory(
        city=world.city,
        category=category,
        lon=lon,
        lat=lat,
        h3_cell=h3_cell(lon, lat),
        media_url="https://img.example.org/1.jpg",
        **fields,
    )


@pytest.fixture
def reports(world, catalogue):
    """One report per publication policy, one hidden, one closed with a public note."""
    r = type("Reports", (), {})()
    r.full = make(world, catalogue.ruido, institution=catalogue.alcaldia)
    catalogue.alumbrado.publication = Category.Publication.COARSE
    catalogue.alumbrado.save()
    r.coarse = make(world, catalogue.alumbrado, point=(-74.123456, 4.612345))
    r.private = make(world, catalogue.robo)
    r.hidden = make(world, catalogue.ruido, is_hidden=True, hidden_reason="spam")
    r.closed = make(world, catalogue.ruido, status=Report.Status.RESOLVED, closed_at=timezone.now())
    ReportEvent.objects.create(report=r.closed, kind=ReportEvent.Kind.STATUS, body="Viejo")
    ReportEvent.objects.create(
        report=r.closed, kind=ReportEvent.Kind.STATUS, body="Resuelto: se habló con el vecino."
    )
    ReportEvent.objects.create(
        report=r.closed, kind=ReportEvent.Kind.NOTE, public=False, body="nota interna"
    )
    return r


def by_id(requests: list[dict]) -> dict[str, dict]:
    return {request["service_request_id"]: request for request in requests}


def test_requests_match_the_spec_example_and_both_formats_agree(client, reports):
    root = parse_xml(get(client, "xml"))
    assert root.tag == "service_requests"
    ours, spec = element_paths(root), element_paths(spec_xml(SPEC_REQUESTS_XML))
    assert ours <= spec
    # Left out on purpose: no SLA (expected_datetime), no address registry, no postal codes.
    assert spec - ours == {
        "service_requests/request/expected_datetime",
        "service_requests/request/address_id",
        "service_requests/request/zipcode",
    }
    assert as_text(parse_json(get(client, "json"))) == spark(root)


def test_full_publication_shows_description_place_and_agency(client, reports, catalogue):
    request = by_id(parse_json(get(client, "json")))[str(reports.full.pk)]
    assert request == {
        "service_request_id": str(reports.full.pk),
        "status": "open",
        "status_notes": None,
        "service_name": "Ruido",
        "service_code": "ruido",
        "description": reports.full.description,
        "agency_responsible": "Alcaldía Local de Kennedy",
        "service_notice": None,
        "requested_datetime": timezone.localtime(reports.full.created_at).isoformat(
            timespec="seconds"
        ),
        "updated_datetime": request["updated_datetime"],
        "address": "Calle 38 Sur # 72",
        "lat": 4.6,
        "long": -74.15,
        "media_url": "https://img.example.org/1.jpg",
    }
    assert request["requested_datetime"].endswith("-05:00")  # with the offset, as w3 asks


def test_coarse_publication_hides_the_words_and_blurs_the_place(client, reports):
    request = by_id(parse_json(get(client, "json")))[str(reports.coarse.pk)]
    assert request["description"] is None
    assert request["address"] is None
    assert request["media_url"] is None
    cell = h3.cell_to_parent(h3.latlng_to_cell(4.612345, -74.123456, 9), 7)
    lat, lon = h3.cell_to_latlng(cell)
    assert (request["lat"], request["long"]) == (round(lat, 6), round(lon, 6))
    assert (request["lat"], request["long"]) != (4.612345, -74.123456)


def test_private_and_hidden_reports_are_never_listed_or_shown(client, reports):
    listed = by_id(parse_json(get(client, "json")))
    assert str(reports.private.pk) not in listed
    assert str(reports.hidden.pk) not in listed
    assert set(listed) == {str(reports.full.pk), str(reports.coarse.pk), str(reports.closed.pk)}
    for report in (reports.private, reports.hidden):
        assert get_one(client, "json", report.pk).status_code == 404
        assert get_one(client, "xml", report.pk).status_code == 404
    asked = {"service_request_id": f"{reports.private.pk},{reports.hidden.pk}"}
    assert parse_json(get(client, "json", asked)) == []


def test_no_contact_data_ever(client, reports):
    for fmt in ("json", "xml"):
        body = get(client, fmt).content.decode()
        for secret in ("Ana Pérez", "ana@example.org", "3001234567", reports.full.tracking_code):
            assert secret not in body


def test_closed_request_has_its_status_notes_and_closing_time(client, reports):
    request = by_id(parse_json(get(client, "json")))[str(reports.closed.pk)]
    assert request["status"] == "closed"
    assert request["status_notes"] == "Resuelto: se habló con el vecino."
    closed = timezone.localtime(reports.closed.closed_at).isoformat(timespec="seconds")
    assert request["updated_datetime"] == closed


def test_one_request_in_both_formats(client, reports):
    as_json = parse_json(get_one(client, "json", reports.full.pk))
    root = parse_xml(get_one(client, "xml", reports.full.pk))
    assert root.tag == "service_requests"
    assert len(as_json) == 1
    assert as_json[0]["service_request_id"] == str(reports.full.pk)
    assert as_text(as_json) == spark(root)


@pytest.mark.parametrize("missing", ["999999", "abc", "1" * 30])
def test_unknown_request_is_404(client, reports, missing):
    response = get_one(client, "json", missing)
    assert response.status_code == 404
    assert parse_json(response)[0]["code"] == 404


def test_request_of_another_jurisdiction_is_404(client, reports, world):
    CityFactory(slug="city.gov")
    response = get_one(client, "json", reports.full.pk, {"jurisdiction_id": "city.gov"})
    assert response.status_code == 404
    mine = get_one(client, "json", reports.full.pk, {"jurisdiction_id": world.city.slug})
    assert mine.status_code == 200
    assert parse_json(get(client, "json", {"jurisdiction_id": "city.gov"})) == []


# --- Filters -----------------------------------------------------------------------------------


def test_filter_by_status(client, reports):
    open_ = by_id(parse_json(get(client, "json", {"status": "open"})))
    assert set(open_) == {str(reports.full.pk), str(reports.coarse.pk)}
    closed = by_id(parse_json(get(client, "json", {"status": "closed"})))
    assert set(closed) == {str(reports.closed.pk)}
    both = parse_json(get(client, "json", {"status": "open,closed"}))
    assert len(both) == 3


def test_filter_by_service_codes(client, reports):
    found = by_id(parse_json(get(client, "json", {"service_code": "alumbrado"})))
    assert set(found) == {str(reports.coarse.pk)}
    found = parse_json(get(client, "json", {"service_code": "alumbrado,ruido"}))
    assert len(found) == 3


def test_service_request_ids_override_the_other_filters(client, reports):
    old = timezone.now() - timedelta(days=400)
    Report.objects.filter(pk=reports.closed.pk).update(created_at=old)
    asked = {"service_request_id": f"{reports.closed.pk},{reports.full.pk}", "status": "open"}
    found = [r["service_request_id"] for r in parse_json(get(client, "json", asked))]
    assert found == [str(reports.full.pk), str(reports.closed.pk)]  # newest first


def test_default_range_is_the_last_90_days(client, reports):
    Report.objects.filter(pk=reports.full.pk).update(created_at=timezone.now() - timedelta(days=91))
    found = by_id(parse_json(get(client, "json")))
    assert str(reports.full.pk) not in found
    assert str(reports.coarse.pk) in found


def test_date_range(client, reports):
    past = timezone.now() - timedelta(days=200)
    Report.objects.filter(pk=reports.full.pk).update(created_at=past)
    params = {
        "start_date": (past - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": timezone.localtime(past + timedelta(days=1)).isoformat(),
    }
    found = [r["service_request_id"] for r in parse_json(get(client, "json", params))]
    assert found == [str(reports.full.pk)]
    only_start = {"start_date": params["start_date"]}  # then 90 days from the start
    found = [r["service_request_id"] for r in parse_json(get(client, "json", only_start))]
    assert found == [str(reports.full.pk)]
    day = {"start_date": (past - timedelta(days=1)).date().isoformat()}
    assert len(parse_json(get(client, "json", day))) == 1


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2010-01-01T00:00:00Z", "end_date": "2010-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2010-02-01T00:00:00Z", "end_date": "2010-01-01T00:00:00Z"}, "after"),
        ({"start_date": "ayer"}, "W3C"),
        ({"start_date": "2010-13-45T00:00:00Z"}, "W3C"),
        ({"end_date": "2010-01-01T00:00:00"}, "time zone"),
        ({"status": "pending"}, "status"),
        ({"service_request_id": "1,dos"}, "service_request_id"),
        ({"service_code": "ruido,nope"}, "nope"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page": "x"}, "page"),
    ],
)
def test_bad_filters_are_400(client, reports, params, words):
    for fmt in ("json", "xml"):
        response = get(client, fmt, params, **EN)
        assert response.status_code == 400
        text = (
            parse_json(response)[0]["description"]
            if fmt == "json"
            else parse_xml(response).find("error/description").text
        )
        assert words in text


def test_pagination_extension(client, reports):
    first = parse_json(get(client, "json", {"page_size": "2"}))
    second = parse_json(get(client, "json", {"page_size": "2", "page": "2"}))
    everything = parse_json(get(client, "json"))
    assert [r["service_request_id"] for r in first + second] == [
        r["service_request_id"] for r in everything
    ]
    assert (len(first), len(second)) == (2, 1)


# --- Text in XML --------------------------------------------------------------------------------


def test_text_is_escaped_and_stripped_of_characters_xml_forbids(client, world, catalogue):
    text = 'Vecinos <b>"ruidosos"</b> & perros\x0b\x1f — ñandú'
    report = make(world, catalogue.ruido, description=text)
    root = parse_xml(get_one(client, "xml", report.pk))  # parses: nothing invalid was written
    assert root.find("request/description").text == 'Vecinos <b>"ruidosos"</b> & perros — ñandú'
    as_json = parse_json(get_one(client, "json", report.pk))
    assert as_json[0]["description"] == root.find("request/description").text


def test_a_report_without_a_point(client, world, catalogue):
    report = ReportFactory(city=world.city, category=catalogue.ruido, address="Parque Timiza")
    [request] = parse_json(get_one(client, "json", report.pk))
    assert (request["lat"], request["long"], request["address"]) == (None, None, "Parque Timiza")
    assert request["agency_responsible"] is None


def test_a_nul_character_anywhere_is_400(client, reports):
    assert get(client, "json", {"service_code": "ruido\x00"}, **EN).status_code == 400
    assert get(client, "xml", {"jurisdiction_id": "\x00"}, **EN).status_code == 400
    response = client.get("/open311/v2/services/rui%00do.json", **EN)
    assert response.status_code == 400
    assert "NUL" in parse_json(response)[0]["description"]
