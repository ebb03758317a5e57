"""Panic buttons in the admin site: their key is never shown (it is printed once, when the
button is registered with ``convive create_panic_button`` or its key is changed with the action
below). Refused messages are read only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from convive.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin, admin_site
from convive.devices.actions import do_rotate_panic_button_key
from convive.devices.models import DeviceRejection, PanicButton


@admin.register(PanicButton, site=admin_site)
class PanicButtonAdmin(AuditedModelAdmin):
    # ``secret`` is not editable, so it is on no form; ``last_counter`` only moves with presses.
    list_display = ["code", "name", "city", "institution", "last_counter", "active"]
    list_filter = ["active", "city"]
    search_fields = ["code", "name", "address"]
    # The place was checked against the city's territories when the button was registered.
    readonly_fields = ["city", "lon", "lat", "last_counter", "secret_rotated_at", "created_at"]
    actions = ["rotate_key"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):  # noqa: ANN001
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "institution" in form.base_fields:
            field = form.base_fields["institution"]
            field.queryset = field.queryset.filter(city=obj.city)  # who answers is in the city
        return form

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registered with ``convive create_panic_button``, which checks the place and shows the key.
        return False

    @admin.action(description=gettext_lazy("Change the signing key (shown once)"))
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[PanicButton]) -> None:
        with transaction.atomic():
            keys = [
                (button.code, do_rotate_panic_button_key(request.user, button))
                for button in queryset
            ]
        for code, secret in keys:
            self.message_user(
                request,
                _("New signing key of %(code)s (copy it now, it is not shown again): %(key)s")
                % {"code": code, "key": secret},
                messages.WARNING,
            )


@admin.register(DeviceRejection, site=admin_site)
class DeviceRejectionAdmin(ReadOnlyModelAdmin):
    """Read only: what the devices sent that was refused."""

    list_display = ["received_at", "device_code", "reason", "source", "detail"]
    list_filter = ["reason", "source"]
    search_fields = ["device_code"]
    date_hierarchy = "received_at"
