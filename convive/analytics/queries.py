"""Response-time figures (KPIs) of the command centre: reads only, never a write.

Every figure is computed from each incident's timeline (``IncidentEvent``, the first event of
each kind), so it holds for every channel; ``docs/kpis.md`` defines the intervals, the shifts and
how Convive reads each norm. The incidents' actions keep that first time of each step on the
incident itself (``Incident.first_*_at``), so one query over the incidents alone, no event read,
gives one row per incident with its first times; the percentiles and shares of every grouping
are then computed by NumPy, from arrays the database sends in one binary COPY (PostgreSQL) or
from the rows (SQLite). The "sql" engine computes everything in PostgreSQL and is the reference
the tests compare the others with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convive.accounts.roles import Role
from convive.incidents.access import supervisor_incidents
from convive.incidents.models import Incident, IncidentEvent, IncidentType, Priority
from convive.territories.models import Layer, Territory

Kind = IncidentEvent.Kind

# The intervals, in the order the page and the CSV show them: (code, label, end, start).
INTERVALS: tuple[tuple[str, Any, str, str], ...] = (
    ("answer", _("Answer"), "answered", "call_received"),
    ("capture", _("Capture"), "created", "answered"),
    ("processing", _("Alarm processing"), "dispatched", "received"),
    ("handover", _("Hand-over"), "dispatched", "created"),
    ("turnout", _("Turnout"), "en_route", "dispatched"),
    ("travel", _("Travel"), "on_scene", "en_route"),
    ("on_scene", _("On scene"), "cleared", "on_scene"),
    ("total", _("Total"), "finished", "received"),
)
INTERVAL_CODES = tuple(code for code, *_rest in INTERVALS)


@dataclass(frozen=True)
class Norm:
    """``share`` of the measured ``interval`` must be within ``seconds`` (``strict``: below)."""

    code: str
    label: Any
    short: Any  # for the chart
    interval: str
    seconds: int
    share: float
    strict: bool = False

    def meets(self, seconds: float) -> bool:
        return seconds < self.seconds if self.strict else seconds <= self.seconds


NORMS: tuple[Norm, ...] = (
    Norm("nena_15", _("NENA: answered ≤ 15 s (goal 90 %)"), _("Answer ≤ 15 s"), "answer", 15, 0.90),
    Norm("nena_20", _("NENA: answered ≤ 20 s (goal 95 %)"), _("Answer ≤ 20 s"), "answer", 20, 0.95),
    Norm(
        "nfpa_64",
        _("NFPA 1221: processing ≤ 64 s (goal 90 %)"),
        _("Processing ≤ 64 s"),
        "processing",
        64,
        0.90,
    ),
    Norm(
        "mx_capture",
        _("9-1-1 Mexico: capture ≤ 90 s (goal 90 %)"),
        _("Capture ≤ 90 s"),
        "capture",
        90,
        0.90,
    ),
    Norm(
        "mx_handover",
        _("9-1-1 Mexico: hand-over < 120 s (goal 90 %)"),
        _("Hand-over < 120 s"),
        "handover",
        120,
        0.90,
        strict=True,
    ),
)
NORM_CODES = tuple(norm.code for norm in NORMS)

# Shifts by the local hour the incident was received (settings.TIME_ZONE): [start, end).
SHIFTS: tuple[tuple[str, Any, int, int], ...] = (
    ("morning", _("Morning 06-14"), 6, 14),
    ("afternoon", _("Afternoon 14-22"), 14, 22),
    ("night", _("Night 22-06"), 22, 6),
)
GROUPINGS: tuple[tuple[str, Any], ...] = (
    ("all", _("All incidents")),
    ("locality", _("By locality")),
    ("shift", _("By shift")),
    ("type", _("By type")),
    ("priority", _("By priority")),
)
KPI_ROLES = frozenset({Role.ANALYST, Role.INSTITUTION_ADMIN})  # see their institution's city


def shift_of(hour: int) -> str:
    for code, _label, start, end in SHIFTS:
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return code
    raise ValueError(hour)  # pragma: no cover - the shifts cover the whole day


# --- Scope -----------------------------------------------------------------------------------


def _membership_condition(membership: Any) -> Q:
    role = Role(membership.role)
    if membership.institution_id is None:
        return Q(pk__in=[])
    if role in KPI_ROLES:
        return Q(city_id=membership.institution.city_id)
    if role == Role.SUPERVISOR:
        return supervisor_incidents(membership)  # as in the console
    return Q(pk__in=[])


def kpi_incidents_for(user: Any) -> QuerySet[Incident]:
    """The incidents whose figures ``user`` may see (KPI_VIEW; docs/permissions.md).

    Supervisors: their territories, as in the console; analysts and institution
    administrators: their institution's whole city; platform administrators: everything.
    """
    incidents = Incident.objects.filter(merged_into__isnull=True)
    if not user.is_authenticated:
        return incidents.none()
    if Role.PLATFORM_ADMIN in user.roles():
        return incidents
    condition = Q(pk__in=[])
    for membership in user.active_memberships:
        condition |= _membership_condition(membership)
    return incidents.filter(condition)


def kpi_city_ids(user: Any) -> set[int] | None:
    """The cities ``user`` has figures for (``None``: every city)."""
    if Role.PLATFORM_ADMIN in user.roles():
        return None
    return {
        m.institution.city_id
        for m in user.active_memberships
        if m.institution_id is not None and Role(m.role) in KPI_ROLES | {Role.SUPERVISOR}
    }


def kpi_locality_choices(user: Any) -> list[Territory]:
    localities = Territory.objects.filter(layer__kind=Layer.Kind.LOCALITY).select_related("city")
    cities = kpi_city_ids(user)
    if cities is not None:
        localities = localities.filter(city_id__in=cities)
    return list(localities.order_by("city__name", "name"))


def kpi_type_choices() -> list[IncidentType]:
    return list(IncidentType.objects.all())


# --- Per-incident timestamps ------------------------------------------------------------------


@dataclass(frozen=True)
class KpiFilters:
    """Incidents created from ``start`` (inclusive) to ``end`` (exclusive), local dates."""

    start: date
    end: date
    locality_id: int | None = None
    type_id: int | None = None
    priority: int | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_default_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end, time.min, tzinfo=zone),
        )


def _first(kind: str) -> F:
    """The incident's first time of ``kind`` (its stamp, ``Incident.FIRST_TIME_FIELDS``)."""
    return F(Incident.FIRST_TIME_FIELDS[kind])


