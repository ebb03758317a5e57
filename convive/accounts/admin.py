"""Accounts in the admin site: platform administrators manage people and reset second factors."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convive.accounts.actions import check_reset_two_factor
from convive.accounts.models import User
from convive.core.admin import AuditedModelAdmin, admin_site
from convive.core.errors import ActionError
from convive.institutions.models import Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["institution", "role", "territories", "active"]
    autocomplete_fields = ["institution", "territories"]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # memberships end (active = false); they are never deleted


@admin.register(User, site=admin_site)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_demo"]
    list_filter = ["is_active", "is_demo", "memberships__role"]
    inlines = [MembershipInline]
    actions = ["reset_two_factor"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (_("Preferences"), {"fields": ("preferred_language",)}),
        (_("Status"), {"fields": ("is_active", "is_demo", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined", "is_demo"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # accounts are deactivated, so that history keeps its meaning

    @admin.action(description=_("Reset two-factor login (the person enrols again)"))
    def reset_two_factor(self, request: HttpRequest, queryset) -> None:  # noqa: ANN001
        reason = _("Reset from the admin site by %(admin)s") % {"admin": request.user.username}
        for user in queryset:
            try:
                with transaction.atomic():
                    check_reset_two_factor(request.user, user, reason=str(reason))
            except ActionError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        self.message_user(request, _("Second factor reset."), messages.SUCCESS)
