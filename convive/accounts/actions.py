"""Writes about accounts: sign-up, profile, the second factor, and the record of staff logins."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.accounts.permissions import needs_two_factor
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.tags import AuditTag


def check_create_citizen(*, username: str, email: str, password: str) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise ActionError(_("That username is taken; choose another."), field="username")
    return do_create_citizen(username=username, email=email, password=password)


def do_create_citizen(*, username: str, email: str, password: str) -> User:
    user = User(username=username, email=email)
    user.set_password(password)
    user.save()
    return user


def do_update_profile(user: User, *, fields: dict) -> User:
    allowed = {"first_name", "last_name", "email", "phone", "preferred_language"}
    changed = [name for name, value in fields.items() if name in allowed]
    for name in changed:
        setattr(user, name, fields[name])
    user.save(update_fields=changed)
    return user


def do_record_login(user: User, *, ip_address: str | None) -> None:
    """Staff logins are audited (who, from where); citizens' are not recorded at all."""
    if needs_two_factor(user):
        record_audit_event(user, AuditTag.ACCOUNT_LOGIN_SUCCEEDED, data={"ip": ip_address})


def do_record_failed_login(username: str, *, ip_address: str | None, locked_out: bool) -> None:
    """Record failures against staff accounts only: unknown names and citizens leave no trace."""
    user = User.objects.filter(username=username).first()
    if user is None or not needs_two_factor(user):
        return
    tag = AuditTag.ACCOUNT_LOGIN_LOCKED_OUT if locked_out else AuditTag.ACCOUNT_LOGIN_FAILED
    record_audit_event(
        None,
        tag,
        subject=user,
        institution=user.sole_institution(),
        data={"username": username, "ip": ip_address},
    )


def do_record_logout(user: User) -> None:
    if needs_two_factor(user):
        record_audit_event(user, AuditTag.ACCOUNT_SESSION_ENDED)


def do_get_or_create_pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled; the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def check_confirm_device(user: User, device: TOTPDevice, *, token: str) -> TOTPDevice:
    if device.user_id != user.pk or device.confirmed:
        raise ActionError(_("This enrolment is no longer valid; start again."))
    if not device.verify_is_allowed()[0]:
        raise ActionError(
            _("Too many wrong codes. Wait a moment before trying again."), status=429, field="token"
        )
    if not device.verify_token(token):
        raise ActionError(
            _("That code is not valid. Check your phone's clock and try again."), field="token"
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record_audit_event(user, AuditTag.ACCOUNT_OTP_ENROLLED, subject=user)
    return device


@dataclass(frozen=True)
class TokenCheck:
    device: TOTPDevice | None
    throttled: bool = False


def do_verify_token(user: User, *, token: str) -> TokenCheck:
    """Find the confirmed device that accepts ``token``.

    A wrong code is not an exception: its audit entry and the device's throttle counter must
    commit, so the caller reads ``TokenCheck.device`` instead of catching an error.
    """
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            record_audit_event(user, AuditTag.ACCOUNT_OTP_VERIFIED, subject=user)
            return TokenCheck(device)
    record_audit_event(user, AuditTag.ACCOUNT_OTP_FAILED, subject=user)
    throttled = bool(devices) and not any(d.verify_is_allowed()[0] for d in devices)
    return TokenCheck(None, throttled=throttled)


def check_reset_two_factor(admin: User, user: User, *, reason: str) -> None:
    """A platform administrator removes a lost authenticator; the person enrols again."""
    if not reason.strip():
        raise ActionError(_("Say why the second factor is being reset."), field="reason")
    with transaction.atomic():
        count = TOTPDevice.objects.filter(user=user).count()
        TOTPDevice.objects.filter(user=user).delete()
        record_audit_event(
            admin, AuditTag.ACCOUNT_OTP_RESET, subject=user, reason=reason, data={"devices": count}
        )
