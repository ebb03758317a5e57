"""The fleet index: every unit of a city as numpy arrays, kept per process for the recommendation.

``recommend_units`` ranks thousands of units in well under a millisecond of arithmetic, so what
it must not do is read them all each time. Each process keeps, per city, the units' positions,
home centroids, statuses, loads and capability bitmasks (``FleetIndex``), and brings it up to date
before each use with one query for the units written since it last looked:

- **Every write to a unit moves its ``updated_at``**, positions included (``Unit.save`` and the
  actions' ``update()`` calls set it). Before each use the index reads the units whose
  ``updated_at`` is at most ``LOOKBACK_SECONDS`` older than its last look (a transaction may
  commit a little after it stamped its rows) and applies the rows it has not seen: usually none,
  so the check is one indexed query. This process's committed writes are seen by the next
  recommendation; other processes' (the MQTT listener's positions, another server's status
  changes) within ``CHECK_SECONDS``, because under a stream of positions each check re-reads the
  ids and times of every unit written in the last ``LOOKBACK_SECONDS``, which costs milliseconds
  and need not be paid on every call. A dispatcher acting on a unit that changed meanwhile gets
  a conflict anyway (``check_change_unit_status``).
- **A deleted unit** sends ``post_delete``: this process rebuilds on commit. Other processes,
  and writes that commit more than ``LOOKBACK_SECONDS`` after their stamp, are caught by the
  full rebuild every ``REBUILD_SECONDS``; and ``recommend_units`` reads the few units it returns
  from the database, so a deleted one is never recommended.
- **Uncommitted writes are never kept.** While this thread's transaction holds a unit write (every
  action marks it with ``fleet_changed``, and ``post_save`` does for ORM writes), the index it
  uses is built for it alone and thrown away: a rollback cannot leave phantom positions behind.
- ``post_migrate`` (migrations, the test runner's flush) drops every index.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from convive.institutions.models import Institution
from convive.units.models import Capability, Unit

LOOKBACK_SECONDS = 5.0  # how long after stamping its rows a writer may take to commit
REBUILD_SECONDS = 60.0  # the bound for what the incremental check cannot see (module docstring)
CHECK_SECONDS = 0.25  # how stale other processes' writes may be; this process's are seen at once

CAPABILITY_BITS: dict[str, int] = {str(c): 1 << i for i, c in enumerate(Capability)}
STATUSES: tuple[str, ...] = tuple(Unit.Status.values)
STATUS_CODE: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
KINDS: tuple[str, ...] = tuple(Unit.Kind.values)
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}

_FIELDS = (
    "pk",
    "kind",
    "status",
    "capabilities",
    "current_load",
    "last_lon",
    "last_lat",
    "last_position_at",
    "active",
    "updated_at",
    "home_territory__centroid_lon",
    "home_territory__centroid_lat",
)


def capability_mask(capabilities: Any) -> int:
    """The bitmask of the known capabilities in ``capabilities`` (unknown ones are ignored)."""
    if not isinstance(capabilities, list | tuple | set | frozenset):
        return 0
    mask = 0
    for name in capabilities:
        mask |= CAPABILITY_BITS.get(str(name), 0)
    return mask


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else np.nan


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


@dataclass
class FleetIndex:
    """One city's units (active or not), one array entry each, in ``ids`` order.

    The arrays are never changed in place: an update makes new ones, so a reader holding an
    index keeps a consistent view. Positions and times are floats, NaN where unknown.
    """

    city_id: int
    generation: int
    built_at: float  # time.monotonic() of the full build
    looked_at: datetime  # when the last incremental check started (database rows' clock)
    checked_at: float  # time.monotonic() of the last incremental check
    local_writes: int  # this process's count of committed unit writes at that check
    ids: np.ndarray  # int64
    lon: np.ndarray
    lat: np.ndarray
    position_at: np.ndarray  # epoch seconds of the last position
    home_lon: np.ndarray
    home_lat: np.ndarray
    status: np.ndarray  # int8, index into STATUSES
    kind: np.ndarray  # int8, index into KINDS
    capabilities: np.ndarray  # uint64 bitmask (CAPABILITY_BITS)
    load: np.ndarray  # int32
    active: np.ndarray  # bool
    updated: np.ndarray  # epoch seconds of ``updated_at``: which rows a check has already seen
    row_of: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


_ARRAYS = (
    "ids",
    "lon",
    "lat",
    "position_at",
    "home_lon",
    "home_lat",
    "status",
    "kind",
    "capabilities",
    "load",
    "active",
    "updated",
)
_DTYPES = {
    "ids": np.int64,
    "status": np.int8,
    "kind": np.int8,
    "capabilities": np.uint64,
    "load": np.int32,
    "active": bool,
}


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """The arrays of ``FleetIndex`` for these rows (``_FIELDS`` order)."""
    values: dict[str, list] = {name: [] for name in _ARRAYS}
    for row in rows:
        pk, kind, status, caps, load, lon, lat, at, active, updated, home_lon, home_lat = row
        values["ids"].append(pk)
        values["lon"].append(_nan(lon))
        values["lat"].append(_nan(lat))
        values["position_at"].append(_epoch(at))
        values["home_lon"].append(_nan(home_lon))
        values["home_lat"].append(_nan(home_lat))
        values["status"].append(STATUS_CODE.get(status, -1))
        values["kind"].append(KIND_CODE.get(kind, -1))
        values["capabilities"].append(capability_mask(caps))
        values["load"].append(load)
        values["active"].append(active)
        values["updated"].append(_epoch(updated))
    return {
        name: np.array(column, dtype=_DTYPES.get(name, np.float64))
        for name, column in values.items()
    }


def _db_epoch(value: Any) -> float:
    """Epoch seconds of a timestamp as a bare cursor returns it (aware on PostgreSQL, naive UTC
    or text on SQLite)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _changed_since(index: FleetIndex, since: datetime) -> list[int]:
    """Ids of the city's units written since then that the index has not seen as they are now.

    Every recommendation asks, and after a quiet spell finds nothing: a bare query on the
    ``updated_at`` index (the ORM's would cost more to build than to run), which returns only
    ids and times, so that rows already applied cost little to look at again."""
    with connection.cursor() as cursor:
        cursor.execute(_SINCE_SQL, [_db_time(since), index.city_id])
        rows = cursor.fetchall()
    changed = []
    for pk, updated in rows:
        at = index.row_of.get(pk)
        if at is None or index.updated[at] != _db_epoch(updated):
            changed.append(pk)
    return changed


