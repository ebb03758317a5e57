"""The admin site: platform administrators only, two-factor verified, every change audited."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from convive.accounts.permissions import Action, is_allowed
from convive.core.actions import do_record_admin_change
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag


class ConviveAdminSite(admin.AdminSite):
    site_header = _("Convive administration")
    site_title = _("Convive")
    index_title = _("Catalogues, territories, institutions and accounts")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and is_allowed(user, Action.ADMIN_SITE)
            and getattr(user, "is_verified", lambda: False)()
        )

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:  # noqa: ANN001
        """One login for the whole site, with its second factor: never the admin's own form.

        People already logged in who may not use the admin site get a plain 403.
        """
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", "/admin/"))

    def logout(self, request: HttpRequest, extra_context=None) -> HttpResponse:  # noqa: ANN001
        """The site's own logout (POST only, recorded for staff)."""
        from convive.accounts.views import logout

        return logout(request)


admin_site = ConviveAdminSite(name="admin")


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions go to the audit log.

    Django's admin wraps each change in a transaction, so the audit entry commits with it.
    """

    def _allowed(self, request: HttpRequest) -> bool:
        return is_allowed(request.user, Action.ADMIN_SITE)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return self._allowed(request)

    def _audit(self, request: HttpRequest, tag: AuditTag, obj, message) -> None:  # noqa: ANN001
        do_record_admin_change(request.user, tag, obj, message)

    def log_addition(self, request, obj, message):  # noqa: ANN001
        self._audit(request, AuditTag.ADMIN_OBJECT_ADDED, obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):  # noqa: ANN001
        self._audit(request, AuditTag.ADMIN_OBJECT_CHANGED, obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):  # noqa: ANN001
        for obj in queryset:
            self._audit(request, AuditTag.ADMIN_OBJECT_DELETED, obj, "")
        return super().log_deletions(request, queryset)


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """For records written only by actions (incidents, positions, refused device messages):
    platform administrators may look, nobody adds, changes or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nobody edits the log through the application."""

    list_display = [
        "seq",
        "created_at",
        "tag",
        "actor_username",
        "institution_name",
        "subject_repr",
    ]
    list_filter = ["tag"]
    search_fields = ["actor_username", "subject_repr", "tag", "institution_name"]
    ordering = ["-seq"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_allowed(request.user, Action.ADMIN_SITE)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return is_allowed(request.user, Action.ADMIN_SITE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False
