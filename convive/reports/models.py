"""Citizen reports: the catalogue of categories, routing rules, reports and their timeline.

A report is what a citizen tells the institutions: a security or coexistence problem at a place,
possibly anonymous, possibly urgent (SOS). The same report is reachable through the site, the app
API and Open311 GeoReport v2. Privacy rules (``docs/privacy.md``): an anonymous report stores no
account, address, IP or user agent; public data follows the category's ``publication`` policy.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.territories.models import City, Territory

# Crockford's base32 without I, L, O, U: easy to read aloud and to type on a phone.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 12  # 60 bits: unguessable, and short enough to copy from an SMS


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def format_tracking_code(code: str) -> str:
    """``K7QF3M9DX2PA`` → ``K7QF-3M9D-X2PA`` (people read it in groups)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_tracking_code(text: str) -> str:
    """What a person typed (lower case, dashes, spaces, O for 0...) → the stored code."""
    cleaned = text.upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


class Localised:
    """Pick the ``<field>_es`` or ``<field>_en`` column for the active language (Spanish first)."""

    def localised(self, field: str) -> str:
        language = (get_language() or "es")[:2]
        value = getattr(self, f"{field}_{language}", "") if language == "en" else ""
        return value or getattr(self, f"{field}_es")


class Category(Localised, models.Model):
    """A kind of problem a citizen can report; also an Open311 service (``code``)."""

    class Kind(models.TextChoices):
        SECURITY = "security", _("Security")
        COEXISTENCE = "coexistence", _("Coexistence and prevention")

    class Publication(models.TextChoices):
        FULL = "full", _("Public with description and exact place")
        COARSE = "coarse", _("Public without description, place rounded to the area")
        NONE = "none", _("Not public")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    group_es = models.CharField(_("group (Spanish)"), max_length=120, blank=True)
    group_en = models.CharField(_("group (English)"), max_length=120, blank=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=160)
    name_en = models.CharField(_("name (English)"), max_length=160, blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    iccs_code = models.CharField(
        _("ICCS code"),
        max_length=8,
        blank=True,
        help_text=_("UNODC International Classification of Crime (security categories)."),
    )
    urgent = models.BooleanField(
        _("urgent"),
        default=False,
        help_text=_("Show the emergency notice first; the report becomes an SOS."),
    )
    notice_es = models.TextField(_("notice (Spanish)"), blank=True)
    notice_en = models.TextField(_("notice (English)"), blank=True)
    publication = models.CharField(
        _("publication"), max_length=10, choices=Publication.choices, default=Publication.NONE
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "order", "name_es"]
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")

    def __str__(self) -> str:
        return self.localised("name")

    @property
    def name(self) -> str:
        return self.localised("name")

    @property
    def group(self) -> str:
        return self.localised("group")

    @property
    def description(self) -> str:
        return self.localised("description")

    @property
    def notice(self) -> str:
        return self.localised("notice")


class Question(Localised, models.Model):
    """An extra question of a category (an Open311 service attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Short text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        TEXT = "text", _("Long text")
        SINGLE = "singlevaluelist", _("One of a list")
        MULTI = "multivaluelist", _("Several of a list")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=64)
    datatype = models.CharField(_("type of answer"), max_length=20, choices=Datatype.choices)
    label_es = models.CharField(_("question (Spanish)"), max_length=200)
    label_en = models.CharField(_("question (English)"), max_length=200, blank=True)
    help_es = models.CharField(_("help (Spanish)"), max_length=300, blank=True)
    help_en = models.CharField(_("help (English)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    # [{"key": "day", "name_es": "De día", "name_en": "By day"}, ...] for the list types
    values = models.JSONField(_("options"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        ordering = ["category", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="question_unique_code")
        ]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.localised("label")

    @property
    def label(self) -> str:
        return self.localised("label")

    @property
    def help(self) -> str:
        return self.localised("help")

    def options(self) -> list[tuple[str, str]]:
        language = (get_language() or "es")[:2]
        name = "name_en" if language == "en" else "name_es"
        return [(v["key"], v.get(name) or v.get("name_es") or v["key"]) for v in self.values]


class RoutingRule(models.Model):
    """Category and territory → the institution that handles such reports there.

    A rule without a territory applies to the whole city. For a report, the rule whose territory
    contains the report's place wins over a city-wide one; among several, the lowest ``priority``.
    """

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="routing_rules")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("Empty: the whole city."),
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="routing_rules"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)

    class Meta:
        ordering = ["city", "category", "priority", "pk"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        where = self.territory.name if self.territory_id else _("whole city")
        return f"{self.category} · {where} → {self.institution}"


class Report(models.Model):
    class Status(models.TextChoices):
        SOS = "sos", _("SOS received")
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")

    class Channel(models.TextChoices):
        WEB = "web", _("Website")
        APP = "app", _("App API")
        OPEN311 = "open311", _("Open311")

    OPEN_STATUSES = (Status.SOS, Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS)
    CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.REJECTED)

    tracking_code = models.CharField(
        _("tracking code"), max_length=16, unique=True, default=new_tracking_code, editable=False
    )
    idempotency_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="reports")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    is_urgent = models.BooleanField(_("urgent"), default=False, db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # Where: a point (GPS or a pin) and/or the words of the citizen.
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True, db_index=True)
    address = models.CharField(_("address or landmark"), max_length=300, blank=True)
    locality = models.ForeignKey(
        Territory,
        verbose_name=_("locality"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    neighbourhood = models.ForeignKey(
        Territory,
        verbose_name=_("neighbourhood"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who handles it: an institution, or nobody yet (the fallback queue, with the reason).
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    routing_note = models.CharField(_("routing note"), max_length=300, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_reports",
    )
    # Who reported: nothing at all when anonymous.
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    contact_name = models.CharField(_("name"), max_length=150, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    api_key = models.ForeignKey(
        "reports.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    media_url = models.URLField(_("media link"), max_length=500, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    supporters_count = models.PositiveIntegerField(_("supporters"), default=0)
    is_hidden = models.BooleanField(_("hidden"), default=False, db_index=True)
    hidden_reason = models.CharField(_("why it is hidden"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["institution", "status", "-created_at"]),
            models.Index(fields=["category", "h3_cell", "status"]),
            models.Index(fields=["city", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_anonymous=False)
                | (
                    Q(reporter__isnull=True)
                    & Q(contact_name="")
                    & Q(contact_email="")
                    & Q(contact_phone="")
                ),
                name="report_anonymous_keeps_no_identity",
            ),
            models.CheckConstraint(
                condition=(Q(lon__isnull=True) & Q(lat__isnull=True))
                | (Q(lon__isnull=False) & Q(lat__isnull=False)),
                name="report_point_has_both_coordinates",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="report_rating_1_to_5",
            ),
        ]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.category}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def display_code(self) -> str:
        return format_tracking_code(self.tracking_code)

    @property
    def open311_status(self) -> str:
        return "open" if self.is_open else "closed"


def photo_path(instance: ReportPhoto, filename: str) -> str:
    # A random name: the original file name can carry personal data.
    return f"reports/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.jpg"


class ReportPhoto(models.Model):
    """A photo, re-encoded as JPEG without metadata (no EXIF, so no GPS)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to=photo_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.report} · {self.pk}"


