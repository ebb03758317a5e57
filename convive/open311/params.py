"""Parse what Open311 clients send: GET requests filters and the POST requests form.

Everything malformed is refused here with a 400 naming the field, before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from convive.open311.errors import Open311Error
from convive.open311.queries import RequestFilters

MAX_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_MEDIA_URL = 500
MAX_PHONE = 32
MAX_IDEMPOTENCY_HEADER = 200
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,32}$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# Not part of a submission's identity: credentials, ignored device/account ids, output options.
NOT_IN_FINGERPRINT = {"api_key", "device_id", "account_id", "extensions"}
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def bad(message: str) -> Open311Error:
    return Open311Error(400, message)


def check_no_nul(params: QueryDict, kwargs: dict[str, Any]) -> None:
    """Refuse the NUL character anywhere: no text column can hold it (PostgreSQL refuses it)."""
    texts = [*kwargs.values(), *params.keys()]
    texts += [value for _key, values in params.lists() for value in values]
    if any("\x00" in str(text) for text in texts):
        raise bad(_("The request contains a NUL character."))


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def parse_w3(name: str, value: str) -> datetime | None:
    """A W3C date and time with its offset (``2010-01-01T00:00:00Z``), or a date (00:00 here)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if moment is not None:
        if timezone.is_naive(moment):
            raise bad(_("%(name)s needs a time zone (Z or ±HH:MM).") % {"name": name})
        return moment
    if day is not None:
        return timezone.make_aware(datetime.combine(day, time.min))
    raise bad(
        _("%(name)s must be a W3C date and time, e.g. 2010-01-01T00:00:00Z.") % {"name": name}
    )


def _date_range(params: QueryDict) -> tuple[datetime, datetime]:
    """The requested range; both ends default so that it covers 90 days at most."""
    start = parse_w3("start_date", params.get("start_date", ""))
    end = parse_w3("end_date", params.get("end_date", ""))
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if start > end:
        raise bad(_("start_date is after end_date."))
    if end - start > MAX_SPAN:
        raise bad(_("start_date and end_date may not span more than 90 days."))
    return start, end


def _ids(params: QueryDict) -> list[int]:
    ids = _comma_list(params.get("service_request_id", ""))
    if len(ids) > MAX_IDS:
        raise bad(_("At most 1000 service_request_id values at once."))
    if any(not value.isdigit() or len(value) > 18 for value in ids):
        raise bad(_("service_request_id takes ids separated by commas."))
    return [int(value) for value in ids]


def _statuses(params: QueryDict) -> list[str]:
    statuses = [value.lower() for value in _comma_list(params.get("status", ""))]
    if any(value not in {"open", "closed"} for value in statuses):
        raise bad(_("status is open, closed, or both separated by a comma."))
    return statuses


def parse_request_filters(params: QueryDict) -> RequestFilters:
    """The filters of GET requests; ``service_request_id`` overrides the others (the spec)."""
    ids = _ids(params)
    if ids:
        return RequestFilters(ids=ids)
    start, end = _date_range(params)
    return RequestFilters(
        service_codes=_comma_list(params.get("service_code", "")),
        start=start,
        end=end,
        statuses=_statuses(params),
    )


def _positive(params: QueryDict, name: str, default: int, maximum: int) -> int:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise bad(
            _("%(name)s must be a whole number from 1 to %(max)d.") % {"name": name, "max": maximum}
        )
    return int(value)


