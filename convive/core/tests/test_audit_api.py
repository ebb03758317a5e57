"""``/api/v1/audit``: status codes, the shape, scoping, paging and the error envelope."""

import pytest
from django.db import transaction
from django.test import Client

from conftest import login
from convive.accounts.permissions import ROLE_ACTIONS, Action
from convive.accounts.roles import Role
from convive.api import api
from convive.core.api import encode_cursor
from convive.core.audit import record_audit_event
from convive.core.tags import AuditTag
from convive.core.tests.test_audit_log import sample_log

URL = "/api/v1/audit/events"
NOT_ALLOWED = [r for r in Role if r not in ROLE_ACTIONS[Action.AUDIT_VIEW]]
FIELDS = {
    "id",
    "seq",
    "created_at",
    "actor_user_id",
    "actor_username",
    "actor_roles",
    "institution_id",
    "institution_name",
    "tag",
    "tag_label",
    "subject_type",
    "subject_id",
    "subject_repr",
    "reason",
    "data",
    "prev_hash",
    "hash",
}


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def log(world, platform_admin, institution_admin, call_taker, supervisor):
    return sample_log(
        world,
        platform_admin=platform_admin,
        institution_admin=institution_admin,
        call_taker=call_taker,
        supervisor=supervisor,
    )


def seqs(events) -> list[int]:
    return sorted((e.seq for e in events), reverse=True)


def assert_envelope(response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["errors"], list)
    return body


@pytest.mark.django_db
def test_anonymous_callers_get_401(client):
    assert_envelope(client.get(URL), 401)
    assert_envelope(client.get(f"{URL}/1"), 401)


@pytest.mark.parametrize("role", NOT_ALLOWED)
def test_other_roles_get_403(client, persona, role, log):
    login(client, persona(role))
    assert_envelope(client.get(URL), 403)
    assert_envelope(client.get(f"{URL}/{log.police[0].pk}"), 403)


def test_platform_admins_read_every_entry(client, platform_admin, log, world):
    login(client, platform_admin)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "count", "next_cursor"}
    assert body["count"] == len(log.all)
    assert body["next_cursor"] is None
    assert [e["seq"] for e in body["data"]] == seqs(log.all)
    member = next(e for e in body["data"] if e["seq"] == log.police[1].seq)
    assert set(member) == FIELDS
    assert member["actor_username"] == "admin_policia"
    assert member["actor_roles"] == ["institution_admin"]
    assert member["institution_id"] == world.police.pk
    assert member["tag"] == "institution:member:added"
    assert member["tag_label"] == "Team member added"
    assert member["data"] == {"role": "supervisor"}
    assert member["hash"] == log.police[1].hash


def test_institution_admins_read_their_institution_only(client, institution_admin, log):
    login(client, institution_admin)
    body = client.get(URL).json()
    assert [e["seq"] for e in body["data"]] == seqs(log.police)
    assert body["count"] == len(log.police)
    assert client.get(f"{URL}/{log.police[0].pk}").status_code == 200
    assert_envelope(client.get(f"{URL}/{log.secretariat.pk}"), 404)
    assert_envelope(client.get(f"{URL}/{log.platform.pk}"), 404)


def test_one_entry(client, platform_admin, log):
    login(client, platform_admin)
    response = client.get(f"{URL}/{log.platform.pk}")
    assert response.status_code == 200
    assert response.json()["reason"] == log.platform.reason
    assert_envelope(client.get(f"{URL}/999999"), 404)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": "account:login:succeeded"}, lambda log: [log.police[0], log.secretariat]),
        ({"actor": "Operadora"}, lambda log: [log.secretariat]),
        ({"subject_type": "accounts.user"}, lambda log: [log.police[1], log.platform]),
    ],
)
def test_filters(client, platform_admin, log, params, expected):
    login(client, platform_admin)
    body = client.get(URL, params).json()
    assert [e["seq"] for e in body["data"]] == seqs(expected(log))
    assert body["count"] == len(expected(log))


def test_institution_filter_stays_inside_the_scope(client, institution_admin, world, log):
    login(client, institution_admin)
    assert client.get(URL, {"institution": world.police.pk}).json()["count"] == 2
    assert client.get(URL, {"institution": world.secretariat.pk}).json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tag": "no:such:tag"}, "tag"),
        ({"date_from": "not-a-date"}, "date_from"),
        ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "date_to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"institution": "police"}, "institution"),
    ],
)
def test_bad_parameters_get_422_in_the_envelope(client, platform_admin, log, params, field):
    login(client, platform_admin)
    body = assert_envelope(client.get(URL, params), 422)
    assert body["errors"]
    assert any(field in e["field"] for e in body["errors"])


@pytest.mark.parametrize("cursor", ["!!!", "bm9wZQ", encode_cursor(1).upper()])
def test_a_bad_cursor_gets_400(client, platform_admin, log, cursor):
    login(client, platform_admin)
    body = assert_envelope(client.get(URL, {"cursor": cursor}), 400)
    assert body["errors"] == [{"field": "cursor", "message": body["error"]}]


def test_cursor_pages_are_stable_while_entries_are_appended(client, platform_admin, log):
    login(client, platform_admin)
    first = client.get(URL, {"limit": 3}).json()
    assert [e["seq"] for e in first["data"]] == seqs(log.all)[:3]
    assert first["count"] == len(log.all)
    with transaction.atomic():
        record_audit_event(platform_admin, AuditTag.ADMIN_OBJECT_CHANGED)
    second = client.get(URL, {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [e["seq"] for e in second["data"]] == seqs(log.all)[3:]
    assert second["next_cursor"] is None


def test_the_openapi_document_declares_the_permission():
    operations = api.get_openapi_schema()["paths"]
    assert operations[URL]["get"]["x-permission"] == "audit.view"
    assert operations[URL + "/{event_id}"]["get"]["x-permission"] == "audit.view"
