"""The staff inbox: the reports of one's institution, one report in full, and what staff do.

Every page that shows a report records the look (``do_record_report_view``). Every action is
one POST to its own URL: parse the form, lock the report through ``access_report_by_id``, call
one ``check_*`` action, and go back to the report with a message. When the action refuses, the
report is shown again with the form, its text kept and the refusal next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from convive.accounts.permissions import Action, is_allowed, requires
from convive.core.errors import ActionError
from convive.incidents.access import incidents_for
from convive.incidents.queries import incident_of_report
from convive.reports import actions
from convive.reports.access import access_report_by_id
from convive.reports.inbox_forms import (
    AssignForm,
    HideForm,
    InboxFilterForm,
    NoteForm,
    ReplyForm,
    RerouteForm,
    RestrictForm,
    ShowForm,
    StatusForm,
)
from convive.reports.models import Report
from convive.reports.queries import (
    can_act_on,
    inbox_category_choices,
    inbox_territory_choices,
    list_answers,
    list_assignable_people,
    list_inbox_reports,
    list_place_territories,
    list_reroute_institutions,
    list_timeline,
    sees_fallback_queue,
)
from convive.territories.svg import MapShape, render_map

PAGE_SIZE = 25


@requires(Action.REPORT_INBOX)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    fallback = sees_fallback_queue(user)
    form = InboxFilterForm(
        request.GET,
        territories=inbox_territory_choices(user),
        categories=inbox_category_choices(),
        fallback=fallback,
    )
    page = None
    if form.is_valid():
        reports = list_inbox_reports(user, form.filters())
        page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "fallback": fallback}
    return render(request, "reports/inbox.html", context, status=200 if page is not None else 400)


@requires(Action.REPORT_INBOX)
@require_GET
def detail(request: HttpRequest, report_id: int) -> HttpResponse:
    return _render_detail(request, report_id)


def _place_map(report: Report) -> SafeString:
    """The report's locality, its neighbourhoods and the point, drawn by the server."""
    if report.lon is None or report.locality is None:
        return SafeString("")
    shapes = [
        MapShape(territory.geometry, territory.name, css_class=css_class)
        for territory, css_class in list_place_territories(report)
    ]
    title = _("Where the report is, in %(locality)s") % {"locality": report.locality.name}
    return render_map(shapes, title=title, point=(report.lon, report.lat))


def _action_forms(user: Any, report: Report, bound: forms.Form | None) -> dict[str, forms.Form]:
    """The forms of the actions ``user`` may take on ``report`` (``bound`` replaces its twin)."""
    found: dict[str, forms.Form] = {}
    if can_act_on(user, report, Action.REPORT_HANDLE):
        found["reply"] = ReplyForm(prefix="reply")
        found["note"] = NoteForm(prefix="note")
        found["status"] = StatusForm(prefix="status", current=report.status)
        if report.institution_id is not None:
            found["assign"] = AssignForm(
                prefix="assign",
                people=list_assignable_people(report),
                initial={"assignee": report.assignee_id},
            )
        found["reroute"] = RerouteForm(
            prefix="reroute", institutions=list_reroute_institutions(report)
        )
    if can_act_on(user, report, Action.REPORT_MODERATE):
        if report.is_hidden:
            found["show"] = ShowForm(prefix="show")
        else:
            found["hide"] = HideForm(prefix="hide")
        if report.reporter_id is not None:
            found["restrict"] = RestrictForm(prefix="restrict")
    if bound is not None and bound.prefix in found:
        if isinstance(bound, StatusForm):  # offer what the report can move to now
            bound.fields["status"].choices = found["status"].fields["status"].choices
        found[bound.prefix] = bound
    return found


