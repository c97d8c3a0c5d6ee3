"""The RSVP rate limit: whose address counts, and that a cache outage never stops an RSVP."""

import time
from unittest import mock

import pytest
from django.test import RequestFactory

from meetings.models import Rsvp
from meetings.ratelimit import client_address, is_rate_limited
from tests.factories import MeetingFactory
from tests.meetings.test_views_rsvp import post_rsvp
from tests.servers import REDIS_SERVER, free_port, redis_server


def request(remote_addr, forwarded_for=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().post("/", REMOTE_ADDR=remote_addr, **headers)


def test_forwarded_for_is_ignored_when_not_behind_a_proxy(settings):
    settings.BEHIND_PROXY = False

    assert client_address(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_forwarded_for_from_a_client_that_is_not_our_proxy_is_ignored(settings):
    settings.BEHIND_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["192.0.2.1"]

    assert client_address(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_our_proxy_vouches_only_for_the_address_it_saw(settings):
    settings.BEHIND_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["192.0.2.1"]

    made_up = request("192.0.2.1", "203.0.113.1, 203.0.113.2, 198.51.100.7")

    assert client_address(made_up) == "198.51.100.7"


def test_a_chain_of_our_proxies_is_walked_back_to_the_client(settings):
    settings.BEHIND_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/8", "192.0.2.1"]

    chained = request("192.0.2.1", "203.0.113.1, 198.51.100.7, 10.1.2.3")

    assert client_address(chained) == "198.51.100.7"


@pytest.mark.django_db
def test_made_up_forwarded_for_sent_straight_to_the_app_gets_no_fresh_limit(client, settings):
    settings.RSVP_RATE_LIMIT = (2, 600)
    settings.BEHIND_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["192.0.2.1"]  # the proxy is elsewhere
    meeting = MeetingFactory()

    statuses = [
        post_rsvp(client, meeting, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]


@pytest.mark.django_db
def test_rsvp_goes_through_when_redis_cannot_be_reached(client, settings):
    settings.RSVP_RATE_LIMIT = (1, 600)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    meeting = MeetingFactory()

    started = time.monotonic()
    statuses = [post_rsvp(client, meeting).status_code for _ in range(3)]

    assert statuses == [302, 302, 302]
    assert time.monotonic() - started < 5


@pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server")
@pytest.mark.django_db
def test_rsvp_goes_through_after_redis_stops(client, settings):
    settings.RSVP_RATE_LIMIT = (1, 600)
    meeting = MeetingFactory()
    with redis_server() as (port, redis):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        limited = [post_rsvp(client, meeting).status_code for _ in range(2)]
        redis.kill()
        redis.wait()

        after = post_rsvp(client, meeting).status_code

    assert limited == [302, 429]
    assert after == 302


def test_nobody_is_limited_when_the_cache_is_down(settings, caplog):
    settings.RSVP_RATE_LIMIT = (1, 600)
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")

    with mock.patch("meetings.ratelimit.cache.add", side_effect=ConnectionError("refused")):
        limited = [is_rate_limited(request) for _ in range(5)]

    assert limited == [False] * 5
    assert "Rate limit cache unavailable: ConnectionError" in caplog.text
    assert "203.0.113.7" not in caplog.text


@pytest.mark.django_db
def test_rsvp_goes_through_when_the_cache_is_down(client, settings):
    settings.RSVP_RATE_LIMIT = (0, 600)  # would refuse everyone, if it could count
    meeting = MeetingFactory()

    with mock.patch("meetings.ratelimit.cache.incr", side_effect=ConnectionError("refused")):
        response = post_rsvp(client, meeting)

    assert response.status_code == 302
    assert Rsvp.objects.filter(meeting=meeting).count() == 1
