"""Load shedding (``convive/core/overload.py``): bounded intake, 503 at once beyond the bounds.

Requests are held inside the middleware by a view that waits on an event, so every assertion is
about order (answered while the others are still held), never about time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from convive.core.overload import Gate, OverloadMiddleware, is_guarded, note_shed

INTAKE = "/api/v1/reports"
LONG_WAIT = 30  # seconds: a safety net for a broken test, never reached when it passes


class HeldView:
    """A view that signals when it starts and returns only when released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, request) -> HttpResponse:
        self.started.release()
        assert self.release.wait(LONG_WAIT)
        return HttpResponse("done", status=201)


def post(path: str = INTAKE):
    return RequestFactory().post(path, "{}", content_type="application/json")


def in_thread(middleware, request, answers: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(middleware(request)), daemon=True)
    thread.start()
    return thread


def hold(middleware, view: HeldView, count: int, answers: list) -> list[threading.Thread]:
    threads = [in_thread(middleware, post(), answers) for _ in range(count)]
    for _ in range(count):
        assert view.started.acquire(timeout=LONG_WAIT)
    return threads


def finish(view: HeldView, threads: list[threading.Thread]) -> None:
    view.release.set()
    for thread in threads:
        thread.join(LONG_WAIT)


@override_settings(OVERLOAD_MAX_IN_FLIGHT=2, OVERLOAD_MAX_WAITING=0, OVERLOAD_QUEUE_MS=0)
def test_the_next_report_is_refused_at_once_while_the_slots_are_held():
    view = HeldView()
    middleware = OverloadMiddleware(view)
    held: list = []
    threads = hold(middleware, view, 2, held)

    response = middleware(post())  # answered here, while both others are still held

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    body = json.loads(response.content)
    assert body["error"]
    assert body == {"ok": False, "error": body["error"], "errors": [], "status": 503}
    assert held == []
    finish(view, threads)
    assert [r.status_code for r in held] == [201, 201]
    assert middleware(post()).status_code == 201  # the slots are free again


@override_settings(OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=0, OVERLOAD_QUEUE_MS=0)
def test_other_paths_and_methods_pass_while_intake_is_full():
    view = HeldView()
    seen = []

    def router(request) -> HttpResponse:
        if is_guarded(request):
            return view(request)
        seen.append(request.path)
        return HttpResponse("ok")

    middleware = OverloadMiddleware(router)
    held: list = []
    threads = hold(middleware, view, 1, held)

    assert middleware(post()).status_code == 503
    assert middleware(RequestFactory().get(INTAKE)).status_code == 200
    assert middleware(post("/api/v1/reports/12/messages")).status_code == 200
    assert middleware(RequestFactory().get("/report/")).status_code == 200
    assert seen == [INTAKE, "/api/v1/reports/12/messages", "/report/"]
    finish(view, threads)


@override_settings(
    OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=1, OVERLOAD_QUEUE_MS=LONG_WAIT * 1000
)
def test_a_request_in_line_is_served_when_a_slot_frees_and_the_line_is_bounded():
    view = HeldView()
    middleware = OverloadMiddleware(view)
    answers: list = []
    threads = hold(middleware, view, 1, answers)
    waiting = in_thread(middleware, post(), answers)
    while not middleware.gate._line:  # the second request is in line, not running
        waiting.join(0.001)

    assert middleware(post()).status_code == 503  # the line (of one) is full: refused at once

    view.release.set()  # the first finishes; the one in line gets its turn
    finish(view, [*threads, waiting])
    assert [r.status_code for r in answers] == [201, 201]


