"""One document, two formats: XML as GeoReport v2 shows it, and JSON by the Spark convention.

Views build plain Python values (dicts keep their order, lists are the repeating containers);
``render`` writes them as XML under a root element, or as JSON the way the Spark convention
(``JSON_and_XML_Conversion.md``) maps that XML: the root disappears, a container of one kind of
repeating child becomes an array, and a leaf becomes its value. ``ITEM_TAGS`` says which element
repeats inside each container (``services`` → ``service``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {
    JSON: "application/json; charset=utf-8",
    XML: "text/xml; charset=utf-8",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 forbids even escaped (most C0 controls): a citizen's text may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str | None:
    """The text of a leaf element: booleans as ``true``/``false``, nothing for None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for tag, child in value.items():
            _fill(ET.SubElement(element, tag), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = xml_text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``value`` as an XML document whose root element is ``root`` (ElementTree escapes text)."""
    element = ET.Element(root)
    _fill(element, value)
    ET.indent(element, space="  ")  # whitespace between elements only: leaf text is kept
    return XML_DECLARATION + ET.tostring(element, encoding="utf-8")


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clean_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_clean_json(child) for child in value]
    if isinstance(value, str):
        return _NOT_XML.sub("", value)  # the same text in both formats
    return value


def to_json(value: Any) -> bytes:
    return json.dumps(_clean_json(value), ensure_ascii=False).encode("utf-8")


def render(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    """The response for ``value`` in ``fmt`` (``json`` or ``xml``)."""
    body = to_xml(root, value) if fmt == XML else to_json(value)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
