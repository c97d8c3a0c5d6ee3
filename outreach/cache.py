"""Django's Redis cache, made to fail fast: a Redis that is down or stuck costs one short
timeout, then the cache is skipped for BREAKER_SECONDS, during which every cache call fails at
once (callers already treat a failing cache as a miss: pages are built from the database, the
RSVP limit is off, admin logins are refused). Then one call tries Redis again.

Without it a stuck Redis (its connections open, nothing answering) made each cache call wait
for the socket timeout, several calls a request, retried: requests hung for 20 s.
"""

import logging
import threading
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0


class Breaker:
    """Open for BREAKER_SECONDS after a failure: calls fail at once. One process's view."""

    def __init__(self):
        self.open_until = 0.0
        self.lock = threading.Lock()

    def check(self):
        if time.monotonic() < self.open_until:
            raise redis.exceptions.ConnectionError("cache skipped after a recent failure")

    def failed(self, error):
        with self.lock:
            if time.monotonic() < self.open_until:
                return  # another thread saw it first
            self.open_until = time.monotonic() + BREAKER_SECONDS
        logger.warning(
            "Redis is not answering (%s): the cache is skipped for %.0f s",
            type(error).__name__,
            BREAKER_SECONDS,
        )


breaker = Breaker()


class BreakerRedis(redis.Redis):
    def execute_command(self, *args, **options):
        breaker.check()
        try:
            return super().execute_command(*args, **options)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as error:
            breaker.failed(error)
            raise


class BreakerClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = BreakerRedis
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        """One redis.Redis per connection pool, kept: Django makes a new one for every cache
        call, and building one (its table of response callbacks) cost about as much CPU as
        the round trip itself on a cached page (profiled in the mixed benchmark run). A
        client is safe to share between threads; the pool hands each call its connection."""
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """CACHES' BACKEND for a redis:// CACHE_URL (outreach/settings.py)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = BreakerClient
