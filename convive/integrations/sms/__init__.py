"""Text messages to citizens, behind one interface (``SMS_BACKEND`` names the implementation)."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None:
        """Send ``body`` to the phone number ``to`` (E.164 or local); raise on failure."""


class SmsError(Exception):
    """A vendor refused a message or could not be reached (``status`` is its HTTP status, 0 when
    there was no answer; ``code`` the vendor's own error code, when it gave one)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def to_e164(number: str, calling_code: str = "") -> str:
    """A number as vendors want it: ``+<country><number>``, digits only.

    Citizens type local numbers ("300 123 4567"); ``calling_code`` (``SMS_DEFAULT_CALLING_CODE``,
    e.g. 57 for Colombia, 52 for Mexico) is put in front of those. A number that already starts
    with ``+`` or ``00`` keeps its own country.
    """
    text = number.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        return f"+{digits}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    code = calling_code.strip().lstrip("+")
    return f"+{code}{digits}" if code else digits


@lru_cache(maxsize=4)
def _backend(path: str) -> SmsBackend:
    return import_string(path)()


def get_sms_backend() -> SmsBackend:
    return _backend(settings.SMS_BACKEND)
