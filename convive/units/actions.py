"""The only writers of units: positions (AVL), status changes, and the fleet's administration.

Positions are validated one by one and kept as a track; a fix older than the unit's last one is
kept too but does not move the unit. Status changes and edits are made by people: each takes
the ``version`` the person saw, and a unit that moved on since answers 409
(``UnitConflictError``) with its current state, so that of two dispatchers acting at once exactly
one wins. Both are audited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.tags import AuditTag
from convive.institutions.models import Institution
from convive.territories.models import City, Territory
from convive.territories.queries import city_index, locate, territory_ids_near
from convive.units.events import publish_moves_on_commit, publish_units_on_commit
from convive.units.fleet import CAPABILITY_BITS, fleet_changed
from convive.units.models import DEFAULT_CAPABILITIES, Unit, UnitPosition

CITY_MARGIN_METRES = 2_000  # a fix this close to the city still counts (ring roads, GPS drift)
CLOCK_SKEW = timedelta(seconds=30)  # how far in the future a device's clock may be
MAX_POSITION_AGE = timedelta(hours=24)  # older fixes are refused, not kept
MAX_SPEED_KMH = 300.0
MAX_CALL_SIGN = 32

# Which status may follow which. Going out of service needs a reason (a breakdown, end of shift).
TRANSITIONS: dict[str, frozenset[str]] = {
    Unit.Status.AVAILABLE: frozenset(
        {Unit.Status.DISPATCHED, Unit.Status.EN_ROUTE, Unit.Status.ON_SCENE}
    ),
    Unit.Status.DISPATCHED: frozenset(
        {Unit.Status.EN_ROUTE, Unit.Status.ON_SCENE, Unit.Status.AVAILABLE}
    ),
    Unit.Status.EN_ROUTE: frozenset({Unit.Status.ON_SCENE, Unit.Status.AVAILABLE}),
    Unit.Status.ON_SCENE: frozenset({Unit.Status.EN_ROUTE, Unit.Status.AVAILABLE}),
    Unit.Status.OUT_OF_SERVICE: frozenset({Unit.Status.AVAILABLE}),
}
for _status in (Unit.Status.AVAILABLE, Unit.Status.DISPATCHED, Unit.Status.EN_ROUTE):
    TRANSITIONS[_status] |= {Unit.Status.OUT_OF_SERVICE}
TRANSITIONS[Unit.Status.ON_SCENE] |= {Unit.Status.OUT_OF_SERVICE}


class UnitConflictError(ActionError):
    """409: the unit changed since the caller read it. ``current`` is its state now, for the API
    to return with the error (``ActionError`` itself carries no data besides the message)."""

    def __init__(self, unit: Unit):
        status = Unit.Status(unit.status).label
        super().__init__(
            _(
                "Someone else changed unit %(call_sign)s meanwhile: it is now %(status)s "
                "(version %(version)d). Check its current state and try again."
            )
            % {"call_sign": unit.call_sign, "status": status, "version": unit.version},
            status=409,
            field="expected_version",
        )
        self.current = unit_state(unit)


def unit_state(unit: Unit) -> dict[str, Any]:
    """What a conflict answers with: the unit as it is now."""
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "status": unit.status,
        "version": unit.version,
        "current_load": unit.current_load,
        "active": unit.active,
        "updated_at": unit.updated_at.isoformat() if unit.updated_at else None,
    }


def _conflict(unit_id: int) -> UnitConflictError:
    return UnitConflictError(Unit.objects.get(pk=unit_id))


# --- Positions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionInput:
    """One fix as a device (or the MQTT listener) sends it, for ``check_record_positions_batch``."""

    unit: Unit
    lon: Any
    lat: Any
    recorded_at: Any
    source: str
    speed_kmh: Any = None
    heading: Any = None
    accuracy_m: Any = None


@dataclass(frozen=True)
class PositionResult:
    """``moved`` is False for a stale fix: kept in the track, the unit stayed where it was."""

    position: UnitPosition
    moved: bool
    note: str = ""


@dataclass(frozen=True)
class BatchItemResult:
    """One item of a batch, by its ``index`` in the batch: its result, or why it was refused."""

    index: int
    result: PositionResult | None = None
    error: ActionError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _number(value: Any, field: str, *, required: bool = True) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool):
        value = None  # True is not a coordinate
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ActionError(_("“%(field)s” must be a number.") % {"field": field}, field=field)
    return number


def _check_coordinates(data: PositionInput) -> tuple[float, float]:
    lon, lat = _number(data.lon, "lon"), _number(data.lat, "lat")
    if not -180.0 <= lon <= 180.0:
        raise ActionError(_("“lon” (longitude) must be between -180 and 180."), field="lon")
    if not -90.0 <= lat <= 90.0:
        raise ActionError(_("“lat” (latitude) must be between -90 and 90."), field="lat")
    return lon, lat


def is_near_city(city: City, *, lon: float, lat: float, metres: float = CITY_MARGIN_METRES) -> bool:
    """True when a territory of the city contains the point or lies within ``metres`` of it."""
    index = city_index(city)
    if locate(city, lon=lon, lat=lat, index=index):
        return True
    return any(
        territory_ids_near(city, layer.layer_slug, lon=lon, lat=lat, metres=metres, index=index)
        for layer in index.layers
    )


def _check_time(recorded_at: Any, now: datetime) -> datetime:
    if not isinstance(recorded_at, datetime) or timezone.is_naive(recorded_at):
        raise ActionError(
            _("“recorded_at” must be a date and time with its time zone."), field="recorded_at"
        )
    if recorded_at > now + CLOCK_SKEW:
        raise ActionError(
            _("“recorded_at” is in the future: check the device's clock."), field="recorded_at"
        )
    if recorded_at < now - MAX_POSITION_AGE:
        raise ActionError(
            _("“recorded_at” is more than 24 hours old: the position is not kept."),
            field="recorded_at",
        )
    return recorded_at


def _check_extras(data: PositionInput) -> dict[str, float | None]:
    speed = _number(data.speed_kmh, "speed_kmh", required=False)
    if speed is not None and not 0 <= speed <= MAX_SPEED_KMH:
        raise ActionError(_("“speed_kmh” must be between 0 and 300 km/h."), field="speed_kmh")
    heading = _number(data.heading, "heading", required=False)
    if heading is not None and not 0 <= heading <= 360:
        raise ActionError(_("“heading” must be between 0 and 360 degrees."), field="heading")
    accuracy = _number(data.accuracy_m, "accuracy_m", required=False)
    if accuracy is not None and accuracy < 0:
        raise ActionError(_("“accuracy_m” cannot be negative."), field="accuracy_m")
    return {"speed_kmh": speed, "heading": heading, "accuracy_m": accuracy}


def check_position(data: PositionInput, *, now: datetime) -> UnitPosition:
    """The fix as an unsaved ``UnitPosition``, or ActionError naming the field at fault."""
    if data.source not in UnitPosition.Source.values:
        raise ActionError(_("“source” must be “api” or “mqtt”."), field="source")
    lon, lat = _check_coordinates(data)
    city = data.unit.institution.city
    if not is_near_city(city, lon=lon, lat=lat):
        raise ActionError(
            _("The position (“lon”, “lat”) is more than 2 km outside %(city)s.") % {"city": city},
            field="lon",
        )
    recorded_at = _check_time(data.recorded_at, now)
    return UnitPosition(
        unit=data.unit,
        lon=lon,
        lat=lat,
        recorded_at=recorded_at,
        received_at=now,
        source=data.source,
        **_check_extras(data),
    )


STALE_NOTE = "Older than the unit's last position: kept in the track, the unit was not moved."


def check_record_positions_batch(items: Sequence[PositionInput]) -> list[BatchItemResult]:
    """Validate and keep many fixes at once; one result per item, in order.

    The caller holds the transaction. A refused item (its ``error`` names the field) leaves the
    others alone: nothing is written for it, and the good ones are kept. Within the batch, items
    are judged in order: a fix not newer than the unit's last one, stored or earlier in the
    batch, is stale.
    """
    now = timezone.now()
    results: list[BatchItemResult] = []
    good: list[tuple[int, UnitPosition]] = []
    for index, item in enumerate(items):
        try:
            good.append((index, check_position(item, now=now)))
        except ActionError as error:
            results.append(BatchItemResult(index, error=error))
    written = do_record_positions([position for _index, position in good], now=now)
    results += [BatchItemResult(i, result=r) for (i, _p), r in zip(good, written, strict=True)]
    return sorted(results, key=lambda r: r.index)


def check_record_position(
    unit: Unit,
    *,
    lon: Any,
    lat: Any,
    recorded_at: Any,
    source: str,
    speed_kmh: Any = None,
    heading: Any = None,
    accuracy_m: Any = None,
) -> PositionResult:
    """Keep one fix (ActionError naming the field if refused). The caller holds the transaction."""
    data = PositionInput(unit, lon, lat, recorded_at, source, speed_kmh, heading, accuracy_m)
    (outcome,) = check_record_positions_batch([data])
    if outcome.error is not None:
        raise outcome.error
    return outcome.result


def _newest(positions: list[UnitPosition], last: dict[int, datetime | None]) -> dict[int, datetime]:
    """Mark the stale fixes (not newer than the unit's last, in order); each unit's newest."""
    newest: dict[int, datetime] = {}
    for position in positions:
        latest = newest.get(position.unit_id) or last.get(position.unit_id)
        position.stale = latest is not None and position.recorded_at <= latest
        if not position.stale:
            newest[position.unit_id] = position.recorded_at
    return newest


def do_record_positions(positions: list[UnitPosition], *, now: datetime) -> list[PositionResult]:
    """Keep checked fixes and move each unit to its newest one, unless a newer one got there
    first (a concurrent batch): then this batch's fixes of that unit are stale too."""
    if not positions:
        return []
    ids = {p.unit_id for p in positions}
    last = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "last_position_at"))
    newest = _newest(positions, last)
    by_time = {(p.unit_id, p.recorded_at): p for p in positions if not p.stale}
    for unit_id, recorded_at in newest.items():
        fix = by_time[(unit_id, recorded_at)]
        moved = (
            Unit.objects.filter(pk=unit_id)
            .filter(Q(last_position_at__isnull=True) | Q(last_position_at__lt=recorded_at))
            .update(
                last_lon=fix.lon, last_lat=fix.lat, last_position_at=recorded_at, updated_at=now
            )
        )
        if not moved:
            for position in positions:
                position.stale = position.stale or position.unit_id == unit_id
        else:
            fix.unit.last_lon, fix.unit.last_lat = fix.lon, fix.lat
            fix.unit.last_position_at = recorded_at
    UnitPosition.objects.bulk_create(positions)
    fleet_changed()
    publish_moves_on_commit(p.unit_id for p in positions if not p.stale)  # consoles, on commit
    return [
        PositionResult(p, moved=not p.stale, note=_(STALE_NOTE) if p.stale else "")
        for p in positions
    ]


