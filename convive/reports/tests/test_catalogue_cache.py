"""The intake's copy of the catalogue (``convive.reports.cache``): an edit made through the ORM
applies to the next report, a rolled-back edit never reaches the copy, a category written
without signals is still found, and with Redis a commit gives every process a new version.

Every test here commits (``django_db(transaction=True)``). Inside the transaction that wraps an
ordinary test, the fixtures' catalogue writes stay uncommitted to the end, and while one is
pending the module keeps no copy at all: what it keeps, and when it drops it, would not show.
"""

import dataclasses
import threading
import uuid
from types import SimpleNamespace

import pytest
import redis
from django.db import connection, transaction

from convive.core.errors import ActionError
from convive.reports import cache
from convive.reports.actions import ReportInput, check_create_report
from convive.reports.cache import VERSION_KEY, catalogue_changed, get_catalogue, get_category
from convive.reports.models import Category, Report, RoutingRule
from convive.reports.tests.conftest import KENNEDY_POINT, SUBA_POINT
from convive.reports.tests.factories import CategoryFactory, QuestionFactory, RoutingRuleFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("english"),  # routing notes are compared in English
]


def submit(category_code: str, point=KENNEDY_POINT, **overrides) -> Report:
    """A report through the intake, in its own committed transaction, as the API makes it."""
    lon, lat = point
    data = ReportInput(
        category_code=category_code,
        idempotency_key=uuid.uuid4().hex,
        channel=Report.Channel.APP,
        lon=lon,
        lat=lat,
        **overrides,
    )
    with transaction.atomic(durable=True):
        report, _created = check_create_report(None, data)
    return report


def institutions(catalogue, city, category) -> list[str]:
    return [rule.institution.slug for rule in catalogue.rules_for(city, category)]


def graffiti(**fields) -> Category:
    """A category as ``bulk_create`` writes it: no ``post_save``, so no signal to the copy."""
    values = {"code": "grafiti", "kind": Category.Kind.COEXISTENCE, "name_es": "Grafiti"}
    return Category(**{**values, "name_en": "Graffiti", **fields})


