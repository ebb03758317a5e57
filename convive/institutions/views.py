"""Teams: institution administrators give people roles over territories; supervisors look."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from convive.accounts.permissions import Action, is_allowed, requires
from convive.core.errors import ActionError
from convive.institutions import actions
from convive.institutions.access import (
    access_institution_by_id,
    access_membership_by_id,
    institutions_for,
)
from convive.institutions.forms import AddMemberForm, ChangeMemberForm, EndMembershipForm
from convive.institutions.queries import list_team


@requires(Action.MEMBER_VIEW)
def members_home(request: HttpRequest) -> HttpResponse:
    institutions = institutions_for(request.user, Action.MEMBER_VIEW)
    if len(institutions) == 1:
        return redirect("institutions:members", institution_id=institutions[0].pk)
    return render(request, "institutions/institution_list.html", {"institutions": institutions})


@requires(Action.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, institution_id: int) -> HttpResponse:
    institution = access_institution_by_id(request.user, institution_id)
    can_manage = institution in institutions_for(request.user, Action.MEMBER_MANAGE)
    form = AddMemberForm(request.POST or None, institution=institution) if can_manage else None
    if request.method == "POST":
        institution = access_institution_by_id(
            request.user, institution_id, action=Action.MEMBER_MANAGE
        )
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic(durable=True):
                    membership = actions.check_add_member(
                        request.user,
                        institution,
                        account=data["account"],
                        role=data["role"],
                        territories=list(data["territories"]),
                    )
            except ActionError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(
                    request,
                    _("%(user)s is now %(role)s.")
                    % {"user": membership.user.username, "role": membership.get_role_display()},
                )
                return redirect("institutions:members", institution_id=institution.pk)
    context = {
        "institution": institution,
        "team": list_team(institution),
        "form": form,
        "can_manage": can_manage,
        "can_audit": is_allowed(request.user, Action.AUDIT_VIEW),
    }
    return render(request, "institutions/members.html", context)


@requires(Action.MEMBER_MANAGE)
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, institution_id: int, membership_id: int) -> HttpResponse:
    institution = access_institution_by_id(
        request.user, institution_id, action=Action.MEMBER_MANAGE
    )
    membership = access_membership_by_id(request.user, institution, membership_id)
    initial = {"territories": list(membership.territories.all())}
    form = ChangeMemberForm(request.POST or None, institution=institution, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                locked = access_membership_by_id(
                    request.user, institution, membership_id, for_update=True
                )
                actions.check_change_member(
                    request.user,
                    locked,
                    territories=list(form.cleaned_data["territories"]),
                    reason=form.cleaned_data["reason"],
                )
        except ActionError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("The territories are updated."))
            return redirect("institutions:members", institution_id=institution.pk)
    context = {
        "institution": institution,
        "membership": membership,
        "form": form,
        "end_form": EndMembershipForm(prefix="end"),
    }
    return render(request, "institutions/member_edit.html", context)


@requires(Action.MEMBER_MANAGE)
@require_POST
def member_end(request: HttpRequest, institution_id: int, membership_id: int) -> HttpResponse:
    institution = access_institution_by_id(
        request.user, institution_id, action=Action.MEMBER_MANAGE
    )
    form = EndMembershipForm(request.POST, prefix="end")
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                membership = access_membership_by_id(
                    request.user, institution, membership_id, for_update=True
                )
                actions.check_end_membership(
                    request.user, membership, reason=form.cleaned_data["reason"]
                )
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The role has ended. It stays in the record."))
    else:
        messages.error(request, _("Say why this person leaves the role."))
    return redirect("institutions:members", institution_id=institution.pk)