def incident_timestamps(user: Any, filters: KpiFilters) -> QuerySet:
    """One row per incident in scope: its groups and the first time of each step.

    The first times are the incident's own stamps (``Incident.first_*_at``: the earliest event
    of each kind, kept by the incidents' actions), so no event is read here. ``received`` is the
    first ``call_received`` event, else the ``created`` one (channels without a call);
    ``finished`` is the first ``closed`` event, else the first ``cleared``.
    """
    start, end = filters.bounds()
    incidents = kpi_incidents_for(user).filter(created_at__gte=start, created_at__lt=end)
    if filters.locality_id is not None:
        incidents = incidents.filter(locality_id=filters.locality_id)
    if filters.type_id is not None:
        incidents = incidents.filter(type_id=filters.type_id)
    if filters.priority is not None:
        incidents = incidents.filter(priority=filters.priority)
    return (
        incidents.order_by()
        .values("pk", "locality_id", "type_id", "priority")
        .annotate(
            call_received=_first(Kind.CALL_RECEIVED),
            answered=_first(Kind.CALL_ANSWERED),
            created=_first(Kind.CREATED),
            dispatched=_first(Kind.DISPATCHED),
            en_route=_first(Kind.EN_ROUTE),
            on_scene=_first(Kind.ON_SCENE),
            cleared=_first(Kind.CLEARED),
            closed=_first(Kind.CLOSED),
        )
        .annotate(
            received=Coalesce("call_received", "created"),
            finished=Coalesce("closed", "cleared"),
        )
    )


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class IntervalFigures:
    count: int = 0
    p50: float | None = None
    p90: float | None = None


