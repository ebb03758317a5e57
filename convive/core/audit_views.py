"""The audit log page and its CSV export: read-only, scoped by ``convive/core/access.py``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from convive.accounts.permissions import Action, is_allowed, requires
from convive.accounts.roles import Role
from convive.core.access import can_verify_audit_chain
from convive.core.actions import check_export_audit_log
from convive.core.audit import verify_audit_chain
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.queries import AuditFilters, audit_institution_choices, list_audit_events_for
from convive.core.tags import AUDIT_TAG_LABELS, AuditTag, audit_tag_label

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    tag = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor (username)"), max_length=150, required=False)
    institution = forms.TypedChoiceField(
        label=_("Institution"), coerce=int, required=False, empty_value=None
    )
    subject_type = forms.CharField(
        label=_("Object type"),
        max_length=80,
        required=False,
        widget=forms.TextInput({"placeholder": "accounts.user"}),
    )
    subject_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )

    def __init__(self, data: dict | None, *, institutions: list[tuple[int, str]]) -> None:
        super().__init__(data)
        tags = sorted(AuditTag, key=lambda tag: str(AUDIT_TAG_LABELS.get(tag, tag)))
        self.fields["tag"].choices = [
            ("", _("Any action")),
            *((tag.value, AUDIT_TAG_LABELS.get(tag, tag.value)) for tag in tags),
        ]
        if len(institutions) > 1:
            self.fields["institution"].choices = [("", _("Any institution")), *institutions]
        else:  # one institution, or none: nothing to choose
            del self.fields["institution"]

    def clean(self) -> dict:
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            tag=data["tag"],
            actor=data["actor"],
            institution_id=data.get("institution"),
            subject_type=data["subject_type"],
            subject_id=data["subject_id"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET, institutions=audit_institution_choices(request.user))


def _role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:  # a role that no longer exists keeps its recorded name
        return value


@dataclass(frozen=True)
class AuditRow:
    """One entry with what the table shows beside its columns."""

    event: AuditEvent
    tag_label: str
    roles: list[str]
    details: str


def _rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    return [
        AuditRow(
            event=event,
            tag_label=audit_tag_label(event.tag),
            roles=[_role_label(role) for role in event.actor_roles.split(",") if role],
            details="" if event.data == "{}" else event.data,
        )
        for event in events
    ]


def _render_log(request: HttpRequest, form: AuditFilterForm, *, status: int = 200) -> HttpResponse:
    """The log page; without the table while the filters have errors."""
    page: Page | None = None
    if form.is_valid():
        events = list_audit_events_for(request.user, form.filters())
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    can_verify = can_verify_audit_chain(request.user)
    context = {
        "form": form,
        "page": page,
        "rows": _rows(page) if page is not None else [],
        "can_export": is_allowed(request.user, Action.AUDIT_EXPORT),
        "can_verify": can_verify,
        # Verifying reads the whole table: only when asked.
        "chain": verify_audit_chain() if can_verify and request.GET.get("verify") else None,
    }
    return render(request, "core/audit_log.html", context, status=status)


@requires(Action.AUDIT_VIEW)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    return _render_log(request, _filter_form(request))


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "seq",
    "created_at",
    "actor_user_id",
    "actor_username",
    "actor_roles",
    "institution_id",
    "institution_name",
    "tag",
    "action",
    "subject_type",
    "subject_id",
    "subject_repr",
    "reason",
    "data",
    "prev_hash",
    "hash",
]


def safe_cell(value: object) -> str:
    """The text of one CSV cell, quoted with ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def _csv_values(event: AuditEvent) -> list[object]:
    return [
        event.seq,
        timezone.localtime(event.created_at).isoformat(),
        event.actor_user_id,
        event.actor_username,
        event.actor_roles,
        event.institution_id,
        event.institution_name,
        event.tag,
        audit_tag_label(event.tag),
        event.subject_type,
        event.subject_id,
        event.subject_repr,
        event.reason,
        event.data,
        event.prev_hash,
        event.hash,
    ]


def audit_csv(events: Iterable[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([safe_cell(value) for value in _csv_values(event)])
    return buffer.getvalue()


@requires(Action.AUDIT_EXPORT)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered entries as CSV; the export itself is recorded in the log."""
    form = _filter_form(request)
    if not form.is_valid():  # only by hand: the page links to the export with valid filters
        return _render_log(request, form, status=400)
    filters = form.filters()
    events = list_audit_events_for(request.user, filters, action=Action.AUDIT_EXPORT)
    try:
        with transaction.atomic(durable=True):
            exported = check_export_audit_log(request.user, events, filters=filters)
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _render_log(request, form, status=400)
    # Written after the commit: the exported entries are fixed, and the log stays unlocked.
    body = "\ufeff" + audit_csv(exported.iterator(chunk_size=2000))  # BOM: Excel reads UTF-8
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="convive-audit-{stamp}.csv"'
    return response
