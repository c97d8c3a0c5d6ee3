"""django-axes' cache handler, failing closed when the cache (Redis) cannot be reached.

The counts of wrong passwords live in the cache (settings.AXES_HANDLER). Without them nobody
can tell a guesser from an officer, so a login is refused while the cache is away: the login
page answers 503 "try again in a minute" (outreach.views.admin_lockout), never a 500 and
never a login that no lockout guards. Public pages do not use this; they keep working.
"""

import logging

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises: redis-py's errors, or the socket's own.
CACHE_ERRORS = (RedisError, OSError)


class CacheHandlerFailingClosed(AxesCacheHandler):
    def __init__(self):
        pass  # the cache is looked up per use (below), as settings and threads have it now

    @property
    def cache(self):
        return get_cache()

    def get_failures(self, request, credentials=None):
        try:
            return super().get_failures(request, credentials)
        except CACHE_ERRORS as error:
            logger.warning("Login refused: the cache holding the lockout counts fails (%s)", error)
            if request is not None:
                request.login_throttle_unavailable = True
            return float("inf")  # locked: fail closed

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except CACHE_ERRORS:
            if request is not None:
                request.login_throttle_unavailable = True
                request.axes_locked_out = True

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except CACHE_ERRORS:
            logger.warning("Could not clear the failed logins of a user who logged in")

    def reset_attempts(self, **kwargs):
        try:
            return super().reset_attempts(**kwargs)
        except CACHE_ERRORS:
            return 0
