"""Small GeoJSON FeatureCollections for tests: squares on a grid near Bogotá."""

from __future__ import annotations

from typing import Any

from convive.territories.importer import ImportOptions

ORIGIN_LON, ORIGIN_LAT = -74.0, 4.5  # exactly representable, as are the half-degree steps


def square(col: float, row: float, size: float = 0.5) -> list[list[list[float]]]:
    """Polygon coordinates of the square ``size`` degrees wide at grid cell (col, row)."""
    lon, lat = ORIGIN_LON + col * size, ORIGIN_LAT + row * size
    return [
        [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    ]


def bowtie(col: float, row: float, size: float = 0.5) -> list[list[list[float]]]:
    """A self-intersecting square (its top corners swapped), as in the real colonias file."""
    lon, lat = ORIGIN_LON + col * size, ORIGIN_LAT + row * size
    return [
        [[lon, lat], [lon + size, lat], [lon, lat + size], [lon + size, lat + size], [lon, lat]]
    ]


def feature(coordinates: Any = None, kind: str = "Polygon", **properties: Any) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": kind, "coordinates": coordinates or square(0, 0)},
        "properties": properties,
    }


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def two_localities() -> dict:
    """Two side by side: "01" Norte at cell (0, 0) and "02" Sur at cell (1, 0)."""
    return collection(
        feature(square(0, 0), codigo="01", nombre="Norte", poblacion=1000),
        feature(square(1, 0), codigo="02", nombre="Sur", poblacion="2500"),
    )


def options(**overrides: Any) -> ImportOptions:
    values: dict[str, Any] = {
        "city_slug": "villa",
        "city_name": "Villa de Prueba",
        "layer_slug": "localidades",
        "code_field": "codigo",
        "name_field": "nombre",
        "population_field": "poblacion",
        "source": "prueba.geojson",
    }
    values.update(overrides)
    return ImportOptions(**values)
