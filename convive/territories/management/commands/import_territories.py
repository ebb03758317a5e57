"""``convive import_territories FILE --city SLUG --layer SLUG --code-field F --name-field F ...``"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from convive.core.errors import ActionError
from convive.territories.actions import check_import_territories
from convive.territories.importer import ImportOptions, ImportResult
from convive.territories.models import Layer


def read_collection(path: Path) -> Any:
    """The parsed JSON of ``path``, or a CommandError saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(error)s at line %(line)d, column %(column)d.")
            % {"path": path, "error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc


class Command(BaseCommand):
    help = (
        "Import (or re-import) one layer of a city's territories from a GeoJSON FeatureCollection "
        "of Polygons/MultiPolygons in WGS84, in one transaction."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="GeoJSON FeatureCollection (RFC 7946, lon/lat)")
        parser.add_argument("--city", required=True, help="city identifier (slug)")
        parser.add_argument("--layer", required=True, help="layer identifier (slug)")
        parser.add_argument("--code-field", required=True, help="property with the unique code")
        parser.add_argument("--name-field", required=True, help="property with the name")
        parser.add_argument("--population-field", help="property with the population")
        parser.add_argument("--parent-layer", help="layer of the same city holding the parents")
        parser.add_argument(
            "--parent-field",
            help="property with the parent's code (without it: the parent containing the "
            "territory's representative point)",
        )
        parser.add_argument("--city-name", help="needed when the city does not exist yet")
        parser.add_argument("--layer-name", help="shown name of the layer")
        parser.add_argument("--layer-kind", choices=Layer.Kind.values, help="default: from --layer")
        parser.add_argument("--population-source", default="", help="e.g. INEGI Censo 2020")
        parser.add_argument("--population-year", type=int)
        parser.add_argument("--source", help="recorded with the layer (default: the file name)")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        collection = read_collection(path)
        import_options = ImportOptions(
            city_slug=options["city"],
            layer_slug=options["layer"],
            code_field=options["code_field"],
            name_field=options["name_field"],
            population_field=options["population_field"],
            parent_layer=options["parent_layer"],
            parent_field=options["parent_field"],
            city_name=options["city_name"],
            layer_name=options["layer_name"],
            layer_kind=options["layer_kind"],
            population_source=options["population_source"],
            population_year=options["population_year"],
            source=options["source"] or path.name,
        )
        features = collection.get("features") if isinstance(collection, dict) else None
        total = len(features) if isinstance(features, list) else None
        bar = tqdm(total=total, unit="features", file=sys.stderr, disable=not self.stdout.isatty())
        try:
            with transaction.atomic(durable=True):
                result = check_import_territories(
                    None, collection, import_options, progress=bar.update
                )
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        self.print_summary(result, source=import_options.source)

    def print_summary(self, result: ImportResult, *, source: str) -> None:
        self.stdout.write(
            _(
                'Layer "%(layer)s" of "%(city)s" imported from %(source)s in %(seconds).1f s: '
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged."
            )
            % {
                "layer": result.layer_slug,
                "city": result.city_slug,
                "source": source,
                "seconds": result.seconds,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )
        if result.repaired:
            self.stdout.write(
                _("%(count)d invalid polygons repaired:") % {"count": len(result.repaired)}
            )
            for code, name, reason in result.repaired:
                self.stdout.write(f"  {code}\t{name}\t{reason}")
        if result.missing_from_file:
            self.stdout.write(
                _("Kept, though missing from the file: %(codes)s")
                % {"codes": ", ".join(result.missing_from_file)}
            )
        if result.without_parent:
            self.stdout.write(
                _("No parent territory contains: %(codes)s")
                % {"codes": ", ".join(result.without_parent)}
            )
