"""A per-client limit on RSVP posts, counted in Django's cache.

The client's address is used in memory only: the cache key holds a keyed hash of it (HMAC
with SECRET_KEY, so the short IPv4 space cannot be reversed), which expires with the window.
Nothing here logs an address. The admin's login throttle (django-axes) knows clients by the
same hash.
"""

import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)


def _is_trusted_proxy(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.FORWARDED_ALLOW_IPS:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with BEHIND_PROXY the address our proxies saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the
    list is read from the right, and only while the address in hand is one of our proxies
    (settings.FORWARDED_ALLOW_IPS) does it vouch for the entry before it. Anything further
    left came from the client and may be made up; a request straight to the app server, not
    through a proxy, is known by its own address whatever it sends.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_PROXY:
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while forwarded and _is_trusted_proxy(address):
        hop = forwarded.pop().strip()
        if not hop:
            break
        address = hop
    return address


def hashed_client_address(request: HttpRequest) -> str:
    """The client as a keyed hash of its address: what the rate limit and login throttle keep."""
    return salted_hmac("meetings.ratelimit", client_address(request)).hexdigest()[:32]


def is_rate_limited(
    request: HttpRequest, *, scope: str = "rsvp", limit: tuple[int, int] | None = None
) -> bool:
    """Count this request; True once the client has gone over `limit` (requests, seconds),
    settings.RSVP_RATE_LIMIT unless given (the API passes settings.API_RATE_LIMIT).

    A fixed window of the limit's seconds, counted per `scope`. If the cache is down, nobody
    is limited: a resident's RSVP matters more than a bot's.
    """
    limit = settings.RSVP_RATE_LIMIT if limit is None else limit
    if not limit:
        return False
    allowed, seconds = limit
    window = int(time.time() // seconds)
    key = f"ratelimit:{scope}:{window}:{hashed_client_address(request)}"
    try:
        cache.add(key, 0, timeout=seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # the entry expired between add() and incr()
            cache.set(key, 1, timeout=seconds)
            count = 1
    except Exception as error:  # noqa: BLE001 - a cache outage must not stop RSVPs
        logger.warning("Rate limit cache unavailable: %s", type(error).__name__)
        return False
    return count > allowed