# --- Status ---------------------------------------------------------------------------------


def check_change_unit_status(
    actor: User | None, unit: Unit, *, status: str, expected_version: int, reason: str = ""
) -> Unit:
    """A person (dispatcher, supervisor, the crew) changes the unit's status.

    ``expected_version`` is the version the person saw; UnitConflictError (409) when it is not the
    current one. The caller should hold the row lock (``access_unit_by_id(..., for_update=True)``);
    without it the write is still conditional on the version, so the outcome is the same.
    """
    if status not in Unit.Status.values:
        raise ActionError(_("Choose a valid status."), field="status")
    if unit.version != expected_version:
        raise _conflict(unit.pk)
    if status == unit.status:
        raise ActionError(_("The unit already has this status."), status=409, field="status")
    if status not in TRANSITIONS[unit.status]:
        raise ActionError(
            _("A unit that is “%(current)s” cannot become “%(status)s”.")
            % {"current": unit.get_status_display(), "status": Unit.Status(status).label},
            status=409,
            field="status",
        )
    reason = reason.strip()
    if status == Unit.Status.OUT_OF_SERVICE and not reason:
        raise ActionError(_("Say why the unit goes out of service."), field="reason")
    return do_change_unit_status(
        actor, unit, status=status, expected_version=expected_version, reason=reason
    )


