"""The fleet's console events: sent once committed, as committed, never for a rolled-back change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from convive.territories.tests.factories import CityFactory
from convive.units.actions import (
    PositionInput,
    check_change_unit_status,
    check_record_positions_batch,
    check_update_unit,
    do_create_units,
)
from convive.units.events import UnitChanged, UnitsMoved, units_group
from convive.units.models import Unit
from convive.units.tests.conftest import KENNEDY_POINT, SUBA_POINT
from convive.units.tests.factories import UnitFactory


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, Any]]:
    """What reaches the channel layer: (group, event)."""
    messages: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        "convive.units.events.publish_now", lambda group, event: messages.append((group, event))
    )
    return messages


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="K-1", at=KENNEDY_POINT)


def test_a_status_change_is_sent_after_commit(
    unit, dispatcher, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        check_change_unit_status(
            dispatcher, unit, status=Unit.Status.DISPATCHED, expected_version=unit.version
        )
        assert sent == []  # not before the commit
    ((group, event),) = sent
    assert group == units_group(unit.institution.city_id)
    assert isinstance(event, UnitChanged)
    assert (event.unit_id, event.status, event.version) == (unit.pk, Unit.Status.DISPATCHED, 2)
    assert (event.lon, event.lat) == KENNEDY_POINT
    assert event.type == "unit.changed"


def test_a_rolled_back_status_change_is_never_sent(
    unit, dispatcher, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        check_change_unit_status(
            dispatcher, unit, status=Unit.Status.DISPATCHED, expected_version=unit.version
        )
        transaction.set_rollback(True)
    assert sent == []


def test_an_edit_is_sent_with_the_committed_state(
    unit, institution_admin, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        check_update_unit(institution_admin, unit, expected_version=1, call_sign="K-9")
    ((_group, event),) = sent
    assert (event.call_sign, event.version) == ("K-9", 2)


def test_one_moved_message_per_batch_and_city(world, sent, django_capture_on_commit_callbacks):
    kennedy_unit = UnitFactory(institution=world.police, call_sign="K-1")
    suba_unit = UnitFactory(institution=world.police, call_sign="S-1")
    other_city = CityFactory(slug="lejos")
    far_unit = UnitFactory(institution__city=other_city, call_sign="F-1")
    now = timezone.now()
    earlier = now - timedelta(seconds=10)
    items = [
        PositionInput(kennedy_unit, *KENNEDY_POINT, earlier, "api"),
        PositionInput(kennedy_unit, -74.16, 4.61, now, "api"),
        PositionInput(suba_unit, *SUBA_POINT, now, "mqtt"),
        PositionInput(far_unit, 0.0, 0.0, now, "api"),  # refused: not near its city
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        results = check_record_positions_batch(items)
        assert sent == []
    assert [r.ok for r in results] == [True, True, True, False]
    ((group, event),) = sent
    assert group == units_group(world.city.pk)
    assert isinstance(event, UnitsMoved)
    assert event.type == "units.moved"
    assert event.positions == [
        [kennedy_unit.pk, -74.16, 4.61, now.isoformat()],
        [suba_unit.pk, *SUBA_POINT, now.isoformat()],
    ]
    assert event.institution_ids == [world.police.pk, world.police.pk]


def test_a_stale_fix_moves_nothing_and_sends_nothing(
    unit, sent, django_capture_on_commit_callbacks
):
    old = unit.last_position_at - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        check_record_positions_batch([PositionInput(unit, -74.16, 4.61, old, "api")])
    assert sent == []


def test_a_rolled_back_batch_is_never_sent(unit, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        check_record_positions_batch([PositionInput(unit, -74.16, 4.61, timezone.now(), "api")])
        transaction.set_rollback(True)
    assert sent == []


def test_created_units_are_sent(world, sent, django_capture_on_commit_callbacks):
    units = [
        Unit(institution=world.police, call_sign=f"N-{n}", kind=Unit.Kind.PATROL_CAR)
        for n in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        created = do_create_units(units)
    assert sorted(event.unit_id for _group, event in sent) == sorted(u.pk for u in created)
    assert {group for group, _event in sent} == {units_group(world.city.pk)}
