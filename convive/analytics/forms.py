"""The filters of the response-time figures: a period, a locality, a type, a priority."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convive.analytics.queries import KpiFilters, default_period
from convive.incidents.models import IncidentType, Priority
from convive.territories.models import Territory

MAX_DAYS = 366


class KpiFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput({"type": "date"}))
    locality = forms.TypedChoiceField(
        label=_("Locality"), coerce=int, required=False, empty_value=None
    )
    type = forms.TypedChoiceField(label=_("Type"), coerce=int, required=False, empty_value=None)
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self, data: Any, *, localities: list[Territory], types: list[IncidentType]
    ) -> None:
        start, end = default_period()
        data = data.copy()
        data.setdefault("start", start.isoformat())
        data.setdefault("end", (end - timedelta(days=1)).isoformat())
        super().__init__(data)
        several_cities = len({t.city_id for t in localities}) > 1
        self.fields["locality"].choices = [
            ("", _("All localities")),
            *(
                (t.pk, f"{t.name} ({t.city.name})" if several_cities else t.name)
                for t in localities
            ),
        ]
        self.fields["type"].choices = [("", _("All types")), *((t.pk, t.name) for t in types)]
        self.fields["priority"].choices = [("", _("All priorities")), *Priority.choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end date must not be before the start date."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error(
                    "end", _("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS}
                )
        return data

    def filters(self) -> KpiFilters:
        data = self.cleaned_data
        return KpiFilters(
            start=data["start"],
            end=data["end"] + timedelta(days=1),
            locality_id=data["locality"],
            type_id=data["type"],
            priority=data["priority"],
        )
