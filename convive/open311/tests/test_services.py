"""Discovery, services, service definitions and tokens, held to the spec's examples."""

from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from convive.core.audit import record_audit_event
from convive.core.tags import AuditTag
from convive.open311.mapping import w3
from convive.open311.tests.helpers import (
    SPEC_DISCOVERY_XML,
    SPEC_ERRORS_XML,
    SPEC_POST_BODY,
    SPEC_POST_RESPONSE_XML,
    SPEC_REQUESTS_XML,
    SPEC_SERVICE_DEFINITION_XML,
    SPEC_SERVICES_XML,
    SPEC_TOKEN_XML,
    as_text,
    element_paths,
    parse_json,
    parse_xml,
    spark,
    spec_xml,
)
from convive.reports.models import Question
from convive.reports.tests.factories import QuestionFactory
from convive.territories.tests.factories import CityFactory

SPEC_DIR = Path(settings.BASE_DIR).parent / "shared" / "standards" / "open311-georeport-v2"


def url(name: str, fmt: str, **kwargs) -> str:
    return reverse(f"open311:{name}", kwargs={"fmt": fmt, **kwargs})


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # to read messages: Spanish is the default


def test_spec_examples_are_verbatim():
    spec = SPEC_DIR / "GeoReport_v2.md"
    if not spec.exists():
        pytest.skip(f"the Open311 documents are not at {SPEC_DIR}")
    text = spec.read_text(encoding="utf-8")
    for example in (
        SPEC_SERVICE_DEFINITION_XML,
        SPEC_POST_BODY,
        SPEC_POST_RESPONSE_XML,
        SPEC_TOKEN_XML,
        SPEC_ERRORS_XML,
    ):
        assert example in text
    for line in SPEC_SERVICES_XML.splitlines() + SPEC_REQUESTS_XML.splitlines():
        assert line in text
    discovery = (SPEC_DIR / "Service_Discovery.md").read_text(encoding="utf-8")
    assert SPEC_DISCOVERY_XML in discovery


# --- Discovery ---------------------------------------------------------------------------------


def test_discovery_has_the_fields_of_the_spec_in_both_formats(client, world):
    root = parse_xml(client.get(url("discovery", "xml")))
    assert root.tag == "discovery"
    assert element_paths(root) == element_paths(spec_xml(SPEC_DISCOVERY_XML))
    document = parse_json(client.get(url("discovery", "json")))
    assert as_text(document) == spark(root)
    endpoint = document["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "production"  # tests run with DEBUG off
    # A W3C date-time (with its offset), at least as new as the newest city (a jurisdiction).
    changeset = datetime.fromisoformat(document["changeset"])
    assert changeset.utcoffset() is not None
    assert changeset >= world.city.created_at.replace(microsecond=0)


def test_discovery_changeset_moves_when_the_catalogue_is_edited(client, catalogue, world):
    before = parse_json(client.get(url("discovery", "json")))["changeset"]
    with transaction.atomic():
        event = record_audit_event(None, AuditTag.ADMIN_OBJECT_CHANGED, subject=catalogue.ruido)
    after = parse_json(client.get(url("discovery", "json")))["changeset"]
    assert after >= before
    assert after == w3(event.created_at)


# --- Services ----------------------------------------------------------------------------------


def test_services_list_every_active_category_with_the_spec_elements(client, catalogue):
    catalogue.alumbrado.active = False
    catalogue.alumbrado.save()
    root = parse_xml(client.get(url("services", "xml")))
    assert root.tag == "services"
    assert element_paths(root) == element_paths(spec_xml(SPEC_SERVICES_XML))
    services = parse_json(client.get(url("services", "json")))
    assert as_text(services) == spark(root)
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"robo", "ruido", "sos"}
    assert by_code["ruido"] == {
        "service_code": "ruido",
        "service_name": "Ruido",
        "description": None,
        "metadata": True,  # it has a question
        "type": "realtime",
        "keywords": None,
        "group": None,
    }
    assert by_code["robo"]["metadata"] is False


