"""Places where people get justice and protection: justice houses, family commissaries, police."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.territories.models import City, Territory


class JusticeService(models.Model):
    class Kind(models.TextChoices):
        JUSTICE_HOUSE = "justice_house", _("Justice house (Casa de Justicia)")
        FAMILY_COMMISSARY = "family_commissary", _("Family commissary (Comisaría de Familia)")
        POLICE_STATION = "police_station", _("Police station")
        POLICE_POST = "police_post", _("Police post (CAI)")
        PROSECUTOR = "prosecutor", _("Prosecutor's office (URI/Fiscalía)")
        VICTIM_CARE = "victim_care", _("Victim care centre")

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="justice_services")
    institution = models.ForeignKey(
        Institution, on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("locality"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="justice_services",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    h3_cell = models.CharField(max_length=16, db_index=True)

    class Meta:
        ordering = ["city", "kind", "name"]
        verbose_name = _("justice service")
        verbose_name_plural = _("justice services")

    def __str__(self) -> str:
        return self.name
