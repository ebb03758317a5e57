from django import forms
from django.utils.translation import gettext_lazy as _

from convive.institutions.models import Institution
from convive.institutions.queries import assignable_roles, assignable_territories
from convive.territories.models import Territory


class TerritoriesField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Territory) -> str:
        return f"{obj.name} ({obj.layer.name})"


def _territory_field(institution: Institution) -> TerritoriesField:
    ids = [t.pk for t in assignable_territories(institution)]
    return TerritoriesField(
        label=_("Limited to these territories"),
        queryset=Territory.objects.filter(pk__in=ids).select_related("layer").order_by("code"),
        required=False,
        help_text=_("Leave all unticked for everything the institution covers."),
    )


class AddMemberForm(forms.Form):
    account = forms.CharField(
        label=_("Username or e-mail of the person's account"),
        max_length=254,
        help_text=_("The person creates an account first; you give it a role here."),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in assignable_roles(institution)]
        self.fields["territories"] = _territory_field(institution)


class ChangeMemberForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territories"] = _territory_field(institution)
        self.order_fields(["territories", "reason"])


class EndMembershipForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does this person leave the role?"), max_length=500, widget=forms.Textarea
    )