class ReportEvent(models.Model):
    """One step of a report's timeline. ``public`` steps are shown to the citizen."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Report received")
        STATUS = "status", _("Status changed")
        REPLY = "reply", _("Reply from the institution")
        NOTE = "note", _("Internal note")
        CITIZEN = "citizen", _("Message from the citizen")
        ASSIGNED = "assigned", _("Assigned")
        ROUTED = "routed", _("Sent to an institution")
        HIDDEN = "hidden", _("Hidden by moderation")
        SHOWN = "shown", _("Shown again")
        SUPPORTED = "supported", _("Someone else reported it too")
        RATED = "rated", _("Answer rated")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    public = models.BooleanField(default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Report.Status.choices, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "created_at", "pk"]
        verbose_name = _("report event")
        verbose_name_plural = _("report events")

    def __str__(self) -> str:
        return f"{self.report} · {self.get_kind_display()}"


class Supporter(models.Model):
    """Someone who reported the same problem ("me too"): counted, and told about updates."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user"], condition=Q(user__isnull=False), name="supporter_once"
            )
        ]
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")

    def __str__(self) -> str:
        return f"{self.report} +1"


class ApiKey(models.Model):
    """A key for an application that posts reports through Open311 (``convive create_api_key``).

    Only a SHA-256 of the key is stored; the key itself is shown once, when it is created.
    """

    name = models.CharField(_("application"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ReportingRestriction(models.Model):
    """An account that may not report until ``until`` (moderation of abusive reporters)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reporting_restrictions"
    )
    until = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-until"]
        verbose_name = _("reporting restriction")
        verbose_name_plural = _("reporting restrictions")

    def __str__(self) -> str:
        return f"{self.user} · {self.until:%Y-%m-%d}"
