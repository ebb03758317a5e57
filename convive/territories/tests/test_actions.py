"""check_import_territories: the importer's rules, on small FeatureCollections."""

from __future__ import annotations

import pytest
from django.db import transaction

from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.territories.actions import check_import_territories
from convive.territories.importer import TerritoryImportError
from convive.territories.importer import check_import_territories as check_from_importer
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate
from convive.territories.tests.samples import (
    bowtie,
    collection,
    feature,
    options,
    square,
    two_localities,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run(data: dict, **overrides) -> object:
    return check_import_territories(None, data, options(**overrides))


def import_error(data: dict, **overrides) -> str:
    with pytest.raises(TerritoryImportError) as caught:
        run(data, **overrides)
    return caught.value.message


def test_first_import_creates_city_layer_and_territories():
    result = run(two_localities())
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    city = City.objects.get(slug="villa")
    assert city.name == "Villa de Prueba"
    layer = Layer.objects.get(city=city, slug="localidades")
    assert layer.kind == Layer.Kind.LOCALITY  # inferred from the Spanish slug
    assert layer.source == "prueba.geojson"
    assert layer.imported_at is not None
    norte = Territory.objects.get(layer=layer, code="01")
    assert (norte.name, norte.population) == ("Norte", 1000)
    assert Territory.objects.get(layer=layer, code="02").population == 2500  # "2500" in the file


def test_stored_columns_describe_the_polygon():
    run(two_localities())
    norte = Territory.objects.get(code="01")
    assert (norte.min_lon, norte.min_lat, norte.max_lon, norte.max_lat) == (-74.0, 4.5, -73.5, 5.0)
    assert norte.geometry.contains(norte.geometry.representative_point())
    assert norte.min_lon < norte.centroid_lon < norte.max_lon
    # Half a degree square at 4.75° N: (0.5 · 110.6 km) · (0.5 · 110.9 km) ≈ 3,067 km².
    assert norte.area_km2 == pytest.approx(3066, rel=0.005)
    assert norte.properties == {"codigo": "01", "nombre": "Norte", "poblacion": 1000}
    assert norte.repaired is False


def test_import_is_audited_and_renews_the_index_token():
    run(two_localities())
    city = City.objects.get(slug="villa")
    before = city.index_token
    result = run(two_localities())
    city.refresh_from_db()
    assert city.index_token != before
    event = AuditEvent.objects.filter(tag=AuditTag.TERRITORY_LAYER_IMPORTED).latest("seq")
    assert event.actor_user_id is None
    assert event.subject_type == "territories.layer"
    assert '"unchanged":2' in event.data
    assert result.unchanged == 2


def test_import_records_the_acting_user(citizen):
    check_import_territories(citizen, two_localities(), options())
    event = AuditEvent.objects.filter(tag=AuditTag.TERRITORY_LAYER_IMPORTED).latest("seq")
    assert event.actor_username == citizen.username


def test_reimport_of_the_same_file_changes_nothing():
    run(two_localities())
    first = {t.code: (t.pk, bytes(t.geometry_wkb)) for t in Territory.objects.all()}
    result = run(two_localities())
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    again = {t.code: (t.pk, bytes(t.geometry_wkb)) for t in Territory.objects.all()}
    assert again == first


def test_reimport_updates_changed_rows_in_place_and_keeps_missing_ones():
    run(two_localities())
    norte_pk = Territory.objects.get(code="01").pk
    changed = collection(
        feature(square(0, 0, size=0.25), codigo="01", nombre="Norte Nuevo", poblacion=1200),
        feature(square(2, 0), codigo="03", nombre="Oriente", poblacion=10),
    )
    result = run(changed)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert result.missing_from_file == ["02"]
    norte = Territory.objects.get(code="01")
    assert norte.pk == norte_pk
    assert (norte.name, norte.population, norte.max_lon) == ("Norte Nuevo", 1200, -73.75)
    assert Territory.objects.filter(code="02").exists()


def test_a_self_intersecting_polygon_is_repaired_and_reported():
    data = collection(feature(bowtie(0, 0), codigo="01", nombre="Corbatín", poblacion=5))
    result = run(data)
    assert len(result.repaired) == 1
    code, name, reason = result.repaired[0]
    assert (code, name) == ("01", "Corbatín")
    assert "Self-intersection" in reason
    territory = Territory.objects.get(code="01")
    assert territory.repaired is True
    assert territory.geometry.is_valid
    assert territory.geometry.geom_type in {"Polygon", "MultiPolygon"}
    assert territory.area_km2 > 0


def test_rings_are_stored_counterclockwise_as_rfc_7946_asks():
    clockwise = [list(reversed(square(0, 0)[0]))]
    run(collection(feature(clockwise, codigo="01", nombre="Norte", poblacion=1)))
    assert Territory.objects.get(code="01").geometry.exterior.is_ccw


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"nombre": "Sin código", "poblacion": 1}, 'the property "codigo" is missing'),
        ({"codigo": "02", "poblacion": 1}, 'code "02"): the property "nombre" is missing'),
        ({"codigo": " ", "nombre": "X", "poblacion": 1}, 'the property "codigo" is empty'),
        ({"codigo": "9" * 65, "nombre": "X", "poblacion": 1}, "longer than 64 characters"),
        ({"codigo": "02", "nombre": "Sur"}, 'name "Sur"): the property "poblacion" is missing'),
        ({"codigo": "02", "nombre": "Sur", "poblacion": "mucha"}, '"mucha" in "poblacion"'),
        ({"codigo": "02", "nombre": "Sur", "poblacion": -3}, "is not a whole number"),
        ({"codigo": "02", "nombre": "Sur", "poblacion": 2.5}, "is not a whole number"),
        ({"codigo": "02", "nombre": "Sur", "poblacion": True}, "is not a whole number"),
    ],
)
def test_a_bad_property_names_the_feature(properties, expected):
    data = collection(feature(square(0, 0), codigo="01", nombre="Norte", poblacion=1))
    data["features"].append(feature(square(1, 0), **properties))
    message = import_error(data)
    assert message.startswith("Feature 2 (features[1]")
    assert expected in message


