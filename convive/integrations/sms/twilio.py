"""Twilio's Programmable Messaging, through its REST API and the standard library only.

``POST {SMS_TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json`` with a form-encoded
``To``, ``From`` and ``Body``, authenticated with HTTP Basic (account SID and auth token). Twilio
answers 201 with the queued message; any other answer raises ``SmsError`` with Twilio's own
error code and message (``docs/integrations.md``).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from convive.integrations.sms import SmsError, to_e164

logger = logging.getLogger("convive.sms")

MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str
    api_base: str
    timeout: float
    calling_code: str = ""

    @classmethod
    def from_settings(cls) -> TwilioConfig:
        config = cls(
            account_sid=settings.SMS_TWILIO_ACCOUNT_SID,
            auth_token=settings.SMS_TWILIO_AUTH_TOKEN,
            from_number=settings.SMS_TWILIO_FROM,
            api_base=settings.SMS_TWILIO_API_BASE.rstrip("/"),
            timeout=settings.SMS_TIMEOUT_SECONDS,
            calling_code=settings.SMS_DEFAULT_CALLING_CODE,
        )
        config.check()
        return config

    def check(self) -> None:
        missing = [
            name
            for name, value in (
                ("SMS_TWILIO_ACCOUNT_SID", self.account_sid),
                ("SMS_TWILIO_AUTH_TOKEN", self.auth_token),
                ("SMS_TWILIO_FROM", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"TwilioSmsBackend needs {', '.join(missing)}.")
        parts = urlsplit(self.api_base)
        # The token travels in every request: only over TLS, except to a server on this machine.
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
        ):
            raise ImproperlyConfigured("SMS_TWILIO_API_BASE must be an https:// address.")


class _NoRedirects(HTTPRedirectHandler):
    """A redirect would turn the POST into a GET elsewhere: treat it as the error it is."""

    def redirect_request(self, *args, **kwargs) -> None:
        return None


_opener = build_opener(_NoRedirects)


def _error_of(exc: HTTPError) -> SmsError:
    """Twilio's JSON error (``code``, ``message``), or the bare HTTP status."""
    try:
        payload = json.loads(exc.read().decode("utf-8") or "{}")
    except (ValueError, OSError):
        payload = {}
    finally:
        exc.close()
    if not isinstance(payload, dict):
        payload = {}
    code = str(payload.get("code") or "")
    message = payload.get("message") or exc.reason
    return SmsError(f"Twilio answered {exc.code}: {message}", status=exc.code, code=code)


class TwilioSmsBackend:
    """Send through Twilio. Settings are read at each send, so a change needs no restart."""

    def __init__(self, config: TwilioConfig | None = None) -> None:
        self._config = config

    @property
    def config(self) -> TwilioConfig:
        if self._config is not None:
            self._config.check()
            return self._config
        return TwilioConfig.from_settings()

    def _request(self, config: TwilioConfig, to: str, body: str) -> Request:
        path = f"/2010-04-01/Accounts/{quote(config.account_sid, safe='')}/Messages.json"
        form = {"To": to_e164(to, config.calling_code), "From": config.from_number, "Body": body}
        credentials = f"{config.account_sid}:{config.auth_token}".encode()
        return Request(  # noqa: S310 (the scheme is checked: https, or http to this machine)
            config.api_base + path,
            data=urlencode(form).encode("utf-8"),
            method="POST",
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": "Convive",
            },
        )

    def send(self, to: str, body: str) -> None:
        config = self.config
        request = self._request(config, to, body[:MAX_BODY])
        try:
            with _opener.open(request, timeout=config.timeout) as response:
                answer = json.loads(response.read().decode("utf-8") or "{}")
        except HTTPError as exc:
            raise _error_of(exc) from exc
        except (URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"Twilio could not be reached: {exc}") from exc
        except ValueError as exc:
            raise SmsError("Twilio answered with something that is not JSON.") from exc
        sid = answer.get("sid", "?") if isinstance(answer, dict) else "?"
        logger.info("SMS queued by Twilio: %s", sid)
