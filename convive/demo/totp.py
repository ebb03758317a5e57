"""Second factor of the demo accounts: keys derived from the seed, codes printed locally.

A demo staff account gets a confirmed TOTP device whose key is HMAC-SHA256 of its username under
the seed, so that the same seed gives the same secrets (and the same authenticator entries) on
every machine. ``demo_totp_code`` prints a current code for demo accounts only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.utils.translation import gettext as _
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.core.errors import ActionError


def demo_totp_key(seed: int, username: str) -> str:
    """The device key (40 hex digits, as ``TOTPDevice.key`` stores it) of a demo account."""
    secret = f"convive-demo:{seed}".encode()
    return hmac.new(secret, username.encode(), hashlib.sha256).digest()[:20].hex()


def base32_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in."""
    return base64.b32encode(device.bin_key).decode("ascii")


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def get_demo_device(username: str) -> TOTPDevice:
    """The confirmed TOTP device of demo account ``username``; ActionError for any other account,
    so that this never reveals a code of a real person."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ActionError(_("There is no account named %(username)s.") % {"username": username})
    if not user.is_demo:
        raise ActionError(
            _("%(username)s is not a demo account: its codes are only on its owner's phone.")
            % {"username": username}
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        raise ActionError(
            _("%(username)s has no second factor (citizens log in with a password only).")
            % {"username": username}
        )
    return device