def do_change_unit_status(
    actor: User | None, unit: Unit, *, status: str, expected_version: int, reason: str = ""
) -> Unit:
    """Write the status if the unit is still at ``expected_version``; UnitConflictError if not."""
    now = timezone.now()
    written = Unit.objects.filter(pk=unit.pk, version=expected_version).update(
        status=status, version=F("version") + 1, updated_at=now
    )
    if not written:
        raise _conflict(unit.pk)
    fleet_changed()
    publish_units_on_commit([unit.pk])  # consoles, on commit
    previous = unit.status
    unit.status, unit.version, unit.updated_at = status, expected_version + 1, now
    record_audit_event(
        actor,
        AuditTag.UNIT_STATUS_CHANGED,
        subject=unit,
        institution=unit.institution,
        reason=reason,
        data={"from": previous, "to": status, "version": unit.version},
    )
    return unit


# --- Administration -------------------------------------------------------------------------


def _check_call_sign(call_sign: str, institution: Institution, unit: Unit | None = None) -> str:
    call_sign = (call_sign or "").strip()
    if not call_sign or len(call_sign) > MAX_CALL_SIGN:
        raise ActionError(_("A call sign has 1 to 32 characters."), field="call_sign")
    taken = Unit.objects.filter(institution=institution, call_sign=call_sign)
    if unit is not None:
        taken = taken.exclude(pk=unit.pk)
    if taken.exists():
        raise ActionError(
            _("%(institution)s already has a unit called %(call_sign)s.")
            % {"institution": institution, "call_sign": call_sign},
            status=409,
            field="call_sign",
        )
    return call_sign


