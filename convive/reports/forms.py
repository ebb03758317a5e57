"""The citizen's forms: a report (with its category's questions), an SOS, a message, a rating.

Forms only parse and shape input; the rules live in ``actions.check_create_report`` and friends,
whose ``ActionError.field`` names are mapped back onto these fields (``field_for_error``).
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convive.reports.actions import MAX_DESCRIPTION, ReportInput
from convive.reports.models import Category, Question, Report, normalise_tracking_code
from convive.reports.photos import MAX_PHOTOS
from convive.territories.models import City

ADDRESS_MAX = 300


def new_idempotency_key() -> str:
    """A fresh key for one rendering of a form: the same form sent twice makes one report."""
    return secrets.token_urlsafe(24)


def question_field_name(category: Category, question: Question) -> str:
    return f"q__{category.code}__{question.code}"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Renders the gallery picker; the files themselves are checked by ``check_photos``."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"accept": "image/*", "multiple": True, "data-photos": ""}
        super().__init__(widget=MultiplePhotoInput(attrs=attrs), required=False, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        return []  # the view passes request.FILES.getlist("photos") to the action


def _question_field(question: Question) -> forms.Field:
    """The form field (and widget) that fits a question's datatype; never required here.

    Questions of every category are on the page (so it works without JavaScript); only the
    chosen category's answers are sent on, and the action enforces which are required.
    """
    label = question.label
    if question.required:
        label = _("%(question)s (required)") % {"question": question.label}
    common: dict[str, Any] = {"label": label, "required": False}
    if question.help:
        common["help_text"] = question.help
    kind = question.datatype
    if kind == Question.Datatype.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, **common)
    if kind == Question.Datatype.NUMBER:
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == Question.Datatype.DATETIME:
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        return forms.DateTimeField(
            widget=widget, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], **common
        )
    if kind == Question.Datatype.SINGLE:
        choices = [("", _("Choose…")), *question.options()]
        return forms.ChoiceField(choices=choices, **common)
    if kind == Question.Datatype.MULTI:
        return forms.MultipleChoiceField(
            choices=question.options(), widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=1000, **common)


def category_choices(categories: list[Category]) -> list:
    """Grouped for a ``<select>``: security, then coexistence; urgent ones say so."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in categories:
        label = category.name
        if category.urgent:
            label = _("%(name)s (urgent)") % {"name": category.name}
        groups.setdefault(category.kind, []).append((category.code, label))
    grouped = [(str(kind.label), groups[kind]) for kind in Category.Kind if kind in groups]
    return [("", _("Choose what is happening…")), *grouped]