def _db_time(moment: datetime) -> Any:
    return Unit._meta.get_field("updated_at").get_db_prep_value(moment, connection)


_SINCE = "SELECT u.{pk}, u.{updated} FROM {units} u JOIN {institutions} i ON i.{ipk} = u.{fk} "
_SINCE_SQL = (
    _SINCE + "WHERE u.{updated} >= %s AND i.{city} = %s"
).format(  # table and column names only
    pk=Unit._meta.pk.column,
    updated=Unit._meta.get_field("updated_at").column,
    units=Unit._meta.db_table,
    institutions=Institution._meta.db_table,
    ipk=Institution._meta.pk.column,
    fk=Unit._meta.get_field("institution").column,
    city=Institution._meta.get_field("city").column,
)


def _rows(city_id: int, ids: list[int] | None = None) -> list[tuple]:
    units = Unit.objects.filter(institution__city_id=city_id)
    if ids is not None:
        units = units.filter(pk__in=ids)
    return list(units.order_by().values_list(*_FIELDS))


def build_fleet_index(city_id: int, generation: int | None = None) -> FleetIndex:
    """A fresh (uncached) index of the city's units, as this transaction sees them."""
    looked_at = timezone.now()
    columns = _columns(_rows(city_id))
    return FleetIndex(
        city_id=city_id,
        generation=_generation if generation is None else generation,
        built_at=time.monotonic(),
        looked_at=looked_at,
        checked_at=time.monotonic(),
        local_writes=_local_writes,
        row_of={int(pk): i for i, pk in enumerate(columns["ids"])},
        **columns,
    )


