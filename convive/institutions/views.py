from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from convive.accounts.permissions import Action, requires


@requires(Action.MEMBER_VIEW)
def members_home(request: HttpRequest) -> HttpResponse:
    return render(request, "institutions/members.html", {})
