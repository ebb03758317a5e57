"""Reading a GeoJSON FeatureCollection of territories: options, validation and parent matching.

Nothing here writes; ``actions.check_import_territories`` validates everything with these helpers
first and only then writes, so that an error leaves nothing half-imported.

Parent matching by field (``docs/territories.md``): the child's parent value is compared
with the codes of the parent layer, first as text (after trimming spaces); when that finds nothing
and both the value and a code are whole numbers (an integer, or a string of digits), they are
compared as integers, so that a colonia's ``cve_alc`` 2 finds the alcaldía imported with code
``"002"``. A value that matches no code, or matches two codes as an integer ("2" and "02"),
stops the import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.utils.translation import gettext as _

from convive.core.errors import ActionError
from convive.territories.geometry import GeometryError, parse_polygonal, repair
from convive.territories.models import Layer, Territory

Progress = Callable[[int], None]
PROGRESS_STEP = 100  # features between two calls of the progress callback
CODE_MAX_LENGTH = Territory._meta.get_field("code").max_length

_DIGITS = re.compile(r"[0-9]+")
_KIND_BY_SLUG = {
    Layer.Kind.LOCALITY: {
        "locality",
        "localities",
        "localidad",
        "localidades",
        "alcaldia",
        "alcaldias",
    },
    Layer.Kind.NEIGHBOURHOOD: {
        "neighbourhood",
        "neighbourhoods",
        "neighborhood",
        "neighborhoods",
        "colonia",
        "colonias",
        "barrio",
        "barrios",
    },
    Layer.Kind.QUADRANT: {"quadrant", "quadrants", "cuadrante", "cuadrantes"},
}


@dataclass
class ImportOptions:
    city_slug: str
    layer_slug: str
    code_field: str
    name_field: str
    population_field: str | None = None
    parent_layer: str | None = None  # slug of a layer of the same city
    # Property holding the parent's code; None with parent_layer set: the parent territory
    # containing the child's representative point (by the boundary rule of queries.py).
    parent_field: str | None = None
    city_name: str | None = None  # required when the city does not exist yet
    layer_name: str | None = None
    layer_kind: str | None = None  # Layer.Kind value; inferred from the slug, else "other"
    population_source: str = ""
    population_year: int | None = None
    source: str = ""  # e.g. the file name


@dataclass
class ImportResult:
    city_slug: str
    layer_slug: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # (code, name, what was wrong with the source polygon)
    repaired: list[tuple[str, str, str]] = field(default_factory=list)
    missing_from_file: list[str] = field(default_factory=list)  # codes in the layer, kept
    without_parent: list[str] = field(default_factory=list)  # spatial parent not found
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class TerritoryImportError(ActionError):
    """The file or the options are wrong; the message names the feature at fault."""


@dataclass(frozen=True)
class ParsedFeature:
    position: int  # index in the file's ``features`` list
    code: str
    name: str
    population: int | None
    parent_value: Any  # the raw parent property, matched later
    geometry: shapely.Geometry  # valid, oriented
    repair_reason: str  # "" when the source polygon was valid
    properties: dict[str, Any]


def feature_label(position: int, code: str | None = None, name: str | None = None) -> str:
    """How messages name a feature: its number, its index in ``features``, code and name."""
    label = _("Feature %(number)d (features[%(index)d]") % {
        "number": position + 1,
        "index": position,
    }
    if code:
        label += _(', code "%(code)s"') % {"code": code}
    if name:
        label += _(', name "%(name)s"') % {"name": name}
    return label + ")"


def feature_error(
    position: int, problem: str, code: str | None = None, name: str | None = None
) -> TerritoryImportError:
    """The error for ``problem`` (a translated sentence) in the feature at ``position``."""
    return TerritoryImportError(f"{feature_label(position, code, name)}: {problem}")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _required_text(
    position: int, props: Mapping[str, Any], field_name: str, code: str | None = None
) -> str:
    if field_name not in props:
        raise feature_error(
            position, _('the property "%(field)s" is missing.') % {"field": field_name}, code
        )
    value = _text(props[field_name])
    if not value:
        raise feature_error(
            position, _('the property "%(field)s" is empty.') % {"field": field_name}, code
        )
    return value


def parse_population(value: Any) -> int | None:
    """A population count from a property value; None for null or ""; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if _DIGITS.fullmatch(text) else float(text)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(value)
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _population(
    position: int, props: Mapping[str, Any], options: ImportOptions, code: str, name: str
) -> int | None:
    field_name = options.population_field
    if field_name is None:
        return None
    if field_name not in props:
        raise feature_error(
            position, _('the property "%(field)s" is missing.') % {"field": field_name}, code, name
        )
    try:
        return parse_population(props[field_name])
    except (ValueError, TypeError) as exc:
        values = {"value": props[field_name], "field": field_name}
        problem = _('the population "%(value)s" in "%(field)s" is not a whole number of people.')
        raise feature_error(position, problem % values, code, name) from exc