class PlaceMixin(forms.Form):
    """Where: a point (GPS or a pin) and/or an address or landmark; the city, if several."""

    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    address = forms.CharField(
        label=_("Address or landmark"),
        max_length=ADDRESS_MAX,
        required=False,
        help_text=_("For example: “Calle 38 Sur with Carrera 78, in front of the park”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def _add_city_field(self, cities: list[City]) -> None:
        self.cities = {city.slug: city for city in cities}
        if len(cities) > 1:
            self.fields["city"] = forms.ChoiceField(
                label=_("City"),
                required=False,
                choices=[("", _("The city of the point"))] + [(c.slug, c.name) for c in cities],
            )

    def chosen_city(self) -> City | None:
        return self.cities.get(self.cleaned_data.get("city") or "")


class ContactMixin(forms.Form):
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_(
            "Nothing that identifies you is kept: no account, no name, no contact, no IP address. "
            "You follow the report with its tracking code."
        ),
    )
    contact_name = forms.CharField(
        label=_("Name (optional)"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("To tell you when the report changes."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        help_text=_("For a text message when the report changes."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def contact(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data.get("anonymous"):
            return {"anonymous": True}
        return {
            "anonymous": False,
            "contact_name": data.get("contact_name", ""),
            "contact_email": data.get("contact_email", ""),
            "contact_phone": data.get("contact_phone", ""),
        }


class ReportForm(PlaceMixin, ContactMixin):
    """A report: category, place, description, the category's questions, photos, contact."""

    field_order = ["category", "lat", "lon", "address", "description"]

    category = forms.ChoiceField(label=_("Kind of problem"))
    description = forms.CharField(
        label=_("Describe it"),
        required=False,
        max_length=MAX_DESCRIPTION,
        help_text=_("What, since when, how often. Do not write names of people or your address."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = PhotosField(label=_("Photos"))
    emergency_confirmed = forms.BooleanField(
        label=_("I have read this. Send an SOS alert with this report."), required=False
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args: Any, categories: list[Category], cities: list[City], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.categories = {category.code: category for category in categories}
        self.fields["category"].choices = category_choices(categories)
        self.fields["photos"].help_text = _(
            "Up to %(count)d, each up to 10 MB. We remove the location and every other hidden "
            "data from them."
        ) % {"count": MAX_PHOTOS}
        self._add_city_field(cities)
        self.question_groups: list[tuple[Category, list[forms.BoundField]]] = []
        for category in categories:
            names = []
            for question in category.questions.all():
                name = question_field_name(category, question)
                self.fields[name] = _question_field(question)
                if question.required:  # the script makes it required once its category is chosen
                    self.fields[name].widget.attrs["data-required"] = ""
                names.append(name)
            if names or (category.notice and not category.urgent):
                self.question_groups.append((category, [self[name] for name in names]))

    def chosen_category(self) -> Category | None:
        """The category picked so far (bound data, or the ``?category=`` of the link)."""
        code = self.data.get("category") if self.is_bound else self.initial.get("category")
        return self.categories.get(code or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        category = self.categories.get(data.get("category") or "")
        if category is not None and category.urgent and not data.get("emergency_confirmed"):
            self.add_error(
                "emergency_confirmed",
                _("This is an emergency: read the notice, then confirm to send an SOS alert."),
            )
        return data

    def answers(self, category: Category) -> dict[str, Any]:
        """The chosen category's answers, keyed by question code, in the action's terms."""
        answers: dict[str, Any] = {}
        for question in category.questions.all():
            value = self.cleaned_data.get(question_field_name(category, question))
            if value in (None, "", []):
                continue
            answers[question.code] = value.isoformat() if hasattr(value, "isoformat") else value
        return answers

    def to_input(self) -> ReportInput:
        data = self.cleaned_data
        category = self.categories[data["category"]]
        return ReportInput(
            category_code=category.code,
            idempotency_key=data["idempotency_key"],
            channel=Report.Channel.WEB,
            lon=data.get("lon"),
            lat=data.get("lat"),
            address=data.get("address", ""),
            description=data.get("description", ""),
            answers=self.answers(category),
            city=self.chosen_city(),
            **self.contact(),
        )

    def field_for_error(self, field: str | None) -> str | None:
        """The form field that shows an ``ActionError`` raised for ``field``."""
        if field is None:
            return None
        if field.startswith("attribute[") and field.endswith("]"):
            category = self.categories.get(self.cleaned_data.get("category") or "")
            code = field[len("attribute[") : -1]
            name = f"q__{category.code}__{code}" if category else ""
            return name if name in self.fields else None
        return field if field in self.fields else None


class SosForm(PlaceMixin, ContactMixin):
    """An SOS: where, a few words, and the explicit confirmation; everything else is optional."""

    description = forms.CharField(
        label=_("What is happening? (optional)"),
        required=False,
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I confirm: send an SOS alert with my location to the command centre."),
        error_messages={"required": _("Tick the box to confirm the SOS alert.")},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args: Any, cities: list[City], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._add_city_field(cities)

    def to_input(self, category: Category) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            category_code=category.code,
            idempotency_key=data["idempotency_key"],
            channel=Report.Channel.WEB,
            lon=data.get("lon"),
            lat=data.get("lat"),
            address=data.get("address", ""),
            description=data.get("description", ""),
            city=self.chosen_city(),
            sos=True,
            **self.contact(),
        )

    def field_for_error(self, field: str | None) -> str | None:
        return field if field in self.fields else None


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=40,
        help_text=_("The twelve letters and digits you received, e.g. K7QF-3M9D-X2PA."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return normalise_tracking_code(self.cleaned_data["code"])


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Add information or reply"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How well was your report answered?"),
        coerce=int,
        choices=[(5, _("5 · Very well")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 · Very badly"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
