"""The live console's websocket (``/ws/console/``): authenticate, join the allowed groups, forward.

Who may connect: command-centre staff (``Action.INCIDENT_VIEW``) who passed the second factor in
this session. Anonymous sockets are closed with 4401, the others that may not with 4403 (the
socket is accepted first, so that a browser sees the code).

What each person receives is decided once, at connect time (``ConsoleGrant``), by the same rules
as the HTTP reads, so that the socket never shows more than the pages do:

- ``incident.changed``: as ``convive.incidents.access.incidents_for`` (call-takers and
  dispatchers: their institution's city; supervisors: the territories their membership covers,
  plus their institution's incidents when it is not narrowed, plus incidents without a place);
- ``unit.changed`` and ``units.moved``: as ``convive.units.access.may_see_unit`` (own
  institution's units; the whole city's for a command centre or security secretariat).

Platform administrators get every city. The consumer never writes: consoles change things
through the API, and events arrive here only after the change is committed. The grant is not
re-read while the socket is open: a changed role or membership applies from the next connection.

Delivery: one ``ConsoleHub`` per server process joins each group once and hands each message to
that process's consoles (``docs/benchmarks.md``, "Console fan-out", for why).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from convive.accounts.permissions import Action, is_allowed, needs_two_factor
from convive.accounts.roles import Role
from convive.incidents.access import CITY_WIDE_ROLES, INCIDENT_ROLES
from convive.incidents.events import incidents_group
from convive.institutions.queries import territories_within
from convive.territories.models import City
from convive.units.access import CITYWIDE_KINDS, CITYWIDE_ROLES, OWN_INSTITUTION_ROLES
from convive.units.events import units_group

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
REJOIN_SECONDS = 3600  # the hub joins its groups again well before the layer's group expiry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncidentRule:
    """Incidents one membership shows: a whole city (``territory_ids`` None), or those inside
    ``territory_ids`` or without a place, plus those ``institution_id`` handles."""

    city_id: int
    territory_ids: frozenset[int] | None = None
    institution_id: int | None = None

    def allows(self, event: Mapping[str, Any]) -> bool:
        if self.institution_id is not None and event.get("institution_id") == self.institution_id:
            return True
        if event.get("city_id") != self.city_id:
            return False
        if self.territory_ids is None:
            return True
        locality, neighbourhood = event.get("locality_id"), event.get("neighbourhood_id")
        if locality is None and neighbourhood is None:
            return True  # placed by an address only: a person must still decide where
        return locality in self.territory_ids or neighbourhood in self.territory_ids


@dataclass(frozen=True)
class UnitRule:
    """Units one membership shows: a whole city's (``institution_id`` None) or one institution's."""

    city_id: int
    institution_id: int | None = None

    def allows(self, city_id: int, institution_id: int) -> bool:
        if city_id != self.city_id:
            return False
        return self.institution_id is None or institution_id == self.institution_id


@dataclass(frozen=True)
class ConsoleGrant:
    """What a connected console may receive, worked out once at connect time."""

    refusal: int | None = None
    everything: bool = False
    city_ids: frozenset[int] = frozenset()
    incident_rules: tuple[IncidentRule, ...] = ()
    unit_rules: tuple[UnitRule, ...] = ()
    groups: tuple[str, ...] = field(default=())

    def may_see_incident(self, event: Mapping[str, Any]) -> bool:
        return self.everything or any(rule.allows(event) for rule in self.incident_rules)

    def may_see_unit(self, city_id: int, institution_id: int) -> bool:
        return self.everything or any(
            rule.allows(city_id, institution_id) for rule in self.unit_rules
        )


def passed_two_factor(user: Any, session: Any) -> bool:
    """The session holds a confirmed device of this user (what ``django_otp``'s middleware
    checks for ``user.is_verified()``; middleware does not run for websockets)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(str(persistent_id))
    return device is not None and device.user_id == user.pk and bool(device.confirmed)


