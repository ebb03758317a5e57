"""Every URL and API operation with the action it needs, and the tables of docs/permissions.md.

``tests/test_permissions.py`` requests each endpoint as each role; ``convive permissions_doc``
rewrites the two generated tables of ``docs/permissions.md`` from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from convive.accounts.permissions import ANONYMOUS, ROLE_ACTIONS, SCOPE_NOTES, Action
from convive.accounts.roles import Role

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"
COLUMNS: list[str] = [str(role) for role in Role] + [ANONYMOUS]
_API_DOC_PAGES = {"api:openapi-json", "api:openapi-view"}


@dataclass(frozen=True)
class Endpoint:
    route: str
    name: str  # namespaced URL name, or "METHOD /api/path" for an API operation
    action: Action

    @property
    def is_api(self) -> bool:
        return " " in self.name


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}", entry.callback


def declared_action(name: str, callback: Callable) -> Action | None:
    """The action a URL needs: from ``@requires``, or known for Django's and Ninja's own views."""
    action = getattr(callback, "required_action", None)
    if action is not None:
        return action
    if name in {"admin:logout", "set_language", *_API_DOC_PAGES}:
        return Action.PUBLIC
    if name.startswith("admin:"):
        return Action.ADMIN_SITE
    return None


def site_endpoints() -> list[Endpoint]:
    """Every non-API URL; raises if one declares no permission."""
    endpoints = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name.startswith("api:") and name not in _API_DOC_PAGES:
            continue  # API operations are listed from the OpenAPI document
        if name == "admin:":
            continue  # the admin's unnamed catch-all and old-URL redirects, not pages
        action = declared_action(name, callback)
        if action is None:
            raise LookupError(f"/{route} ({name}) declares no permission: use @requires")
        endpoints.append(Endpoint("/" + route, name, action))
    return endpoints


def api_endpoints() -> list[Endpoint]:
    """Every API operation with its ``x-permission``; raises if one has none."""
    from convive.api import api

    endpoints = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            action = operation.get("x-permission")
            if not action:
                raise LookupError(f"{method.upper()} {path} declares no x-permission")
            endpoints.append(Endpoint(path, f"{method.upper()} {path}", Action(action)))
    return endpoints


def is_granted(action: Action, column: str) -> bool:
    if action is Action.PUBLIC:
        return True
    return column != ANONYMOUS and Role(column) in ROLE_ACTIONS[action]


def _cell(action: Action, column: str) -> str:
    if not is_granted(action, column):
        return ""
    note = SCOPE_NOTES.get((action, Role(column))) if column != ANONYMOUS else None
    return f"✓ ({note})" if note else "✓"


def render_role_table() -> str:
    header = "| action | " + " | ".join(COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    rows = [
        f"| `{action}` | " + " | ".join(_cell(action, column) for column in COLUMNS) + " |"
        for action in Action
    ]
    return "\n".join([header, rule, *rows])


def render_endpoint_table() -> str:
    rows = sorted({(e.route, e.name, str(e.action)) for e in site_endpoints() + api_endpoints()})
    lines = ["| URL | name | action |", "|---|---|---|"]
    lines += [f"| `{route}` | `{name}` | `{action}` |" for route, name, action in rows]
    return "\n".join(lines)


GENERATED = {"roles": render_role_table, "endpoints": render_endpoint_table}


def section_pattern(marker: str) -> re.Pattern:
    return re.compile(rf"(<!-- {marker}:start -->)(.*?)(<!-- {marker}:end -->)", re.S)


def read_section(text: str, marker: str) -> str | None:
    match = section_pattern(marker).search(text)
    return match.group(2).strip() if match else None


def rewrite_document(text: str) -> str:
    for marker, render in GENERATED.items():
        table = render()
        text = section_pattern(marker).sub(
            lambda m, t=table: f"{m.group(1)}\n{t}\n{m.group(3)}", text
        )
    return text
