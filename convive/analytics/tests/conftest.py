"""Hand-made incidents with known times (Testópolis, ``world``), for exact expected figures.

Local times are America/Bogota (settings.TIME_ZONE); every offset is in seconds from receipt.

====  ========  =====  ========  =========  ==========================================
name  locality  prio.  received  channel    steps (seconds after receipt)
====  ========  =====  ========  =========  ==========================================
a     Kennedy   P2     08:00     call       answered 10, created 70, dispatched 100,
                                            en route 160, on scene 460, cleared 1060,
                                            closed 1260
b     Kennedy   P3     09:00     call       answered 18, created 118, dispatched 178,
                                            en route 208, on scene 808, cleared 1408
c     Suba      P1     23:00     device     created 0, dispatched 40, en route 100,
                                            on scene 220, cleared 520, closed 600
d     Suba      P2     15:00     call       answered 25, created 55 (never dispatched)
====  ========  =====  ========  =========  ==========================================
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from convive.incidents.models import IncidentEvent, Priority
from convive.incidents.tests.factories import (
    IncidentEventFactory,
    IncidentFactory,
    IncidentTypeFactory,
)

DAY = date(2026, 11, 20)
ZONE = ZoneInfo("America/Bogota")
Kind = IncidentEvent.Kind


def at(hour: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def make_incident(world, kind, *, received: datetime, steps: dict[str, int], **fields):
    created = received + timedelta(seconds=steps["created"])
    incident = IncidentFactory(city=world.city, type=kind, created_at=created, **fields)
    for name, offset in steps.items():
        IncidentEventFactory(incident=incident, kind=name, at=received + timedelta(seconds=offset))
    return incident


class Cases:
    """The four incidents above, by name, and their types."""


@pytest.fixture
def cases(world):
    c = Cases()
    c.fight = IncidentTypeFactory(code="rina", name_es="Riña", name_en="Fight")
    c.robbery = IncidentTypeFactory(code="robo", name_es="Robo", name_en="Robbery")
    c.sos = IncidentTypeFactory(code="sos", name_es="SOS", name_en="SOS")
    call = {"call_received": 0}
    c.a = make_incident(
        world,
        c.fight,
        received=at(8),
        steps={
            **call,
            "call_answered": 10,
            "created": 70,
            "dispatched": 100,
            "en_route": 160,
            "on_scene": 460,
            "cleared": 1060,
            "closed": 1260,
        },
        locality=world.kennedy,
        priority=Priority.P2,
    )
    c.b = make_incident(
        world,
        c.robbery,
        received=at(9),
        steps={
            **call,
            "call_answered": 18,
            "created": 118,
            "dispatched": 178,
            "en_route": 208,
            "on_scene": 808,
            "cleared": 1408,
        },
        locality=world.kennedy,
        priority=Priority.P3,
    )
    c.c = make_incident(
        world,
        c.sos,
        received=at(23),
        steps={
            "created": 0,
            "dispatched": 40,
            "en_route": 100,
            "on_scene": 220,
            "cleared": 520,
            "closed": 600,
        },
        locality=world.suba,
        priority=Priority.P1,
    )
    c.d = make_incident(
        world,
        c.fight,
        received=at(15),
        steps={**call, "call_answered": 25, "created": 55},
        locality=world.suba,
        priority=Priority.P2,
    )
    return c
