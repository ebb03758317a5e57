"""The real boundary files of ``../shared/data/boundaries/``, imported in place, once per module.

Bogotá's 20 localities, and Mexico City's 16 alcaldías, 1,814 IECM colonias (22 of them invalid
in the source) and 847 police quadrants (which cross colonias, so they take their alcaldía by
location). The import runs in a transaction that stays open for the module's tests (each test
runs in a savepoint inside it) and is rolled back at the end, so nothing is left behind.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import itertools
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from conftest import skip_or_fail
from convive.territories.actions import check_import_territories
from convive.territories.importer import ImportOptions, ImportResult
from convive.territories.models import City, Territory
from convive.territories.queries import locate, locate_ids

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
BOUNDARIES = DATA / "boundaries"
CRIMES = DATA / "crime_cdmx" / "cdmx_fgj_carpetas_puntos_2023_2024.csv.gz"

LAYERS = [
    # (file, options): parents before children.
    (
        "bogota_localidades.geojson",
        ImportOptions(
            city_slug="bogota",
            city_name="Bogotá",
            layer_slug="localidades",
            layer_name="Localidades",
            code_field="loc_codigo",
            name_field="loc_nombre",
        ),
    ),
    (
        "cdmx_alcaldias.geojson",
        ImportOptions(
            city_slug="cdmx",
            city_name="Ciudad de México",
            layer_slug="alcaldias",
            layer_name="Alcaldías",
            code_field="cve_mun",
            name_field="nomgeo",
            population_field="poblacion_aprox",
            population_source="Suma de colonias IECM (INEGI, Censo 2020)",
            population_year=2020,
        ),
    ),
    (
        "cdmx_colonias_iecm.geojson",
        ImportOptions(
            city_slug="cdmx",
            layer_slug="colonias",
            code_field="cve_colonia",
            name_field="colonia",
            population_field="poblacion",
            parent_layer="alcaldias",
            parent_field="cve_alc",
        ),
    ),
    (
        "cdmx_cuadrantes_policia_2023.geojson",
        ImportOptions(
            city_slug="cdmx",
            layer_slug="cuadrantes",
            code_field="cuadrante",
            name_field="cuadrante",
            population_field="poblacion",
            parent_layer="alcaldias",
        ),
    ),
]


@dataclass
class Imported:
    results: dict[str, ImportResult]  # by layer slug
    bogota: City
    cdmx: City


def _import(name: str, options: ImportOptions) -> ImportResult:
    collection = json.loads((BOUNDARIES / name).read_text(encoding="utf-8"))
    return check_import_territories(None, collection, dataclasses.replace(options, source=name))


def _import_all() -> Imported:
    results = {options.layer_slug: _import(name, options) for name, options in LAYERS}
    return Imported(results, City.objects.get(slug="bogota"), City.objects.get(slug="cdmx"))


@pytest.fixture(scope="module")
def real(django_db_setup, django_db_blocker):
    if not BOUNDARIES.is_dir():
        skip_or_fail(f"needs the real boundary files in {BOUNDARIES}")
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _import_all()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_every_feature_of_every_file_is_imported(real):
    counts = {slug: result.created for slug, result in real.results.items()}
    assert counts == {"localidades": 20, "alcaldias": 16, "colonias": 1814, "cuadrantes": 847}


def test_the_22_invalid_colonias_are_repaired_and_flagged(real):
    repaired = real.results["colonias"].repaired
    assert len(repaired) == 22
    assert Territory.objects.filter(layer__slug="colonias", repaired=True).count() == 22
    assert all(reason for _code, _name, reason in repaired)
    for territory in Territory.objects.filter(repaired=True):
        assert territory.geometry.is_valid
        assert territory.area_km2 > 0
    assert sum(len(r.repaired) for r in real.results.values()) == 22  # the other files are valid


def test_colonias_find_their_alcaldia_by_number(real):
    # cve_alc is the integer 15; the alcaldías were imported with cve_mun "015".
    colonias = Territory.objects.filter(layer__slug="colonias")
    assert not colonias.filter(parent=None).exists()
    centro = colonias.select_related("parent").get(code="15-040")
    assert (centro.name, centro.parent.code, centro.parent.name) == (
        "CENTRO IV",
        "015",
        "Cuauhtémoc",
    )
    for colonia in colonias.select_related("parent").iterator():
        assert int(colonia.properties["cve_alc"]) == int(colonia.parent.code)


def test_quadrants_take_their_alcaldia_by_location(real):
    assert real.results["cuadrantes"].without_parent == []
    quadrant = Territory.objects.select_related("parent").get(
        layer__slug="cuadrantes", code="C-1.1.3"
    )
    assert quadrant.parent.name == "Cuauhtémoc"
    # The SSC writes "GUSTAVO A MADERO", "MAGDALENA CONTRERAS", "CUAJIMALPA".
    agree = sum(
        q.properties["alcaldia"] in _plain(q.parent.name).replace(".", "")
        for q in Territory.objects.filter(layer__slug="cuadrantes").select_related("parent")
    )
    assert agree == 846  # one quadrant's representative point falls in the next alcaldía


def test_areas_match_the_published_ones(real):
    # IDECA's areas are in the Bogotá plane, 2,550 m above the ellipsoid: 0.08 % larger.
    for territory in Territory.objects.filter(layer__slug="localidades"):
        published = territory.properties["area_m2"] / 1e6
        assert territory.area_km2 == pytest.approx(published, rel=0.002), territory.name
    cdmx = sum(Territory.objects.filter(layer__slug="alcaldias").values_list("area_km2", flat=True))
    assert cdmx == pytest.approx(1495, rel=0.01)  # INEGI: 1,495 km²


def test_populations_and_their_source_are_stored(real):
    cuauhtemoc = Territory.objects.get(layer__slug="alcaldias", code="015")
    assert cuauhtemoc.population == 545_842
    assert cuauhtemoc.population_year == 2020
    colonias = Territory.objects.filter(layer__slug="colonias").values_list("population", flat=True)
    assert sum(colonias) == 9_150_896  # the sum the alcaldías' poblacion_aprox was built from


@pytest.mark.parametrize(
    ("city", "lat", "lon", "expected"),
    [
        (
            "cdmx",
            19.4326,
            -99.1332,
            {"alcaldias": "015", "colonias": "15-040", "cuadrantes": "C-1.1.3"},
        ),
        ("cdmx", 19.4270, -99.1677, {"alcaldias": "015"}),  # Ángel de la Independencia
        ("cdmx", 19.3500, -99.1620, {"alcaldias": "003", "colonias": "03-114"}),  # Coyoacán
        ("bogota", 4.5981, -74.0760, {"localidades": "17"}),  # Plaza de Bolívar, La Candelaria
        ("bogota", 4.6280, -74.1540, {"localidades": "08"}),  # Kennedy
        ("bogota", 3.95, -74.3, {"localidades": "20"}),  # Sumapaz, rural south
    ],
)
def test_known_points(real, city, lat, lon, expected):
    found = {t.layer.slug: t.code for t in locate(getattr(real, city), lon=lon, lat=lat)}
    assert expected.items() <= found.items()


def test_points_outside_get_nothing(real):
    assert locate(real.cdmx, lon=-99.5, lat=19.9) == []
    assert locate(real.bogota, lon=-99.1332, lat=19.4326) == []


def _plain(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()


def test_reported_crimes_fall_in_the_alcaldia_the_prosecutor_recorded(real):
    if not CRIMES.is_file():
        skip_or_fail(f"needs {CRIMES}")
    with gzip.open(CRIMES, "rt", encoding="utf-8") as handle:
        rows = list(itertools.islice(csv.DictReader(handle), 0, 200_000, 40))
    lons = [float(row["longitud"]) for row in rows]
    lats = [float(row["latitud"]) for row in rows]
    ids = locate_ids(real.cdmx, lons, lats)["alcaldias"]
    names = dict(Territory.objects.filter(layer__slug="alcaldias").values_list("pk", "name"))
    agree = sum(
        _plain(names.get(int(i), "")) == row["alcaldia_hecho"]
        for i, row in zip(ids, rows, strict=True)
    )
    assert agree / len(rows) > 0.99  # the rest lie on or just across a boundary


def test_reimporting_the_colonias_changes_nothing(real):
    result = _import(*LAYERS[2])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1814)
    assert len(result.repaired) == 22