@dataclass
class Figures:
    """The figures of one group of incidents."""

    grouping: str
    key: Any
    label: str = ""
    count: int = 0
    intervals: dict[str, IntervalFigures] = field(default_factory=dict)
    # norm code -> incidents within it
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NORM_CODES, 0))

    def compliance(self, norm_code: str) -> float | None:
        """The share (0 to 100) of the incidents measured for the norm's interval that met it."""
        norm = next(n for n in NORMS if n.code == norm_code)
        measured = self.intervals[norm.interval].count
        return 100.0 * self.met.get(norm_code, 0) / measured if measured else None

    def meets_goal(self, norm_code: str) -> bool | None:
        share = self.compliance(norm_code)
        norm = next(n for n in NORMS if n.code == norm_code)
        return None if share is None else share >= 100 * norm.share


GROUP_COLUMNS = ("locality", "shift", "type", "priority")
SHIFT_CODES = tuple(code for code, *_rest in SHIFTS)
MISSING = -1  # a group key that is not known (no locality; no receipt time for the shift)


@dataclass
class Columns:
    """The incidents as columns: a key per grouping (ints, ``MISSING`` when unknown) and each
    interval in seconds (``nan`` when not measured)."""

    keys: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]

    @property
    def count(self) -> int:
        return len(self.keys["priority"])


def _durations(row: dict[str, Any]) -> list[float]:
    """The intervals of one incident, in seconds (``nan`` without both ends, or if negative)."""
    found = []
    for _code, _label, end_name, start_name in INTERVALS:
        end, start = row[end_name], row[start_name]
        ok = end is not None and start is not None and end >= start
        found.append((end - start).total_seconds() if ok else math.nan)
    return found


def _columns_in_python(rows: Iterable[dict[str, Any]]) -> Columns:
    zone = timezone.get_default_timezone()
    keys: dict[str, list[int]] = {name: [] for name in GROUP_COLUMNS}
    seconds: list[list[float]] = []
    for row in rows:
        received = row["received"]
        hour = received.astimezone(zone).hour if received else None
        keys["locality"].append(row["locality_id"] or MISSING)
        keys["shift"].append(MISSING if hour is None else SHIFT_CODES.index(shift_of(hour)))
        keys["type"].append(row["type_id"])
        keys["priority"].append(row["priority"])
        seconds.append(_durations(row))
    table = np.array(seconds, dtype=np.float64).reshape(-1, len(INTERVALS))
    return Columns(
        {name: np.array(values, dtype=np.int64) for name, values in keys.items()},
        {code: table[:, index] for index, code in enumerate(INTERVAL_CODES)},
    )


STAMPS = (
    "call_received",
    "answered",
    "created",
    "dispatched",
    "en_route",
    "on_scene",
    "cleared",
    "closed",
)  # the per-incident times the binary COPY sends, in this order
NO_TIME = np.iinfo(np.int64).min  # PostgreSQL's binary '-infinity': a step that never happened


def _postgres_columns_sql(inner: str) -> str:
    """One row of twelve arrays: the four group keys and the first time of each step.

    No NULL inside (missing steps are '-infinity'), so that every element has the same width;
    one row rather than one per incident, because the driver hands a COPY over row by row. The
    intervals are subtracted by NumPy, cheaper than by SQL over millions of rows.
    """
    shift = _shift_index_sql('per."received"')
    columns = [
        f"COALESCE(per.locality_id, {MISSING})::int4",
        f"({shift})::int4",
        "per.type_id::int4",
        "per.priority::int4",
        *(f"COALESCE(per.\"{name}\", '-infinity')" for name in STAMPS),
    ]
    arrays = ", ".join(f"array_agg({column})" for column in columns)
    return f"SELECT {arrays} FROM ({inner}) AS per"  # noqa: S608


