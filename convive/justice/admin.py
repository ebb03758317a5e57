"""Justice services in the admin site: platform administrators keep the catalogue up to date."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convive.core.admin import AuditedModelAdmin, admin_site
from convive.core.errors import ActionError
from convive.core.geo import check_lon_lat
from convive.justice.actions import do_save_justice_service
from convive.justice.models import JusticeService


class JusticeServiceForm(forms.ModelForm):
    class Meta:
        model = JusticeService
        fields = [
            "city",
            "kind",
            "name",
            "institution",
            "address",
            "phone",
            "opening_hours",
            "lon",
            "lat",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        lon, lat = cleaned.get("lon"), cleaned.get("lat")
        if lon is not None and lat is not None:
            try:
                check_lon_lat(lon, lat)
            except ActionError as exc:
                self.add_error(exc.field, exc.message)
        return cleaned


@admin.register(JusticeService, site=admin_site)
class JusticeServiceAdmin(AuditedModelAdmin):
    form = JusticeServiceForm
    list_display = ["name", "kind", "territory", "institution", "phone", "city"]
    list_filter = ["kind", "city"]
    search_fields = ["name", "address", "phone", "territory__name", "institution__name"]
    list_select_related = ["city", "territory", "institution"]
    readonly_fields = ["territory", "h3_cell"]
    fieldsets = (
        (None, {"fields": ("city", "kind", "name", "institution")}),
        (_("Contact"), {"fields": ("address", "phone", "opening_hours")}),
        (_("Location"), {"fields": ("lon", "lat", "territory", "h3_cell")}),
    )

    def save_model(self, request: HttpRequest, obj, form, change) -> None:  # noqa: ANN001
        do_save_justice_service(obj)
