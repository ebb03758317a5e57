"""Keys for applications that post reports through Open311 GeoReport v2.

A key looks like ``cvk_<prefix>_<secret>``. The prefix (8 hex characters) names the key in lists,
logs and the admin site; only a SHA-256 of the whole key is stored, so the key itself is shown
once, when it is created (``convive create_api_key NAME``), and cannot be recovered later.

The audited writers (create, revoke) are in ``convive/open311/actions.py``: only ``actions.py``
modules write the audit log (``tests/test_architecture.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from convive.reports.models import ApiKey

KEY_SCHEME = "cvk"
PREFIX_BYTES = 4  # 8 hex characters: enough to tell keys apart, nothing to guess the rest from
SECRET_BYTES = 32


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256 hex (a key has 256 random bits; no salt is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(prefix, key)``; the caller stores the prefix and ``hash_key(key)``."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def prefix_of(key: str) -> str:
    """The prefix written inside ``key``, or "" when it is not shaped like one of our keys."""
    scheme, _sep, rest = key.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return ""
    return prefix


def find_active_key(key: str) -> ApiKey | None:
    """The active key matching ``key`` exactly, or None (unknown, malformed or revoked)."""
    key = (key or "").strip()
    prefix = prefix_of(key)
    if not prefix:
        return None
    candidate = ApiKey.objects.filter(prefix=prefix, active=True).first()
    if candidate is None:
        return None
    # Constant-time comparison of the hashes: the prefix is public, the rest must not leak.
    if not hmac.compare_digest(candidate.key_hash, hash_key(key)):
        return None
    return candidate
