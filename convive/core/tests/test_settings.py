"""Production is PostgreSQL + Redis by configuration alone; development needs nothing set."""

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from convive.core.events import publish_on_commit

ROOT = Path(__file__).resolve().parents[3]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'options': s.DATABASES['default'].get('OPTIONS', {}), "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'cache': s.CACHES['default']['BACKEND'], "
    "'secure': s.SESSION_COOKIE_SECURE, 'debug': s.DEBUG, 'static': s.STORAGES['staticfiles']}))"
)


@dataclass(frozen=True)
class Ping:
    n: int
    type: str = "test.ping"


async def receive_quickly(layer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout=0.5)


def settings_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        env={**clean, "DJANGO_SETTINGS_MODULE": "convive.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 or env.get("expect_failure"), result.stderr
    return json.loads(result.stdout) if result.returncode == 0 else {"stderr": result.stderr}


def test_development_defaults_are_sqlite_wal_and_in_memory():
    found = settings_with()
    assert found["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["options"]["transaction_mode"] == "IMMEDIATE"
    assert found["layer"] == "channels.layers.InMemoryChannelLayer"
    assert found["debug"] is True


def test_production_is_postgres_and_redis_by_environment_alone():
    found = settings_with(
        DATABASE_URL="postgres://convive:secret@db.internal:5432/convive",
        REDIS_URL="redis://redis.internal:6379/0",
        DEBUG="false",
        SECRET_KEY="x" * 50,
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["layer"] == "channels_redis.core.RedisChannelLayer"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert found["secure"] is True
    assert "Manifest" in found["static"]["BACKEND"]


def test_production_refuses_the_development_secret():
    found = settings_with(DEBUG="false", expect_failure="1")
    assert "SECRET_KEY" in found["stderr"]


def test_a_malformed_boolean_names_the_variable():
    found = settings_with(DEBUG="maybe", expect_failure="1")
    assert "DEBUG must be true or false" in found["stderr"]


@pytest.mark.django_db(transaction=True)
def test_events_are_published_only_after_commit():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test-group", channel)
    with transaction.atomic():
        publish_on_commit("test-group", Ping(n=1))
        pending = [callback for _sids, callback, _robust in connection.run_on_commit]
        assert len(pending) == 1  # queued, not sent: a rollback would drop it
    message = async_to_sync(receive_quickly)(layer, channel)
    assert message == {"type": "test_ping", "event": {"n": 1, "type": "test.ping"}}


@pytest.mark.django_db(transaction=True)
def test_events_of_a_rolled_back_transaction_are_never_sent():
    def publish_then_fail() -> None:
        with transaction.atomic():
            publish_on_commit("test-group", Ping(n=2))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert connection.run_on_commit == []


def test_redis_backs_the_channel_layer_and_the_cache(redis_url, db):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "hello", "text": "hola"})
    assert async_to_sync(layer.receive)(channel) == {"type": "hello", "text": "hola"}
    cache.set("convive-test-key", {"ok": True}, 10)
    assert cache.get("convive-test-key") == {"ok": True}
    assert redis.Redis.from_url(redis_url).ping()
