"""Incidents in the admin site: the type catalogue is edited here; incidents are only read.

Incident types are configuration, audited like every admin change. Incidents, their sources and
their timeline are shown read-only and without the caller's details: they are handled in the
console, where every step is an audited action. Nothing here can be deleted.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convive.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin, admin_site
from convive.incidents.models import Incident, IncidentEvent, IncidentType


@admin.register(IncidentType, site=admin_site)
class IncidentTypeAdmin(AuditedModelAdmin):
    """``IncidentType.clean`` checks the protocol, the capabilities and the ICCS code."""

    list_display = ["name_es", "name_en", "code", "default_priority", "iccs_code", "order"]
    list_display += ["active"]
    list_filter = ["default_priority", "active"]
    search_fields = ["code", "name_es", "name_en"]
    ordering = ["order", "name_es"]
    fieldsets = (
        (None, {"fields": ("code", "active", "order", "default_priority")}),
        (_("Names"), {"fields": (("name_es", "name_en"),)}),
        (_("Protocol and response"), {"fields": ("protocol", "required_capabilities")}),
        (_("Classification"), {"fields": ("iccs_code",)}),
    )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # incidents point at their type: deactivate it instead


@admin.register(Incident, site=admin_site)
class IncidentAdmin(ReadOnlyModelAdmin):
    list_display = ["reference", "type", "priority", "status", "institution", "locality"]
    list_display += ["created_at", "version"]
    list_filter = ["status", "priority", "type", "city"]
    list_select_related = ["type", "institution", "locality"]
    date_hierarchy = "created_at"
    fields = [
        "city",
        "type",
        "priority",
        "status",
        "institution",
        "locality",
        "neighbourhood",
        "address",
        "summary",
        "merged_into",
        "created_at",
        "updated_at",
        "closed_at",
        "outcome",
        "version",
    ]
    readonly_fields = fields


@admin.register(IncidentEvent, site=admin_site)
class IncidentEventAdmin(ReadOnlyModelAdmin):
    list_display = ["incident", "kind", "at", "actor", "institution"]
    list_filter = ["kind"]
    list_select_related = ["incident__type", "actor", "institution"]
    fields = ["incident", "kind", "at", "actor", "institution", "body", "data"]
    readonly_fields = fields
