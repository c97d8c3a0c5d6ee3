"""A per-client limit on RSVP posts, counted in Django's cache.

The client's address is used in memory only: the cache key holds a keyed hash of it (HMAC
with SECRET_KEY, so the short IPv4 space cannot be reversed), which expires with the window.
Nothing here logs an address.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)


def client_address(request):
    """REMOTE_ADDR, or with BEHIND_PROXY the address our proxy saw.

    A proxy appends the address it received the request from to X-Forwarded-For; anything
    before that last entry came from the client and may be made up, so only the last counts.
    """
    if settings.BEHIND_PROXY:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if hops[-1]:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def is_rate_limited(request, *, scope="rsvp"):
    """Count this request; True once the client has gone over settings.RSVP_RATE_LIMIT.

    A fixed window of RSVP_RATE_LIMIT's seconds. If the cache is down, nobody is limited:
    a resident's RSVP matters more than a bot's.
    """
    if not settings.RSVP_RATE_LIMIT:
        return False
    allowed, seconds = settings.RSVP_RATE_LIMIT
    window = int(time.time() // seconds)
    client = salted_hmac("meetings.ratelimit", client_address(request)).hexdigest()[:32]
    key = f"ratelimit:{scope}:{window}:{client}"
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
