"""Command-centre incidents: the type catalogue, incidents, their sources and their timeline.

An incident is what the command centre handles, whatever the channel it came through: a phone
call taken by a call-taker, an SOS or a citizen report, a street panic button, later a camera or a
plate reader. Each channel is an ``IncidentSource`` of the incident; merging a duplicate moves its
sources and keeps both timelines. Nothing here is ever deleted.

Concurrency: every write goes through ``convive.incidents.actions``, which bumps ``version``; a
console sends the version it showed, and a stale one is refused with a 409 and the current state.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.territories.models import City, Territory
from convive.units.models import Capability  # one list: what a type needs is what units can do


class Priority(models.IntegerChoices):
    """P1 is the most urgent. The queue is ordered by priority, then by age."""

    P1 = 1, _("P1 · Life at risk now")
    P2 = 2, _("P2 · Urgent")
    P3 = 3, _("P3 · Soon")
    P4 = 4, _("P4 · When possible")


class IncidentType(models.Model):
    """A kind of incident: default priority, the call-taker's protocol and the units it needs.

    ``protocol``: ``[{"code": "armas", "question_es": "¿Hay armas?", "question_en": "Are there
    weapons?"}, ...]``, the questions to ask, in order. ``required_capabilities``: values of
    ``Capability``. ``iccs_code``: for crimes, the UNODC ICCS code (``convive/reports/iccs.py``).
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=160)
    name_en = models.CharField(_("name (English)"), max_length=160, blank=True)
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority.choices, default=Priority.P3
    )
    protocol = models.JSONField(_("protocol questions"), default=list, blank=True)
    required_capabilities = models.JSONField(_("required capabilities"), default=list, blank=True)
    iccs_code = models.CharField(
        _("ICCS code"),
        max_length=8,
        blank=True,
        help_text=_("UNODC International Classification of Crime (crimes only)."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["order", "name_es"]
        verbose_name = _("incident type")
        verbose_name_plural = _("incident types")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (Spanish first, as ``reports.Category``)."""
        language = (get_language() or "es")[:2]
        return (self.name_en if language == "en" else "") or self.name_es

    def questions(self) -> list[dict[str, str]]:
        """The protocol as ``[{"code", "question"}]`` in the active language."""
        language = (get_language() or "es")[:2]
        return [
            {
                "code": item["code"],
                "question": (item.get("question_en") if language == "en" else "")
                or item["question_es"],
            }
            for item in self.protocol
        ]

    def clean(self) -> None:
        errors = type_errors(
            protocol=self.protocol,
            capabilities=self.required_capabilities,
            iccs_code=self.iccs_code,
        )
        if errors:
            raise ValidationError(errors)


def type_errors(*, protocol: Any, capabilities: Any, iccs_code: str) -> dict[str, str]:
    """What is wrong with a type's protocol, capabilities and ICCS code, by field ({} if fine)."""
    from convive.reports.iccs import ICCS

    errors: dict[str, str] = {}
    if not isinstance(protocol, list) or not all(_is_question(q) for q in protocol):
        errors["protocol"] = str(
            _("The protocol is a list of {code, question_es, question_en} entries.")
        )
    elif len({q["code"] for q in protocol}) != len(protocol):
        errors["protocol"] = str(_("Each protocol question needs its own code."))
    known = set(Capability.values)
    if not isinstance(capabilities, list) or not set(capabilities) <= known:
        errors["required_capabilities"] = str(
            _("Capabilities are a list of: %(known)s.") % {"known": ", ".join(sorted(known))}
        )
    if iccs_code and iccs_code not in ICCS:
        errors["iccs_code"] = str(_("“%(code)s” is not an ICCS code.") % {"code": iccs_code})
    return errors


def _is_question(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("code"), str)
        and bool(item["code"])
        and isinstance(item.get("question_es"), str)
        and bool(item["question_es"])
        and isinstance(item.get("question_en", ""), str)
    )


class Incident(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        DISPATCHED = "dispatched", _("Unit dispatched")
        EN_ROUTE = "en_route", _("Unit en route")
        ON_SCENE = "on_scene", _("Unit on scene")
        CLEARED = "cleared", _("Cleared")
        CLOSED = "closed", _("Closed")

    # Open until closed: a cleared incident still waits for its closure (outcome).
    OPEN_STATUSES = (
        Status.NEW,
        Status.DISPATCHED,
        Status.EN_ROUTE,
        Status.ON_SCENE,
        Status.CLEARED,
    )
    # The field steps, in order: the status only moves forward along them (reopen starts again).
    FIELD_STEPS = (Status.NEW, Status.DISPATCHED, Status.EN_ROUTE, Status.ON_SCENE, Status.CLEARED)

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="incidents")
    type = models.ForeignKey(
        IncidentType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="incidents"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True)
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
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    protocol_answers = models.JSONField(_("protocol answers"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
    )
    linked = models.ManyToManyField("self", verbose_name=_("linked incidents"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # The first time of each timeline step the response-time figures read (docs/kpis.md): the
    # earliest ``IncidentEvent.at`` of that kind of this incident's own events, kept by
    # ``actions.do_stamp_first_time`` as each event is written (``FIRST_TIME_FIELDS``), so that
    # the figures scan incidents without grouping their events. Not part of ``version``.
    first_call_received_at = models.DateTimeField(_("first call received"), null=True, blank=True)
    first_call_answered_at = models.DateTimeField(_("first call answered"), null=True, blank=True)
    first_created_at = models.DateTimeField(_("first created"), null=True, blank=True)
    first_dispatched_at = models.DateTimeField(_("first dispatched"), null=True, blank=True)
    first_en_route_at = models.DateTimeField(_("first en route"), null=True, blank=True)
    first_on_scene_at = models.DateTimeField(_("first on scene"), null=True, blank=True)
    first_cleared_at = models.DateTimeField(_("first cleared"), null=True, blank=True)
    first_closed_at = models.DateTimeField(_("first closed"), null=True, blank=True)

    # Event kind (``IncidentEvent.Kind``) -> the field holding its first time.
    FIRST_TIME_FIELDS = {
        "call_received": "first_call_received_at",
        "call_answered": "first_call_answered_at",
        "created": "first_created_at",
        "dispatched": "first_dispatched_at",
        "en_route": "first_en_route_at",
        "on_scene": "first_on_scene_at",
        "cleared": "first_cleared_at",
        "closed": "first_closed_at",
    }

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [
            models.Index(fields=["city", "status", "priority", "created_at"]),
            models.Index(fields=["type", "h3_cell", "created_at"]),
            models.Index(fields=["city", "-created_at"]),
            # A period of every city (the response-time figures' default 30 days, platform
            # administrators): read the period, not the whole history.
            models.Index(fields=["created_at"], name="incident_created_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lon__isnull=True) & Q(lat__isnull=True))
                | (Q(lon__isnull=False) & Q(lat__isnull=False)),
                name="incident_point_has_both_coordinates",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="incident_priority_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status="closed"),
                name="incident_merged_is_closed",
            ),
        ]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.reference} {self.type}"

    @property
    def reference(self) -> str:
        """The folio read aloud and written in reports to other institutions."""
        return f"INC-{self.pk:07d}" if self.pk else "INC-?"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class IncidentSource(models.Model):
    """One channel through which the command centre learnt of an incident.

    Least data: a call keeps only what the call-taker typed about the caller (often nothing).
    """

    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        APP_REPORT = "app_report", _("Citizen report")
        SOS = "sos", _("SOS from the app")
        PANIC_BUTTON = "panic_button", _("Street panic button")
        CAMERA = "camera", _("Camera alert")
        PLATE_READER = "plate_reader", _("Plate-reader alert")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="sources")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    report = models.ForeignKey(
        "reports.Report",
        verbose_name=_("report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident_sources",
    )
    caller_phone = models.CharField(_("caller's phone"), max_length=32, blank=True)
    caller_name = models.CharField(_("caller's name"), max_length=150, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["incident", "received_at", "pk"]
        constraints = [
            # A report becomes at most one incident (an SOS seen by many consoles, a retry).
            models.UniqueConstraint(
                fields=["report"], condition=Q(report__isnull=False), name="source_report_once"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=models.F("received_at")),
                name="source_answered_after_received",
            ),
        ]
        verbose_name = _("incident source")
        verbose_name_plural = _("incident sources")

    def __str__(self) -> str:
        return f"{self.incident} · {self.get_kind_display()}"


class IncidentEvent(models.Model):
    """One timestamped, attributed step of an incident's timeline (also in the audit log)."""

    class Kind(models.TextChoices):
        CALL_RECEIVED = "call_received", _("Call received")
        CALL_ANSWERED = "call_answered", _("Call answered")
        CREATED = "created", _("Incident created")
        UPDATED = "updated", _("Incident updated")
        LINKED = "linked", _("Linked to another incident")
        MERGED = "merged", _("Merged")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        DISPATCHED = "dispatched", _("Unit dispatched")
        EN_ROUTE = "en_route", _("Unit en route")
        ON_SCENE = "on_scene", _("Unit on scene")
        TRANSFERRED = "transferred", _("Handed to another institution")
        REFERRED = "referred", _("Victim referred to a support service")
        CLEARED = "cleared", _("Cleared")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        NOTE = "note", _("Internal note")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["incident", "at", "pk"]
        indexes = [models.Index(fields=["incident", "at"])]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")

    def __str__(self) -> str:
        return f"{self.incident} · {self.get_kind_display()}"


class Assignment(models.Model):
    """One unit sent to one incident, with the times the response-time figures read.

    A unit has at most one assignment not yet cleared (a database constraint), so the unit board
    and the incidents agree: a dispatch is refused while the unit is on another incident.
    """

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments"
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("dispatched"), default=timezone.now)
    en_route_at = models.DateTimeField(_("en route"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("on scene"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    # Straight-line metres from the unit's position (when fresh) to the incident at dispatch: with
    # the time to reach the scene, what the recommendation learns the city's travel speeds from.
    distance_m = models.FloatField(_("distance at dispatch (m)"), null=True, blank=True)

    class Meta:
        ordering = ["incident", "dispatched_at", "pk"]
        indexes = [models.Index(fields=["dispatched_at"], name="assignment_dispatched_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cleared_at__isnull=True),
                name="assignment_one_open_per_unit",
            ),
        ]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.incident} · {self.unit_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None
