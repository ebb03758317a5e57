"""Errors that actions raise for the caller to turn into a 4xx answer or a form error."""

from django.utils.functional import Promise


class ActionError(Exception):
    """A rule refused the action. ``message`` is translated and shown to the user as is.

    ``status`` is the HTTP status the API answers with (400 unless the rule is about state, as 409
    for a conflict); ``field`` names the form field at fault, when there is one.
    """

    def __init__(self, message: str | Promise, *, status: int = 400, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.status = status
        self.field = field


class RateLimitError(ActionError):
    """Too many requests: answered 429 with ``Retry-After: retry_after`` (seconds)."""

    def __init__(self, message: str | Promise, *, retry_after: int):
        super().__init__(message, status=429)
        self.retry_after = retry_after