def _apply(index: FleetIndex, rows: list[tuple], looked_at: datetime) -> FleetIndex:
    """The index with these rows written over (or added to) its own."""
    fresh = [
        row
        for row in rows
        if row[0] not in index.row_of or index.updated[index.row_of[row[0]]] != _epoch(row[9])
    ]
    if not fresh:
        index.looked_at = looked_at  # references and numbers: safe to set under readers
        return index
    columns = _columns(fresh)
    known = np.array([pk in index.row_of for pk in columns["ids"]], dtype=bool)
    at = np.array([index.row_of[int(pk)] for pk in columns["ids"][known]], dtype=np.int64)
    arrays = {}
    for name in _ARRAYS:
        array = getattr(index, name).copy()
        array[at] = columns[name][known]
        arrays[name] = np.concatenate([array, columns[name][~known]])
    row_of = dict(index.row_of)
    for pk in columns["ids"][~known]:
        row_of[int(pk)] = len(row_of)
    return replace(index, looked_at=looked_at, row_of=row_of, **arrays)


_cache: dict[int, FleetIndex] = {}
_lock = threading.Lock()
_generations = itertools.count(1)
_generation = 0  # this process's; a local deletion (or a migration) moves it on


def _pending_change(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True while this thread's transaction holds a unit write not yet committed."""
    return any(
        func in (_written, _moved, _forget)
        for _sids, func, _robust in connections[using].run_on_commit
    )


def _current(index: FleetIndex | None) -> bool:
    return (
        index is not None
        and index.generation == _generation
        and time.monotonic() - index.built_at < REBUILD_SECONDS
    )


def fleet_index(city_id: int) -> FleetIndex:
    """The city's index, brought up to date with what is committed (module docstring)."""
    if _pending_change():  # this transaction's own writes: use them, keep nothing
        return build_fleet_index(city_id)
    index = _cache.get(city_id)
    if not _current(index):
        with _lock:
            index = _cache.get(city_id)
            if not _current(index):
                index = build_fleet_index(city_id)  # a write meanwhile moves the generation
                _cache[city_id] = index
                return index
    if not _due(index):
        return index
    looked_at = timezone.now()
    writes = _local_writes
    changed = _changed_since(index, index.looked_at - timedelta(seconds=LOOKBACK_SECONDS))
    rows = _rows(city_id, ids=changed) if changed else []
    index.checked_at, index.local_writes = time.monotonic(), writes
    if not rows:
        index.looked_at = looked_at
        return index
    with _lock:
        latest = _cache.get(city_id, index)
        updated = _apply(latest, rows, looked_at)
        if _cache.get(city_id) is latest:
            _cache[city_id] = updated
        return updated


def _due(index: FleetIndex) -> bool:
    """Time for an incremental check: this process committed a unit write since the last one,
    or ``CHECK_SECONDS`` have passed (other processes' writes)."""
    return (
        index.local_writes != _local_writes or time.monotonic() - index.checked_at >= CHECK_SECONDS
    )


_local_writes = 0


def _written() -> None:
    """After commit of a unit write: the next use checks at once (and reads it)."""
    global _local_writes
    _local_writes += 1


def _moved() -> None:
    """After commit of positions only: seen at the next timed check, like other processes'."""


def _forget() -> None:
    """After commit of a deletion: every index of this process is rebuilt on next use."""
    global _generation
    _generation = next(_generations)


def fleet_changed(
    using: str = DEFAULT_DB_ALIAS, *, removed: bool = False, moved_only: bool = False
) -> None:
    """Units were written in this transaction: keep no index built from its uncommitted state;
    after commit check at once (``moved_only``, positions: at the next timed check), or rebuild
    (``removed``: a deletion)."""
    callback = _forget if removed else _moved if moved_only else _written
    pending = [func for _sids, func, _robust in connections[using].run_on_commit]
    if callback not in pending:  # once per transaction is enough
        transaction.on_commit(callback, using=using, robust=True)  # autocommit: at once


def _on_save(sender: type, *, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    fleet_changed(using)


def _on_delete(sender: type, *, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    fleet_changed(using, removed=True)


def _on_migrate(sender: object, **kwargs: object) -> None:
    _forget()


post_save.connect(_on_save, sender=Unit, dispatch_uid="fleet:save")
post_delete.connect(_on_delete, sender=Unit, dispatch_uid="fleet:delete")
post_migrate.connect(_on_migrate, dispatch_uid="fleet:migrate")
