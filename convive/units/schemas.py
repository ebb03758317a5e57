"""API schemas of ``/api/v1/units``: the unit board, status changes and AVL positions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from convive.reports.schemas import Input
from convive.units.models import Unit, UnitPosition


class UnitPublic(Schema):
    """A unit as the board shows it (``version``: send it back with a status change)."""

    id: int
    call_sign: str
    kind: str
    kind_label: str
    institution_id: int
    institution: str
    home_territory_id: int | None
    capabilities: list[str]
    status: str
    status_label: str
    current_load: int
    last_lon: float | None
    last_lat: float | None
    last_position_at: datetime | None
    active: bool
    version: int
    updated_at: datetime

    @classmethod
    def from_unit(cls, unit: Unit) -> UnitPublic:
        return cls(
            id=unit.pk,
            call_sign=unit.call_sign,
            kind=unit.kind,
            kind_label=str(unit.get_kind_display()),
            institution_id=unit.institution_id,
            institution=unit.institution.name,
            home_territory_id=unit.home_territory_id,
            capabilities=list(unit.capabilities or []),
            status=unit.status,
            status_label=str(unit.get_status_display()),
            current_load=unit.current_load,
            last_lon=unit.last_lon,
            last_lat=unit.last_lat,
            last_position_at=unit.last_position_at,
            active=unit.active,
            version=unit.version,
            updated_at=unit.updated_at,
        )


class UnitsPublic(Schema):
    data: list[UnitPublic]
    count: int


class BoardFilters(Schema):
    status: str | None = None
    kind: str | None = None
    institution: int | None = None
    limit: int = Field(500, ge=1, le=5000)
    offset: int = Field(0, ge=0)


class UnitStatusUpdate(Input):
    status: str
    expected_version: int
    reason: str = Field("", max_length=1000)


class UnitConflictPublic(Schema):
    """A 409: the error envelope plus ``current``, the unit as it is now."""

    ok: bool = False
    error: str
    errors: list[dict[str, Any]]
    status: int = 409
    current: dict[str, Any] | None = None


class PositionCreate(Schema):
    """One AVL fix. Fields are checked by the action, one item at a time, so that one bad fix
    does not cost the batch its good ones."""

    unit_id: Any = Field(None, description="The unit's id (integer).")
    lon: Any = Field(None, description="Longitude, WGS84 (-180 to 180).")
    lat: Any = Field(None, description="Latitude, WGS84 (-90 to 90).")
    recorded_at: Any = Field(
        None, description="When the device took the fix: ISO 8601 with its time zone."
    )
    speed_kmh: Any = Field(None, description="Optional: 0 to 300.")
    heading: Any = Field(None, description="Optional: 0 to 360 degrees.")
    accuracy_m: Any = Field(None, description="Optional: metres, not negative.")


class PositionItemPublic(Schema):
    """The answer for one item of the batch, by its ``index``."""

    index: int
    ok: bool
    unit_id: int | None = None
    moved: bool | None = None
    note: str = ""
    field: str | None = None
    message: str = ""


class PositionsPublic(Schema):
    data: list[PositionItemPublic]
    accepted: int
    refused: int


class TrackPointPublic(Schema):
    lon: float
    lat: float
    recorded_at: datetime
    speed_kmh: float | None
    heading: float | None
    accuracy_m: float | None
    stale: bool

    @classmethod
    def from_position(cls, position: UnitPosition) -> TrackPointPublic:
        return cls(
            lon=position.lon,
            lat=position.lat,
            recorded_at=position.recorded_at,
            speed_kmh=position.speed_kmh,
            heading=position.heading,
            accuracy_m=position.accuracy_m,
            stale=position.stale,
        )


class TrackPublic(Schema):
    unit_id: int
    data: list[TrackPointPublic]
    count: int
