"""Writes to territories: importing a layer from a GeoJSON FeatureCollection.

``check_import_territories`` reads and checks the whole file and the options, then calls
``do_import_territories``; the caller holds the transaction (``transaction.atomic(durable=True)``),
so an error anywhere leaves nothing half-imported.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import shapely
from django.core.validators import slug_re
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from convive.core.audit import record_audit_event
from convive.core.tags import AuditTag
from convive.territories.geometry import territory_columns
from convive.territories.importer import (
    ImportOptions,
    ImportResult,
    ParentMatcher,
    ParsedFeature,
    Progress,
    TerritoryImportError,
    feature_error,
    infer_layer_kind,
    parse_collection,
)
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import build_layer_index, resolve_points

if TYPE_CHECKING:
    from convive.accounts.models import User

__all__ = [
    "ImportOptions",
    "ImportResult",
    "TerritoryImportError",
    "check_import_territories",
    "do_import_territories",
]

UPDATED_FIELDS = [
    "name",
    "parent",
    "population",
    "population_source",
    "population_year",
    "geometry_wkb",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "centroid_lon",
    "centroid_lat",
    "area_km2",
    "repaired",
    "properties",
]


def _check_options(options: ImportOptions) -> str:
    """The layer kind to store; TerritoryImportError when an option is wrong."""
    for slug in (options.city_slug, options.layer_slug, options.parent_layer):
        if slug is not None and not slug_re.fullmatch(slug):
            raise TerritoryImportError(
                _('"%(slug)s" is not a valid identifier (letters, digits, "-" and "_").')
                % {"slug": slug}
            )
    if options.parent_field and not options.parent_layer:
        raise TerritoryImportError(_("A parent field needs a parent layer."))
    if options.parent_layer == options.layer_slug:
        raise TerritoryImportError(_("A layer cannot be its own parent layer."))
    if options.population_year is not None and not 1000 <= options.population_year <= 9999:
        raise TerritoryImportError(_("The population year must have four digits."))
    if options.layer_kind is not None and options.layer_kind not in Layer.Kind.values:
        choices = ", ".join(Layer.Kind.values)
        raise TerritoryImportError(
            _('Unknown layer kind "%(kind)s" (choose one of %(choices)s).')
            % {"kind": options.layer_kind, "choices": choices}
        )
    return options.layer_kind or infer_layer_kind(options.layer_slug)


def _check_city(options: ImportOptions) -> City | None:
    city = City.objects.filter(slug=options.city_slug).first()
    if city is None and not (options.city_name or "").strip():
        raise TerritoryImportError(
            _('There is no city "%(slug)s" yet: give its name to create it.')
            % {"slug": options.city_slug}
        )
    return city


def _check_parent_layer(city: City | None, options: ImportOptions) -> Layer | None:
    if not options.parent_layer:
        return None
    layer = Layer.objects.filter(city=city, slug=options.parent_layer).first() if city else None
    if layer is None:
        raise TerritoryImportError(
            _('The city "%(city)s" has no layer "%(layer)s" to take parents from.')
            % {"city": options.city_slug, "layer": options.parent_layer}
        )
    if not layer.territories.exists():
        raise TerritoryImportError(
            _('The parent layer "%(layer)s" has no territories.') % {"layer": layer.slug}
        )
    return layer


def _parents_by_field(
    features: list[ParsedFeature], parent_layer: Layer, field_name: str
) -> dict[int, int]:
    matcher = ParentMatcher(
        dict(Territory.objects.filter(layer=parent_layer).values_list("code", "pk"))
    )
    parents: dict[int, int] = {}
    for feature in features:
        values = {"value": feature.parent_value, "field": field_name, "layer": parent_layer.slug}
        try:
            parent_id = matcher.match(feature.parent_value)
        except ValueError:
            problem = _(
                'the parent code "%(value)s" in "%(field)s" matches several territories '
                'of "%(layer)s".'
            )
            raise feature_error(
                feature.position, problem % values, feature.code, feature.name
            ) from None
        if parent_id is None:
            problem = _(
                'the parent code "%(value)s" in "%(field)s" is not a code of the layer "%(layer)s".'
            )
            raise feature_error(feature.position, problem % values, feature.code, feature.name)
        parents[feature.position] = parent_id
    return parents


def _parents_by_location(
    features: list[ParsedFeature], parent_layer: Layer
) -> tuple[dict[int, int], list[str]]:
    """The parent containing each child's representative point, and the codes left without one."""
    index = build_layer_index(parent_layer)
    points = shapely.point_on_surface([feature.geometry for feature in features])
    lons, lats = shapely.get_x(points), shapely.get_y(points)
    positions = resolve_points(index, points, lons, lats)
    parents: dict[int, int] = {}
    without: list[str] = []
    for feature, position in zip(features, positions, strict=True):
        if position < 0:
            without.append(feature.code)
        else:
            parents[feature.position] = int(index.territory_ids[position])
    return parents, without


