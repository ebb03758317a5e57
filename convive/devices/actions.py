"""The only writers of street devices: registering a panic button, changing its key, a press.

A press is authenticated here (``check_panic_press``): a known, active device, the HMAC-SHA256
over the signed bytes with the device's key (compared in constant time), a clock within
``PANIC_MAX_CLOCK_SKEW_SECONDS`` and a counter above the last accepted one. It then becomes a
P1 incident at the device's location, in the caller's transaction.

Refusals write a ``DeviceRejection`` (and, for a known device, an audit entry) *before* raising
``PressRefusedError``: the caller catches it inside its transaction so that the record is committed,
and the work of the press itself runs in a savepoint, so a refused press leaves nothing else.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.geo import check_lon_lat
from convive.core.tags import AuditTag
from convive.devices.models import DEVICE_CODE_PATTERN, DeviceRejection, PanicButton
from convive.devices.wire import Press, signature_matches
from convive.incidents.actions import check_create_incident_from_device
from convive.incidents.models import Incident, IncidentSource
from convive.institutions.models import Institution
from convive.territories.models import City
from convive.territories.queries import locate

PANIC_TYPE_CODE = "boton-panico"  # convive/incidents/catalogue.py: P1
SECRET_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits

Reason = DeviceRejection.Reason


class PressRefusedError(ActionError):
    """A press was refused and recorded; ``reason`` is a ``DeviceRejection.Reason``."""

    def __init__(self, message: str, *, reason: str, status: int):
        super().__init__(message, status=status)
        self.reason = reason


# --- Registration -----------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def check_create_panic_button(
    actor: User | None,
    *,
    city: City,
    code: str,
    name: str,
    lon: float,
    lat: float,
    address: str = "",
    institution: Institution | None = None,
) -> tuple[PanicButton, str]:
    """Register a button; returns ``(button, secret)``. Show ``secret`` once, to whoever
    configures the device. ``actor`` is None on the command line. The caller holds the
    transaction."""
    code, name, address = code.strip(), name.strip(), address.strip()
    if not re.match(DEVICE_CODE_PATTERN, code):
        raise ActionError(
            _("The code has up to 40 letters, digits, “-” or “_”, e.g. TOTEM-0001."), field="code"
        )
    if PanicButton.objects.filter(code=code).exists():
        raise ActionError(_("A device with code %(code)s exists.") % {"code": code}, field="code")
    if not name or len(name) > 120:
        raise ActionError(_("Name the place of the button (up to 120 characters)."), field="name")
    if len(address) > 300:
        raise ActionError(_("The address is limited to 300 characters."), field="address")
    lon, lat = check_lon_lat(lon, lat)
    if not locate(city, lon=lon, lat=lat):
        raise ActionError(
            _("The point is outside %(city)s.") % {"city": city.name}, field="location"
        )
    if institution is not None and institution.city_id != city.pk:
        raise ActionError(_("The institution belongs to another city."), field="institution")
    secret = new_secret()
    button = PanicButton.objects.create(
        city=city,
        code=code,
        name=name,
        address=address,
        lon=lon,
        lat=lat,
        institution=institution,
        secret=secret,
    )
    record_audit_event(
        actor,
        AuditTag.DEVICE_PANIC_BUTTON_CREATED,
        subject=button,
        data={"code": code, "city": city.slug, "lon": lon, "lat": lat},
    )
    return button, secret


def do_rotate_panic_button_key(actor: User | None, button: PanicButton) -> str:
    """Give the button a new key and return it (shown once); the old one stops working now."""
    secret = new_secret()
    button.secret = secret
    button.secret_rotated_at = timezone.now()
    button.save(update_fields=["secret", "secret_rotated_at"])
    record_audit_event(
        actor, AuditTag.DEVICE_PANIC_BUTTON_KEY_ROTATED, subject=button, data={"code": button.code}
    )
    return secret


# --- Refusals ---------------------------------------------------------------------------------


def do_record_device_rejection(
    *,
    device_code: str,
    reason: str,
    source: str,
    device: PanicButton | None = None,
    detail: str = "",
) -> DeviceRejection:
    """Keep a refused message. Audited only when it names a known device: anybody can send
    rubbish to the webhook, and the audit log is serialised, so unknown codes and unreadable
    messages are kept in ``DeviceRejection`` alone."""
    rejection = DeviceRejection.objects.create(
        device_code=(device_code or "")[:40],
        device=device,
        reason=reason,
        source=source,
        detail=detail[:200],
    )
    if device is not None:
        record_audit_event(
            None,
            AuditTag.DEVICE_MESSAGE_REFUSED,
            subject=device,
            data={"code": device.code, "reason": reason, "source": source},
        )
    return rejection


def _refuse(
    press: Press,
    source: str,
    reason: str,
    message: str,
    status: int,
    device: PanicButton | None = None,
) -> PressRefusedError:
    do_record_device_rejection(
        device_code=press.device_code, reason=reason, source=source, device=device, detail=message
    )
    return PressRefusedError(message, reason=reason, status=status)


def _not_authenticated() -> str:
    # The same words for an unknown device, an inactive one and a bad signature: the answer
    # must not tell a stranger which device codes exist.
    return _("The press could not be authenticated.")


# --- The press --------------------------------------------------------------------------------


def check_panic_press(press: Press, *, source: str, city_slug: str | None = None) -> Incident:
    """Authenticate ``press`` and open a P1 incident where the button stands.

    ``city_slug`` is the city named by an MQTT topic; a button of another city is unknown
    there. Raises ``PressRefusedError`` (401 not authenticated, 400 clock, 409 replay) after
    recording the refusal: the caller must catch it inside its transaction to keep the record.
    """
    buttons = PanicButton.objects.select_related("city", "institution")
    if city_slug is not None:
        buttons = buttons.filter(city__slug=city_slug)
    button = buttons.filter(code=press.device_code).first()
    if button is None:
        raise _refuse(press, source, Reason.UNKNOWN_DEVICE, _not_authenticated(), 401)
    if not signature_matches(button.secret, press.signed_bytes, press.signature):
        raise _refuse(press, source, Reason.BAD_SIGNATURE, _not_authenticated(), 401, button)
    if not button.active:
        raise _refuse(press, source, Reason.INACTIVE, _not_authenticated(), 401, button)
    skew = timedelta(seconds=settings.PANIC_MAX_CLOCK_SKEW_SECONDS)
    if abs(timezone.now() - press.sent_at) > skew:
        message = _(
            "“sent_at” is more than %(seconds)d seconds away from the server's clock: "
            "check the device's clock."
        ) % {"seconds": settings.PANIC_MAX_CLOCK_SKEW_SECONDS}
        raise _refuse(press, source, Reason.STALE, message, 400, button)
    replay = _(
        "Press %(counter)d of %(device)s was already received (or a later one): not repeated."
    ) % {"counter": press.counter, "device": button.code}
    if press.counter <= button.last_counter:
        raise _refuse(press, source, Reason.REPLAY, replay, 409, button)
    with transaction.atomic():  # a savepoint: the counter moves only with the incident
        # Conditional: of two identical presses at once, the second updates no row.
        moved = PanicButton.objects.filter(pk=button.pk, last_counter__lt=press.counter).update(
            last_counter=press.counter
        )
        if moved:
            incident = _open_incident(button, press)
    if not moved:
        raise _refuse(press, source, Reason.REPLAY, replay, 409, button)
    button.last_counter = press.counter
    return incident


def _open_incident(button: PanicButton, press: Press) -> Incident:
    summary = _("Panic button %(code)s pressed: %(name)s") % {
        "code": button.code,
        "name": button.name,
    }
    return check_create_incident_from_device(
        city=button.city,
        source_kind=IncidentSource.Kind.PANIC_BUTTON,
        type_code=PANIC_TYPE_CODE,
        lon=button.lon,
        lat=button.lat,
        address=button.address,
        summary=summary[:300],
        data={"device": button.code, "counter": press.counter},
        institution=button.institution,
    )