class Clock:
    """The monotonic clock the copy's age is measured with, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cache, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


# --- The copy, and ORM writes -----------------------------------------------------------------


def test_the_copy_is_kept_while_nothing_changes(catalogue, django_assert_num_queries):
    first = get_catalogue()

    with django_assert_num_queries(0):
        assert get_catalogue() is first
    assert set(first.categories) == {"robo", "ruido", "alumbrado", "sos"}
    assert [q.code for q in first.questions_of(catalogue.ruido)] == ["horario"]


def test_a_rule_edited_through_the_orm_applies_to_the_next_report(world, catalogue):
    assert submit("alumbrado").institution == world.secretariat  # the copy now holds the rule
    rule = RoutingRule.objects.get(category=catalogue.alumbrado)

    rule.institution = world.police
    rule.save()
    moved = submit("alumbrado")

    assert (moved.institution, moved.routing_note) == (world.police, "City-wide rule.")


def test_a_rule_created_or_deleted_through_the_orm_applies_to_the_next_report(world, catalogue):
    submit("alumbrado")
    local = RoutingRuleFactory(
        city=world.city,
        category=catalogue.alumbrado,
        territory=world.kennedy,
        institution=catalogue.alcaldia,
    )
    in_kennedy = submit("alumbrado")
    local.delete()
    after_delete = submit("alumbrado")

    assert (in_kennedy.institution, in_kennedy.routing_note) == (
        catalogue.alcaldia,
        "Rule for Kennedy.",
    )
    assert after_delete.institution == world.secretariat


def test_a_category_edited_through_the_orm_applies_to_the_next_get_catalogue(catalogue):
    before = get_catalogue()
    with pytest.raises(ActionError, match="An SOS needs an urgent category"):
        submit("alumbrado", sos=True)

    catalogue.alumbrado.name_en = "Street light out"
    catalogue.alumbrado.urgent = True
    catalogue.alumbrado.save()
    after = get_catalogue()

    assert after is not before
    assert before.categories["alumbrado"].name_en == "Broken light"  # a copy: never changed
    assert after.categories["alumbrado"].name_en == "Street light out"
    assert submit("alumbrado", sos=True).status == Report.Status.SOS


def test_a_question_added_or_deleted_through_the_orm_applies_to_the_next_report(catalogue):
    submit("alumbrado")
    pole = QuestionFactory(category=catalogue.alumbrado, code="poste", required=True)

    with pytest.raises(ActionError) as caught:
        submit("alumbrado")
    assert caught.value.field == "attribute[poste]"
    assert submit("alumbrado", answers={"poste": "P-1234"}).answers == {"poste": "P-1234"}

    pole.delete()
    assert get_catalogue().questions_of(catalogue.alumbrado) == ()
    assert submit("alumbrado").answers == {}


def test_a_deactivated_category_disappears(catalogue):
    submit("ruido", answers={"horario": "dia"})

    catalogue.ruido.active = False
    catalogue.ruido.save(update_fields=["active"])
    copy = get_catalogue()

    assert "ruido" not in copy.categories
    assert copy.questions_of(catalogue.ruido) == ()
    assert copy.rules_for(catalogue.alcaldia.city, catalogue.ruido) == ()
    assert get_category("ruido") == (copy, None)  # the database agrees: no reload
    with pytest.raises(ActionError) as caught:
        submit("ruido", answers={"horario": "dia"})
    assert caught.value.field == "category"

    catalogue.ruido.active = True
    catalogue.ruido.save(update_fields=["active"])
    assert get_category("ruido")[1] == catalogue.ruido


def test_a_rule_whose_institution_is_deactivated_is_dropped(world, catalogue):
    assert submit("ruido", answers={"horario": "dia"}).institution == catalogue.alcaldia

    catalogue.alcaldia.active = False
    catalogue.alcaldia.save(update_fields=["active"])
    stranded = submit("ruido", answers={"horario": "dia"})

    assert get_catalogue().rules_for(world.city, catalogue.ruido) == ()
    assert (stranded.institution, stranded.routing_note) == (
        None,
        "No routing rule for “Noise” in Kennedy.",
    )
    assert submit("robo").institution == world.police  # other institutions' rules stay


def test_an_active_rule_takes_over_from_one_whose_institution_is_deactivated(world, catalogue):
    RoutingRuleFactory(
        city=world.city, category=catalogue.alumbrado, institution=world.police, priority=1
    )
    assert submit("alumbrado").institution == world.police

    world.police.active = False
    world.police.save()

    assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == ["secretaria"]
    assert submit("alumbrado").institution == world.secretariat


def test_rules_deleted_by_a_cascade_leave_the_copy(world, catalogue):
    RoutingRuleFactory(
        city=world.city,
        category=catalogue.alumbrado,
        territory=world.timiza,
        institution=catalogue.alcaldia,
    )
    assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == [
        "secretaria",
        "alcaldia-kennedy",
    ]

    world.timiza.delete()  # its rules go with it, each with its post_delete

    assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == ["secretaria"]


# --- Writes that send no signal ---------------------------------------------------------------


def test_a_category_made_with_bulk_create_is_not_refused_for_being_new(catalogue):
    before = get_catalogue()

    Category.objects.bulk_create([graffiti()])
    assert get_catalogue() is before  # no signal: the copy is kept, without the category
    report = submit("grafiti", point=SUBA_POINT)

    assert (report.category.code, report.institution) == ("grafiti", None)


def test_a_code_the_copy_does_not_know_is_looked_up_and_the_copy_read_then_kept(catalogue):
    before = get_catalogue()
    Category.objects.bulk_create([graffiti()])

    copy, category = get_category("grafiti")

    assert "grafiti" not in before.categories
    assert category == Category.objects.get(code="grafiti")
    assert copy is not before
    assert get_catalogue() is copy


def test_an_unknown_or_inactive_code_is_refused_without_a_reload(catalogue):
    Category.objects.bulk_create([graffiti(active=False)])
    copy = get_catalogue()

    assert get_category("grafiti") == (copy, None)
    assert get_category("no-existe") == (copy, None)
    assert get_catalogue() is copy


def test_an_update_without_signal_is_seen_once_catalogue_changed_is_called(catalogue):
    get_catalogue()
    Category.objects.filter(code="ruido").update(active=False)
    assert "ruido" in get_catalogue().categories  # the bound the module docstring states

    catalogue_changed()

    assert "ruido" not in get_catalogue().categories


def test_an_update_without_signal_is_seen_after_max_age_seconds(catalogue, clock):
    copy = get_catalogue()
    Category.objects.filter(code="ruido").update(active=False)

    clock.now += cache.MAX_AGE_SECONDS - 0.1
    assert get_catalogue() is copy
    clock.now += 0.1
    assert "ruido" not in get_catalogue().categories


# --- Transactions -----------------------------------------------------------------------------


def test_a_rolled_back_rule_edit_never_reaches_the_copy(world, catalogue):
    submit("alumbrado")
    rule = RoutingRule.objects.get(category=catalogue.alumbrado)

    with transaction.atomic():
        rule.institution = world.police
        rule.save()
        inside = get_catalogue()  # what this transaction sees...
        assert institutions(inside, world.city, catalogue.alumbrado) == ["policia"]
        assert get_catalogue() is not inside  # ...but not kept
        transaction.set_rollback(True)

    assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == ["secretaria"]
    assert submit("alumbrado").institution == world.secretariat


def test_a_rolled_back_savepoint_never_reaches_the_copy(world, catalogue):
    get_catalogue()
    with transaction.atomic():
        with transaction.atomic():
            catalogue.alumbrado.active = False
            catalogue.alumbrado.save()
            assert "alumbrado" not in get_catalogue().categories
            transaction.set_rollback(True)
        inside = get_catalogue()
        assert "alumbrado" in inside.categories

    assert get_catalogue().categories["alumbrado"].active
    assert submit("alumbrado").institution == world.secretariat


def test_a_category_created_in_a_rolled_back_transaction_is_not_found(catalogue):
    get_catalogue()

    with transaction.atomic():
        CategoryFactory(code="grafiti")
        assert get_category("grafiti")[1].code == "grafiti"
        transaction.set_rollback(True)

    assert get_category("grafiti")[1] is None
    assert "grafiti" not in get_catalogue().categories


def test_a_category_bulk_created_in_a_rolled_back_transaction_is_not_found(catalogue):
    get_catalogue()

    with transaction.atomic():
        Category.objects.bulk_create([graffiti()])
        assert get_category("grafiti")[1].code == "grafiti"  # the fallback, inside
        transaction.set_rollback(True)

    assert not Category.objects.filter(code="grafiti").exists()
    # Were it kept, a report in it would fail on its foreign key (a 500) for up to
    # MAX_AGE_SECONDS where "Unknown category" (a 400) is due.
    assert get_category("grafiti")[1] is None


def test_a_transaction_reads_its_own_write_whatever_another_thread_kept(postgres, world, catalogue):
    get_catalogue()
    rule = RoutingRule.objects.get(category=catalogue.alumbrado)
    errors: list[BaseException] = []

    def another_request() -> None:  # its own connection: it sees what is committed
        try:
            get_catalogue()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        rule.institution = world.police
        rule.save()
        assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == ["policia"]
        thread = threading.Thread(target=another_request)
        thread.start()
        thread.join(timeout=30)
        assert errors == []
        # The other thread kept the committed catalogue under the generation this write set;
        # this transaction is handed that copy, without its own rule.
        assert institutions(get_catalogue(), world.city, catalogue.alumbrado) == ["policia"]


# --- Redis: one version for every process -----------------------------------------------------


@pytest.fixture
def shared_version(redis_url, settings):
    """The Redis that holds the version (``redis_url`` marks the test ``redis``)."""
    settings.REDIS_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def version(client: redis.Redis) -> str:
    return client.get(VERSION_KEY).decode()


def test_a_commit_gives_every_process_a_new_version(world, catalogue, shared_version):
    copy = get_catalogue()
    old = version(shared_version)
    assert copy.version == old

    with transaction.atomic():
        rule = RoutingRule.objects.get(category=catalogue.alumbrado)
        rule.institution = world.police
        rule.save()
        assert version(shared_version) == old  # nothing is published before the commit
    new = version(shared_version)

    assert new != old
    # Another process's copy: its generation never moved, only the version tells it to reload.
    elsewhere = dataclasses.replace(copy, generation=cache._generation)
    assert not cache._fresh(elsewhere, new)
    assert cache._fresh(dataclasses.replace(elsewhere, version=new), new)
    assert get_catalogue().version == new
    assert submit("alumbrado").institution == world.police


def test_a_rolled_back_write_publishes_no_version(world, catalogue, shared_version):
    copy = get_catalogue()

    with transaction.atomic():
        CategoryFactory(code="grafiti")
        transaction.set_rollback(True)

    assert version(shared_version) == copy.version
    assert "grafiti" not in get_catalogue().categories


def test_catalogue_changed_publishes_a_version_on_commit(catalogue, shared_version):
    copy = get_catalogue()

    with transaction.atomic():
        Category.objects.filter(code="ruido").update(active=False)
        catalogue_changed()
        assert version(shared_version) == copy.version

    assert version(shared_version) != copy.version
    assert "ruido" not in get_catalogue().categories


def test_a_version_published_elsewhere_makes_this_process_reload(catalogue, shared_version):
    copy = get_catalogue()
    Category.objects.filter(code="ruido").update(active=False)  # another process's write...
    shared_version.set(VERSION_KEY, uuid.uuid4().hex)  # ...and its commit

    reloaded = get_catalogue()

    assert reloaded is not copy
    assert reloaded.version == version(shared_version)
    assert "ruido" not in reloaded.categories
    assert get_catalogue() is reloaded


def test_a_lost_version_is_replaced_and_the_copy_reloaded(catalogue, shared_version):
    copy = get_catalogue()
    shared_version.delete(VERSION_KEY)  # Redis restarted, or the key was evicted

    reloaded = get_catalogue()

    assert reloaded is not copy
    assert reloaded.version == version(shared_version) != copy.version
