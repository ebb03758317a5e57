"""Street devices: panic buttons (tótems) and the log of the messages refused from devices.

A panic button signs every press with its own HMAC-SHA256 key (``secret``). The server must
compute the same HMAC, so the key is kept as it is (a hash would not do): it is never shown after
creation, never logged, not editable in the admin site, and can be rotated
(``docs/integrations.md`` explains the choice). ``last_counter`` is the highest press counter
accepted so far: a press must carry a greater one, so a replayed message is refused.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.territories.models import City

# A device code is a level of an MQTT topic: no "/", "+" or "#", nothing a URL would escape.
DEVICE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
MAX_DEVICE_CODE = 40


class PanicButton(models.Model):
    city = models.ForeignKey(
        City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="panic_buttons"
    )
    code = models.CharField(
        _("code"),
        max_length=MAX_DEVICE_CODE,
        unique=True,
        validators=[RegexValidator(DEVICE_CODE_PATTERN)],
        help_text=_("As printed on the device, e.g. TOTEM-0001: letters, digits, - and _."),
    )
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution that answers"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="panic_buttons",
    )
    # The HMAC key, kept as is because the server must recompute the HMAC (see the module doc).
    secret = models.CharField(_("signing key"), max_length=128, editable=False)
    secret_rotated_at = models.DateTimeField(_("key changed"), default=timezone.now)
    last_counter = models.BigIntegerField(_("last press counter"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["city", "code"]
        verbose_name = _("panic button")
        verbose_name_plural = _("panic buttons")

    def __str__(self) -> str:
        return self.code


class DeviceRejection(models.Model):
    """A message from a device that was refused. Holds nothing about people: no address of the
    sender, no payload; only the device code as it was sent (cut to its maximum length)."""

    class Reason(models.TextChoices):
        BAD_SIGNATURE = "bad_signature", _("Bad signature")
        REPLAY = "replay", _("Replayed press")
        UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
        INACTIVE = "inactive", _("Inactive device")
        MALFORMED = "malformed", _("Malformed message")
        STALE = "stale", _("Time too far from the server's clock")

    class Source(models.TextChoices):
        HTTP = "http", _("HTTP webhook")
        MQTT = "mqtt", _("MQTT")

    device_code = models.CharField(_("device code as sent"), max_length=MAX_DEVICE_CODE, blank=True)
    device = models.ForeignKey(
        PanicButton,
        verbose_name=_("device"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rejections",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    source = models.CharField(_("received by"), max_length=10, choices=Source.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("refused device message")
        verbose_name_plural = _("refused device messages")

    def __str__(self) -> str:
        return f"{self.device_code or '?'}: {self.reason}"