def test_population_may_be_null_or_absent_from_the_options():
    data = collection(feature(square(0, 0), codigo="01", nombre="Norte", poblacion=None))
    run(data, population_source="INEGI", population_year=2020)
    assert Territory.objects.get(code="01").population is None
    run(two_localities(), population_field=None, population_source="INEGI")
    norte = Territory.objects.get(code="01")
    assert (norte.population, norte.population_source) == (None, "")


def test_population_source_and_year_are_stored():
    run(two_localities(), population_source="Censo 2018", population_year=2018)
    norte = Territory.objects.get(code="01")
    assert (norte.population_source, norte.population_year) == ("Censo 2018", 2018)


def test_numeric_codes_are_stored_as_text():
    run(collection(feature(square(0, 0), codigo=7, nombre="Siete", poblacion=1.0)))
    assert Territory.objects.get(code="7").population == 1


def test_a_duplicate_code_names_both_features():
    data = two_localities()
    data["features"].append(feature(square(2, 0), codigo="01", nombre="Otra", poblacion=1))
    message = import_error(data)
    assert message.startswith('Feature 3 (features[2], code "01", name "Otra")')
    assert "Feature 1 (features[0])" in message


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (None, "it has no geometry"),
        ({"type": "Point", "coordinates": [-74, 4.5]}, "its geometry is Point"),
        ({"type": "Polygon", "coordinates": []}, "has no coordinates"),
        ({"type": "Polygon", "coordinates": [[[-74, 4.5], [-73, 4.5]]]}, "malformed"),
        ({"type": "Polygon", "coordinates": square(0, 0, size=1000)}, "not longitude/latitude"),
        (
            {"type": "Polygon", "coordinates": [[[-74, 4], [-74, 4], [-74, 4], [-74, 4]]]},
            "repaired",
        ),
    ],
)
def test_a_bad_geometry_names_the_feature(geometry, expected):
    data = two_localities()
    data["features"][1]["geometry"] = geometry
    message = import_error(data)
    assert message.startswith('Feature 2 (features[1], code "02", name "Sur")')
    assert expected in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "FeatureCollection"),
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection"}, 'no "features" list'),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
        ({"type": "FeatureCollection", "features": ["x"]}, 'type "Feature"'),
        ({"type": "FeatureCollection", "features": [{"type": "Feature"}]}, "no properties"),
    ],
)
def test_a_bad_collection_is_refused(data, expected):
    assert expected in import_error(data)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"city_name": None}, 'There is no city "villa" yet'),
        ({"layer_slug": "no slug"}, "not a valid identifier"),
        ({"parent_field": "padre"}, "A parent field needs a parent layer"),
        ({"parent_layer": "localidades"}, "cannot be its own parent"),
        ({"layer_kind": "county"}, 'Unknown layer kind "county"'),
        ({"population_year": 20}, "four digits"),
        ({"parent_layer": "nada"}, 'has no layer "nada"'),
    ],
)
def test_bad_options_are_refused(overrides, expected):
    assert expected in import_error(two_localities(), **overrides)


def test_an_error_leaves_nothing_half_imported():
    run(two_localities())
    token = City.objects.get(slug="villa").index_token
    events = AuditEvent.objects.count()
    data = collection(
        feature(square(0, 0, size=0.25), codigo="01", nombre="Cambiada", poblacion=1),
        feature(square(1, 0), codigo="09", nombre="Nueva", poblacion=1),
        feature(square(2, 0), codigo="10", nombre="Rota"),  # no population: refused
    )
    with pytest.raises(ActionError), transaction.atomic():
        run(data)
    assert Territory.objects.get(code="01").name == "Norte"
    assert not Territory.objects.filter(code="09").exists()
    assert City.objects.get(slug="villa").index_token == token
    assert AuditEvent.objects.count() == events


def test_nothing_is_created_when_a_new_city_import_fails():
    data = two_localities()
    del data["features"][1]["properties"]["nombre"]
    with pytest.raises(ActionError), transaction.atomic():
        run(data)
    assert not City.objects.filter(slug="villa").exists()
    assert not Layer.objects.exists()