def check_import_territories(
    actor: User | None,
    collection: dict[str, Any],
    options: ImportOptions,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Check the whole FeatureCollection and the options, then import (``do_import_territories``).

    The caller holds the transaction. ``actor`` is None for the command line and the system.
    Raises TerritoryImportError (an ActionError) naming the first feature at fault.
    """
    if not connection.in_atomic_block:  # else a failure would leave the rows written so far
        raise RuntimeError("check_import_territories needs the caller's transaction.")
    started = time.perf_counter()
    kind = _check_options(options)
    city = _check_city(options)
    parent_layer = _check_parent_layer(city, options)
    features = parse_collection(collection, options, progress=progress)
    parents: dict[int, int] = {}
    without_parent: list[str] = []
    if parent_layer is not None and options.parent_field:
        parents = _parents_by_field(features, parent_layer, options.parent_field)
    elif parent_layer is not None:
        parents, without_parent = _parents_by_location(features, parent_layer)
    result = do_import_territories(
        actor,
        city=city,
        options=options,
        kind=kind,
        features=features,
        parents=parents,
        parent_layer=parent_layer,
    )
    result.without_parent = without_parent
    result.seconds = time.perf_counter() - started
    return result


def _save_layer(city: City, options: ImportOptions, kind: str, parent_layer: Layer | None) -> Layer:
    layer = Layer.objects.filter(city=city, slug=options.layer_slug).first()
    name = (options.layer_name or "").strip()
    if layer is None:
        default_name = options.layer_slug.replace("-", " ").replace("_", " ").capitalize()
        layer = Layer(city=city, slug=options.layer_slug, name=name or default_name, kind=kind)
    elif name:
        layer.name = name
    if options.layer_kind:
        layer.kind = kind
    layer.parent_layer = parent_layer
    layer.source = options.source[:300]
    layer.imported_at = timezone.now()
    layer.save()
    return layer


def _stored_values(
    feature: ParsedFeature, parent_id: int | None, options: ImportOptions
) -> dict[str, Any]:
    has_population = options.population_field is not None
    return {
        "name": feature.name[:200],
        "parent_id": parent_id,
        "population": feature.population,
        "population_source": options.population_source[:200] if has_population else "",
        "population_year": options.population_year if has_population else None,
        "repaired": bool(feature.repair_reason),
        "properties": feature.properties,
        **territory_columns(feature.geometry),
    }


def _apply_changes(territory: Territory, values: dict[str, Any]) -> bool:
    """Set the values that differ on ``territory``; True when any did."""
    changed = False
    for name, value in values.items():
        current = getattr(territory, name)
        if name == "geometry_wkb":
            current = bytes(current)
        if current != value:
            setattr(territory, name, value)
            changed = True
    return changed


def do_import_territories(
    actor: User | None,
    *,
    city: City | None,
    options: ImportOptions,
    kind: str,
    features: list[ParsedFeature],
    parents: dict[int, int],
    parent_layer: Layer | None,
) -> ImportResult:
    """Write checked features (``check_import_territories``): insert new codes, update changed
    ones, leave unchanged ones alone and keep codes missing from the file. Caller holds the
    transaction."""
    city_created = city is None
    if city is None:
        city = City.objects.create(
            slug=options.city_slug, name=(options.city_name or "").strip()[:120]
        )
    layer = _save_layer(city, options, kind, parent_layer)
    result = ImportResult(city_slug=city.slug, layer_slug=layer.slug)
    existing = {t.code: t for t in Territory.objects.filter(layer=layer)}
    to_create: list[Territory] = []
    to_update: list[Territory] = []
    for feature in features:
        values = _stored_values(feature, parents.get(feature.position), options)
        current = existing.get(feature.code)
        if current is None:
            to_create.append(Territory(city=city, layer=layer, code=feature.code, **values))
        elif _apply_changes(current, values):
            to_update.append(current)
        if feature.repair_reason:
            result.repaired.append((feature.code, feature.name, feature.repair_reason))
    Territory.objects.bulk_create(to_create, batch_size=500)
    Territory.objects.bulk_update(to_update, UPDATED_FIELDS, batch_size=200)
    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged = len(features) - result.created - result.updated
    result.missing_from_file = sorted(set(existing) - {feature.code for feature in features})
    City.objects.filter(pk=city.pk).update(index_token=uuid.uuid4())  # every process rebuilds
    _record_import(actor, layer, result, source=options.source, city_created=city_created)
    return result


def _record_import(
    actor: User | None, layer: Layer, result: ImportResult, *, source: str, city_created: bool
) -> None:
    record_audit_event(
        actor,
        AuditTag.TERRITORY_LAYER_IMPORTED,
        subject=layer,
        data={
            "city": result.city_slug,
            "city_created": city_created,
            "layer": result.layer_slug,
            "source": source,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "repaired": [code for code, _name, _reason in result.repaired],
            "missing_from_file": len(result.missing_from_file),
        },
    )


def do_refresh_city_index(city_id: int) -> None:
    """Give the city a new index token: every process rebuilds its lookup index and maps.

    For changes made outside an import (the admin site), which audits them itself.
    """
    City.objects.filter(pk=city_id).update(index_token=uuid.uuid4())
