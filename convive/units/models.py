"""The fleet: units (patrol cars, motorcycles, quadrant foot patrols, ambulances, fire engines,
civil protection) and their AVL track.

A unit's last position is copied onto the unit (``last_lon``/``last_lat``/``last_position_at``),
so that the recommendation never reads the track. ``version`` grows with every change a person
makes (status, details): actions take the version the person saw and answer 409 when it moved on.
``write_stamp`` is set by the database itself on every insert and update, whoever writes (triggers,
migration 0003): the fleet index (``fleet.py``) reads only the units stamped since it last looked.
``updated_at`` is the time of the last write, for people and the API.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.territories.models import Territory


class Capability(models.TextChoices):
    """What a unit can do; a recommendation asks for a set of them. At most 64 (a bitmask)."""

    PATROL = "patrol", _("patrol")
    MOTORCYCLE = "motorcycle", _("motorcycle")
    FOOT = "foot", _("on foot")
    AMBULANCE = "ambulance", _("ambulance")
    FIRE = "fire", _("fire fighting")
    RESCUE = "rescue", _("rescue")
    CIVIL_PROTECTION = "civil_protection", _("civil protection")
    WOMEN_CARE = "women_care", _("women's care")


class Unit(models.Model):
    class Kind(models.TextChoices):
        PATROL_CAR = "patrol_car", _("Patrol car")
        MOTORCYCLE = "motorcycle", _("Motorcycle")
        FOOT_PATROL = "foot_patrol", _("Foot patrol (quadrant)")
        AMBULANCE = "ambulance", _("Ambulance")
        FIRE_ENGINE = "fire_engine", _("Fire engine")
        CIVIL_PROTECTION = "civil_protection", _("Civil protection")

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        DISPATCHED = "dispatched", _("Dispatched")
        EN_ROUTE = "en_route", _("En route")
        ON_SCENE = "on_scene", _("On scene")
        OUT_OF_SERVICE = "out_of_service", _("Out of service")

    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), on_delete=models.PROTECT, related_name="fleet"
    )
    call_sign = models.CharField(_("call sign"), max_length=32)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    home_territory = models.ForeignKey(
        Territory,
        verbose_name=_("home territory"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="home_units",
    )
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AVAILABLE
    )
    current_load = models.PositiveSmallIntegerField(_("incidents in hand"), default=0)
    last_lon = models.FloatField(_("last longitude"), null=True, blank=True)
    last_lat = models.FloatField(_("last latitude"), null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The people who crew the unit now (field-unit accounts): they see its assigned incident.
    crew = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("crew"), related_name="crewed_units", blank=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The database's, never the application's: which write last touched the row (fleet.py).
    write_stamp = models.BigIntegerField(_("write stamp"), default=0, editable=False, db_index=True)

    class Meta:
        ordering = ["institution", "call_sign"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "call_sign"], name="unit_unique_call_sign"
            )
        ]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.call_sign

    def save(self, *args, **kwargs) -> None:
        # Every write moves ``updated_at``, admin's included.
        self.updated_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        super().save(*args, **kwargs)


# The capabilities a new unit of each kind gets unless it is given others.
DEFAULT_CAPABILITIES: dict[str, tuple[str, ...]] = {
    Unit.Kind.PATROL_CAR: (Capability.PATROL,),
    Unit.Kind.MOTORCYCLE: (Capability.PATROL, Capability.MOTORCYCLE),
    Unit.Kind.FOOT_PATROL: (Capability.PATROL, Capability.FOOT),
    Unit.Kind.AMBULANCE: (Capability.AMBULANCE,),
    Unit.Kind.FIRE_ENGINE: (Capability.FIRE, Capability.RESCUE),
    Unit.Kind.CIVIL_PROTECTION: (Capability.CIVIL_PROTECTION, Capability.RESCUE),
}


class UnitPosition(models.Model):
    """One AVL fix, as the device sent it. Kept even when it is older than the unit's last one
    (``stale``): it then does not move the unit."""

    class Source(models.TextChoices):
        API = "api", _("API")
        MQTT = "mqtt", _("MQTT")

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="positions"
    )
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    recorded_at = models.DateTimeField(_("recorded at (device)"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    speed_kmh = models.FloatField(_("speed (km/h)"), null=True, blank=True)
    heading = models.FloatField(_("heading (degrees)"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    stale = models.BooleanField(
        _("stale"),
        default=False,
        help_text=_("Older than the unit's last position when it arrived: the unit was not moved."),
    )

    class Meta:
        ordering = ["unit", "recorded_at"]
        indexes = [models.Index(fields=["unit", "recorded_at"], name="unitposition_unit_time")]
        verbose_name = _("unit position")
        verbose_name_plural = _("unit positions")

    def __str__(self) -> str:
        return f"{self.unit_id} @ {self.recorded_at:%Y-%m-%d %H:%M:%S}"
