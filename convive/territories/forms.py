from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


def _coordinate(
    label: Promise, help_text: Promise, low: int, high: int, *, invalid: Promise, outside: Promise
) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        error_messages={"invalid": invalid, "min_value": outside, "max_value": outside},
        # Text, not number: a mistyped value stays visible next to its error message.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class LocateForm(forms.Form):
    """Which territory is this point in? (a GET form: latitude first, as people say it)"""

    lat = _coordinate(
        _("Latitude"),
        _("Degrees north (negative south), e.g. 19.4326."),
        -90,
        90,
        invalid=_("Enter the latitude as a number of degrees, e.g. 19.4326."),
        outside=_("The latitude goes from -90 to 90."),
    )
    lon = _coordinate(
        _("Longitude"),
        _("Degrees east (negative west), e.g. -99.1332."),
        -180,
        180,
        invalid=_("Enter the longitude as a number of degrees, e.g. -99.1332."),
        outside=_("The longitude goes from -180 to 180."),
    )
