"""Institutions (secretariat, police, prosecutor's office, justice house...) and memberships.

A membership gives a person one role in one institution, over the institution's territories or
a narrower set of them: a supervisor of Kennedy holds a membership limited to Kennedy.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from convive.accounts.roles import Role
from convive.territories.models import City, Territory


class Institution(models.Model):
    class Kind(models.TextChoices):
        SECURITY_SECRETARIAT = "security_secretariat", _("Security secretariat")
        COMMAND_CENTRE = "command_centre", _("Command centre (C4/C5)")
        POLICE = "police", _("Police")
        PROSECUTOR = "prosecutor", _("Prosecutor's office")
        JUSTICE_HOUSE = "justice_house", _("Justice house")
        FAMILY_COMMISSARY = "family_commissary", _("Family commissary")
        MAYORS_OFFICE = "mayors_office", _("Local mayor's office")
        CIVIL_PROTECTION = "civil_protection", _("Civil protection")
        HEALTH = "health", _("Emergency health service")
        CAMERA_PARTNER = "camera_partner", _("Camera partner")
        OTHER = "other", _("Other")

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="institutions")
    slug = models.SlugField(_("identifier"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="units",
    )
    coverage = models.ManyToManyField(
        Territory, verbose_name=_("territories covered"), related_name="institutions", blank=True
    )
    covers_whole_city = models.BooleanField(_("covers the whole city"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="institution_unique_slug")
        ]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One role held by one person in one institution, possibly over fewer territories.

    Platform administrators are the one role without an institution.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    territories = models.ManyToManyField(
        Territory,
        verbose_name=_("limited to"),
        blank=True,
        related_name="memberships",
        help_text=_("Empty: every territory the institution covers."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("given by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["institution", "role", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.PLATFORM_ADMIN) & Q(institution__isnull=True))
                | (
                    ~Q(role=Role.PLATFORM_ADMIN)
                    & ~Q(role=Role.CITIZEN)
                    & Q(institution__isnull=False)
                ),
                name="membership_institution_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "institution", "role"],
                condition=Q(active=True),
                name="membership_unique_active",
            ),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        where = self.institution.name if self.institution_id else _("whole platform")
        return f"{self.user} · {self.get_role_display()} · {where}"
