"""Units in the admin site: the fleet is edited here (audited); the AVL track is read only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from convive.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin, admin_site
from convive.core.errors import ActionError
from convive.units.actions import check_capabilities
from convive.units.models import Unit, UnitPosition


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = [
            "institution",
            "call_sign",
            "kind",
            "home_territory",
            "capabilities",
            "status",
            "current_load",
            "active",
        ]

    def clean_capabilities(self) -> list[str]:
        try:
            return check_capabilities(self.cleaned_data["capabilities"])
        except ActionError as error:
            raise ValidationError(error.message) from error


@admin.register(Unit, site=admin_site)
class UnitAdmin(AuditedModelAdmin):
    form = UnitForm
    list_display = ["call_sign", "institution", "kind", "status", "current_load", "active"]
    list_filter = ["kind", "status", "active", "institution__city"]
    search_fields = ["call_sign", "institution__name"]
    autocomplete_fields = ["home_territory"]
    readonly_fields = ["last_lon", "last_lat", "last_position_at", "version", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Unit, form: forms.ModelForm, change: bool):
        if change:  # a dispatcher holding the old version gets a conflict, not a silent change
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(UnitPosition, site=admin_site)
class UnitPositionAdmin(ReadOnlyModelAdmin):
    """Read only: the track is what the devices sent."""

    list_display = ["unit", "recorded_at", "received_at", "lon", "lat", "speed_kmh", "source"]
    list_filter = ["source", "stale"]
    search_fields = ["unit__call_sign"]
    list_select_related = ["unit"]
    date_hierarchy = "recorded_at"