def _binary_arrays(data: bytes, kinds: list[str]) -> list[np.ndarray]:
    """The arrays of a one-row binary COPY (PostgreSQL's ``array_send`` layout, no NULLs)."""
    offset = 19 + int.from_bytes(data[15:19], "big")  # signature, flags, extension length
    offset += 2  # the field count
    found = []
    for kind in kinds:
        length = int.from_bytes(data[offset : offset + 4], "big", signed=True)
        offset += 4
        if length < 0:  # array_agg over no row is NULL
            found.append(np.zeros(0, dtype=np.int64))
            continue
        dimensions = int.from_bytes(data[offset : offset + 4], "big")
        count = int.from_bytes(data[offset + 12 : offset + 16], "big") if dimensions else 0
        start = offset + 12 + 8 * dimensions
        element = np.dtype([("length", ">i4"), ("value", kind)])
        values = np.frombuffer(data, dtype=element, count=count, offset=start)["value"]
        found.append(values.astype(np.int64))
        offset += length
    return found


def _seconds_between(end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``end - start`` in seconds from microsecond stamps; ``nan`` if either is missing or the
    end comes first (as ``_durations``)."""
    valid = (end != NO_TIME) & (start != NO_TIME) & (end >= start)
    seconds = np.full(len(end), np.nan)
    seconds[valid] = (end[valid] - start[valid]) / 1e6
    return seconds


def _columns_in_postgres(rows: QuerySet) -> Columns:
    """The columns read with one binary ``COPY``, parsed by NumPy without a Python object per
    value (the figures of a year of a large city are millions of rows)."""
    inner, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: Django's wrapper has no copy()
        query = raw.mogrify(_postgres_columns_sql(inner), params)
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            data = b"".join(copy)  # one copy of the chunks (memory views), not two
    arrays = _binary_arrays(data, [">i4"] * len(GROUP_COLUMNS) + [">i8"] * len(STAMPS))
    keys = dict(zip(GROUP_COLUMNS, arrays, strict=False))
    stamps = dict(zip(STAMPS, arrays[len(GROUP_COLUMNS) :], strict=True))
    stamps["received"] = np.where(
        stamps["call_received"] != NO_TIME, stamps["call_received"], stamps["created"]
    )
    stamps["finished"] = np.where(stamps["closed"] != NO_TIME, stamps["closed"], stamps["cleared"])
    return Columns(
        keys,
        {
            code: _seconds_between(stamps[end], stamps[start])
            for code, _label, end, start in INTERVALS
        },
    )


def _group_percentiles(ordered: np.ndarray, counts: np.ndarray, fraction: float) -> np.ndarray:
    """``percentile_cont(fraction)`` of each group, its values sorted and stored one group after
    the other (``counts`` values each); ``nan`` for an empty group."""
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = fraction * np.maximum(counts - 1, 0)
    low = np.floor(position).astype(np.int64)
    high = np.ceil(position).astype(np.int64)
    result = np.full(len(counts), np.nan)
    some = counts > 0
    below = ordered[(starts + low)[some]]
    above = ordered[(starts + high)[some]]
    result[some] = below + (above - below) * (position - low)[some]
    return result


def _summarise(columns: Columns) -> dict[tuple[str, Any], Figures]:
    """Counts, percentiles and norms met for every grouping: one sort per interval, then a
    stable sort by group (values stay sorted inside each group)."""
    groupings = {"all": np.zeros(columns.count, dtype=np.int64), **columns.keys}
    indexes = {}  # grouping -> (key values, compact index of each incident)
    for name, keys in groupings.items():
        values, inverse = np.unique(keys, return_inverse=True)
        # 16-bit group numbers let NumPy's stable sort use a radix sort (linear time).
        small = len(values) <= np.iinfo(np.int16).max
        indexes[name] = (values, inverse.astype(np.int16 if small else np.int32))
    figures: dict[tuple[str, Any], Figures] = {}
    for name, (values, inverse) in indexes.items():
        counts = np.bincount(inverse, minlength=len(values))
        for index, value in enumerate(values.tolist()):
            key = _key(name, value)
            figures[(name, key)] = Figures(name, key, count=int(counts[index]))
    for code in INTERVAL_CODES:
        seconds = columns.seconds[code]
        measured = np.flatnonzero(~np.isnan(seconds))
        order = measured[np.argsort(seconds[measured])]
        ordered = seconds[order]
        for name, (values, inverse) in indexes.items():
            group_of = inverse[order]
            in_groups = ordered if name == "all" else ordered[np.argsort(group_of, kind="stable")]
            counts = np.bincount(group_of.astype(np.intp), minlength=len(values))
            p50 = _group_percentiles(in_groups, counts, 0.5)
            p90 = _group_percentiles(in_groups, counts, 0.9)
            met = {
                norm.code: np.bincount(
                    group_of[
                        ordered < norm.seconds if norm.strict else ordered <= norm.seconds
                    ].astype(np.intp),
                    minlength=len(values),
                )
                for norm in NORMS
                if norm.interval == code
            }
            for index, value in enumerate(values.tolist()):
                group = figures[(name, _key(name, value))]
                group.intervals[code] = IntervalFigures(
                    int(counts[index]), _float(p50[index]), _float(p90[index])
                )
                for norm_code, found in met.items():
                    group.met[norm_code] = int(found[index])
    return figures


def _key(grouping: str, value: int) -> Any:
    if grouping == "all" or value == MISSING:
        return None
    return SHIFT_CODES[value] if grouping == "shift" else value


def _float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _seconds_sql(end: str, start: str) -> str:
    return f"CASE WHEN {end} >= {start} THEN date_part('epoch', {end} - {start}) END"


def _shift_sql(received: str, *, codes: bool) -> str:
    zone = settings.TIME_ZONE.replace("'", "")
    hour = f"date_part('hour', {received} AT TIME ZONE '{zone}')"
    cases = []
    for index, (code, _label, start, end) in enumerate(SHIFTS):
        value = f"'{code}'" if codes else str(index)
        if start < end:
            cases.append(f"WHEN {hour} >= {start} AND {hour} < {end} THEN {value}")
        else:
            cases.append(f"WHEN {hour} >= {start} OR {hour} < {end} THEN {value}")
    return f"CASE {' '.join(cases)} ELSE {'NULL' if codes else MISSING} END"


def _shift_index_sql(received: str) -> str:
    """The shift's index in ``SHIFTS`` (``MISSING`` without a receipt time), the local hour read
    once and looked up in a table of ``shift_of`` for every hour: cheaper over millions of rows
    than ``_shift_sql``'s cases, which read the hour again in each."""
    zone = settings.TIME_ZONE.replace("'", "")
    table = ", ".join(str(SHIFT_CODES.index(shift_of(hour))) for hour in range(24))
    hour = f"date_part('hour', {received} AT TIME ZONE '{zone}')::int"
    return f"COALESCE((ARRAY[{table}])[{hour} + 1], {MISSING})"


def _postgres_sql(inner: str) -> str:
    """Every grouping at once: counts, both percentiles of each interval, norms met."""
    shift = _shift_sql('per."received"', codes=True)
    durations = ", ".join(
        _seconds_sql(f'per."{end}"', f'per."{start}"') + f' AS "{code}"'
        for code, _label, end, start in INTERVALS
    )
    aggregates = []
    for code in INTERVAL_CODES:
        aggregates.append(f'COUNT("{code}")')
        aggregates.append(f'percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY "{code}")')
    for norm in NORMS:
        op = "<" if norm.strict else "<="
        aggregates.append(f'COUNT(*) FILTER (WHERE "{norm.interval}" {op} {norm.seconds})')
    # Only constants of this module are interpolated; the inner query keeps its parameters.
    return (
        f"WITH per AS ({inner}), d AS MATERIALIZED (SELECT per.locality_id, "  # noqa: S608
        f"per.type_id, per.priority, {shift} AS shift, {durations} FROM per) "
        "SELECT GROUPING(locality_id), GROUPING(shift), GROUPING(type_id), GROUPING(priority), "
        f"locality_id, shift, type_id, priority, COUNT(*), {', '.join(aggregates)} FROM d "
        "GROUP BY GROUPING SETS ((), (locality_id), (shift), (type_id), (priority))"
    )


def _summarise_in_postgres(rows: QuerySet) -> dict[tuple[str, Any], Figures]:
    inner, params = rows.query.sql_with_params()
    figures: dict[tuple[str, Any], Figures] = {}
    with connection.cursor() as cursor:
        cursor.execute(_postgres_sql(inner), params)
        for record in cursor.fetchall():
            grouping, key = "all", None
            for name, flag, value in zip(GROUP_COLUMNS, record[0:4], record[4:8], strict=True):
                if not flag:
                    grouping, key = name, value
            group = Figures(grouping, key, count=record[8])
            rest = record[9:]
            for index, code in enumerate(INTERVAL_CODES):
                count, quantiles = rest[2 * index], rest[2 * index + 1]
                p50, p90 = quantiles if quantiles is not None else (None, None)
                group.intervals[code] = IntervalFigures(count, p50, p90)
            for index, norm in enumerate(NORMS):
                group.met[norm.code] = rest[2 * len(INTERVAL_CODES) + index]
            figures[(grouping, key)] = group
    return figures


def _label(grouping: str, key: Any, names: dict[str, dict[Any, str]]) -> str:
    if grouping == "all":
        return str(_("All incidents"))
    if key is None:
        return str(_("No locality") if grouping == "locality" else _("Unknown"))
    return names[grouping].get(key, str(key))


@dataclass
class KpiReport:
    filters: KpiFilters
    groups: dict[str, list[Figures]]

    @property
    def overall(self) -> Figures:
        return self.groups["all"][0]


def compute_kpis(user: Any, filters: KpiFilters, *, engine: str | None = None) -> KpiReport:
    """The figures for every grouping.

    ``engine``: "copy" (PostgreSQL: the database sends each incident's first times in one
    binary COPY, NumPy computes the rest), "python" (any database: Python computes the
    intervals), "sql" (PostgreSQL computes everything, ``percentile_cont``; slower on large
    years, kept as the reference the tests compare the others with). By default "copy" on
    PostgreSQL, "python" elsewhere.
    """
    rows = incident_timestamps(user, filters)
    engine = engine or ("copy" if connection.vendor == "postgresql" else "python")
    if engine == "sql":
        figures = _summarise_in_postgres(rows)
    elif engine == "copy":
        figures = _summarise(_columns_in_postgres(rows))
    else:
        figures = _summarise(_columns_in_python(rows.iterator(chunk_size=5000)))
    figures.setdefault(("all", None), _empty_figures())
    names = {
        "locality": dict(
            Territory.objects.filter(
                pk__in=[k for g, k in figures if g == "locality" and k]
            ).values_list("pk", "name")
        ),
        "type": {
            t.pk: t.name
            for t in IncidentType.objects.filter(
                pk__in=[k for g, k in figures if g == "type" and k]
            )
        },
        "priority": {value: f"P{value}" for value in Priority.values},
        "shift": {code: str(label) for code, label, _s, _e in SHIFTS},
    }
    groups: dict[str, list[Figures]] = {code: [] for code, _label in GROUPINGS}
    for (grouping, key), group in figures.items():
        group.label = _label(grouping, key, names)
        groups[grouping].append(group)
    order = {code: index for index, (code, *_r) in enumerate(SHIFTS)}
    for grouping, found in groups.items():
        if grouping == "shift":
            found.sort(key=lambda g: order.get(g.key, 99))
        elif grouping == "priority":
            found.sort(key=lambda g: g.key or 99)
        else:
            found.sort(key=lambda g: (-g.count, g.label))
    return KpiReport(filters, groups)


def _empty_figures() -> Figures:
    group = Figures("all", None)
    group.intervals = {code: IntervalFigures() for code in INTERVAL_CODES}
    return group


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included: (start, end exclusive)."""
    today = today or timezone.localdate()
    return today - timedelta(days=29), today + timedelta(days=1)
