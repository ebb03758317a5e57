"""The intake's copy of the catalogue, kept per process: categories, questions, routing rules.

Every report needs its category, the category's extra questions and the routing rules of its city
and category. Reading them costs the server more than writing the report, and they change a few
times a year, so each process keeps them in memory (``get_catalogue``) and checks one version token
in Redis (``REDIS_URL``) before each use: one GET.

When the copy is renewed:

- **A write through the ORM** to a category, question, routing rule or institution (the
  admin, ``convive install_catalogue``, the demo, factories, the shell) sends ``post_save`` or
  ``post_delete``, cascades included. The process that writes drops its copy at once; when the
  transaction commits, a new version token goes to Redis, and every other process reloads
  before its next report. A rule edited in the admin applies to the next report.
- **While a transaction holds such a write uncommitted**, the copy it reads is not kept: data that
  may be rolled back never reaches the process's copy (or another request).
- **Writes that send no signal** (``QuerySet.update``, ``bulk_create``, raw SQL) are seen within
  ``MAX_AGE_SECONDS``, when each process reloads anyway. A category code the copy does not know is
  looked up in the database before it is refused: a new category is never refused for being new.
  Code that writes the catalogue without signals should call ``catalogue_changed()``.
- ``post_migrate`` (migrations, and the test runner's flush) drops the copy too.

Without Redis (development, tests) there is no shared version: another process sees a change
within ``MAX_AGE_SECONDS``. Production has Redis (``docs/deploy.md``). If Redis does not answer,
the intake fails as it does for its rate limits, which live there too.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from convive.institutions.models import Institution
from convive.reports.models import Category, Question, RoutingRule
from convive.territories.models import City

VERSION_KEY = "convive:reports:catalogue:version"  # a plain Redis string, outside Django's cache
MAX_AGE_SECONDS = 10.0  # the bound for writes that send no signal (module docstring)
WATCHED = (Category, Question, RoutingRule, Institution)  # a city's deletion cascades to rules


@dataclass(frozen=True)
class Catalogue:
    """What the intake reads, as loaded at ``loaded_at``. Shared between threads: read only."""

    version: str
    generation: int
    loaded_at: float
    categories: dict[str, Category]  # active ones, by code
    questions: dict[int, tuple[Question, ...]]  # by category id, in (order, pk) order
    # (city id, category id) -> rules whose institution is active, in (priority, pk) order,
    # each with its institution
    rules: dict[tuple[int, int], tuple[RoutingRule, ...]]

    def questions_of(self, category: Category) -> tuple[Question, ...]:
        return self.questions.get(category.pk, ())

    def rules_for(self, city: City, category: Category) -> tuple[RoutingRule, ...]:
        return self.rules.get((city.pk, category.pk), ())


_lock = threading.Lock()
_generations = itertools.count(1)  # next() is atomic in CPython: safe from any thread
_generation = 0  # this process's; a local write moves it on, and the copy is reloaded
_current: Catalogue | None = None


def _load(version: str, generation: int) -> Catalogue:
    categories = {c.code: c for c in Category.objects.filter(active=True).order_by()}
    ids = [c.pk for c in categories.values()]
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(category_id__in=ids).order_by("order", "pk"):
        questions.setdefault(question.category_id, []).append(question)
    rules: dict[tuple[int, int], list[RoutingRule]] = {}
    active_rules = RoutingRule.objects.filter(category_id__in=ids, institution__active=True)
    for rule in active_rules.select_related("institution").order_by("priority", "pk"):
        rules.setdefault((rule.city_id, rule.category_id), []).append(rule)
    return Catalogue(
        version=version,
        generation=generation,
        loaded_at=time.monotonic(),
        categories=categories,
        questions={pk: tuple(qs) for pk, qs in questions.items()},
        rules={key: tuple(rs) for key, rs in rules.items()},
    )


_redis: redis.Redis | None = None  # one client per process (thread-safe, pooled connections)


def _client() -> redis.Redis | None:
    """The Redis that holds the version, or None without ``REDIS_URL``.

    Kept, not made per call as Django's cache does: building a client costs more than a GET."""
    global _redis
    if _redis is None and settings.REDIS_URL:
        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def _shared_version() -> str:
    client = _client()
    if client is None:
        return ""
    version = client.get(VERSION_KEY)
    if version is None:  # never written, or lost: any new token makes every process reload
        client.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = client.get(VERSION_KEY) or b""
    return version.decode()


def _fresh(catalogue: Catalogue | None, version: str) -> bool:
    return (
        catalogue is not None
        and catalogue.version == version
        and catalogue.generation == _generation
        and time.monotonic() - catalogue.loaded_at < MAX_AGE_SECONDS
    )


def _pending_change(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True while this thread's transaction holds a catalogue write not yet committed."""
    return any(func is _publish for _sids, func, _robust in connections[using].run_on_commit)


def get_catalogue(*, reload: bool = False, keep: bool = True) -> Catalogue:
    """The catalogue as committed now (module docstring); ``reload`` reads it again anyway, and
    ``keep=False`` reads it without keeping it (it may hold this transaction's writes)."""
    global _current
    version = _shared_version()
    if not keep or _pending_change():  # read what this transaction sees, but keep none of it
        # (checked first: another thread may have kept a copy without this transaction's write)
        return _load(version, _generation)
    current = _current
    if not reload and _fresh(current, version):
        return current
    with _lock:
        current = _current
        if not reload and _fresh(current, version):
            return current
        loaded = _load(version, _generation)  # a write during the load moves the generation on
        _current = loaded
        return loaded


def get_category(code: str) -> tuple[Catalogue, Category | None]:
    """The active category with this code (None if there is none), and the catalogue read."""
    catalogue = get_catalogue()
    category = catalogue.categories.get(code)
    if category is None and Category.objects.filter(code=code, active=True).exists():
        # New since the copy was made, written without a signal: perhaps by this very
        # transaction, which may yet roll back, so a copy read inside one is not kept.
        in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
        catalogue = get_catalogue(reload=True, keep=not in_transaction)
        category = catalogue.categories.get(code)
    return catalogue, category


def _publish() -> None:
    """After commit: a new version for every process, and this one reloads too."""
    _forget()
    client = _client()
    if client is not None:
        client.set(VERSION_KEY, uuid.uuid4().hex)


def _forget() -> None:
    global _generation
    _generation = next(_generations)


def catalogue_changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """The catalogue was written: drop this process's copy now, every process's on commit."""
    _forget()
    if not _pending_change(using):  # once per transaction is enough
        transaction.on_commit(_publish, using=using, robust=True)


def _on_write(sender: type, *, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    catalogue_changed(using)


def _on_migrate(sender: object, **kwargs: object) -> None:
    _forget()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    global _redis
    if setting == "REDIS_URL":  # tests point at another Redis, or at none
        _redis = None
        _forget()


for _model in WATCHED:
    post_save.connect(_on_write, sender=_model, dispatch_uid=f"catalogue:save:{_model.__name__}")
    post_delete.connect(
        _on_write, sender=_model, dispatch_uid=f"catalogue:delete:{_model.__name__}"
    )
post_migrate.connect(_on_migrate, dispatch_uid="catalogue:migrate")
setting_changed.connect(_on_setting_changed, dispatch_uid="catalogue:settings")
