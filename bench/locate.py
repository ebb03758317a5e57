"""Point-in-polygon throughput against the 1,814 CDMX colonias (``convive.territories.queries``).

    .venv/bin/python bench/locate.py

Imports ``../shared/data/boundaries/cdmx_colonias_iecm.geojson`` in place into a throwaway SQLite
database, then times ``locate_ids`` on batches of 100,000 random points in the colonias' bounding
box and single-point ``locate`` calls (which include the database round trips). The last line is
the headline.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from common import BOUNDARIES, setup_django

if TYPE_CHECKING:  # imported for real after django.setup()
    from convive.territories.models import City

COLONIAS = BOUNDARIES / "cdmx_colonias_iecm.geojson"
BATCH = 100_000
BATCHES = 5
SINGLE_CALLS = 2_000
SEED = 20_240_101


def import_colonias() -> City:
    from django.db import transaction

    from convive.territories.actions import check_import_territories
    from convive.territories.importer import ImportOptions
    from convive.territories.models import City

    options = ImportOptions(
        city_slug="cdmx",
        city_name="Ciudad de México",
        layer_slug="colonias",
        code_field="cve_colonia",
        name_field="colonia",
        population_field="poblacion",
        source=COLONIAS.name,
    )
    collection = json.loads(COLONIAS.read_text(encoding="utf-8"))
    with transaction.atomic(durable=True):
        check_import_territories(None, collection, options)
    return City.objects.get(slug="cdmx")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    if not COLONIAS.is_file():
        sys.exit(f"missing {COLONIAS}")
    with tempfile.TemporaryDirectory(prefix="convive-bench-") as scratch:
        setup_django(Path(scratch))
        import numpy as np

        from convive.territories.models import Territory
        from convive.territories.queries import city_index, locate, locate_ids

        city = import_colonias()
        rows = Territory.objects.filter(city=city).count()
        started = time.perf_counter()
        city_index(city)
        print(f"rows: {rows} colonias; index built in {time.perf_counter() - started:.3f} s")

        min_lon, min_lat, max_lon, max_lat = (
            min(Territory.objects.values_list("min_lon", flat=True)),
            min(Territory.objects.values_list("min_lat", flat=True)),
            max(Territory.objects.values_list("max_lon", flat=True)),
            max(Territory.objects.values_list("max_lat", flat=True)),
        )
        rng = np.random.default_rng(SEED)
        rates, hits = [], 0
        for _ in range(BATCHES):
            lons = rng.uniform(min_lon, max_lon, BATCH)
            lats = rng.uniform(min_lat, max_lat, BATCH)
            started = time.perf_counter()
            ids = locate_ids(city, lons, lats)["colonias"]
            rates.append(BATCH / (time.perf_counter() - started))
            hits += int(np.count_nonzero(ids))
        print(
            f"batch locate_ids: {BATCHES} x {BATCH} random points in the bbox, "
            f"{hits / (BATCHES * BATCH):.1%} inside a colonia; "
            f"min {min(rates):,.0f}, median {statistics.median(rates):,.0f}, "
            f"max {max(rates):,.0f} points/s"
        )

        lons = rng.uniform(min_lon, max_lon, SINGLE_CALLS)
        lats = rng.uniform(min_lat, max_lat, SINGLE_CALLS)
        timings = []
        for lon, lat in zip(lons, lats, strict=True):
            started = time.perf_counter()
            locate(city, lon=float(lon), lat=float(lat))
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"single locate (index check + lookup + fetch): {SINGLE_CALLS} calls, "
            f"p50 {percentile(timings, 0.5):.3f} ms, p95 {percentile(timings, 0.95):.3f} ms"
        )
        print(f"locate: {statistics.median(rates):,.0f} points/s against {rows} colonias")


if __name__ == "__main__":
    main()
