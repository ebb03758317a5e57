"""The roles a person can hold. Staff roles come from memberships of an institution."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    CALL_TAKER = "call_taker", _("Call-taker")
    DISPATCHER = "dispatcher", _("Dispatcher")
    SUPERVISOR = "supervisor", _("Supervisor")
    FIELD_UNIT = "field_unit", _("Field unit")
    ANALYST = "analyst", _("Analyst")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    CAMERA_PARTNER = "camera_partner", _("Camera partner")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


# Everyone but citizens works on behalf of an institution and must use two-factor login.
STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}
# Roles whose scope is a set of territories (the rest see what their institution sees).
EVERYWHERE_ROLES = frozenset({Role.PLATFORM_ADMIN})