@override_settings(OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=5, OVERLOAD_QUEUE_MS=1)
def test_waiting_longer_than_the_queue_time_is_refused():
    view = HeldView()
    middleware = OverloadMiddleware(view)
    held: list = []
    threads = hold(middleware, view, 1, held)

    assert middleware(post()).status_code == 503  # waited 1 ms for a slot that stays held

    assert not middleware.gate._line
    finish(view, threads)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/reports/with-photos", "application/json"),
        ("/report/", "text/html; charset=utf-8"),
        ("/report/sos/", "text/html; charset=utf-8"),
        ("/open311/v2/requests.json", "application/json; charset=utf-8"),
        ("/open311/v2/requests.xml", "text/xml; charset=utf-8"),
    ],
)
@override_settings(OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=0, OVERLOAD_QUEUE_MS=0)
def test_each_intake_gets_the_503_in_its_own_format(path, content_type):
    view = HeldView()
    middleware = OverloadMiddleware(view)
    held: list = []
    threads = hold(middleware, view, 1, held)

    response = middleware(post(path))

    assert response.status_code == 503
    assert response["Content-Type"] == content_type
    assert response["Retry-After"] == "1"
    if path.endswith(".xml"):
        error = ET.fromstring(response.content).find("error")  # noqa: S314 (our own output)
        assert error.findtext("code") == "503"
        assert error.findtext("description")
    elif path.endswith(".json"):
        assert json.loads(response.content)[0]["code"] == 503
    elif path.startswith("/report/"):
        assert b"<p>" in response.content
    finish(view, threads)


@override_settings(OVERLOAD_MAX_IN_FLIGHT=0)
def test_zero_turns_shedding_off():
    with pytest.raises(MiddlewareNotUsed):
        OverloadMiddleware(lambda request: HttpResponse())


def test_it_runs_first_among_the_site_middleware():
    assert settings.MIDDLEWARE.index("convive.core.overload.OverloadMiddleware") <= 1


@override_settings(
    OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=1, OVERLOAD_QUEUE_MS=LONG_WAIT * 1000
)
def test_under_asgi_the_same_bounds_hold_in_the_event_loop():
    async def scenario() -> list[int]:
        release = asyncio.Event()

        async def view(request) -> HttpResponse:
            await release.wait()
            return HttpResponse(status=201)

        middleware = OverloadMiddleware(view)
        running = asyncio.create_task(middleware(post()))
        in_line = asyncio.create_task(middleware(post()))
        while not middleware.async_gate._line:
            await asyncio.sleep(0)
        refused = await middleware(post())  # one running, one in line: refused at once
        release.set()
        return [refused.status_code, (await running).status_code, (await in_line).status_code]

    assert asyncio.run(scenario()) == [503, 201, 201]


def test_the_line_is_served_in_order_of_arrival():
    gate = Gate(running=1, waiting=2, patience=LONG_WAIT)
    assert gate.enter()
    served: list[str] = []

    def wait_turn(name: str) -> threading.Thread:
        def run() -> None:
            assert gate.enter()
            served.append(name)
            gate.leave()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    first = wait_turn("first")
    while len(gate._line) < 1:
        first.join(0.001)
    second = wait_turn("second")
    while len(gate._line) < 2:
        second.join(0.001)
    assert not gate.enter()  # the line is full

    gate.leave()
    first.join(LONG_WAIT)
    second.join(LONG_WAIT)
    assert served == ["first", "second"]


@override_settings(OVERLOAD_MAX_IN_FLIGHT=1, OVERLOAD_MAX_WAITING=0, OVERLOAD_QUEUE_MS=0)
def test_refusals_are_summed_up_in_the_log_not_logged_one_by_one(caplog, monkeypatch):
    monkeypatch.setattr(note_shed, "every", 0.0)
    view = HeldView()
    middleware = OverloadMiddleware(view)
    held: list = []
    threads = hold(middleware, view, 1, held)

    with caplog.at_level(logging.WARNING):
        response = middleware(post())

    assert response._has_been_logged  # Django's request logger skips it
    assert [r.name for r in caplog.records] == ["convive.overload"]
    assert "refused (503)" in caplog.records[0].getMessage()
    finish(view, threads)
