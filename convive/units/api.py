"""``/api/v1/units``: the unit board, a unit's status, AVL positions and tracks.

Units are reached through ``units.access`` (404 for a unit one may not see). Who may post a
unit's status or positions (``Action.UNIT_STATUS``):

- a field-unit account, for the units it crews (``Unit.crew``);
- dispatchers and supervisors who reach the unit (its institution's, or a command centre's or
  security secretariat's of its city: ``access_unit_by_id``);
- platform administrators, for every unit.

A position batch is answered item by item: a bad item is refused with its ``index`` and the
field at fault, the good ones are kept (200 as long as the batch itself could be read).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from convive.accounts.permissions import Action, api_permission
from convive.core.errors import ActionError
from convive.units import actions
from convive.units.access import access_unit_by_id, access_unit_for_status, visible_units
from convive.units.actions import BatchItemResult, PositionInput, UnitConflictError
from convive.units.models import Unit, UnitPosition
from convive.units.schemas import (
    BoardFilters,
    PositionCreate,
    PositionItemPublic,
    PositionsPublic,
    TrackPointPublic,
    TrackPublic,
    UnitConflictPublic,
    UnitPublic,
    UnitsPublic,
    UnitStatusUpdate,
)

router = Router(tags=["units"])

MAX_BATCH = 500
MAX_TRACK = 2000


def _conflict(exc: UnitConflictError) -> Status:
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    body = {"ok": False, "error": exc.message, "errors": errors, "status": 409}
    return Status(409, {**body, "current": exc.current})


# --- The board ---------------------------------------------------------------------------------


@router.get("", response=UnitsPublic, url_name="units_list", **api_permission(Action.UNIT_VIEW))
def list_board(request: HttpRequest, params: Query[BoardFilters]) -> UnitsPublic:
    """The units one may see, by institution and call sign; filters: status, kind, institution."""
    units = visible_units(request.user).order_by("institution__name", "call_sign")
    if params.status:
        if params.status not in Unit.Status.values:
            raise ActionError(
                _("Unknown status “%(status)s”.") % {"status": params.status}, field="status"
            )
        units = units.filter(status=params.status)
    if params.kind:
        if params.kind not in Unit.Kind.values:
            raise ActionError(_("Unknown kind “%(kind)s”.") % {"kind": params.kind}, field="kind")
        units = units.filter(kind=params.kind)
    if params.institution:
        units = units.filter(institution_id=params.institution)
    page = units[params.offset : params.offset + params.limit]
    return UnitsPublic(data=[UnitPublic.from_unit(u) for u in page], count=units.count())


@router.get(
    "/{int:unit_id}",
    response=UnitPublic,
    url_name="units_detail",
    **api_permission(Action.UNIT_VIEW),
)
def get_unit(request: HttpRequest, unit_id: int) -> UnitPublic:
    return UnitPublic.from_unit(access_unit_by_id(request.user, unit_id))


@router.post(
    "/{int:unit_id}/status",
    response={200: UnitPublic, 409: UnitConflictPublic},
    url_name="units_status",
    **api_permission(Action.UNIT_STATUS),
)
def change_status(request: HttpRequest, unit_id: int, payload: UnitStatusUpdate) -> Any:
    """Change the unit's status with the ``expected_version`` one saw (409 with ``current`` if
    it moved on). Out of service needs a ``reason``."""
    try:
        with transaction.atomic(durable=True):
            unit = access_unit_for_status(request.user, unit_id, for_update=True)
            actions.check_change_unit_status(
                request.user,
                unit,
                status=payload.status,
                expected_version=payload.expected_version,
                reason=payload.reason,
            )
    except UnitConflictError as exc:
        return _conflict(exc)
    return UnitPublic.from_unit(unit)


# --- Positions ---------------------------------------------------------------------------------


def _when(value: Any) -> Any:
    """An ISO 8601 text as a datetime (the action refuses anything else, naming the field)."""
    if isinstance(value, str):
        try:
            return parse_datetime(value) or value
        except ValueError:
            return value
    return value


def _unit_for_item(request: HttpRequest, unit_id: Any, cache: dict[Any, Unit]) -> Unit:
    if isinstance(unit_id, bool) or not isinstance(unit_id, int):
        raise ActionError(_("“unit_id” must be a unit's number."), field="unit_id")
    if unit_id not in cache:
        try:
            cache[unit_id] = access_unit_for_status(request.user, unit_id)
        except Http404:
            raise ActionError(_("Unit not found."), status=404, field="unit_id") from None
    return cache[unit_id]


def _item(index: int, outcome: BatchItemResult) -> PositionItemPublic:
    if outcome.error is not None:
        return PositionItemPublic(
            index=index, ok=False, field=outcome.error.field, message=outcome.error.message
        )
    result = outcome.result
    return PositionItemPublic(
        index=index, ok=True, unit_id=result.position.unit_id, moved=result.moved, note=result.note
    )


@router.post(
    "/positions",
    response=PositionsPublic,
    url_name="units_positions",
    **api_permission(Action.UNIT_STATUS),
)
def post_positions(request: HttpRequest, payload: list[PositionCreate]) -> PositionsPublic:
    """An AVL batch (at most 500 fixes): answered per item, in order; bad items are refused with
    their index and the field at fault, good ones are kept. Who may post: module docstring."""
    if len(payload) > MAX_BATCH:
        raise ActionError(
            _("At most %(count)d positions per batch.") % {"count": MAX_BATCH}, status=413
        )
    refused: dict[int, BatchItemResult] = {}
    inputs: list[tuple[int, PositionInput]] = []
    units: dict[Any, Unit] = {}
    for index, item in enumerate(payload):
        try:
            unit = _unit_for_item(request, item.unit_id, units)
        except ActionError as error:
            refused[index] = BatchItemResult(index, error=error)
            continue
        data = PositionInput(
            unit,
            item.lon,
            item.lat,
            _when(item.recorded_at),
            UnitPosition.Source.API,
            item.speed_kmh,
            item.heading,
            item.accuracy_m,
        )
        inputs.append((index, data))
    with transaction.atomic(durable=True):
        outcomes = actions.check_record_positions_batch([data for _index, data in inputs])
    for (index, _data), outcome in zip(inputs, outcomes, strict=True):
        refused.setdefault(index, outcome)
    items = [_item(index, refused[index]) for index in sorted(refused)]
    accepted = sum(1 for item in items if item.ok)
    return PositionsPublic(data=items, accepted=accepted, refused=len(items) - accepted)


@router.get(
    "/{int:unit_id}/track",
    response=TrackPublic,
    url_name="units_track",
    **api_permission(Action.UNIT_VIEW),
)
def get_track(request: HttpRequest, unit_id: int, since: str | None = None) -> TrackPublic:
    """The unit's positions since ``since`` (ISO 8601; default: the last hour), oldest first,
    at most 2,000."""
    unit = access_unit_by_id(request.user, unit_id)
    start = timezone.now() - timedelta(hours=1)
    if since:
        parsed = _when(since)
        if not hasattr(parsed, "tzinfo") or parsed.tzinfo is None:
            raise ActionError(
                _("“since” must be a date and time with its time zone."), field="since"
            )
        start = parsed
    points = unit.positions.filter(recorded_at__gte=start).order_by("recorded_at", "pk")
    data = [TrackPointPublic.from_position(p) for p in points[:MAX_TRACK]]
    return TrackPublic(unit_id=unit.pk, data=data, count=len(data))