def _render_detail(
    request: HttpRequest, report_id: int, *, bound: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    with transaction.atomic(durable=True):
        report = access_report_by_id(request.user, report_id)
        actions.do_record_report_view(request.user, report)
    action_forms = _action_forms(request.user, report, bound)
    if bound is not None and bound.prefix not in action_forms:
        # The action no longer applies (hidden meanwhile, anonymous...): say why at the top.
        for errors in bound.errors.values():
            for error in errors:
                messages.error(request, error)
    context = {
        "report": report,
        "place_map": _place_map(report),
        "answers": list_answers(report),
        "photos": list(report.photos.all()),
        "timeline": list_timeline(report),
        "forms": action_forms,
        "open_form": bound.prefix if bound is not None else "reply",
        **_incident_context(request.user, report),
    }
    return render(request, "reports/inbox_detail.html", context, status=status)


def _incident_context(user: Any, report: Report) -> dict[str, Any]:
    """The command-centre incident the report became, linked for those who may open it: the
    inbox must not handle twice what the centre already handles."""
    incident = incident_of_report(report)
    if incident is None:
        return {"incident": None, "incident_link": False}
    may_open = (
        is_allowed(user, Action.INCIDENT_VIEW)
        and incidents_for(user).filter(pk=incident.pk).exists()
    )
    return {"incident": incident, "incident_link": may_open}


def _act(
    request: HttpRequest,
    report_id: int,
    form: forms.Form,
    act: Callable[[Report, dict], str],
    *,
    action: Action = Action.REPORT_HANDLE,
) -> HttpResponse:
    """Run one action on the locked report; ``act`` returns the message of success."""
    if not form.is_valid():
        return _render_detail(request, report_id, bound=form, status=400)
    try:
        with transaction.atomic(durable=True):
            report = access_report_by_id(request.user, report_id, for_update=True, action=action)
            done = act(report, form.cleaned_data)
    except ActionError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render_detail(request, report_id, bound=form, status=exc.status)
    messages.success(request, done)  # at the top of the page, where the browser lands
    return redirect("inbox:detail", report_id=report_id)


@requires(Action.REPORT_HANDLE)
@require_POST
def reply(request: HttpRequest, report_id: int) -> HttpResponse:
    def act(report: Report, data: dict) -> str:
        actions.check_reply(request.user, report, body=data["body"])
        return _("Reply sent. The citizen is notified.")

    return _act(request, report_id, ReplyForm(request.POST, prefix="reply"), act)


@requires(Action.REPORT_HANDLE)
@require_POST
def note(request: HttpRequest, report_id: int) -> HttpResponse:
    def act(report: Report, data: dict) -> str:
        actions.check_add_note(request.user, report, body=data["body"])
        return _("Internal note added. Only staff see it.")

    return _act(request, report_id, NoteForm(request.POST, prefix="note"), act)


@requires(Action.REPORT_HANDLE)
@require_POST
def change_status(request: HttpRequest, report_id: int) -> HttpResponse:
    form = StatusForm(request.POST, prefix="status")

    def act(locked: Report, data: dict) -> str:
        changed = actions.check_change_status(
            request.user, locked, status=data["status"], text=data["text"]
        )
        return _("The status is now “%(status)s”. The citizen is notified.") % {
            "status": changed.get_status_display()
        }

    return _act(request, report_id, form, act)


@requires(Action.REPORT_HANDLE)
@require_POST
def assign(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report_by_id(request.user, report_id, action=Action.REPORT_HANDLE)
    form = AssignForm(request.POST, prefix="assign", people=list_assignable_people(report))

    def act(locked: Report, data: dict) -> str:
        person = data["assignee"]
        actions.check_assign(request.user, locked, assignee=person)
        return _("Assigned to %(name)s.") % {"name": person.get_full_name() or person.username}

    return _act(request, report_id, form, act)


@requires(Action.REPORT_HANDLE)
@require_POST
def reroute(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report_by_id(request.user, report_id, action=Action.REPORT_HANDLE)
    form = RerouteForm(
        request.POST, prefix="reroute", institutions=list_reroute_institutions(report)
    )

    def act(locked: Report, data: dict) -> str:
        actions.check_reroute(
            request.user, locked, institution=data["institution"], reason=data["reason"]
        )
        return _("Sent to %(institution)s.") % {"institution": data["institution"].name}

    response = _act(request, report_id, form, act)
    if response.status_code == 302 and not can_act_on(request.user, report, Action.REPORT_INBOX):
        return redirect("inbox:list")  # it left this person's inbox with its new institution
    return response


@requires(Action.REPORT_MODERATE)
@require_POST
def hide(request: HttpRequest, report_id: int) -> HttpResponse:
    def act(report: Report, data: dict) -> str:
        actions.check_hide(request.user, report, reason=data["reason"])
        return _("The report is hidden from every public list. It is kept.")

    form = HideForm(request.POST, prefix="hide")
    return _act(request, report_id, form, act, action=Action.REPORT_MODERATE)


@requires(Action.REPORT_MODERATE)
@require_POST
def show(request: HttpRequest, report_id: int) -> HttpResponse:
    def act(report: Report, data: dict) -> str:
        actions.check_show(request.user, report, reason=data["reason"])
        return _("The report is shown again.")

    form = ShowForm(request.POST, prefix="show")
    return _act(request, report_id, form, act, action=Action.REPORT_MODERATE)


@requires(Action.REPORT_MODERATE)
@require_POST
def restrict(request: HttpRequest, report_id: int) -> HttpResponse:
    def act(report: Report, data: dict) -> str:
        restriction = actions.check_restrict_reporter(
            request.user, report, days=data["days"], reason=data["reason"]
        )
        until = timezone.localtime(restriction.until).strftime("%Y-%m-%d %H:%M")
        return _("The account may not report until %(date)s.") % {"date": until}

    form = RestrictForm(request.POST, prefix="restrict")
    return _act(request, report_id, form, act, action=Action.REPORT_MODERATE)


@requires(Action.REPORT_INBOX)
@require_GET
def photo(request: HttpRequest, report_id: int, photo_id: int) -> FileResponse:
    """A photo of a report the person may see; never kept by a browser or a proxy."""
    report = access_report_by_id(request.user, report_id)
    found = report.photos.filter(pk=photo_id).first()
    if found is None:
        raise Http404(_("Photo not found."))
    try:
        handle = found.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("Photo not found.")) from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="report-{report.pk}-{found.pk}.jpg"'
    return response
