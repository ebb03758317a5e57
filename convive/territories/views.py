from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from convive.accounts.permissions import Action, requires
from convive.territories.models import City


@requires(Action.PUBLIC)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    cities = City.objects.order_by("name")
    return render(request, "territories/index.html", {"cities": cities})
