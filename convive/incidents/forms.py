"""Forms of the command-centre pages: they parse and bound input; the actions check the rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convive.incidents.models import IncidentType, Priority

REFERENCE = re.compile(r"^\s*(?:INC-?)?0*(\d{1,12})\s*$", re.IGNORECASE)


class VersionField(forms.IntegerField):
    """The version of the incident (or unit) the page showed: a stale one gets a 409."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, **kwargs)


class CallForm(forms.Form):
    """The call-taking form. Protocol answers arrive as ``answer-<type>-<question>`` fields."""

    type = forms.ChoiceField(label=_("Incident type"))
    address = forms.CharField(label=_("Address or landmark"), max_length=300, required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    lon = forms.FloatField(label=_("Longitude"), required=False)
    summary = forms.CharField(label=_("What is happening"), max_length=300, required=False)
    caller_name = forms.CharField(
        label=_("Caller's name (optional)"), max_length=150, required=False
    )
    caller_phone = forms.CharField(
        label=_("Caller's phone (optional)"), max_length=32, required=False
    )
    received_at = forms.DateTimeField(widget=forms.HiddenInput)
    answered_at = forms.DateTimeField(widget=forms.HiddenInput)
    duplicate_of = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, types: list[IncidentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.types = types
        self.fields["type"].choices = [("", _("Choose…"))] + [(t.code, t.name) for t in types]
        self.fields["summary"].widget.attrs["autocomplete"] = "off"
        self.fields["caller_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        self.fields["caller_name"].widget.attrs["autocomplete"] = "off"
        self.fields["address"].widget.attrs["autocomplete"] = "off"
        for name in ("lat", "lon"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})

    def protocol_answers(self) -> dict[str, str]:
        """The answers to the chosen type's questions (other types' fields are ignored)."""
        code = self.cleaned_data.get("type", "")
        prefix = f"answer-{code}-"
        return {
            key[len(prefix) :]: value.strip()
            for key, value in self.data.items()
            if key.startswith(prefix) and isinstance(value, str) and value.strip()
        }


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("New priority"), coerce=int, choices=Priority.choices)
    reason = forms.CharField(label=_("Why"), max_length=4000, required=False)
    version = VersionField()


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note (staff only)"), widget=forms.Textarea, required=False)


class TransferForm(forms.Form):
    to_institution = forms.TypedChoiceField(label=_("Hand over to"), coerce=int)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)
    version = VersionField()

    def __init__(self, *args: Any, institutions: list[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_institution"].choices = [("", _("Choose…"))] + [
            (i.pk, i.name) for i in institutions
        ]


class CloseForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea, required=False)
    version = VersionField()


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why it is reopened"), widget=forms.Textarea, required=False)
    version = VersionField()


class LinkForm(forms.Form):
    MODES = (
        ("link", _("Link: related events, both stay open")),
        ("merge", _("Merge: the same event")),
    )

    reference = forms.CharField(label=_("Other incident's reference"), max_length=20)
    mode = forms.ChoiceField(
        label=_("How"), choices=MODES, widget=forms.RadioSelect, initial="link"
    )
    reason = forms.CharField(label=_("Reason"), max_length=4000, required=False)
    version = VersionField()

    def clean_reference(self) -> int:
        found = REFERENCE.match(self.cleaned_data["reference"])
        if found is None:
            raise forms.ValidationError(_("Write a reference such as INC-0000123."))
        return int(found.group(1))


class ReferralForm(forms.Form):
    service = forms.TypedChoiceField(label=_("Support service"), coerce=int)
    consent_given = forms.BooleanField(label=_("The victim agreed to be referred"), required=False)
    consent_note = forms.CharField(
        label=_("How and when the victim agreed"), widget=forms.Textarea, required=False
    )

    def __init__(self, *args: Any, services: list[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Choose…"))] + [(s.pk, s.name) for s in services]


class DispatchForm(forms.Form):
    unit = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    version = VersionField()
    unit_version = VersionField()


class DuplicatesQuery(forms.Form):
    type = forms.CharField(max_length=64)
    lat = forms.FloatField(min_value=-90, max_value=90)
    lon = forms.FloatField(min_value=-180, max_value=180)


class PlacesQuery(forms.Form):
    q = forms.CharField(max_length=120, strip=True)


class SinceQuery(forms.Form):
    since = forms.DateTimeField(required=False)
