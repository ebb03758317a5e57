"""Events the fleet publishes to live consoles, after commit (``convive/incidents/events.py``).

Group: ``units_group(city_id)``, every unit of the city's institutions. Two messages:

- ``unit.changed``: a unit's status, version or details changed, or it was added; the unit as it
  is once committed (read again then), so a console never shows a change that was rolled back,
  and the ``version`` tells it which of two messages is newer.
- ``units.moved``: one per committed batch of positions per city, with the moved units'
  ``[unit_id, lon, lat, at]`` as committed. ``institution_ids`` (one per position) lets the
  consumer drop the units a person may not see; it is not forwarded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from convive.core.events import publish_now

if TYPE_CHECKING:
    from convive.units.models import Unit


def units_group(city_id: int) -> str:
    return f"units.city.{city_id}"


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


@dataclass(frozen=True)
class UnitChanged:
    """A unit was added or its status, version or details changed."""

    unit_id: int
    call_sign: str
    city_id: int
    institution_id: int
    kind: str
    status: str
    version: int
    current_load: int
    active: bool
    capabilities: list[str]
    lon: float | None
    lat: float | None
    position_at: str | None
    updated_at: str | None
    type: str = "unit.changed"

    @classmethod
    def of(cls, unit: Unit) -> UnitChanged:
        return cls(
            unit_id=unit.pk,
            call_sign=unit.call_sign,
            city_id=unit.institution.city_id,
            institution_id=unit.institution_id,
            kind=unit.kind,
            status=unit.status,
            version=unit.version,
            current_load=unit.current_load,
            active=unit.active,
            capabilities=list(unit.capabilities or []),
            lon=unit.last_lon,
            lat=unit.last_lat,
            position_at=_iso(unit.last_position_at),
            updated_at=_iso(unit.updated_at),
        )


@dataclass(frozen=True)
class UnitsMoved:
    """Units of one city moved (one committed batch of positions)."""

    city_id: int
    positions: list[list]  # [unit_id, lon, lat, at (ISO 8601)]
    institution_ids: list[int]  # one per position, for the consumer's filter
    type: str = "units.moved"


def publish_units_now(unit_ids: Iterable[int]) -> None:
    """Send each unit as it is now (committed) to its city's consoles."""
    from convive.units.models import Unit

    ids = list(unit_ids)
    if not ids:
        return
    units = Unit.objects.select_related("institution").filter(pk__in=ids).order_by("pk")
    for unit in units:
        publish_now(units_group(unit.institution.city_id), UnitChanged.of(unit))


def publish_units_on_commit(unit_ids: Iterable[int]) -> None:
    """After commit, read the units as committed and send them (nothing if rolled back)."""
    ids = list(dict.fromkeys(unit_ids))
    if ids:
        transaction.on_commit(lambda: publish_units_now(ids))


def publish_moves_now(unit_ids: Iterable[int]) -> None:
    """One ``units.moved`` per city with the units' committed positions."""
    from convive.units.models import Unit

    rows = (
        Unit.objects.filter(pk__in=list(unit_ids), last_position_at__isnull=False)
        .values_list(
            "pk",
            "institution_id",
            "institution__city_id",
            "last_lon",
            "last_lat",
            "last_position_at",
        )
        .order_by("pk")
    )
    by_city: dict[int, UnitsMoved] = defaultdict(lambda: UnitsMoved(0, [], []))
    for unit_id, institution_id, city_id, lon, lat, at in rows:
        moved = by_city[city_id]
        moved.positions.append([unit_id, lon, lat, at.isoformat()])
        moved.institution_ids.append(institution_id)
    for city_id, moved in by_city.items():
        event = UnitsMoved(city_id, moved.positions, moved.institution_ids)
        publish_now(units_group(city_id), event)


def publish_moves_on_commit(unit_ids: Iterable[int]) -> None:
    """After commit, send the moved units' positions (one message per city)."""
    ids = list(dict.fromkeys(unit_ids))
    if ids:
        transaction.on_commit(lambda: publish_moves_now(ids))
