"""People. What they may do comes from their memberships (``convive/institutions``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from convive.accounts.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from convive.institutions.models import Institution, Membership


class User(AbstractUser):
    """A person with an account: a citizen, or staff through one or more memberships.

    Citizens may report without an account; an account only adds "see all my reports".
    """

    preferred_language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("es", "Español"), ("en", "English")],
        default="es",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_demo = models.BooleanField(
        _("demo account"),
        default=False,
        help_text=_("Created by the demo loader; its two-factor code can be printed locally."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def active_memberships(self) -> list[Membership]:
        return list(
            self.memberships.filter(active=True)
            .select_related("institution", "institution__city")
            .prefetch_related("territories")
            .order_by("pk")
        )

    def roles(self) -> frozenset[Role]:
        """The roles this person holds now; a person with no staff membership is a citizen."""
        if not self.is_authenticated or not self.is_active:
            return frozenset()
        staff = frozenset(Role(m.role) for m in self.active_memberships)
        return staff or frozenset({Role.CITIZEN})

    def role_names(self) -> list[str]:
        return sorted(str(role) for role in self.roles())

    def has_role(self, role: Role) -> bool:
        return role in self.roles()

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles() & STAFF_ROLES)

    def institutions(self) -> list[Institution]:
        seen: dict[int, Institution] = {}
        for membership in self.active_memberships:
            if membership.institution_id is not None:
                seen.setdefault(membership.institution_id, membership.institution)
        return list(seen.values())

    def sole_institution(self) -> Institution | None:
        institutions = self.institutions()
        return institutions[0] if len(institutions) == 1 else None
