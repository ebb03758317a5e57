from django.contrib import admin

from convive.core.admin import AuditedModelAdmin, admin_site
from convive.institutions.models import Institution, Membership


@admin.register(Institution, site=admin_site)
class InstitutionAdmin(AuditedModelAdmin):
    list_display = ["name", "kind", "city", "covers_whole_city", "active"]
    list_filter = ["kind", "city", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent", "coverage"]


@admin.register(Membership, site=admin_site)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "role", "institution", "active", "created_at"]
    list_filter = ["role", "active", "institution__city"]
    search_fields = ["user__username", "institution__name"]
    autocomplete_fields = ["user", "institution", "territories"]
    readonly_fields = ["created_at", "created_by", "ended_at"]

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False  # memberships end; they are never deleted
