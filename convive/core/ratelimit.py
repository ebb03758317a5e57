"""Fixed-window rate limits kept in the cache (Redis in production, per process otherwise).

Callers name a scope ("report:create"), an identity (an address, an API key, an account) and a
limit; ``hit`` counts one request and says whether it is allowed and, if not, in how many
seconds to retry. Identities are hashed with the site's secret before they become cache keys,
and the counters expire with their window: no address is ever written to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds; 0 when allowed


def _key(scope: str, identity: str, limit: Limit, window: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), identity.encode(), hashlib.sha256).hexdigest()
    return f"rl:{scope}:{limit.seconds}:{digest[:32]}:{window}"


def hit(scope: str, identity: str, *limits: Limit) -> Verdict:
    """Count one request against every limit; refused as soon as one is exceeded.

    An identity listed in ``RATE_LIMIT_TRUSTED_ADDRESSES`` (a gateway of the city's own, the load
    benchmark's loopback clients) is neither counted nor refused.
    """
    if identity in settings.RATE_LIMIT_TRUSTED_ADDRESSES:
        return Verdict(True, 0)
    now = time.time()
    worst = 0
    for limit in limits:
        window = int(now // limit.seconds)
        key = _key(scope, identity, limit, window)
        cache.add(key, 0, timeout=limit.seconds + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.seconds + 1)
            used = 1
        if used > limit.count:  # Retry-After: whole seconds until the window ends, at least 1
            worst = max(worst, math.ceil((window + 1) * limit.seconds - now), 1)
    return Verdict(worst == 0, worst)
