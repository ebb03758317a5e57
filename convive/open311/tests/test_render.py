"""The XML/JSON writer on its own: escaping, forbidden characters, empty values, the Spark shape."""

import json
import xml.etree.ElementTree as ET

import pytest

from convive.open311.render import to_json, to_xml
from convive.open311.tests.helpers import as_text, spark


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (our own output, in a test)


DOCUMENT = {
    "service_code": "a&b",
    "attributes": [
        {
            "variable": True,
            "code": "<x>",
            "required": False,
            "order": 1,
            "datatype_description": None,
            "values": [{"key": "1", "name": "uno \x01 ]]> dos"}],
        }
    ],
}


def test_xml_is_escaped_and_parses():
    root = parse(to_xml("service_definition", DOCUMENT))
    assert root.find("service_code").text == "a&b"
    assert root.find("attributes/attribute/code").text == "<x>"
    assert root.find("attributes/attribute/variable").text == "true"
    assert root.find("attributes/attribute/required").text == "false"
    assert root.find("attributes/attribute/datatype_description").text is None
    assert root.find("attributes/attribute/values/value/name").text == "uno  ]]> dos"


def test_json_is_the_spark_reading_of_the_xml():
    as_json = json.loads(to_json(DOCUMENT))
    assert as_text(as_json) == spark(parse(to_xml("service_definition", DOCUMENT)))


@pytest.mark.parametrize(("root", "value"), [("services", []), ("service_requests", [])])
def test_empty_lists(root, value):
    assert parse(to_xml(root, value)).tag == root
    assert json.loads(to_json(value)) == []
