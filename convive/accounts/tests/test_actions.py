import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import confirmed_device
from convive.accounts.actions import check_create_citizen, check_reset_two_factor
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag


def test_username_is_unique_ignoring_case(citizen):
    with pytest.raises(ActionError) as error:
        check_create_citizen(username="CIUDADANA", email="", password="x" * 12)
    assert error.value.field == "username"


def test_reset_two_factor_needs_a_reason_and_is_audited(platform_admin, dispatcher):
    confirmed_device(dispatcher)
    with pytest.raises(ActionError):
        check_reset_two_factor(platform_admin, dispatcher, reason="  ")
    assert TOTPDevice.objects.filter(user=dispatcher).count() == 1
    check_reset_two_factor(platform_admin, dispatcher, reason="Lost phone, ticket 42")
    assert TOTPDevice.objects.filter(user=dispatcher).count() == 0
    event = AuditEvent.objects.get(tag=AuditTag.ACCOUNT_OTP_RESET)
    assert event.reason == "Lost phone, ticket 42"
    assert event.actor_username == "admin_plataforma"
    assert event.subject_id == str(dispatcher.pk)
