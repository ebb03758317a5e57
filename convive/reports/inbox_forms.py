"""Forms of the staff inbox: its filters, and one small form per action on a report.

The action forms only parse: whether a reason is needed, a status allowed or a person
assignable is decided by the ``check_*`` actions, whose messages the forms then show.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.reports.actions import MAX_DESCRIPTION
from convive.reports.models import Category, Report
from convive.reports.queries import OPEN, InboxFilters
from convive.territories.models import Territory

MAX_REASON = 300


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=200,
        required=False,
        widget=forms.TextInput({"type": "search", "placeholder": _("Words or code")}),
    )
    territory = forms.TypedChoiceField(
        label=_("Locality"), coerce=int, required=False, empty_value=None
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    urgent = forms.BooleanField(label=_("Urgent only"), required=False)
    unrouted = forms.BooleanField(label=_("Fallback queue only"), required=False)

    def __init__(
        self,
        data: Any,
        *,
        territories: list[Territory],
        categories: QuerySet[Category],
        fallback: bool,
    ) -> None:
        super().__init__(data)
        several_cities = len({t.city_id for t in territories}) > 1
        self.fields["territory"].choices = [
            ("", _("All my localities")),
            *(
                (t.pk, f"{t.name} ({t.city.name})" if several_cities else t.name)
                for t in territories
            ),
        ]
        self.fields["category"].choices = [
            ("", _("All categories")),
            *((c.pk, c.name) for c in categories),
        ]
        self.fields["status"].choices = [
            ("", _("Any status")),
            (OPEN, _("Open (not closed)")),
            *Report.Status.choices,
        ]
        if not fallback:  # nothing to show: only city-wide institutions handle that queue
            del self.fields["unrouted"]

    def filters(self) -> InboxFilters:
        data = self.cleaned_data
        return InboxFilters(
            territory_id=data["territory"],
            category_id=data["category"],
            status=data["status"],
            urgent_only=data["urgent"],
            unrouted_only=data.get("unrouted", False),
            text=data["q"].strip(),
        )


def _text(label: Any, *, help_text: Any = "", required: bool = False, rows: int = 3) -> Any:
    """A text box; empty is left to the action to refuse, with the rule's own words."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea({"rows": rows}),
    )


class ReplyForm(forms.Form):
    body = _text(_("Reply to the citizen"), help_text=_("The citizen reads it and is notified."))


class NoteForm(forms.Form):
    body = _text(_("Internal note"), help_text=_("Only staff see it. Nobody is notified."), rows=2)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    text = _text(
        _("Outcome or reason"),
        help_text=_("Needed to resolve, close or reject. The citizen reads it and is notified."),
    )

    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        """``current``: the report's status, left out of the choices shown. A submitted form
        accepts it, so that a change made meanwhile in another tab answers with a conflict."""
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (value, label)
            for value, label in Report.Status.choices
            if value not in (Report.Status.SOS, current)
        ]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class AssignForm(forms.Form):
    assignee = PersonChoiceField(label=_("Assign to"), queryset=None, empty_label=None)

    def __init__(self, *args: Any, people: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people


class RerouteForm(forms.Form):
    institution = forms.ModelChoiceField(
        label=_("Send to"), queryset=None, empty_label=_("Choose an institution")
    )
    reason = _text(_("Why it goes there"), help_text=_("Shown to the citizen."), rows=2)

    def __init__(self, *args: Any, institutions: QuerySet[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why hide it"),
        help_text=_("The report leaves every public list; it is kept, never deleted."),
        max_length=MAX_REASON,
        required=False,
    )


class ShowForm(forms.Form):
    reason = forms.CharField(label=_("Why show it again"), max_length=MAX_REASON, required=False)


class RestrictForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365, initial=30)
    reason = forms.CharField(
        label=_("Why restrict the account"), max_length=MAX_REASON, required=False
    )