def _with_neighbourhoods(parent_values: list, **overrides) -> object:
    """Localities "001" (cell 0, 0) and "002" (cell 1, 0), then one barrio per parent value."""
    run(
        collection(
            feature(square(0, 0), codigo="001", nombre="Norte", poblacion=1),
            feature(square(1, 0), codigo="002", nombre="Sur", poblacion=1),
        )
    )
    barrios = [
        feature(square(col * 2 + 0.5, 0.5, size=0.25), codigo=f"B{col}", nombre=f"B{col}", loc=v)
        for col, v in enumerate(parent_values)
    ]
    values = {
        "layer_slug": "barrios",
        "population_field": None,
        "parent_layer": "localidades",
        "parent_field": "loc",
    }
    return run(collection(*barrios), **{**values, **overrides})


def test_parent_by_field_matches_the_code_exactly():
    _with_neighbourhoods(["001", "002"])
    barrio = Territory.objects.select_related("parent", "layer__parent_layer").get(code="B1")
    assert barrio.parent.code == "002"
    assert barrio.layer.parent_layer.slug == "localidades"
    assert barrio.layer.kind == Layer.Kind.NEIGHBOURHOOD


def test_parent_by_field_compares_numbers_as_integers():
    _with_neighbourhoods([1, "2"])  # cve_alc = 2 finds "002"
    parents = dict(
        Territory.objects.filter(code__startswith="B").values_list("code", "parent__code")
    )
    assert parents == {"B0": "001", "B1": "002"}


def test_an_unknown_parent_code_names_the_feature():
    with pytest.raises(TerritoryImportError) as caught:
        _with_neighbourhoods(["001", "7"])
    assert caught.value.message.startswith('Feature 2 (features[1], code "B1", name "B1")')
    assert '"7" in "loc" is not a code of the layer "localidades"' in caught.value.message


def test_a_missing_parent_value_names_the_feature():
    with pytest.raises(TerritoryImportError) as caught:
        _with_neighbourhoods(["001", None])
    assert 'the parent property "loc" is missing' in caught.value.message


def test_a_number_matching_two_codes_is_refused():
    run(
        collection(
            feature(square(0, 0), codigo="2", nombre="Dos", poblacion=1),
            feature(square(1, 0), codigo="02", nombre="Cero dos", poblacion=1),
        )
    )
    # 2.0 is "2" as text: the exact match wins. "002" is no code, and as a number it is both.
    exact = collection(feature(square(0, 0, size=0.25), codigo="B", nombre="B", loc=2.0))
    nested = {"layer_slug": "barrios", "population_field": None, "parent_layer": "localidades"}
    run(exact, **nested, parent_field="loc")
    assert Territory.objects.get(code="B").parent.code == "2"
    ambiguous = collection(feature(square(0, 0, size=0.25), codigo="B", nombre="B", loc="002"))
    with pytest.raises(TerritoryImportError) as caught:
        run(ambiguous, **nested, parent_field="loc")
    assert "matches several territories" in caught.value.message


def test_parent_by_location_uses_the_representative_point():
    result = _with_neighbourhoods([None, None, None], parent_field=None)
    parents = dict(
        Territory.objects.filter(code__startswith="B").values_list("code", "parent__code")
    )
    # In 0.25° cells: B0 at (0.5, 0.5) lies in "001", B1 at (2.5, 0.5) in "002", B2 outside.
    assert parents == {"B0": "001", "B1": "002", "B2": None}
    assert result.without_parent == ["B2"]


def test_an_empty_parent_layer_is_refused():
    run(two_localities())
    Territory.objects.filter(layer__slug="localidades").delete()
    message = import_error(two_localities(), layer_slug="barrios", parent_layer="localidades")
    assert 'The parent layer "localidades" has no territories' in message


def test_import_makes_the_territories_locatable_at_once():
    run(two_localities())
    city = City.objects.get(slug="villa")
    assert [t.code for t in locate(city, lon=-73.25, lat=4.75)] == ["02"]
    moved = collection(feature(square(2, 0), codigo="02", nombre="Sur", poblacion=1))
    run(moved)
    assert locate(city, lon=-73.25, lat=4.75) == []
    assert [t.code for t in locate(city, lon=-72.75, lat=4.75)] == ["02"]


def test_importer_module_offers_the_same_entry_point():
    result = check_from_importer(None, two_localities(), options())
    assert result.created == 2


def test_progress_is_reported_as_increments():
    steps: list[int] = []
    features = [
        feature(square(i, 0, size=0.01), codigo=f"{i:03d}", nombre="x", poblacion=1)
        for i in range(250)
    ]
    check_import_territories(None, collection(*features), options(), progress=steps.append)
    assert steps == [100, 100, 50]


@pytest.mark.django_db(transaction=True)
def test_the_caller_must_hold_the_transaction():
    with pytest.raises(RuntimeError, match="caller's transaction"):
        run(two_localities())
    assert not City.objects.exists()
