"""Convive ↔ Open311 GeoReport v2: the one place where the standard's names meet ours.

- a ``Category`` is a *service* (``service_code`` = ``Category.code``), its ``Question`` rows the
  *attributes* of its service definition;
- a ``Report`` is a *service request* (``service_request_id`` = the report's id, as text);
  ``open``/``closed`` come from ``Report.is_open``.

What a public response shows of a report follows its category's ``publication``:
``full`` → description, address and exact point; ``coarse`` → neither description nor
address, and the point moved to the centre of its H3 cell at resolution 7 (about 5 km²);
``none`` → the report is not public at all (``convive.reports.access.public_reports``).
Nothing that names or reaches the reporter is ever written here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import h3
from django.utils import timezone

from convive.reports.models import Category, Question, Report

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
SERVICE_TYPE = "realtime"  # a POST answers with the service_request_id at once: no tokens
COARSE_RESOLUTION = 7
COORDINATE_DECIMALS = 6  # about 10 cm: the stored precision, no more
LIST_TYPES = {Question.Datatype.SINGLE, Question.Datatype.MULTI}


def w3(moment: datetime | None) -> str | None:
    """A W3C/ISO 8601 date and time with its offset, in the site's time zone."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _or_none(text: str) -> str | None:
    text = (text or "").strip()
    return text or None


def service(category: Category) -> dict[str, Any]:
    """One ``<service>`` of GET services. ``metadata`` says whether it has attributes."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _or_none(category.description),
        "metadata": bool(getattr(category, "question_count", 0)),
        "type": SERVICE_TYPE,
        "keywords": _or_none(category.keywords),
        "group": _or_none(category.group),
    }


def attribute(question: Question, order: int) -> dict[str, Any]:
    """One ``<attribute>``; ``order`` is its position (the spec wants it unique per service)."""
    value: dict[str, Any] = {
        "variable": True,
        "code": question.code,
        "datatype": question.datatype,
        "required": question.required,
        "datatype_description": _or_none(question.help),
        "order": order,
        "description": question.label,
    }
    if question.datatype in LIST_TYPES:
        value["values"] = [{"key": key, "name": name} for key, name in question.options()]
    return value


def service_definition(category: Category, questions: list[Question]) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [attribute(q, order) for order, q in enumerate(questions, start=1)],
    }


def public_point(report: Report) -> tuple[float | None, float | None]:
    """``(lat, long)`` as the public may see them under the category's publication policy."""
    if report.lat is None or report.lon is None:
        return None, None
    if report.category.publication == Category.Publication.FULL:
        return round(report.lat, COORDINATE_DECIMALS), round(report.lon, COORDINATE_DECIMALS)
    cell = report.h3_cell or h3.latlng_to_cell(report.lat, report.lon, 9)
    lat, lon = h3.cell_to_latlng(h3.cell_to_parent(cell, COARSE_RESOLUTION))
    return round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)


def updated_datetime(report: Report) -> datetime:
    """For a closed request, when it was closed (as the spec asks); else the last change."""
    if not report.is_open and report.closed_at is not None:
        return report.closed_at
    return report.updated_at


def service_request(report: Report) -> dict[str, Any]:
    """One ``<request>`` of GET requests. ``report.status_notes`` comes from the query."""
    full = report.category.publication == Category.Publication.FULL
    lat, long = public_point(report)
    return {
        "service_request_id": str(report.pk),
        "status": report.open311_status,
        "status_notes": _or_none(getattr(report, "status_notes", "") or ""),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": _or_none(report.description) if full else None,
        "agency_responsible": report.institution.name if report.institution_id else None,
        "service_notice": _or_none(report.category.notice),
        "requested_datetime": w3(report.created_at),
        "updated_datetime": w3(updated_datetime(report)),
        "address": _or_none(report.address) if full else None,
        "lat": lat,
        "long": long,
        "media_url": _or_none(report.media_url) if full else None,
    }


def created_request(report: Report, *, tracking_url: str = "") -> dict[str, Any]:
    """The ``<request>`` answering a POST; ``tracking_url`` is our extension (when asked for)."""
    value: dict[str, Any] = {
        "service_request_id": str(report.pk),
        "service_notice": _or_none(report.category.notice),
        "account_id": None,
    }
    if tracking_url:
        value["tracking_code"] = report.display_code
        value["tracking_url"] = tracking_url
    return value