def _incident_rule(membership: Any) -> IncidentRule | None:
    """The rule of ``convive.incidents.access._membership_incidents``, as data."""
    institution = membership.institution
    role = Role(membership.role)
    if role not in INCIDENT_ROLES or institution is None:
        return None
    city_id = institution.city_id
    if role in CITY_WIDE_ROLES:
        return IncidentRule(city_id)
    narrowed = [t.pk for t in membership.territories.all()]
    if not narrowed and institution.covers_whole_city:
        return IncidentRule(city_id)
    roots = narrowed or list(institution.coverage.values_list("pk", flat=True))
    inside = frozenset(territories_within(roots))
    return IncidentRule(city_id, inside, None if narrowed else institution.pk)


def _unit_rule(membership: Any) -> UnitRule | None:
    """The rule of ``convive.units.access._membership_reaches``, as data."""
    institution = membership.institution
    if institution is None:
        return None
    role = Role(membership.role)
    if role in CITYWIDE_ROLES and institution.kind in CITYWIDE_KINDS:
        return UnitRule(institution.city_id)
    if role in OWN_INSTITUTION_ROLES:
        return UnitRule(institution.city_id, institution.pk)
    return None


def console_grant(user: Any, session: Any) -> ConsoleGrant:
    """Who may connect, and what they receive (module docstring). Reads only."""
    if user is None or not user.is_authenticated:
        return ConsoleGrant(refusal=CLOSE_ANONYMOUS)
    if not is_allowed(user, Action.INCIDENT_VIEW):
        return ConsoleGrant(refusal=CLOSE_FORBIDDEN)
    if needs_two_factor(user) and not passed_two_factor(user, session):
        return ConsoleGrant(refusal=CLOSE_FORBIDDEN)
    if Role.PLATFORM_ADMIN in user.roles():
        cities = frozenset(City.objects.values_list("pk", flat=True))
        groups = [incidents_group(c) for c in sorted(cities)]
        groups += [units_group(c) for c in sorted(cities)]
        return ConsoleGrant(everything=True, city_ids=cities, groups=tuple(groups))
    incident_rules, unit_rules = [], []
    for membership in user.active_memberships:
        if (incident_rule := _incident_rule(membership)) is not None:
            incident_rules.append(incident_rule)
        if (unit_rule := _unit_rule(membership)) is not None:
            unit_rules.append(unit_rule)
    incident_cities = sorted({rule.city_id for rule in incident_rules})
    unit_cities = sorted({rule.city_id for rule in unit_rules})
    groups = [incidents_group(c) for c in incident_cities] + [units_group(c) for c in unit_cities]
    return ConsoleGrant(
        city_ids=frozenset(incident_cities) | frozenset(unit_cities),
        incident_rules=tuple(incident_rules),
        unit_rules=tuple(unit_rules),
        groups=tuple(groups),
    )


def _grant_for_scope(scope: Mapping[str, Any]) -> ConsoleGrant:
    return console_grant(scope.get("user"), scope.get("session"))


def group_of(message: Mapping[str, Any]) -> str | None:
    """The group a console message was sent to (every payload names its city)."""
    city_id = message.get("event", {}).get("city_id")
    if city_id is None:
        return None
    if message.get("type") == "incident_changed":
        return incidents_group(city_id)
    if message.get("type") in {"unit_changed", "units_moved"}:
        return units_group(city_id)
    return None


class ConsoleHub:
    """One channel-layer channel per server process for all its consoles.

    With ``channels_redis`` every member of a group gets its own copy of each message, read back
    one Redis round trip at a time: 300 consoles on one process meant 300 copies of every change.
    The hub joins each group once (when its first console does) and hands each message to the
    process's consoles in memory; it leaves the group with the last one. Each console still
    filters what it forwards (``ConsoleGrant``).
    """

    def __init__(self, layer: Any):
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[ConsoleConsumer]] = {}
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []

    async def join(self, console: ConsoleConsumer, groups: tuple[str, ...]) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel("console.hub.")
                loop = asyncio.get_running_loop()
                self.tasks = [
                    loop.create_task(self._run(self.channel)),
                    loop.create_task(self._keep_joined(self.channel)),
                ]
            for group in groups:
                if group not in self.members:
                    await self.layer.group_add(group, self.channel)
                    self.members[group] = set()
                self.members[group].add(console)

    async def leave(self, console: ConsoleConsumer, groups: tuple[str, ...]) -> None:
        async with self.lock:
            for group in groups:
                members = self.members.get(group)
                if members is None:
                    continue
                members.discard(console)
                if not members:
                    del self.members[group]
                    await self.layer.group_discard(group, self.channel)
            if not self.members and self.channel is not None:
                for task in self.tasks:
                    task.cancel()
                self.tasks, self.channel = [], None

    async def _keep_joined(self, channel: str) -> None:
        """Group memberships expire in the layer (a day by default): renew them."""
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            async with self.lock:
                for group in self.members:
                    await self.layer.group_add(group, channel)

    async def _run(self, channel: str) -> None:
        failures = 0
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception as error:
                # An idle blocking read can outlast the Redis client's socket timeout (both 5 s
                # by default): try again at once. Redis restarting: keep the consoles, retry.
                if _is_timeout(error):
                    continue
                failures += 1
                if failures > 1:
                    logger.exception("console hub: could not receive from the channel layer")
                    await asyncio.sleep(min(failures, 5))
                continue
            failures = 0
            group = group_of(message)
            encoded: dict[Any, str] = {}  # the same frame for every console that may see it
            for console in list(self.members.get(group, ())):
                try:
                    await console.deliver(message, encoded)
                except Exception:  # one broken socket must not stop the others
                    logger.exception("console hub: could not deliver to a console")


