"""Public pages: the cities, one city's layer on a map with a table, one territory."""

from __future__ import annotations

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from convive.accounts.permissions import Action, requires
from convive.territories import queries
from convive.territories.forms import LocateForm
from convive.territories.models import City, Layer, Territory
from convive.territories.svg import MapShape, render_map

TABLE_PAGE_SIZE = 100
MAP_CACHE_SECONDS = 600


def territory_url(territory: Territory) -> str:
    return reverse(
        "territories:detail", args=[territory.city.slug, territory.layer.slug, territory.code]
    )


def _shape(territory: Territory, css_class: str = "") -> MapShape:
    label = f"{territory.name} ({territory.code})"
    return MapShape(territory.geometry, label, territory_url(territory), css_class)


def _chosen_layer(layers: list[Layer], slug: str | None) -> Layer | None:
    if not slug:
        return layers[0] if layers else None
    for layer in layers:
        if layer.slug == slug:
            return layer
    raise Http404(_("Layer not found."))


def _locate(request: HttpRequest, city: City) -> tuple[LocateForm, list[Territory] | None]:
    """The locate form, bound when the query has a point, and what contains a valid point."""
    asked = "lat" in request.GET or "lon" in request.GET
    form = LocateForm(request.GET if asked else None)
    if not form.is_valid():
        return form, None
    lat, lon = form.cleaned_data["lat"], form.cleaned_data["lon"]
    return form, queries.locate(city, lon=lon, lat=lat)


def _layer_map(
    city: City, layer: Layer | None, territories: list[Territory], form: LocateForm
) -> SafeString:
    if layer is None:
        return SafeString("")
    point = None
    if form.is_bound and form.is_valid():
        point = (form.cleaned_data["lon"], form.cleaned_data["lat"])
    title = _("Map of the %(layer)s of %(city)s") % {"layer": layer.name, "city": city.name}
    if point is not None:
        return render_map([_shape(t) for t in territories], title=title, point=point)
    # The same for every visitor until the next import or admin edit (both change the token).
    key = f"territories:map:{layer.pk}:{city.index_token}:{get_language()}"
    svg = cache.get_or_set(
        key,
        lambda: str(render_map([_shape(t) for t in territories], title=title)),
        MAP_CACHE_SECONDS,
    )
    return SafeString(svg)


@requires(Action.PUBLIC)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "territories/city_list.html", {"cities": queries.list_cities()})


@requires(Action.PUBLIC)
@require_GET
def city(request: HttpRequest, city_slug: str) -> HttpResponse:
    city = queries.get_city(city_slug)
    layers = list(queries.list_layers(city))
    layer = _chosen_layer(layers, request.GET.get("layer"))
    territories = queries.list_layer_territories(layer) if layer else []
    for territory in territories:  # the URLs need them; avoid a query per row
        territory.city, territory.layer = city, layer
    form, located = _locate(request, city)
    context = {
        "city": city,
        "layers": layers,
        "layer": layer,
        "page": Paginator(territories, TABLE_PAGE_SIZE).get_page(request.GET.get("page")),
        "map": _layer_map(city, layer, territories, form),
        "form": form,
        "located": located,
    }
    return render(request, "territories/city_detail.html", context)


@requires(Action.PUBLIC)
@require_GET
def detail(request: HttpRequest, city_slug: str, layer_slug: str, code: str) -> HttpResponse:
    city = queries.get_city(city_slug)
    territory = queries.get_territory(city, layer_slug, code)
    siblings = queries.list_siblings(territory)
    for sibling in siblings:
        sibling.city = city
    shapes = [_shape(s, "highlight" if s.pk == territory.pk else "") for s in siblings]
    title = _("%(name)s among its neighbours") % {"name": territory.name}
    context = {
        "city": city,
        "territory": territory,
        "map": render_map(shapes, title=title),
        "sibling_count": len(siblings) - 1,
        "children": queries.list_children(territory),
    }
    return render(request, "territories/territory_detail.html", context)