def parse_feature(position: int, feature: Any, options: ImportOptions) -> ParsedFeature:
    """One feature checked and read, or TerritoryImportError naming it."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise feature_error(position, _('it is not a GeoJSON object of type "Feature".'))
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise feature_error(position, _("it has no properties."))
    code = _required_text(position, props, options.code_field)
    if len(code) > CODE_MAX_LENGTH:
        problem = _("the code is longer than %(max)d characters.") % {"max": CODE_MAX_LENGTH}
        raise feature_error(position, problem, code)
    name = _required_text(position, props, options.name_field, code)
    population = _population(position, props, options, code, name)
    parent_value = None
    if options.parent_field:
        parent_value = props.get(options.parent_field)
        if options.parent_field not in props or not _text(parent_value):
            problem = _('the parent property "%(field)s" is missing.') % {
                "field": options.parent_field
            }
            raise feature_error(position, problem, code, name)
    try:
        geometry, reason = repair(parse_polygonal(feature.get("geometry")))
    except GeometryError as exc:
        raise feature_error(position, f"{exc}.", code, name) from exc
    return ParsedFeature(position, code, name, population, parent_value, geometry, reason, props)


def _check_collection(collection: Any) -> list:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise TerritoryImportError(
            _('The file is not a GeoJSON object of type "FeatureCollection".')
        )
    features = collection.get("features")
    if not isinstance(features, list):
        raise TerritoryImportError(_('The FeatureCollection has no "features" list.'))
    if not features:
        raise TerritoryImportError(_("The FeatureCollection has no features."))
    return features


def parse_collection(
    collection: Any, options: ImportOptions, *, progress: Progress | None = None
) -> list[ParsedFeature]:
    """Every feature checked and read, or TerritoryImportError for the first one at fault.

    ``progress`` is called with the number of features just read (an increment, as
    ``tqdm.update`` takes), every ``PROGRESS_STEP`` features and at the end.
    """
    features = _check_collection(collection)
    parsed: list[ParsedFeature] = []
    first_position: dict[str, int] = {}
    for position, feature in enumerate(features):
        item = parse_feature(position, feature, options)
        if item.code in first_position:
            earlier = feature_label(first_position[item.code])
            problem = _("the code is the same as that of %(earlier)s.") % {"earlier": earlier}
            raise feature_error(position, problem, item.code, item.name)
        first_position[item.code] = position
        parsed.append(item)
        if progress is not None and (position + 1) % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    if progress is not None and len(features) % PROGRESS_STEP:
        progress(len(features) % PROGRESS_STEP)
    return parsed


def infer_layer_kind(slug: str) -> str:
    """The Layer.Kind that a slug names (English or Spanish, singular or plural), else OTHER."""
    for kind, slugs in _KIND_BY_SLUG.items():
        if slug.lower() in slugs:
            return kind.value
    return Layer.Kind.OTHER.value


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


class ParentMatcher:
    """Finds a parent territory id by code, by the rule in this module's docstring."""

    def __init__(self, codes: Mapping[str, int]) -> None:
        self.by_code = dict(codes)
        self.by_integer: dict[int, list[int]] = {}
        for code, pk in codes.items():
            number = _as_integer(code)
            if number is not None:
                self.by_integer.setdefault(number, []).append(pk)

    def match(self, value: Any) -> int | None:
        """The parent id, or None when no code matches; ValueError when two codes match."""
        exact = self.by_code.get(_text(value))
        if exact is not None:
            return exact
        number = _as_integer(value)
        candidates = self.by_integer.get(number, []) if number is not None else []
        if len(candidates) > 1:
            raise ValueError(value)
        return candidates[0] if candidates else None


def check_import_territories(
    actor: Any, collection: Any, options: ImportOptions, *, progress: Progress | None = None
) -> ImportResult:
    """The same as ``convive.territories.actions.check_import_territories``, which does the work."""
    from convive.territories import actions

    return actions.check_import_territories(actor, collection, options, progress=progress)
