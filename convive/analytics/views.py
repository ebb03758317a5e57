"""The response-time figures page and its CSV export (KPI_VIEW; figures only, no person).

Both read the same filters and call ``compute_kpis`` once. The export holds aggregated figures
(counts, percentiles, shares) and no personal data, so it is not recorded in the audit log
(``docs/kpis.md``).
"""

from __future__ import annotations

import csv
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from convive.accounts.permissions import Action, requires
from convive.analytics.charts import Bar, bar_chart
from convive.analytics.forms import KpiFilterForm
from convive.analytics.queries import (
    GROUPINGS,
    INTERVALS,
    NORMS,
    Figures,
    KpiReport,
    compute_kpis,
    kpi_locality_choices,
    kpi_type_choices,
)

NFPA = next(norm for norm in NORMS if norm.code == "nfpa_64")


def _form(request: HttpRequest) -> KpiFilterForm:
    return KpiFilterForm(
        request.GET,
        localities=kpi_locality_choices(request.user),
        types=kpi_type_choices(),
    )


def seconds_text(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 600:
        return _("%(seconds)s s") % {"seconds": f"{value:.0f}"}
    return _("%(minutes)s min") % {"minutes": f"{value / 60:.1f}"}


def share_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _row(group: Figures) -> dict[str, Any]:
    return {
        "label": group.label,
        "count": group.count,
        "intervals": [
            (seconds_text(group.intervals[code].p50), seconds_text(group.intervals[code].p90))
            for code, *_rest in INTERVALS
        ],
        "norms": [
            (share_text(group.compliance(norm.code)), group.meets_goal(norm.code)) for norm in NORMS
        ],
    }


def _compliance_chart(overall: Figures) -> str:
    bars = [
        Bar(
            str(norm.short),
            overall.compliance(norm.code),
            _("%(share)s (goal %(goal)s)")
            % {
                "share": share_text(overall.compliance(norm.code)),
                "goal": share_text(100 * norm.share),
            },
            overall.meets_goal(norm.code),
        )
        for norm in NORMS
    ]
    return bar_chart(
        bars,
        title=_("Share of incidents within each norm"),
        description="; ".join(f"{b.label}: {b.text}" for b in bars),
        maximum=100,
    )


def _processing_chart(label: str, groups: list[Figures]) -> str:
    bars = [
        Bar(
            g.label,
            g.intervals["processing"].p90,
            seconds_text(g.intervals["processing"].p90),
            None
            if g.intervals["processing"].p90 is None
            else g.intervals["processing"].p90 <= NFPA.seconds,
        )
        for g in groups
    ]
    title = _("Alarm processing, 90th percentile, %(grouping)s") % {"grouping": label.lower()}
    return bar_chart(
        bars,
        title=title,
        description="; ".join(f"{b.label}: {b.text}" for b in bars),
        goal=NFPA.seconds,
        goal_text=_("64 s"),
    )


def _sections(report: KpiReport) -> list[dict[str, Any]]:
    sections = []
    for code, label in GROUPINGS:
        groups = report.groups[code]
        sections.append(
            {
                "code": code,
                "label": label,
                "rows": [_row(g) for g in groups],
                "chart": _processing_chart(str(label), groups) if code != "all" else "",
            }
        )
    return sections


@requires(Action.KPI_VIEW)
@require_GET
def kpis(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    context: dict[str, Any] = {
        "form": form,
        "intervals": INTERVALS,
        "norms": NORMS,
    }
    if not form.is_valid():
        return render(request, "analytics/kpis.html", context, status=400)
    report = compute_kpis(request.user, form.filters())
    context.update(
        report=report,
        sections=_sections(report),
        compliance_chart=_compliance_chart(report.overall),
        export_query=request.GET.urlencode(),
    )
    return render(request, "analytics/kpis.html", context)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def csv_header() -> list[str]:
    header = ["grouping", "key", "label", "incidents"]
    for code, *_rest in INTERVALS:
        header += [f"{code}_n", f"{code}_p50_s", f"{code}_p90_s"]
    return header + [f"{norm.code}_pct" for norm in NORMS]


def csv_row(group: Figures) -> list[Any]:
    row: list[Any] = [group.grouping, "" if group.key is None else group.key, group.label]
    row.append(group.count)
    for code, *_rest in INTERVALS:
        figures = group.intervals[code]
        row += [figures.count, _number(figures.p50), _number(figures.p90)]
    return row + [_number(group.compliance(norm.code)) for norm in NORMS]


@requires(Action.KPI_VIEW)
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(
            _("Bad filters: %(errors)s") % {"errors": errors},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    report = compute_kpis(request.user, filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"kpis-{filters.start.isoformat()}-{form.cleaned_data['end'].isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(csv_header())
    for code, _label in GROUPINGS:
        for group in report.groups[code]:
            writer.writerow(csv_row(group))
    return response
