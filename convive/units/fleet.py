"""The fleet index: every unit of a city as numpy arrays, kept per process for the recommendation.

``recommend_units`` ranks thousands of units in well under a millisecond of arithmetic, so what
it must not do is read them all each time. Each process keeps, per city, the units' positions,
home centroids, statuses, loads and capability bitmasks (``FleetIndex``), and before each use
reads, in one query, only the units written since its previous read:

- **The database stamps every write to a unit** (``Unit.write_stamp``, set by triggers: migration
  ``units/0003``), whoever makes it: this process, another server, the MQTT listener, the admin,
  a bare ``UPDATE``. On PostgreSQL the stamp is the writing transaction's id, and each read also
  takes the snapshot it ran on (``pg_current_snapshot()``): the next read asks for the rows
  stamped by the transactions that snapshot could not see (those in progress then, and every
  later one). On SQLite, one writer at a time, the stamp is a counter in commit order, and the
  next read asks for the stamps after the counter the last one saw. Either way a read returns
  exactly the rows committed since the previous read: none twice, none missed, however long a
  transaction takes to commit after writing.
- **The bound.** So every recommendation ranks the units as they were committed when its read
  ran: statuses, loads, capabilities, positions and new units, whichever process wrote them.
  What commits between that read and the read-back of the units it returns (the next query,
  milliseconds later) is caught there: ``recommend_units`` ranks a few spare units, drops any
  that no longer qualify as read back (taken by another dispatcher, out of service, a
  capability removed) and shows the rest as read back; a dispatch of a unit that changes after
  that answers 409 (the version, ``check_change_unit_status``). The read costs one indexed
  query and the rows written since this process's previous use: none when the fleet is quiet,
  a few under a stream of positions, up to the whole fleet (as much as a rebuild) after a long
  idle spell. Nothing is re-read.
- **What the stamps do not show**: a unit deleted by another process (``recommend_units`` reads
  back the units it returns, so a deleted one drops out) and home territories' centroids (a
  territory re-import writes no unit). For these the index is rebuilt every ``REBUILD_SECONDS``,
  and on next use after a deletion in this process (``post_delete``).
- **Uncommitted writes are never kept.** While this thread's transaction holds a unit write (every
  action marks it with ``fleet_changed``, and ``post_save`` does for ORM writes), the index it
  uses is built for it alone and thrown away: a rollback cannot leave phantom positions behind.
  (A bare ``update()`` marks nothing: a transaction that writes units so and then recommends
  would keep what it wrote, committed or not. Write units through the actions.)
- ``post_migrate`` (migrations, the test runner's flush) drops every index.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from convive.institutions.models import Institution
from convive.territories.models import Territory
from convive.units.models import Capability, Unit

REBUILD_SECONDS = 60.0  # the bound for what the stamps do not show (module docstring)

CAPABILITY_BITS: dict[str, int] = {str(c): 1 << i for i, c in enumerate(Capability)}
STATUSES: tuple[str, ...] = tuple(Unit.Status.values)
STATUS_CODE: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
KINDS: tuple[str, ...] = tuple(Unit.Kind.values)
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


def capability_mask(capabilities: Any) -> int:
    """The bitmask of the known capabilities in ``capabilities`` (unknown ones are ignored)."""
    if not isinstance(capabilities, list | tuple | set | frozenset):
        return 0
    mask = 0
    for name in capabilities:
        mask |= CAPABILITY_BITS.get(str(name), 0)
    return mask


_MASKS: dict[str, int] = {}  # a row's capabilities as JSON text -> mask: a fleet has few sets


def _mask_of(raw: Any) -> int:
    """The mask of ``capabilities`` as the cursor returns it (JSON text, or decoded)."""
    if not isinstance(raw, str):
        return capability_mask(raw)
    mask = _MASKS.get(raw)
    if mask is None:
        if len(_MASKS) > 4096:
            _MASKS.clear()
        mask = _MASKS[raw] = capability_mask(json.loads(raw))
    return mask


@dataclass(frozen=True)
class FleetIndex:
    """One city's units (active or not), one array entry each, in ``ids`` order.

    The arrays are never changed in place: an update makes a new index, so a reader holding one
    keeps a consistent view. Positions and times are floats, NaN where unknown.
    """

    city_id: int
    generation: int
    built_at: float  # time.monotonic() of the full build
    horizon: int  # the next read asks for the rows stamped from here on...
    unseen: tuple[int, ...]  # ...and by these (PostgreSQL: transactions in progress at this read)
    last_read: int  # how many rows this index's last read returned: the units changed since
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
    row_of: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


# The columns a read returns, in this order; ``_columns`` turns them into the arrays.
_ARRAYS = (
    "ids",
    "kind",
    "status",
    "capabilities",
    "load",
    "lon",
    "lat",
    "position_at",
    "active",
    "home_lon",
    "home_lat",
)


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """The arrays of ``FleetIndex`` for these rows (``_ARRAYS`` order, ``None`` where unknown)."""
    values = dict(zip(_ARRAYS, zip(*rows, strict=True), strict=True)) if rows else {}
    column = values.get
    return {
        "ids": np.array(column("ids", ()), dtype=np.int64),
        "kind": np.array([KIND_CODE.get(k, -1) for k in column("kind", ())], dtype=np.int8),
        "status": np.array([STATUS_CODE.get(s, -1) for s in column("status", ())], dtype=np.int8),
        "capabilities": np.array([_mask_of(c) for c in column("capabilities", ())], np.uint64),
        "load": np.array(column("load", ()), dtype=np.int32),
        "active": np.array(column("active", ()), dtype=bool),
        **{  # None -> NaN
            name: np.array(column(name, ()), dtype=np.float64)
            for name in ("lon", "lat", "position_at", "home_lon", "home_lat")
        },
    }


_NAMES = {  # table and column names only
    "units": Unit._meta.db_table,
    "pk": Unit._meta.pk.column,
    **{
        name: Unit._meta.get_field(name).column
        for name in (
            "kind",
            "status",
            "capabilities",
            "current_load",
            "last_lon",
            "last_lat",
            "last_position_at",
            "active",
            "write_stamp",
            "institution",
            "home_territory",
        )
    },
    "institutions": Institution._meta.db_table,
    "ipk": Institution._meta.pk.column,
    "city": Institution._meta.get_field("city").column,
    "territories": Territory._meta.db_table,
    "tpk": Territory._meta.pk.column,
    "centroid_lon": Territory._meta.get_field("centroid_lon").column,
    "centroid_lat": Territory._meta.get_field("centroid_lat").column,
}
_UNITS = (  # _ARRAYS order
    "SELECT u.{pk} AS unit_id, u.{kind}, u.{status}, u.{capabilities}, u.{current_load}, "
    "u.{last_lon}, u.{last_lat}, {position_at} AS position_at, u.{active}, "
    "t.{centroid_lon} AS home_lon, t.{centroid_lat} AS home_lat "
    "FROM {units} u JOIN {institutions} i ON i.{ipk} = {join}u.{institution} "
    "LEFT JOIN {territories} t ON t.{tpk} = u.{home_territory} WHERE i.{city} = %s"
)
_POSTGRESQL = {
    "join": "",
    "position_at": "date_part('epoch', u.{last_position_at})",
    "since": " AND (u.{write_stamp} >= %s OR u.{write_stamp} = ANY(%s::bigint[]))",
    "horizon": "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()::text",
}
_SQLITE = {
    # Unary plus: a read since a horizon goes by ``write_stamp``'s index, not the institution's,
    # which would walk every unit of the city (SQLite's planner has no statistics to know).
    "join": "+",
    "position_at": "(julianday(u.{last_position_at}) - 2440587.5) * 86400.0",  # UTC text
    "since": " AND u.{write_stamp} >= %s",
    "horizon": "SELECT value FROM units_fleet_clock",  # migration units/0003
}


def _sql(vendor: dict[str, str], *, since: bool) -> str:
    """The read: where the stamps stand, and the city's units stamped from ``since`` on (or all).

    One statement, so that both come from the same snapshot; the left join returns the first
    part alone (the unit columns NULL) when no unit changed. Bare SQL: the ORM's would cost more
    to build than this to run, and ``write_stamp`` is indexed."""
    units = _UNITS.replace("{position_at}", vendor["position_at"])
    units = units.replace("{join}", vendor["join"] if since else "")
    if since:
        units += vendor["since"]
    sql = "SELECT h.*, c.* FROM ({horizon}) h LEFT JOIN ({units}) c ON 1 = 1"
    return sql.format(horizon=vendor["horizon"], units=units).format(**_NAMES)


_SQL = {
    (postgresql, since): _sql(_POSTGRESQL if postgresql else _SQLITE, since=since)
    for postgresql in (False, True)
    for since in (False, True)
}


def _read(city_id: int, since: FleetIndex | None) -> tuple[list[tuple], int, tuple[int, ...]]:
    """``(rows, horizon, unseen)``: the city's units written since the read that made ``since``
    (every unit without it), and where the next read starts (module docstring)."""
    postgresql = connection.vendor == "postgresql"
    params: list[Any] = [city_id]
    if since is not None:
        params += [since.horizon, list(since.unseen)] if postgresql else [since.horizon]
    with connection.cursor() as cursor:
        cursor.execute(_SQL[(postgresql, since is not None)], params)
        result = cursor.fetchall()
    if not postgresql:
        # Stamps up to the counter are in; later ones can only come from later commits.
        return [row[1:] for row in result if row[1] is not None], result[0][0] + 1, ()
    snapshot, own = result[0][0], result[0][1]
    _xmin, xmax, in_progress = snapshot.split(":")
    # Invisible to this snapshot: the transactions in progress, those from xmax on, and this
    # one (a snapshot does not list its own transaction, which may write units later).
    unseen = {int(xid) for xid in in_progress.split(",") if xid}
    if own is not None:
        unseen.add(int(own))
    return [row[2:] for row in result if row[2] is not None], int(xmax), tuple(sorted(unseen))


def build_fleet_index(city_id: int, generation: int | None = None) -> FleetIndex:
    """A fresh (uncached) index of the city's units, as this transaction sees them."""
    generation = _generation if generation is None else generation  # a deletion meanwhile moves it
    rows, horizon, unseen = _read(city_id, None)
    columns = _columns(rows)
    return FleetIndex(
        city_id=city_id,
        generation=generation,
        built_at=time.monotonic(),
        horizon=horizon,
        unseen=unseen,
        last_read=len(rows),
        row_of={int(pk): i for i, pk in enumerate(columns["ids"])},
        **columns,
    )


def _apply(
    index: FleetIndex, rows: list[tuple], horizon: int, unseen: tuple[int, ...]
) -> FleetIndex:
    """The index with these rows written over (or added to) its own, reading on from there."""
    if not rows:
        if (horizon, unseen, index.last_read) == (index.horizon, index.unseen, 0):
            return index
        return replace(index, horizon=horizon, unseen=unseen, last_read=0)
    columns = _columns(rows)
    row_of = index.row_of
    at = np.array([row_of.get(int(pk), -1) for pk in columns["ids"]], dtype=np.int64)
    known = at >= 0
    arrays = {}
    for name in _ARRAYS:
        array = getattr(index, name).copy()
        array[at[known]] = columns[name][known]
        arrays[name] = array if known.all() else np.concatenate([array, columns[name][~known]])
    if not known.all():  # new units: a new map (readers may hold the old one)
        row_of = dict(row_of)
        for pk in columns["ids"][~known]:
            row_of[int(pk)] = len(row_of)
    return replace(
        index, horizon=horizon, unseen=unseen, last_read=len(rows), row_of=row_of, **arrays
    )


_cache: dict[int, FleetIndex] = {}
_lock = threading.Lock()  # one read at a time: each starts where the cached index's ended
_generations = itertools.count(1)
_generation = 0  # this process's; a local deletion (or a migration) moves it on


