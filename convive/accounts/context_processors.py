from django.http import HttpRequest

from convive.accounts.queries import nav_links


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_links": [], "user_roles": []}
    return {
        "nav_links": nav_links(user, request.path),
        "user_roles": user.roles() if user.is_authenticated else [],
    }
