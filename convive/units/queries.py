"""Reads about units, and the recommendation of the nearest suitable ones.

``recommend_units`` ranks a city's units for a point and a set of required capabilities from the
process's fleet index (``fleet.py``): one query to bring the index up to date (usually finding
nothing new), vectorised distances, ``np.argpartition`` for the top k, and one query for the k
units themselves.

Travel time is an estimate, not a route (there is no road network): the straight-line distance
(local equirectangular projection, exact enough within a city) at an effective speed per kind of
unit, plus ``LOAD_PENALTY_SECONDS`` per incident the unit already has in hand. The effective speed
is learned from the city's own past trips when the caller passes them (``TravelSpeeds``, from
``convive.incidents.queries.learned_travel_speeds``: straight-line metres from the unit to the
incident at dispatch over the seconds until it was on scene, median of the kind's recent trips),
else the kind's urban speed (``SPEED_KMH``) over ``ROAD_FACTOR``. A unit
whose last position is older than ``UNIT_POSITION_MAX_AGE_MINUTES`` (setting, default 10) is placed
at its home territory's centroid instead, and says so; a unit with neither is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from convive.territories.models import City
from convive.units.fleet import (
    CAPABILITY_BITS,
    KIND_CODE,
    KINDS,
    STATUS_CODE,
    FleetIndex,
    capability_mask,
    fleet_index,
)
from convive.units.models import Capability, Unit

EARTH_RADIUS_M = 6_371_008.8
ROAD_FACTOR = 1.35  # streets are longer than the crow flies (1.3 to 1.4 in cities)
SPEED_KMH: dict[str, float] = {
    Unit.Kind.PATROL_CAR: 30.0,
    Unit.Kind.MOTORCYCLE: 35.0,
    Unit.Kind.FOOT_PATROL: 5.0,
    Unit.Kind.AMBULANCE: 35.0,
    Unit.Kind.FIRE_ENGINE: 30.0,
    Unit.Kind.CIVIL_PROTECTION: 30.0,
}
LOAD_PENALTY_SECONDS = 180.0  # per incident in hand: it must finish or hand over first
MAX_K = 50
SPARES = 3  # ranked beyond k, to fill the places of units that changed since the index read

# Straight-line metres per second by default: streets are longer than the straight line.
DEFAULT_MPS = np.array([SPEED_KMH[kind] / 3.6 / ROAD_FACTOR for kind in KINDS])
_AVAILABLE = STATUS_CODE[Unit.Status.AVAILABLE]
_BUSY = np.array([STATUS_CODE[Unit.Status.EN_ROUTE], STATUS_CODE[Unit.Status.ON_SCENE]])
_BUSY_OFFSET = 1e9  # busy units rank after every available one
# Plain dicts: ``get_status_display`` hashes every choice on each call.
_STATUS_LABELS = dict(Unit.Status.choices)
_CAPABILITY_LABELS = dict(Capability.choices)


@dataclass(frozen=True)
class TravelSpeeds:
    """Effective straight-line speed (m/s, dispatch to on scene) per kind (``KINDS`` order), and
    how many past trips each was learned from (0: the default estimate)."""

    mps: np.ndarray
    trips: np.ndarray

    @classmethod
    def defaults(cls) -> TravelSpeeds:
        return cls(DEFAULT_MPS.copy(), np.zeros(len(KINDS), dtype=np.int64))

    @classmethod
    def learned(cls, by_kind: dict[str, tuple[float, int]]) -> TravelSpeeds:
        """``by_kind``: kind -> (metres per second, trips); other kinds keep the default."""
        speeds = cls.defaults()
        for kind, (mps, trips) in by_kind.items():
            if kind in KIND_CODE and mps > 0:
                speeds.mps[KIND_CODE[kind]] = mps
                speeds.trips[KIND_CODE[kind]] = trips
        return speeds


DEFAULT_SPEEDS = TravelSpeeds.defaults()  # read only: ``learned`` works on a copy


def straight_metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """The straight-line distance the recommendation uses (equirectangular, within a city)."""
    scale = math.radians(1) * EARTH_RADIUS_M
    dx = (lon1 - lon2) * scale * math.cos(math.radians(lat2))
    dy = (lat1 - lat2) * scale
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class Recommendation:
    """One suitable unit, with the estimate and the reasons to show the dispatcher."""

    unit: Unit
    eta_seconds: int
    distance_m: int
    reasons: list[str]


def max_position_age_seconds() -> float:
    return 60.0 * settings.UNIT_POSITION_MAX_AGE_MINUTES


@dataclass(frozen=True)
class _Ranked:
    rows: np.ndarray  # positions in the index, best first
    distance_m: np.ndarray
    eta_s: np.ndarray
    from_home: np.ndarray  # bool: placed at the home centroid
    busy: np.ndarray  # bool
    trips: np.ndarray  # past trips the unit's speed was learned from (0: default)


def _rank(
    index: FleetIndex,
    lon: float,
    lat: float,
    need: int,
    k: int,
    now: float,
    include_busy: bool,
    speeds: TravelSpeeds,
) -> _Ranked:
    status = index.status
    usable = index.active & ((index.capabilities & np.uint64(need)) == np.uint64(need))
    busy = np.isin(status, _BUSY) if include_busy else np.zeros(len(index), dtype=bool)
    usable &= (status == _AVAILABLE) | busy
    age = now - index.position_at  # NaN (no position) compares False
    recent = age <= max_position_age_seconds()
    unit_lon = np.where(recent, index.lon, index.home_lon)
    unit_lat = np.where(recent, index.lat, index.home_lat)
    usable &= ~np.isnan(unit_lon)
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        empty = np.empty(0)
        none = empty.astype(np.int64)
        return _Ranked(rows, empty, empty, empty.astype(bool), empty.astype(bool), none)
    scale = math.radians(1) * EARTH_RADIUS_M
    dx = (unit_lon[rows] - lon) * (scale * math.cos(math.radians(lat)))
    dy = (unit_lat[rows] - lat) * scale
    distance = np.hypot(dx, dy)
    kinds = index.kind[rows]
    eta = distance / speeds.mps[kinds]
    eta += index.load[rows] * LOAD_PENALTY_SECONDS
    key = eta + busy[rows] * _BUSY_OFFSET
    if len(rows) > k:
        top = np.argpartition(key, k - 1)[:k]
        order = top[np.argsort(key[top], kind="stable")]
    else:
        order = np.argsort(key, kind="stable")
    chosen = rows[order]
    trips = speeds.trips[kinds[order]]
    return _Ranked(chosen, distance[order], eta[order], ~recent[chosen], busy[chosen], trips)


def _distance_text(distance_m: float, eta_s: float) -> str:
    minutes = max(1, round(eta_s / 60))
    if distance_m < 1000:
        where = _("%(metres)d m") % {"metres": round(distance_m / 10) * 10}
    else:
        where = _("%(km).1f km") % {"km": distance_m / 1000}
    return _("%(distance)s, about %(minutes)d min") % {"distance": where, "minutes": minutes}


def _reasons(
    unit: Unit, ranked: _Ranked, i: int, capabilities: Sequence[str], now: datetime
) -> list[str]:
    reasons = [_distance_text(ranked.distance_m[i], ranked.eta_s[i])]
    if ranked.trips[i]:
        reasons.append(
            ngettext(
                "time learned from %(count)d past trip",
                "time learned from %(count)d past trips",
                int(ranked.trips[i]),
            )
            % {"count": int(ranked.trips[i])}
        )
    reasons += [
        _("has %(capability)s") % {"capability": _CAPABILITY_LABELS[c]} for c in capabilities
    ]
    status = str(_STATUS_LABELS.get(unit.status, unit.status)).lower()
    reasons.append(
        _("%(status)s, ranked after available units") % {"status": status}
        if ranked.busy[i]
        else status
    )
    if unit.current_load:
        reasons.append(
            ngettext("%(count)d incident in hand", "%(count)d incidents in hand", unit.current_load)
            % {"count": unit.current_load}
        )
    if ranked.from_home[i]:
        if unit.last_position_at is None:
            reasons.append(_("no position yet: placed at its home territory"))
        else:
            minutes = int((now - unit.last_position_at).total_seconds() // 60)
            reasons.append(
                _("position %(minutes)d min old: placed at its home territory")
                % {"minutes": minutes}
            )
    return reasons


def recommend_units(
    city_or_fleet: City | FleetIndex,
    *,
    lon: float,
    lat: float,
    capabilities: Sequence[str],
    k: int = 5,
    now: datetime | None = None,
    include_busy: bool = False,
    speeds: TravelSpeeds | None = None,
) -> list[Recommendation]:
    """The ``k`` active units with every capability in ``capabilities`` that would reach the
    point first, best first (module docstring for the estimate).

    Only available units, unless ``include_busy``: then units en route or on scene too, ranked
    after every available one. An unknown capability matches no unit. ``city_or_fleet``: the
    city, or its fleet index when the caller has just obtained it (``fleet_index``).
    ``speeds``: the city's learned travel speeds, else the defaults (module docstring).
    """
    now = now or timezone.now()
    index = (
        city_or_fleet if isinstance(city_or_fleet, FleetIndex) else fleet_index(city_or_fleet.pk)
    )
    wanted = list(dict.fromkeys(str(c) for c in capabilities))
    if any(c not in CAPABILITY_BITS for c in wanted) or not len(index):
        return []
    k = max(1, min(int(k), MAX_K))
    # A few spares: a unit read back may have changed since the index read it (module docstring).
    ranked = _rank(
        index,
        lon,
        lat,
        capability_mask(wanted),
        k + SPARES,
        now.timestamp(),
        include_busy,
        speeds or DEFAULT_SPEEDS,
    )
    ids = [int(pk) for pk in index.ids[ranked.rows]]
    units = (
        Unit.objects.order_by().in_bulk(ids) if ids else {}
    )  # a unit deleted meanwhile drops out
    found = [
        Recommendation(
            unit=units[pk],
            eta_seconds=round(float(ranked.eta_s[i])),
            distance_m=round(float(ranked.distance_m[i])),
            reasons=_reasons(units[pk], ranked, i, wanted, now),
        )
        for i, pk in enumerate(ids)
        if pk in units and _still_qualifies(units[pk], wanted, include_busy)
    ]
    return found[:k]


def _still_qualifies(unit: Unit, wanted: list[str], include_busy: bool) -> bool:
    """The unit as read back now still matches what the index ranked it for: a write committed
    between the index read and this one (another dispatcher's) drops it from the list."""
    statuses = {Unit.Status.AVAILABLE}
    if include_busy:
        statuses |= {Unit.Status.EN_ROUTE, Unit.Status.ON_SCENE}
    return unit.active and unit.status in statuses and set(wanted) <= set(unit.capabilities)


def list_units(city: City) -> QuerySet[Unit]:
    """The city's units by institution and call sign, with their institution and home."""
    return (
        Unit.objects.filter(institution__city=city)
        .select_related("institution", "home_territory")
        .order_by("institution__name", "call_sign")
    )
