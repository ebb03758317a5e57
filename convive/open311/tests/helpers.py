# The spec examples below are verbatim, long lines included.
# ruff: noqa: E501
"""Test helpers: read XML back by the Spark convention, and the spec's own examples.

The examples are copied verbatim from ``GeoReport_v2.md`` and ``Service_Discovery.md``
(``test_spec_examples_are_verbatim`` holds them to the documents when these are at hand).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse


def parse_xml(response: HttpResponse) -> ET.Element:
    """The response as XML, checking the declaration and the content type on the way."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own output, in a test)


def parse_json(response: HttpResponse) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def spark(element: ET.Element) -> Any:
    """An element as the Spark convention maps it: repeating children → a list, text → text."""
    children = list(element)
    if not children:
        return element.text if element.text else None
    if len({child.tag for child in children}) == 1:  # one kind of child: a repeating element
        return [spark(child) for child in children]
    return {child.tag: spark(child) for child in children}


def as_text(value: Any) -> Any:
    """JSON values as XML writes them: scalars as text, empty lists and "" as nothing."""
    if isinstance(value, dict):
        return {key: as_text(child) for key, child in value.items()}
    if isinstance(value, list):
        return [as_text(child) for child in value] or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)


def element_paths(element: ET.Element, prefix: str = "") -> set[str]:
    """Every element path in the document (``services/service/service_code``...)."""
    path = f"{prefix}/{element.tag}" if prefix else element.tag
    paths = {path}
    for child in element:
        paths |= element_paths(child, path)
    return paths


SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
</services>"""

SPEC_SERVICE_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value>
                    <key>123</key>
                    <name>Ford</name>
                </value>
                <value>
                    <key>124</key>
                    <name>Chrysler</name>
                </value>
            </values>
        </attribute>
    </attributes>
</service_definition>"""

SPEC_POST_BODY = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
    "&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)

SPEC_POST_RESPONSE_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>
            The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code
        </service_notice>
        <account_id/>
    </request>
</service_requests>"""

SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url>
    </request>
</service_requests>"""

SPEC_TOKEN_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <token>12345</token>
    </request>
</service_requests>"""

SPEC_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"""

SPEC_DISCOVERY_XML = """<?xml version="1.0" encoding="UTF-8"?>
    <discovery>
        <changeset>2011-02-03 14:18</changeset>
        <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
        <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
        <endpoints>
            <endpoint>
                <specification>http://wiki.open311.org/GeoReport_v2</specification>
                <url>http://open311.mycity.gov/v2</url>
                <changeset>2010-11-23 09:01</changeset>
                <type>production</type>
                <formats>
                    <format>text/xml</format>
                </formats>
            </endpoint>"""


def spec_xml(example: str) -> ET.Element:
    """An example as an element tree (the discovery excerpt is closed here)."""
    text = example.strip()
    if text.startswith('<?xml version="1.0" encoding="UTF-8"?>'):
        text = text.split("?>", 1)[1] + "</endpoints></discovery>"
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 (the spec's own example)
