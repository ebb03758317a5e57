"""API keys: made on the command line (shown once), stored hashed, revoked there or in the admin."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from conftest import login
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.open311.actions import check_create_api_key, check_revoke_api_key
from convive.reports.apikeys import find_active_key, hash_key, prefix_of
from convive.reports.models import ApiKey


def test_a_new_key_is_stored_only_as_a_hash(db):
    with transaction.atomic():
        api_key, key = check_create_api_key(None, name="  Mi Barrio App  ")
    assert key.startswith(f"cvk_{api_key.prefix}_")
    assert len(key) > 40
    assert api_key.name == "Mi Barrio App"
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_key(key)
    assert key not in str(ApiKey.objects.values().get())
    event = AuditEvent.objects.get(tag=AuditTag.OPEN311_KEY_CREATED)
    assert event.actor_user_id is None
    assert event.subject_id == str(api_key.pk)
    assert key not in event.data


def test_find_active_key(app):
    assert find_active_key(app.key) == app.api_key
    assert find_active_key(f"  {app.key} ") == app.api_key
    for wrong in ("", "xyz", app.key[:-1], app.key + "a", f"cvk_{app.api_key.prefix}_nope"):
        assert find_active_key(wrong) is None
    assert prefix_of("cvk_ab12_") == ""
    assert prefix_of("abc_ab12_secret") == ""
    with transaction.atomic():
        check_revoke_api_key(None, app.api_key)
    assert find_active_key(app.key) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_key_needs_a_name(db, name):
    with pytest.raises(ActionError), transaction.atomic():
        check_create_api_key(None, name=name)
    assert not ApiKey.objects.exists()


def test_revoking_twice_is_a_conflict(app):
    with transaction.atomic():
        check_revoke_api_key(None, app.api_key, reason="leaked")
    app.api_key.refresh_from_db()
    assert not app.api_key.active
    assert app.api_key.revoked_at is not None
    event = AuditEvent.objects.get(tag=AuditTag.OPEN311_KEY_REVOKED)
    assert event.reason == "leaked"
    with pytest.raises(ActionError) as refused, transaction.atomic():
        check_revoke_api_key(None, app.api_key)
    assert refused.value.status == 409


def test_create_and_revoke_commands(db, settings):
    settings.LANGUAGE_CODE = "en"  # the messages are compared in English
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "Mi Barrio App", stdout=out, stderr=err)
    key = out.getvalue().strip()
    api_key = find_active_key(key)
    assert api_key is not None
    assert api_key.prefix in err.getvalue()
    out = StringIO()
    call_command("revoke_api_key", api_key.prefix, "--reason", "leaked", stdout=out)
    assert api_key.prefix in out.getvalue()
    assert find_active_key(key) is None
    with pytest.raises(CommandError, match="already revoked"):
        call_command("revoke_api_key", api_key.prefix)
    with pytest.raises(CommandError, match="No API key"):
        call_command("revoke_api_key", "00000000")
    with pytest.raises(CommandError):
        call_command("create_api_key", " ")
    tags = list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))
    assert tags == [AuditTag.OPEN311_KEY_CREATED, AuditTag.OPEN311_KEY_REVOKED]


def test_admin_lists_and_revokes_keys(client, app, platform_admin):
    login(client, platform_admin)
    changelist = reverse("admin:reports_apikey_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert app.api_key.prefix in page.content.decode()
    assert app.key not in page.content.decode()
    assert client.get(reverse("admin:reports_apikey_add")).status_code == 403
    response = client.post(
        changelist, {"action": "revoke", "_selected_action": [app.api_key.pk]}, follow=True
    )
    assert response.status_code == 200
    app.api_key.refresh_from_db()
    assert not app.api_key.active
    event = AuditEvent.objects.get(tag=AuditTag.OPEN311_KEY_REVOKED)
    assert event.actor_user_id == platform_admin.pk