def parse_page(params: QueryDict) -> tuple[int, int]:
    """``(page, page_size)`` of the pagination extension; by default the first 1000 requests."""
    return (
        _positive(params, "page", 1, 1_000_000),
        _positive(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def wants_extensions(*sources: QueryDict) -> bool:
    return any((source.get("extensions") or "").strip().lower() == "true" for source in sources)


# --- POST requests -------------------------------------------------------------------------------


@dataclass
class Submission:
    """A POST requests form, parsed. ``device_id`` and ``account_id`` are never kept."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    name: str = ""
    phone: str = ""
    media_url: str = ""

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.name or self.phone)


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise bad(_("%(name)s must be a number.") % {"name": name}) from None


def _point(form: QueryDict) -> tuple[float | None, float | None]:
    lat, lon = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    if not lat and not lon:
        return None, None
    if not lat or not lon:
        raise bad(_("lat and long must be sent together."))
    return _float("lat", lat), _float("long", lon)


def _address(form: QueryDict) -> str:
    """``address_string``, or else ``address_id`` taken as text: we keep no address registry."""
    address = (form.get("address_string") or "").strip()
    address_id = (form.get("address_id") or "").strip()
    return (address or address_id)[:300]


def parse_attributes(form: QueryDict) -> dict[str, Any]:
    """``attribute[code]=value``; repeated, or ``attribute[code][]=``, for a multivaluelist."""
    answers: dict[str, Any] = {}
    for key, values in form.lists():
        match = _ATTRIBUTE.match(key)
        if match is None:
            if key.startswith("attribute"):
                raise bad(_("“%(key)s” is not of the form attribute[code].") % {"key": key})
            continue
        code, is_list = match.group(1), bool(match.group(2))
        values = [value.strip() for value in values]
        previous = answers.get(code, [])
        merged = (previous if isinstance(previous, list) else [previous]) + values
        answers[code] = merged if is_list or len(merged) > 1 else merged[0]
    return answers


def _email(form: QueryDict) -> str:
    email = (form.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise bad(_("email is not a valid e-mail address.")) from None
    return email


def _phone(form: QueryDict) -> str:
    phone = (form.get("phone") or "").strip()
    if phone and not _PHONE.match(phone):
        raise bad(_("phone is not a valid phone number."))
    return phone


def _media_url(form: QueryDict) -> str:
    """Checked and stored as text: the server never fetches it (no request forgery)."""
    url = (form.get("media_url") or "").strip()
    if not url:
        return ""
    if len(url) > MAX_MEDIA_URL:
        raise bad(_("media_url is limited to 500 characters."))
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise bad(_("media_url must be an http or https address.")) from None
    return url


def parse_submission(form: QueryDict) -> Submission:
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        raise bad(_("service_code was not provided."))
    lat, lon = _point(form)
    address = _address(form)
    if lat is None and not address:
        raise bad(_("A location is required: lat and long, address_string or address_id."))
    first, last = (form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()
    return Submission(
        service_code=service_code,
        lat=lat,
        lon=lon,
        address=address,
        description=(form.get("description") or "").strip(),
        attributes=parse_attributes(form),
        email=_email(form),
        name=f"{first} {last}".strip(),
        phone=_phone(form),
        media_url=_media_url(form),
    )


# --- Idempotency -----------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return "o311-" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def normalised_body(form: QueryDict) -> str:
    """The form in a canonical order, without what does not make it a different submission."""
    pairs = sorted(
        (key, value.strip())
        for key, values in form.lists()
        if key not in NOT_IN_FINGERPRINT
        for value in values
    )
    return urlencode(pairs)


def idempotency_keys(prefix: str, form: QueryDict, header: str) -> list[str]:
    """Candidate idempotency keys, the one to create with first.

    With an ``Idempotency-Key`` header: one key per (API key, header). Without: a SHA-256 of the
    API key prefix and the normalised body, per day, also trying yesterday's, so that an identical
    retry within 24 hours finds the report it made, and the same words a week later make a new one.
    """
    header = (header or "").strip()
    if header:
        if len(header) > MAX_IDEMPOTENCY_HEADER or not header.isascii() or not header.isprintable():
            raise bad(_("The Idempotency-Key header takes up to 200 printable ASCII characters."))
        return [_digest(prefix, "header", header)]
    body = normalised_body(form)
    today = int(timezone.now().timestamp() // IDEMPOTENCY_WINDOW.total_seconds())
    return [_digest(prefix, "body", str(day), body) for day in (today, today - 1)]
