"""Fixed-window rate limits, on the per-process cache and on Redis (what production uses)."""

import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from convive.core import ratelimit
from convive.core.ratelimit import Limit, Verdict, hit

START = 1_700_000_040.0  # a whole minute: windows of 60 s start here


class Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture(
    params=["locmem", pytest.param("redis", marks=pytest.mark.redis)],
)
def counters(request, settings):
    """The cache the counters live in, emptied of earlier counts; and a clock we move by hand."""
    prefix = f"test-ratelimit-{uuid.uuid4().hex}"  # never clear a Redis others may share
    if request.param == "redis":
        location = request.getfixturevalue("redis_url")
        backend = "django.core.cache.backends.redis.RedisCache"
    else:
        location = f"ratelimit-{prefix}"
        backend = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix}}
    settings.RATE_LIMIT_TRUSTED_ADDRESSES = ["10.0.0.1"]
    clock = Clock(START)
    request.getfixturevalue("monkeypatch").setattr(
        ratelimit, "time", SimpleNamespace(time=clock.time)
    )
    assert cache.get("anything") is None
    return clock


PER_MINUTE = Limit(count=3, seconds=60)


def test_an_identity_gets_its_count_per_window_then_waits_for_the_next(counters):
    verdicts = [hit("report:create", "203.0.113.7", PER_MINUTE) for _ in range(3)]
    counters.now += 10
    refused = hit("report:create", "203.0.113.7", PER_MINUTE)

    assert verdicts == [Verdict(True, 0)] * 3
    assert refused == Verdict(False, 50)  # the window ends 50 s from now

    counters.now += 49.5
    assert hit("report:create", "203.0.113.7", PER_MINUTE) == Verdict(False, 1)
    counters.now += 0.5  # a new window
    assert hit("report:create", "203.0.113.7", PER_MINUTE) == Verdict(True, 0)


def test_retry_after_is_rounded_up_and_never_zero(counters):
    counters.now = START + 59.9
    for _ in range(3):
        hit("report:create", "203.0.113.7", PER_MINUTE)
    assert hit("report:create", "203.0.113.7", PER_MINUTE) == Verdict(False, 1)


def test_identities_and_scopes_are_counted_apart(counters):
    for _ in range(3):
        hit("report:create", "203.0.113.7", PER_MINUTE)

    assert not hit("report:create", "203.0.113.7", PER_MINUTE).allowed
    assert hit("report:create", "203.0.113.8", PER_MINUTE).allowed
    assert hit("report:message", "203.0.113.7", PER_MINUTE).allowed
    assert hit("open311:post", "203.0.113.7", PER_MINUTE).allowed


def test_every_limit_counts_and_the_longest_wait_is_given(counters):
    burst, hourly = Limit(count=2, seconds=10), Limit(count=4, seconds=3600)
    counters.now = START + 5
    assert [hit("api", "key-1", burst, hourly).allowed for _ in range(3)] == [True, True, False]
    counters.now += 10  # a new 10-s window; the hour still holds 3 hits
    assert hit("api", "key-1", burst, hourly) == Verdict(True, 0)
    # The fifth in the hour: the hour ends at 1_700_002_800, 2745 s after now.
    assert hit("api", "key-1", burst, hourly) == Verdict(False, 2745)


def test_trusted_addresses_are_neither_counted_nor_refused(counters):
    assert all(hit("report:create", "10.0.0.1", PER_MINUTE).allowed for _ in range(10))


def test_no_identity_is_written_in_the_clear(counters):
    key = ratelimit._key("report:create", "203.0.113.7", PER_MINUTE, 0)
    assert "203.0.113.7" not in key
    assert key != ratelimit._key("report:create", "203.0.113.70", PER_MINUTE, 0)


class ExpiringCache:
    """The real cache, except that every counter expires just before it is incremented."""

    def __init__(self, real):
        self.real = real

    def add(self, key, value, timeout):
        return self.real.add(key, value, timeout=timeout)

    def incr(self, key):
        self.real.delete(key)
        return self.real.incr(key)  # ValueError: the key is gone

    def set(self, key, value, timeout):
        return self.real.set(key, value, timeout=timeout)


def test_a_counter_that_vanished_between_add_and_incr_starts_again(counters, monkeypatch):
    monkeypatch.setattr(ratelimit, "cache", ExpiringCache(cache))
    assert hit("report:create", "203.0.113.7", PER_MINUTE) == Verdict(True, 0)
    assert cache.get(ratelimit._key("report:create", "203.0.113.7", PER_MINUTE, 28333334)) == 1
