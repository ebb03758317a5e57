"""``/api/v1/me``: who I am, my roles, and where I act."""

from django.http import HttpRequest
from ninja import Router

from convive.accounts.permissions import Action, api_permission
from convive.accounts.schemas import MembershipPublic, MePublic, ScopePublic, ScopeTerritoryPublic
from convive.institutions.queries import scope_for
from convive.territories.models import City

router = Router(tags=["accounts"])


@router.get("", response=MePublic, **api_permission(Action.ACCOUNT_VIEW))
def me(request: HttpRequest) -> MePublic:
    user = request.user
    memberships = [
        MembershipPublic(
            role=m.role,
            role_label=str(m.get_role_display()),
            institution_id=m.institution_id,
            institution=m.institution.name if m.institution else None,
            territories=[t.code for t in m.territories.all()],
        )
        for m in user.active_memberships
    ]
    return MePublic(
        username=user.username,
        full_name=user.get_full_name(),
        roles=user.role_names(),
        language=user.preferred_language,
        memberships=memberships,
    )


@router.get("/scope", response=ScopePublic, **api_permission(Action.SCOPE_VIEW))
def scope(request: HttpRequest) -> ScopePublic:
    scope = scope_for(request.user)
    cities = City.objects.filter(pk__in=scope.whole_city_ids).order_by("slug")
    territories = [
        ScopeTerritoryPublic(
            id=t.pk, city=t.city.slug, layer=t.layer.slug, code=t.code, name=t.name
        )
        for t in scope.top_territories()
    ]
    return ScopePublic(
        everywhere=scope.everywhere,
        whole_cities=[c.slug for c in cities],
        territories=territories,
    )