def _is_timeout(error: Exception) -> bool:
    """A read that timed out (asyncio's, or ``redis.exceptions.TimeoutError``, named so that
    this module does not import a layer's client)."""
    return isinstance(error, TimeoutError) or type(error).__name__ == "TimeoutError"


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub_for(layer: Any) -> ConsoleHub:
    """The hub of this event loop and channel layer (one per server process)."""
    by_layer = _hubs.setdefault(asyncio.get_running_loop(), {})
    hub = by_layer.get(id(layer))
    if hub is None or hub.layer is not layer:
        hub = by_layer[id(layer)] = ConsoleHub(layer)
    return hub


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/console/``: forwards ``incident.changed``, ``unit.changed`` and ``units.moved``
    as ``{"type": ..., "event": {...}}``. Messages from the browser are ignored."""

    # No channel of its own (this alias names no layer): everything arrives through the hub,
    # so a console costs the layer nothing (no per-socket receive, no per-socket copy).
    channel_layer_alias = "console-hub-only"
    grant: ConsoleGrant = ConsoleGrant(refusal=CLOSE_FORBIDDEN)
    joined: tuple[str, ...] = ()
    hub: ConsoleHub | None = None

    async def connect(self) -> None:
        grant = await database_sync_to_async(_grant_for_scope)(self.scope)
        if grant.refusal is not None:
            await self.accept()  # then close, so that the browser sees why
            await self.close(code=grant.refusal)
            return
        self.grant = grant
        self.hub = hub_for(get_channel_layer())
        await self.hub.join(self, grant.groups)
        self.joined = grant.groups
        # Open only once in the groups: whatever commits after the console sees the socket open
        # reaches it, so a console that (re)connects and then asks the API loses nothing.
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            await self.hub.leave(self, self.joined)
        self.joined, self.hub = (), None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Consoles write through the API; nothing sent here is acted on."""

    async def deliver(self, message: dict[str, Any], encoded: dict[Any, str]) -> None:
        """Forward ``message`` if this console may see it; ``encoded`` caches the JSON text."""
        event = message["event"]
        if message["type"] == "incident_changed":
            if self.grant.may_see_incident(event):
                await self._send(
                    ("incident.changed",), {"type": "incident.changed", "event": event}, encoded
                )
        elif message["type"] == "unit_changed":
            if self.grant.may_see_unit(event["city_id"], event["institution_id"]):
                await self._send(
                    ("unit.changed",), {"type": "unit.changed", "event": event}, encoded
                )
        elif message["type"] == "units_moved":
            city_id = event["city_id"]
            kept = [
                index
                for index, institution_id in enumerate(event["institution_ids"])
                if self.grant.may_see_unit(city_id, institution_id)
            ]
            if kept:
                positions = [event["positions"][index] for index in kept]
                moved = {"city_id": city_id, "positions": positions}
                await self._send(
                    ("units.moved", *kept), {"type": "units.moved", "event": moved}, encoded
                )

    async def _send(self, key: Any, content: dict[str, Any], encoded: dict[Any, str]) -> None:
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = json.dumps(content)
        await self.send(text_data=text)
