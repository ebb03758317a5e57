"""The panic-button webhook: a device POSTs a signed press, the answer names the incident.

No session, no CSRF token (a device has neither): the HMAC signature is the authentication.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from convive.accounts.permissions import Action, requires
from convive.core.errors import ActionError
from convive.devices.actions import PressRefusedError, check_panic_press, do_record_device_rejection
from convive.devices.models import DeviceRejection
from convive.devices.wire import SIGNATURE_HEADER, MalformedPressError, parse_http_press

HTTP = DeviceRejection.Source.HTTP
logger = logging.getLogger(__name__)


def _error(message: str, status: int) -> JsonResponse:
    body = {"ok": False, "error": message, "errors": [], "status": status}
    return JsonResponse(body, status=status)


@csrf_exempt
@requires(Action.PUBLIC)  # no account: the press is authenticated by the device's signature
@require_POST
def panic_press(request: HttpRequest) -> JsonResponse:
    """``POST /devices/panic/``: 201 with the incident's reference; 400, 401 or 409 otherwise."""
    try:
        press = parse_http_press(request.body, request.headers.get(SIGNATURE_HEADER))
    except MalformedPressError as malformed:
        with transaction.atomic(durable=True):
            do_record_device_rejection(
                device_code=malformed.device_code,
                reason=DeviceRejection.Reason.MALFORMED,
                source=HTTP,
                detail=malformed.message,
            )
        return _error(malformed.message, 400)
    refused: ActionError | None = None
    with transaction.atomic(durable=True):
        try:
            incident = check_panic_press(press, source=HTTP)
        except ActionError as error:  # caught inside: the record of a refusal is kept
            refused = error
    if refused is not None:
        if not isinstance(refused, PressRefusedError):  # e.g. the panic-button type is missing
            logger.error(
                "Panic press from %s not turned into an incident: %s",
                press.device_code,
                refused.message,
            )
        return _error(refused.message, refused.status)
    body = {"ok": True, "incident": {"id": incident.pk, "reference": incident.reference}}
    return JsonResponse(body, status=201)
