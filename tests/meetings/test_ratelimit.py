"""The per-client limit on RSVP posts: what happens when its cache is unreachable."""

from unittest import mock

import pytest
from django.test import RequestFactory

from meetings.models import Rsvp
from meetings.ratelimit import is_rate_limited
from tests.factories import MeetingFactory
from tests.meetings.test_views_rsvp import post_rsvp


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