def _check_kind(kind: str) -> str:
    if kind not in Unit.Kind.values:
        raise ActionError(_("Choose a valid kind of unit."), field="kind")
    return kind


def check_capabilities(capabilities: Any) -> list[str]:
    """The capabilities as a list without repeats, or ActionError naming an unknown one."""
    if not isinstance(capabilities, list | tuple):
        raise ActionError(_("Capabilities must be a list."), field="capabilities")
    unknown = [str(c) for c in capabilities if str(c) not in CAPABILITY_BITS]
    if unknown:
        raise ActionError(
            _("Unknown capability: %(names)s.") % {"names": ", ".join(unknown)},
            field="capabilities",
        )
    return list(dict.fromkeys(str(c) for c in capabilities))


def _check_home(home: Territory | None, institution: Institution) -> Territory | None:
    if home is not None and home.city_id != institution.city_id:
        raise ActionError(
            _("The home territory must be in the institution's city."), field="home_territory"
        )
    return home


def check_create_unit(
    actor: User | None,
    *,
    institution: Institution,
    call_sign: str,
    kind: str,
    home_territory: Territory | None = None,
    capabilities: Sequence[str] | None = None,
    active: bool = True,
) -> Unit:
    """An administrator adds a unit to an institution's fleet (the caller checked they may).

    Without ``capabilities`` the unit gets its kind's (``DEFAULT_CAPABILITIES``)."""
    kind = _check_kind(kind)
    unit = Unit.objects.create(
        institution=institution,
        call_sign=_check_call_sign(call_sign, institution),
        kind=kind,
        home_territory=_check_home(home_territory, institution),
        capabilities=check_capabilities(
            DEFAULT_CAPABILITIES[kind] if capabilities is None else capabilities
        ),
        active=bool(active),
    )
    record_audit_event(
        actor,
        AuditTag.UNIT_CREATED,
        subject=unit,
        institution=institution,
        data={"kind": kind, "capabilities": unit.capabilities, "active": unit.active},
    )
    return unit


UNCHANGED: Any = object()  # "leave this field as it is" (``home_territory=None`` clears it)


