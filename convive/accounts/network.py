"""The client's address, as far as the deployment's proxies can be trusted.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the client is the address that many hops from the
right of ``X-Forwarded-For``; with no proxy, ``REMOTE_ADDR``. Used for login throttling and for
staff login records; never stored for citizens.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")
