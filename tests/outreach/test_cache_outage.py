"""A Redis that is stuck (SIGSTOP: connections open, nothing answers) costs one short timeout,
then the cache is skipped for a few seconds: pages are built from the database instead of every
request waiting on Redis (ops review, fault b2: requests hung for 20 s, then the whole site)."""

import logging
import signal

import pytest
from django.test import Client

from meetings import caching
from outreach.cache import breaker
from tests.factories import MeetingFactory
from tests.servers import REDIS_SERVER, redis_server

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server"),
]


@pytest.fixture
def frozen_redis(settings):
    with redis_server() as (port, process):
        settings.CACHES = {
            "default": {
                "BACKEND": "outreach.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": settings.REDIS_CACHE_OPTIONS,
            }
        }
        caching.local_copies.clear()
        process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            process.send_signal(signal.SIGCONT)
            breaker.open_until = 0.0  # the next test starts with a closed breaker


def test_a_stuck_redis_is_waited_for_once_then_skipped(frozen_redis, caplog):
    meeting = MeetingFactory()
    resident = Client()

    with caplog.at_level(logging.WARNING, logger="outreach.cache"):
        statuses = [resident.get(path).status_code for path in ["/en/meetings/"] * 3]
        statuses.append(resident.get(meeting.get_absolute_url()).status_code)

    assert statuses == [200, 200, 200, 200]
    waited = [r for r in caplog.records if "not answering" in r.getMessage()]
    assert len(waited) == 1, [r.getMessage() for r in caplog.records]
    assert "skipped for" in waited[0].getMessage()


def test_redis_clients_wait_briefly_and_never_retry(settings):
    options = settings.REDIS_CACHE_OPTIONS

    assert options["socket_timeout"] <= 0.5 and options["socket_connect_timeout"] <= 0.5
    assert options["retry"]._retries == 0


def test_one_redis_client_serves_every_cache_call(settings):
    """Django builds a new redis.Redis for every call; ours keeps one per server (profiled:
    building it cost about as much CPU as a cached page's round trip)."""
    from django.core.cache import caches

    with redis_server() as (port, _process):
        settings.CACHES = {
            "default": {
                "BACKEND": "outreach.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": settings.REDIS_CACHE_OPTIONS,
            }
        }
        cache = caches["default"]
        cache.set("a", 1)

        assert cache.get("a") == 1
        assert cache._cache.get_client() is cache._cache.get_client(write=True)
