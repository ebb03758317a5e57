"""Cities and their territorial layers (localities, neighbourhoods, quadrants, ...).

Geometry is stored as WKB with its bounding box, so that the same schema works on SQLite and on
PostgreSQL without PostGIS or GDAL; point-in-polygon runs in-process on a shapely STRtree
(``queries.py``). See ``docs/decisions.md``.
"""

from __future__ import annotations

import uuid

import shapely
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    slug = models.SlugField(_("identifier"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    country_code = models.CharField(_("country"), max_length=2, blank=True)
    is_demo = models.BooleanField(_("demo city"), default=False)
    # Changes whenever a layer of the city is imported: in-process lookup indexes are keyed by it.
    index_token = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class Layer(models.Model):
    class Kind(models.TextChoices):
        LOCALITY = "locality", _("Locality")
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
        QUADRANT = "quadrant", _("Police quadrant")
        OTHER = "other", _("Other")

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="layers")
    slug = models.SlugField(_("identifier"), max_length=64)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    parent_layer = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="child_layers"
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["city", "pk"]
        constraints = [models.UniqueConstraint(fields=["city", "slug"], name="layer_unique_slug")]
        verbose_name = _("territorial layer")
        verbose_name_plural = _("territorial layers")

    def __str__(self) -> str:
        return f"{self.city.name} · {self.name}"


class Territory(models.Model):
    """A polygon of a layer: a locality, a neighbourhood, a police quadrant..."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="territories")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="territories")
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("inside"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    population_source = models.CharField(_("population source"), max_length=200, blank=True)
    population_year = models.PositiveSmallIntegerField(_("population year"), null=True, blank=True)
    geometry_wkb = models.BinaryField(_("geometry (WKB)"))
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    centroid_lon = models.FloatField()
    centroid_lat = models.FloatField()
    area_km2 = models.FloatField(_("area (km²)"))
    repaired = models.BooleanField(
        _("geometry repaired"),
        default=False,
        help_text=_("The source polygon was invalid (e.g. self-intersecting) and was repaired."),
    )
    properties = models.JSONField(_("source properties"), default=dict, blank=True)

    class Meta:
        ordering = ["layer", "code"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "code"], name="territory_unique_code")
        ]
        indexes = [models.Index(fields=["city", "min_lon", "max_lon", "min_lat", "max_lat"])]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @cached_property
    def geometry(self) -> shapely.Geometry:
        return shapely.from_wkb(bytes(self.geometry_wkb))

    @property
    def density_per_km2(self) -> float | None:
        if self.population is None or not self.area_km2:
            return None
        return self.population / self.area_km2

    def ancestors(self) -> list[Territory]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain
