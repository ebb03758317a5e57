"""``convive import_territories`` and ``convive locate``, through call_command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from convive.territories.models import City, Territory
from convive.territories.tests.samples import bowtie, collection, feature, square, two_localities

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

BASE_ARGS = [
    "--city",
    "villa",
    "--city-name",
    "Villa de Prueba",
    "--layer",
    "localidades",
    "--code-field",
    "codigo",
    "--name-field",
    "nombre",
    "--population-field",
    "poblacion",
]


def write(tmp_path, data, name="localidades.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def import_file(path, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_territories", str(path), *BASE_ARGS, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_a_summary_and_no_progress_bar_off_a_terminal(tmp_path):
    data = two_localities()
    data["features"].append(feature(bowtie(3, 0), codigo="03", nombre="Torcida", poblacion=9))
    out, err = import_file(
        write(tmp_path, data), "--population-source", "Censo", "--population-year", "2018"
    )
    assert 'Layer "localidades" of "villa" imported from localidades.geojson' in out
    assert "3 created, 0 updated, 0 unchanged." in out
    assert "1 invalid polygons repaired:" in out
    assert "  03\tTorcida\tSelf-intersection" in out
    assert err == ""
    territory = Territory.objects.get(code="01")
    assert (territory.population_source, territory.population_year) == ("Censo", 2018)
    assert territory.layer.source == "localidades.geojson"


def test_reimport_reports_unchanged_and_missing_codes(tmp_path):
    import_file(write(tmp_path, two_localities()))
    smaller = collection(feature(square(0, 0), codigo="01", nombre="Norte", poblacion=1000))
    out, _err = import_file(write(tmp_path, smaller))
    assert "0 created, 0 updated, 1 unchanged." in out
    assert "Kept, though missing from the file: 02" in out


def test_spatial_parents_left_without_one_are_listed(tmp_path):
    import_file(write(tmp_path, two_localities()))
    barrios = collection(
        feature(square(1, 1, size=0.25), codigo="B1", nombre="Dentro"),
        feature(square(9, 9, size=0.25), codigo="B2", nombre="Fuera"),
    )
    out = StringIO()
    call_command(
        "import_territories",
        str(write(tmp_path, barrios, "barrios.geojson")),
        *["--city", "villa", "--layer", "barrios", "--code-field", "codigo"],
        *["--name-field", "nombre", "--parent-layer", "localidades", "--source", "IDECA"],
        stdout=out,
    )
    assert "No parent territory contains: B2" in out.getvalue()
    assert Territory.objects.get(code="B1").parent.code == "01"
    assert Territory.objects.get(code="B1").layer.source == "IDECA"


def test_a_file_that_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_file(tmp_path / "missing.geojson")
    latin1 = tmp_path / "latin1.geojson"
    latin1.write_bytes('{"name": "Bogot\xe1"}'.encode("latin-1"))
    with pytest.raises(CommandError, match="Cannot read"):
        import_file(latin1)


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{\n  "type": "FeatureCollection",\n  "features": [,]\n}\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"is not valid JSON: .* at line 3, column 16"):
        import_file(path)


def test_an_import_error_becomes_a_command_error_and_imports_nothing(tmp_path):
    data = two_localities()
    del data["features"][1]["properties"]["poblacion"]
    with pytest.raises(CommandError) as caught:
        import_file(write(tmp_path, data))
    assert (
        'Feature 2 (features[1], code "02", name "Sur"): the property "poblacion" is missing.'
        in str(caught.value)
    )
    assert not City.objects.filter(slug="villa").exists()


def locate_output(*args: str) -> str:
    out = StringIO()
    call_command("locate", *args, stdout=out)
    return out.getvalue()


def test_locate_prints_one_line_per_layer(world):
    output = locate_output("4.60", "-74.18", "--city", "testopolis")
    assert output == "locality\t08\tKennedy\nneighbourhood\t0801\tTimiza\n"


def test_locate_outside_every_territory_exits_with_1(world):
    with pytest.raises(CommandError, match="outside every territory of Testópolis") as caught:
        locate_output("10", "-74.18", "--city", "testopolis")
    assert caught.value.returncode == 1


def test_locate_refuses_an_unknown_city_and_bad_coordinates(world):
    with pytest.raises(CommandError, match='There is no city "atlantis"'):
        locate_output("4.6", "-74.18", "--city", "atlantis")
    with pytest.raises(CommandError, match="Latitude must be between -90 and 90"):
        locate_output("95", "-74.18", "--city", "testopolis")