def check_update_unit(
    actor: User | None,
    unit: Unit,
    *,
    expected_version: int,
    call_sign: str = UNCHANGED,
    kind: str = UNCHANGED,
    home_territory: Territory | None = UNCHANGED,
    capabilities: Sequence[str] = UNCHANGED,
    active: bool = UNCHANGED,
) -> Unit:
    """An administrator edits a unit; UnitConflictError (409) if it changed since they read it."""
    if unit.version != expected_version:
        raise _conflict(unit.pk)
    wanted = {
        "call_sign": call_sign
        if call_sign is UNCHANGED
        else _check_call_sign(call_sign, unit.institution, unit),
        "kind": kind if kind is UNCHANGED else _check_kind(kind),
        "home_territory": home_territory
        if home_territory is UNCHANGED
        else _check_home(home_territory, unit.institution),
        "capabilities": capabilities
        if capabilities is UNCHANGED
        else check_capabilities(capabilities),
        "active": active if active is UNCHANGED else bool(active),
    }
    changes = {
        name: value
        for name, value in wanted.items()
        if value is not UNCHANGED and value != getattr(unit, name)
    }
    if not changes:
        return unit
    return do_update_unit(actor, unit, changes=changes, expected_version=expected_version)


def _shown(value: Any) -> Any:
    return value.pk if isinstance(value, Territory) else value


def do_update_unit(
    actor: User | None, unit: Unit, *, changes: dict[str, Any], expected_version: int
) -> Unit:
    now = timezone.now()
    written = Unit.objects.filter(pk=unit.pk, version=expected_version).update(
        **changes, version=F("version") + 1, updated_at=now
    )
    if not written:
        raise _conflict(unit.pk)
    fleet_changed()
    publish_units_on_commit([unit.pk])  # consoles, on commit
    before = {name: _shown(getattr(unit, name)) for name in changes}
    for name, value in changes.items():
        setattr(unit, name, value)
    unit.version, unit.updated_at = expected_version + 1, now
    record_audit_event(
        actor,
        AuditTag.UNIT_UPDATED,
        subject=unit,
        institution=unit.institution,
        data={
            "changes": {name: [before[name], _shown(value)] for name, value in changes.items()},
            "version": unit.version,
        },
    )
    return unit


def do_create_units(units: list[Unit], positions: list[UnitPosition] | None = None) -> list[Unit]:
    """Write a prepared fleet at once (the demo city): trusted, not audited one by one (the demo
    load is audited as a whole)."""
    now = timezone.now()
    for unit in units:
        unit.updated_at = now
    created = Unit.objects.bulk_create(units)
    if positions:
        UnitPosition.objects.bulk_create(positions)
    fleet_changed()
    publish_units_on_commit(unit.pk for unit in created if unit.pk is not None)
    return created


# --- Dispatch (called by ``convive.incidents.actions``) ---------------------------------------


def do_move_unit_for_incident(
    actor: User | None,
    unit: Unit,
    *,
    status: str,
    load_change: int,
    expected_version: int,
    incident_id: int,
) -> Unit:
    """Dispatch and field steps: the status, and ``current_load`` moved by ``load_change``
    (+1 when sent, -1 when cleared), only if the unit is still at ``expected_version``;
    UnitConflictError (409) otherwise, with nothing written. The incident side checked the rules.
    """
    now = timezone.now()
    load = max(0, unit.current_load + load_change)
    written = Unit.objects.filter(pk=unit.pk, version=expected_version).update(
        status=status, current_load=load, version=F("version") + 1, updated_at=now
    )
    if not written:
        raise _conflict(unit.pk)
    fleet_changed()
    publish_units_on_commit([unit.pk])  # consoles, on commit
    previous = unit.status
    unit.status, unit.current_load = status, load
    unit.version, unit.updated_at = expected_version + 1, now
    record_audit_event(
        actor,
        AuditTag.UNIT_STATUS_CHANGED,
        subject=unit,
        institution=unit.institution,
        data={"from": previous, "to": status, "version": unit.version, "incident": incident_id},
    )
    return unit
