"""Cities, layers and territories in the admin site: names and facts editable, geometry not.

Boundaries change only through ``convive import_territories``; the admin shows what was imported
(bounding box, area, source properties) read-only. Every save gives the city a new index token,
so that every process rebuilds its lookup index and cached maps.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from convive.core.admin import AuditedModelAdmin, admin_site
from convive.territories.actions import do_refresh_city_index
from convive.territories.models import City, Layer, Territory


class RefreshIndexMixin:
    """After any change, the city's lookup index and maps are rebuilt everywhere."""

    def _city_id(self, obj) -> int:  # noqa: ANN001
        return obj.pk if isinstance(obj, City) else obj.city_id

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:  # noqa: ANN001
        super().save_model(request, obj, form, change)
        do_refresh_city_index(self._city_id(obj))

    def delete_model(self, request: HttpRequest, obj) -> None:  # noqa: ANN001
        city_id = self._city_id(obj)
        super().delete_model(request, obj)
        do_refresh_city_index(city_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        city_ids = {self._city_id(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        for city_id in city_ids:
            do_refresh_city_index(city_id)


@admin.register(City, site=admin_site)
class CityAdmin(RefreshIndexMixin, AuditedModelAdmin):
    list_display = ["name", "slug", "country_code", "is_demo", "created_at"]
    list_filter = ["is_demo", "country_code"]
    search_fields = ["name", "slug"]
    readonly_fields = ["index_token", "created_at"]


@admin.register(Layer, site=admin_site)
class LayerAdmin(RefreshIndexMixin, AuditedModelAdmin):
    list_display = ["name", "slug", "city", "kind", "parent_layer", "imported_at"]
    list_filter = ["city", "kind"]
    search_fields = ["name", "slug"]
    list_select_related = ["city", "parent_layer"]
    readonly_fields = ["source", "imported_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:  # noqa: ANN001
        # A layer's city and slug identify it for re-imports: fixed once it exists.
        fixed = ["city", "slug"] if obj is not None else []
        return [*fixed, *self.readonly_fields]


@admin.register(Territory, site=admin_site)
class TerritoryAdmin(RefreshIndexMixin, AuditedModelAdmin):
    list_display = ["code", "name", "layer", "city", "population", "area_km2", "repaired"]
    list_filter = ["city", "layer", "repaired"]
    search_fields = ["code", "name"]
    list_select_related = ["city", "layer"]
    ordering = ["city", "layer", "code"]
    raw_id_fields = ["parent"]
    exclude = ["geometry_wkb"]
    readonly_fields = [
        "city",
        "layer",
        "code",
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a territory without a boundary is not one: import a file instead