def _pending_change(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True while this thread's transaction holds a unit write not yet committed."""
    return any(
        func in (_written, _forget) for _sids, func, _robust in connections[using].run_on_commit
    )


def _current(index: FleetIndex | None) -> bool:
    return (
        index is not None
        and index.generation == _generation
        and time.monotonic() - index.built_at < REBUILD_SECONDS
    )


def fleet_index(city_id: int) -> FleetIndex:
    """The city's index, with every unit write committed before this call (module docstring)."""
    if _pending_change():  # this transaction's own writes: use them, keep nothing
        return build_fleet_index(city_id)
    with _lock:
        index = _cache.get(city_id)
        if _current(index):
            index = _apply(index, *_read(city_id, index))
        else:
            index = build_fleet_index(city_id)
        _cache[city_id] = index
        return index


def _written() -> None:
    """After commit of a unit write: nothing to do, the stamps carry it to every process. While
    the transaction is open, this callback marks it (``_pending_change``)."""


def _forget() -> None:
    """After commit of a deletion: every index of this process is rebuilt on next use."""
    global _generation
    _generation = next(_generations)


def fleet_changed(using: str = DEFAULT_DB_ALIAS, *, removed: bool = False) -> None:
    """Units were written in this transaction: keep no index built from its uncommitted state;
    after commit of a deletion (``removed``), rebuild."""
    callback = _forget if removed else _written
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
