from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from convive.accounts.permissions import Action, requires


@requires(Action.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(request, "core/audit_log.html", {})


@requires(Action.AUDIT_EXPORT)
def audit_export(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")
