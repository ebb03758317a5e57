"""Importing the 1,814 CDMX colonias (``check_import_territories``), first time and again.

    .venv/bin/python bench/import_territories.py

Reads ``../shared/data/boundaries/`` in place into a throwaway SQLite database: the 16 alcaldías
first (not timed), then the colonias with their alcaldía matched by ``cve_alc``, as
``convive import_territories`` does it, in one durable transaction each. The last line is the
headline.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import BOUNDARIES, setup_django

REIMPORTS = 3


def timed_import(name: str, **options: object) -> tuple[float, float, object]:
    """(seconds to read the JSON, seconds to import it, ImportResult)."""
    from django.db import transaction

    from convive.territories.actions import check_import_territories
    from convive.territories.importer import ImportOptions

    started = time.perf_counter()
    collection = json.loads((BOUNDARIES / name).read_text(encoding="utf-8"))
    read = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        result = check_import_territories(None, collection, ImportOptions(source=name, **options))
    return read, time.perf_counter() - started, result


COLONIAS = {
    "city_slug": "cdmx",
    "layer_slug": "colonias",
    "code_field": "cve_colonia",
    "name_field": "colonia",
    "population_field": "poblacion",
    "parent_layer": "alcaldias",
    "parent_field": "cve_alc",
}


def main() -> None:
    if not BOUNDARIES.is_dir():
        sys.exit(f"missing {BOUNDARIES}")
    with tempfile.TemporaryDirectory(prefix="convive-bench-") as scratch:
        setup_django(Path(scratch))
        timed_import(
            "cdmx_alcaldias.geojson",
            city_slug="cdmx",
            city_name="Ciudad de México",
            layer_slug="alcaldias",
            code_field="cve_mun",
            name_field="nomgeo",
            population_field="poblacion_aprox",
        )
        read, first, result = timed_import("cdmx_colonias_iecm.geojson", **COLONIAS)
        rows = result.created
        print(
            f"rows: {rows} colonias created, {len(result.repaired)} repaired; "
            f"JSON read {read:.2f} s, import {first:.2f} s ({rows / first:,.0f} features/s)"
        )
        again = []
        for _ in range(REIMPORTS):
            _read, seconds, result = timed_import("cdmx_colonias_iecm.geojson", **COLONIAS)
            assert result.unchanged == rows, result
            again.append(seconds)
        print(
            f"re-import of the same file ({REIMPORTS} runs, all {rows} unchanged): "
            f"p50 {statistics.median(again):.2f} s, max {max(again):.2f} s"
        )
        print(f"import_territories: {rows} colonias in {first:.1f} s")


if __name__ == "__main__":
    main()
