"""Open311 errors, ``[{"code": 400, "description": "..."}]`` or ``<errors><error>…``.

The spec's rule: 404 for a resource that does not exist, 403 for a wrong or missing ``api_key``,
400 for any other request that cannot be fulfilled. We add 405 (wrong method), 409 (a conflict),
413 (too large), 415 (not a form) and 429 (rate limited, with ``Retry-After``).
"""

from __future__ import annotations

from django.http import HttpResponse

from convive.open311.render import render


class Open311Error(Exception):
    """Refuse the request with ``status`` and a translated ``description`` for the user."""

    def __init__(self, status: int, description: str, *, retry_after: int = 0):
        super().__init__(description)
        self.status = status
        self.description = str(description)
        self.retry_after = retry_after


def error_response(
    fmt: str, status: int, description: str, *, retry_after: int = 0
) -> HttpResponse:
    errors = [{"code": status, "description": description}]
    response = render(fmt, "errors", errors, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