def test_services_speak_the_language_asked_for(client, catalogue):
    services = parse_json(client.get(url("services", "json"), HTTP_ACCEPT_LANGUAGE="en"))
    assert {s["service_name"] for s in services} >= {"Robbery", "Noise"}
    services = parse_json(client.get(url("services", "json")))  # Spanish by default
    assert {s["service_name"] for s in services} >= {"Robo", "Ruido"}


def test_service_definition_matches_the_spec_example(client, catalogue):
    QuestionFactory(
        category=catalogue.ruido,
        code="veces",
        datatype=Question.Datatype.NUMBER,
        label_es="¿Cuántas veces?",
        help_es="Un número",
        order=1,  # the same order as horario: positions are made unique
    )
    root = parse_xml(client.get(url("service_definition", "xml", service_code="ruido")))
    assert root.tag == "service_definition"
    assert element_paths(root) == element_paths(spec_xml(SPEC_SERVICE_DEFINITION_XML))
    definition = parse_json(client.get(url("service_definition", "json", service_code="ruido")))
    assert as_text(definition) == spark(root)
    assert definition["service_code"] == "ruido"
    horario, veces = definition["attributes"]
    assert horario == {
        "variable": True,
        "code": "horario",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "¿A qué hora?",
        "values": [{"key": "dia", "name": "De día"}, {"key": "noche", "name": "De noche"}],
    }
    assert veces["order"] == 2
    assert veces["datatype"] == "number"
    assert veces["datatype_description"] == "Un número"
    assert "values" not in veces


def test_service_definition_without_attributes(client, catalogue):
    definition = parse_json(client.get(url("service_definition", "json", service_code="robo")))
    assert definition == {"service_code": "robo", "attributes": []}
    root = parse_xml(client.get(url("service_definition", "xml", service_code="robo")))
    assert [child.tag for child in root] == ["service_code", "attributes"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404_in_the_error_format(client, catalogue, fmt):
    response = client.get(url("service_definition", fmt, service_code="nope"), **EN)
    assert response.status_code == 404
    if fmt == "xml":
        root = parse_xml(response)
        assert element_paths(root) == element_paths(spec_xml(SPEC_ERRORS_XML))
        assert root.find("error/code").text == "404"
        assert "nope" in root.find("error/description").text
    else:
        [error] = parse_json(response)
        assert error["code"] == 404
        assert "nope" in error["description"]


# --- Jurisdictions ------------------------------------------------------------------------------


def test_jurisdiction_is_optional_with_one_city(client, catalogue, world):
    assert client.get(url("services", "json")).status_code == 200
    response = client.get(url("services", "json"), {"jurisdiction_id": world.city.slug})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("services", {}),
        ("service_definition", {"service_code": "ruido"}),
        ("requests", {}),
        ("request", {"service_request_id": "1"}),
        ("token", {"token": "abc"}),
    ],
)
def test_jurisdiction_is_required_with_several_cities(client, catalogue, world, name, kwargs):
    CityFactory(slug="city.gov", name="City")
    response = client.get(url(name, "json", **kwargs), **EN)
    assert response.status_code == 400
    assert "jurisdiction_id" in parse_json(response)[0]["description"]
    response = client.get(url(name, "xml", **kwargs), {"jurisdiction_id": "atlantis"}, **EN)
    assert response.status_code == 404
    assert "atlantis" in parse_xml(response).find("error/description").text
    response = client.get(url("services", "json"), {"jurisdiction_id": "city.gov"})
    assert response.status_code == 200


# --- Tokens, methods, formats -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_are_never_issued_so_every_token_is_404(client, world, fmt):
    response = client.get(url("token", fmt, token="12345"))
    assert response.status_code == 404
    body = parse_xml(response) if fmt == "xml" else parse_json(response)
    text = body.find("error/description").text if fmt == "xml" else body[0]["description"]
    assert "12345" in text


def test_wrong_method_is_405_with_allow(client, world):
    response = client.post(url("services", "json"))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert parse_json(response)[0]["code"] == 405
    assert client.delete(url("requests", "xml")).status_code == 405


def test_unknown_format_is_not_served(client, world):
    assert client.get("/open311/v2/services.csv").status_code == 404
