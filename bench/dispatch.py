"""Top-5 unit recommendation among 5,000 units (``convive.units.queries.recommend_units``).

    .venv/bin/python bench/dispatch.py

Imports the 16 CDMX alcaldías (``../shared/data/boundaries/cdmx_alcaldias.geojson``, in place)
into a throwaway SQLite database, writes 5,000 units spread at random over their bounding box
(patrol cars, motorcycles, foot patrols, ambulances, fire engines, civil protection; 10 % with a
position too old to trust, 20 % busy, 5 % out of service), then:

1. builds the fleet index (timed);
2. after a warm-up, times 2,000 ``recommend_units`` calls at random points with random capability
   sets (k=5; one in five with ``include_busy``), each call as the console will make it: the
   index's read of the units written since the previous call (one query), the ranking, the five
   units read back (one query), the reasons;
3. times the same calls again while positions keep arriving: before each call a committed batch
   of 20 fixes of 1,000 of the units (not timed), so that every call's read finds rows to apply;
4. the same with a batch of 1,000 fixes before each call (a burst, or a process that recommends
   seldom while the fleet moves): each read then brings several hundred units;
5. times calls while another process (this script, ``--writer``) commits positions on its own,
   a batch of 20 fixes every 20 ms (about 1,000 a second), as the MQTT listener does.

Phases 3 to 5 also print how many units each call's read brought (``FleetIndex.last_read``).
The last line is the headline (phase 2).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import BOUNDARIES, machine_summary, percentile, setup_django

ALCALDIAS = BOUNDARIES / "cdmx_alcaldias.geojson"
UNITS = 5_000
CALLS = 2_000
WARM_UP = 200
LIVE_CALLS = 500
LIVE_BATCH = 20
BURST_CALLS = 50
BURST_BATCH = 1_000
WRITER_CALLS = 1_000
WRITER_PAUSE = 0.02  # seconds between the other process's batches of LIVE_BATCH
SEED = 20_261_126
CAPABILITY_SETS = [
    ["patrol"],
    ["patrol"],
    ["patrol", "motorcycle"],
    ["patrol", "women_care"],
    ["ambulance"],
    ["fire"],
    ["fire", "rescue"],
    ["civil_protection"],
]
KINDS = [  # kind, share of the fleet
    ("patrol_car", 0.45),
    ("motorcycle", 0.15),
    ("foot_patrol", 0.15),
    ("ambulance", 0.12),
    ("fire_engine", 0.08),
    ("civil_protection", 0.05),
]


def import_alcaldias():
    from django.db import transaction

    from convive.territories.actions import check_import_territories
    from convive.territories.importer import ImportOptions
    from convive.territories.models import City

    options = ImportOptions(
        city_slug="cdmx",
        city_name="Ciudad de México",
        layer_slug="alcaldias",
        code_field="cve_mun",
        name_field="nomgeo",
        population_field="poblacion_aprox",
        source=ALCALDIAS.name,
    )
    collection = json.loads(ALCALDIAS.read_text(encoding="utf-8"))
    with transaction.atomic(durable=True):
        check_import_territories(None, collection, options)
    return City.objects.get(slug="cdmx")


def make_fleet(city, rng: random.Random):
    from django.db import transaction
    from django.utils import timezone

    from convive.institutions.models import Institution
    from convive.territories.models import Territory
    from convive.units.actions import do_create_units
    from convive.units.models import DEFAULT_CAPABILITIES, Capability, Unit

    police = Institution.objects.create(city=city, slug="ssc", name="SSC", kind="police")
    health = Institution.objects.create(city=city, slug="erum", name="ERUM", kind="health")
    rescue = Institution.objects.create(
        city=city, slug="bomberos", name="Bomberos", kind="civil_protection"
    )
    owner = {"ambulance": health, "fire_engine": rescue, "civil_protection": rescue}
    homes = list(Territory.objects.filter(city=city))
    box = [min(t.min_lon for t in homes), min(t.min_lat for t in homes)]
    box += [max(t.max_lon for t in homes), max(t.max_lat for t in homes)]
    now = timezone.now()
    kinds, weights = zip(*KINDS, strict=True)
    units = []
    for number in range(UNITS):
        kind = rng.choices(kinds, weights)[0]
        capabilities = list(DEFAULT_CAPABILITIES[kind])
        if kind == "patrol_car" and rng.random() < 0.1:
            capabilities.append(Capability.WOMEN_CARE)
        roll = rng.random()
        status = "available" if roll < 0.75 else "out_of_service" if roll > 0.95 else "en_route"
        age = timedelta(minutes=rng.uniform(15, 60)) if rng.random() < 0.1 else timedelta(0)
        units.append(
            Unit(
                institution=owner.get(kind, police),
                call_sign=f"U-{number:05d}",
                kind=kind,
                home_territory=rng.choice(homes),
                capabilities=capabilities,
                status=status,
                current_load=rng.choice([0, 0, 0, 1, 2]) if status != "available" else 0,
                last_lon=rng.uniform(box[0], box[2]),
                last_lat=rng.uniform(box[1], box[3]),
                last_position_at=now - age - timedelta(seconds=rng.uniform(0, 60)),
            )
        )
    with transaction.atomic(durable=True):
        do_create_units(units)
    return box


def timed_calls(
    city, rng: random.Random, box, calls: int, before=None, read: list[int] | None = None
) -> list[float]:
    """Time ``calls`` recommendations; ``read`` gets the units each call's index read brought."""
    from convive.units import fleet
    from convive.units.queries import recommend_units

    timings = []
    for _ in range(calls):
        if before is not None:
            before()
        lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
        capabilities = rng.choice(CAPABILITY_SETS)
        include_busy = rng.random() < 0.2
        started = time.perf_counter()
        found = recommend_units(
            city, lon=lon, lat=lat, capabilities=capabilities, k=5, include_busy=include_busy
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert found, (lon, lat, capabilities)
        if read is not None:
            read.append(fleet._cache[city.pk].last_read)
    return timings


def summary(timings: list[float]) -> str:
    return (
        f"p50 {percentile(timings, 0.5):.3f} ms, p95 {percentile(timings, 0.95):.3f} ms, "
        f"p99 {percentile(timings, 0.99):.3f} ms, max {max(timings):.3f} ms"
    )


def rows_read(read: list[int]) -> str:
    return f"units read per call: mean {sum(read) / len(read):.0f}, max {max(read)}"


def live_positions(units, rng: random.Random, box, batch: int = LIVE_BATCH):
    from django.db import transaction
    from django.utils import timezone

    from convive.units.actions import PositionInput, check_record_positions_batch

    def send() -> None:
        now = timezone.now()
        items = [
            PositionInput(
                unit,
                rng.uniform(box[0], box[2]),
                rng.uniform(box[1], box[3]),
                now,
                "mqtt",
                speed_kmh=rng.uniform(0, 60),
            )
            for unit in rng.sample(units, batch)
        ]
        with transaction.atomic(durable=True):
            results = check_record_positions_batch(items)
        refused.append(sum(not r.ok for r in results))  # points of the box outside the city

    refused: list[int] = []
    send.refused = refused

    return send


def writer(scratch: Path) -> None:
    """Phase 5's other process: positions in batches until stdin closes (the parent exits)."""
    import threading

    setup_django(scratch)
    from convive.territories.models import Territory
    from convive.units.models import Unit

    homes = list(Territory.objects.all())
    box = [min(t.min_lon for t in homes), min(t.min_lat for t in homes)]
    box += [max(t.max_lon for t in homes), max(t.max_lat for t in homes)]
    units = list(Unit.objects.select_related("institution__city").order_by("pk")[1000:2000])
    send = live_positions(units, random.Random(SEED + 1), box)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("ready", flush=True)
    while not stop.is_set():
        send()
        time.sleep(WRITER_PAUSE)
    print(len(send.refused), LIVE_BATCH * len(send.refused) - sum(send.refused), flush=True)


def with_writer(scratch: Path, city, rng: random.Random, box) -> tuple[list[float], list[int], str]:
    import subprocess

    process = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(scratch)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        read: list[int] = []
        started = time.perf_counter()
        timings = timed_calls(city, rng, box, WRITER_CALLS, read=read)
        seconds = time.perf_counter() - started
    finally:
        process.stdin.close()
        batches, kept = process.stdout.read().split()
        process.wait(timeout=60)
    return timings, read, f"{batches} batches, {kept} fixes kept in {seconds:.1f} s of calls"


def main() -> None:
    if not ALCALDIAS.is_file():
        sys.exit(f"missing {ALCALDIAS}")
    with tempfile.TemporaryDirectory(prefix="convive-bench-") as directory:
        scratch = Path(directory)
        setup_django(scratch)
        from convive.units import fleet
        from convive.units.models import Unit

        rng = random.Random(SEED)
        city = import_alcaldias()
        box = make_fleet(city, rng)
        started = time.perf_counter()
        index = fleet.fleet_index(city.pk)
        built = (time.perf_counter() - started) * 1000
        print(
            f"units: {len(index)} over the CDMX alcaldías' bounding box; index built in "
            f"{built:.1f} ms"
        )

        timed_calls(city, rng, box, WARM_UP)
        timings = timed_calls(city, rng, box, CALLS)
        print(f"recommend_units, top 5, {CALLS} calls: {summary(timings)}")

        units = list(Unit.objects.select_related("institution__city").order_by("pk")[:1000])
        send = live_positions(units, rng, box)
        read: list[int] = []
        live = timed_calls(city, rng, box, LIVE_CALLS, before=send, read=read)
        kept = LIVE_CALLS * LIVE_BATCH - sum(send.refused)
        print(
            f"with positions arriving (a committed batch of {LIVE_BATCH} fixes before each call, "
            f"{kept} kept, the rest outside the city), {LIVE_CALLS} calls: {summary(live)}; "
            f"{rows_read(read)}"
        )

        burst = live_positions(units, rng, box, BURST_BATCH)
        read = []
        bursts = timed_calls(city, rng, box, BURST_CALLS, before=burst, read=read)
        print(
            f"after a burst (a committed batch of {BURST_BATCH} fixes before each call), "
            f"{BURST_CALLS} calls: {summary(bursts)}; {rows_read(read)}"
        )

        timings_w, read, sent = with_writer(scratch, city, rng, box)
        print(
            f"with another process writing positions ({LIVE_BATCH} every {WRITER_PAUSE * 1000:.0f}"
            f" ms: {sent}), {WRITER_CALLS} calls: {summary(timings_w)}; {rows_read(read)}"
        )
        print(machine_summary())
        print(f"dispatch: p99 {percentile(timings, 0.99):.2f} ms, {len(index)} units")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--writer"]:
        writer(Path(sys.argv[2]))
    else:
        main()
