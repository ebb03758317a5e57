"""Load shedding for the report intake: bound the work in flight, answer 503 at once when full.

A server that takes more reports than it can write only queues them: every answer gets slower,
clients time out and send again, and the queue grows. So each process lets at most
``OVERLOAD_MAX_IN_FLIGHT`` intake requests run at a time; up to ``OVERLOAD_MAX_WAITING`` more wait
for a turn, each for at most ``OVERLOAD_QUEUE_MS``. Anything beyond is answered ``503`` with
``Retry-After: 1`` straight away, before its body is read: a 503 means "not accepted", and the
client sends the same report (the same idempotency key) again later, so nothing is lost. The
other pages and endpoints are never held back.

The limits are per process, and they bound work only where a process serves several requests at
once: threads (Granian's WSGI threads, gunicorn ``gthread``, ``runserver``) or an event loop
(ASGI: Daphne, uvicorn). A process that serves one request at a time (gunicorn ``sync``) queues in
the kernel's listen backlog instead, out of reach; see ``docs/deploy.md``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

# The writes a citizen or another city's app makes in bulk: new reports. POST only.
GUARDED_PATHS = re.compile(
    r"^/(?:api/v1/reports(?:/with-photos)?|report/(?:sos/)?|open311/v2/requests\.(?:json|xml))$"
)
RETRY_AFTER_SECONDS = 1

logger = logging.getLogger("convive.overload")


def is_guarded(request: HttpRequest) -> bool:
    return request.method == "POST" and GUARDED_PATHS.match(request.path_info) is not None


def overloaded_response(request: HttpRequest) -> HttpResponse:
    """503 in the form the caller reads: the API's envelope, Open311's errors, or a short page."""
    message = _("Too many reports are arriving right now. Send it again in a moment.")
    path = request.path_info
    if path.startswith("/api/"):
        body = {"ok": False, "error": message, "errors": [], "status": 503}
        response: HttpResponse = JsonResponse(body, status=503)
    elif path.startswith("/open311/"):
        from convive.open311.errors import error_response  # the standard's format, kept there

        response = error_response(path.rsplit(".", 1)[-1], 503, message)
    else:
        page = (
            '<!doctype html><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width"><title>503</title><p>{escape(message)}</p>'
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Django logs every 5xx as an error, with the request; under overload that is thousands of
    # lines, written just when the process has no time to spare. ``note_shed`` logs a summary.
    response._has_been_logged = True  # Django's own flag: log_response() skips it
    note_shed()
    return response


class _ShedCounter:
    """Counts refused requests and logs one warning per ``every`` seconds at most."""

    every = 10.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.since = time.monotonic()

    def __call__(self) -> None:
        with self.lock:
            self.count += 1
            now = time.monotonic()
            if now - self.since < self.every:
                return
            count, seconds = self.count, now - self.since
            self.count, self.since = 0, now
        logger.warning("overloaded: %d intake requests refused (503) in %.0f s", count, seconds)


note_shed = _ShedCounter()


class Gate:
    """At most ``running`` holders at once and ``waiting`` in line, served in order of arrival
    (a freed slot goes straight to the first in line: no newcomer overtakes); a turn is waited for
    at most ``patience`` seconds. Thread-safe."""

    def __init__(self, running: int, waiting: int, patience: float) -> None:
        self.patience = patience
        self.waiting = waiting
        self._lock = threading.Lock()
        self._free = running
        self._line: deque[threading.Event] = deque()

    def enter(self) -> bool:
        with self._lock:
            if self._free > 0 and not self._line:
                self._free -= 1
                return True
            if len(self._line) >= self.waiting:
                return False
            turn = threading.Event()
            self._line.append(turn)
        if turn.wait(self.patience):
            return True
        with self._lock:
            if turn.is_set():  # given the slot just as the wait ran out: keep it
                return True
            self._line.remove(turn)
            return False

    def leave(self) -> None:
        with self._lock:
            if self._line:
                self._line.popleft().set()  # the slot passes to the first in line
            else:
                self._free += 1


class AsyncGate:
    """The same rules for one event loop (ASGI): waiting costs a parked task, not a thread."""

    def __init__(self, running: int, waiting: int, patience: float) -> None:
        self.patience = patience
        self.waiting = waiting
        self._free = running
        self._line: deque[asyncio.Future] = deque()

    async def enter(self) -> bool:
        if self._free > 0 and not self._line:
            self._free -= 1
            return True
        if len(self._line) >= self.waiting:
            return False
        turn = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.patience)
        except TimeoutError:
            if turn.done():  # given the slot just as the wait ran out: keep it
                return True
            self._line.remove(turn)
            return False
        return True

    def leave(self) -> None:
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                turn.set_result(True)  # the slot passes to the first in line
                return
        self._free += 1


class OverloadMiddleware:
    """Sheds intake requests beyond this process's bounds (module docstring). Put it first."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        running = settings.OVERLOAD_MAX_IN_FLIGHT
        if running <= 0:
            raise MiddlewareNotUsed("OVERLOAD_MAX_IN_FLIGHT is 0: no load shedding")
        waiting = max(settings.OVERLOAD_MAX_WAITING, 0)
        patience = max(settings.OVERLOAD_QUEUE_MS, 0) / 1000
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
            self.async_gate = AsyncGate(running, waiting, patience)
        else:
            self.gate = Gate(running, waiting, patience)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        if not is_guarded(request):
            return self.get_response(request)
        if not self.gate.enter():
            return overloaded_response(request)
        try:
            return self.get_response(request)
        finally:
            self.gate.leave()

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if not is_guarded(request):
            return await self.get_response(request)
        if not await self.async_gate.enter():
            return overloaded_response(request)
        try:
            return await self.get_response(request)
        finally:
            self.async_gate.leave()
