"""One build per entry and data version across concurrent requests, the previous copy served
meanwhile, a 304 answered without reading the body, and feeds sent gzip-compressed."""

import gzip
import threading
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import translation

from meetings import caching
from tests.factories import MeetingFactory
from tests.meetings.calendars import events_by_uid, feed_url, uid

PARTS = ("en", "/en/feeds/meetings.ics")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    caching.local_copies.clear()
    yield
    cache.clear()
    caching.local_copies.clear()


def test_concurrent_misses_build_once_and_all_get_that_build():
    builds, started, finish = [], threading.Event(), threading.Event()

    def build():
        builds.append(1)
        started.set()
        finish.wait(10)
        return {"body": b"the feed"}

    results = []

    def request():
        results.append(caching.cached("feed", PARTS, build, shows_seats=False))

    first = threading.Thread(target=request)
    first.start()
    started.wait(10)
    others = [threading.Thread(target=request) for _ in range(4)]
    for thread in others:
        thread.start()
    finish.set()
    for thread in [first, *others]:
        thread.join(20)

    assert len(builds) == 1
    assert [entry["body"] for entry in results] == [b"the feed"] * 5


def test_the_previous_copy_is_served_while_the_new_one_builds():
    caching.cached("feed", PARTS, lambda: {"body": b"before"}, shows_seats=False)
    caching.content_changed()  # a meeting changed: a new data version
    started, finish = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        finish.wait(10)
        return {"body": b"after"}

    builder = threading.Thread(
        target=caching.cached, args=("feed", PARTS, slow_build), kwargs={"shows_seats": False}
    )
    builder.start()
    started.wait(10)

    def must_not_build():
        raise AssertionError("a second build while one is under way")

    meanwhile = caching.cached("feed", PARTS, must_not_build, shows_seats=False)
    finish.set()
    builder.join(20)
    afterwards = caching.cached("feed", PARTS, must_not_build, shows_seats=False)

    assert (meanwhile["body"], afterwards["body"]) == (b"before", b"after")


def slow(body, seconds=0.06):
    def build():
        time.sleep(seconds)
        return {"body": body}

    return build


def must_not_build():
    raise AssertionError("built in the request")


def test_a_slow_entry_is_rebuilt_in_the_background_and_its_requester_is_not_held_up(
    monkeypatch,
):
    monkeypatch.setattr(caching, "BACKGROUND_BUILD_SECONDS", 0.05)
    caching.cached("feed", PARTS, slow(b"before"), shows_seats=False)  # took 0.06 s
    caching.content_changed()
    started, finish, seen = threading.Event(), threading.Event(), []

    def rebuild():
        seen.append(translation.get_language())
        started.set()
        finish.wait(10)
        return {"body": b"after"}

    with translation.override("es"):
        first = caching.cached("feed", PARTS, must_not_build, shows_seats=False, rebuild=rebuild)
    started.wait(10)
    meanwhile = caching.cached("feed", PARTS, must_not_build, shows_seats=False, rebuild=rebuild)
    finish.set()
    caching.wait_for_background_builds()
    afterwards = caching.cached("feed", PARTS, must_not_build, shows_seats=False, rebuild=rebuild)

    assert [first["body"], meanwhile["body"], afterwards["body"]] == [b"before"] * 2 + [b"after"]
    assert seen == ["es"]  # built once, in the language of the request that started it


def test_a_quick_entry_is_still_built_in_the_request_that_asks_first(monkeypatch):
    monkeypatch.setattr(caching, "BACKGROUND_BUILD_SECONDS", 0.05)
    caching.cached("feed", PARTS, lambda: {"body": b"before"}, shows_seats=False)
    caching.content_changed()

    entry = caching.cached(
        "feed", PARTS, lambda: {"body": b"after"}, shows_seats=False, rebuild=must_not_build
    )

    assert entry["body"] == b"after"


def test_a_failed_background_build_is_logged_and_the_next_request_tries_again(monkeypatch, caplog):
    monkeypatch.setattr(caching, "BACKGROUND_BUILD_SECONDS", 0.05)
    caching.cached("feed", PARTS, slow(b"before"), shows_seats=False)
    caching.content_changed()

    def broken():
        raise RuntimeError("the database went away")

    served = caching.cached("feed", PARTS, must_not_build, shows_seats=False, rebuild=broken)
    caching.wait_for_background_builds()
    again = caching.cached("feed", PARTS, must_not_build, shows_seats=False, rebuild=slow(b"after"))
    caching.wait_for_background_builds()
    fixed = caching.cached("feed", PARTS, must_not_build, shows_seats=False)

    assert (served["body"], again["body"], fixed["body"]) == (b"before", b"before", b"after")
    assert "Background build of a feed entry failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_slow_feed_after_a_change_is_sent_at_once_then_updated(client, monkeypatch):
    monkeypatch.setattr(caching, "BACKGROUND_BUILD_SECONDS", 0)  # every feed counts as slow
    meeting = MeetingFactory(title_en="Before")
    url = feed_url()
    first = client.get(url)
    meeting.title_en = "After"
    meeting.save()

    stale = client.get(url)
    caching.wait_for_background_builds()
    fresh = client.get(url)

    assert b"SUMMARY:Before" in first.content and stale.content == first.content
    assert stale["ETag"] == first["ETag"]  # the app will ask again, and then get the change
    assert b"SUMMARY:After" in fresh.content and fresh["ETag"] != first["ETag"]


@pytest.mark.django_db
def test_a_304_is_answered_without_reading_the_feeds_body(client, django_assert_num_queries):
    MeetingFactory.create_batch(3)
    etag = client.get(feed_url())["ETag"]
    caching.local_copies.clear()  # another process: only the shared cache holds the feed

    with (
        mock.patch.object(cache, "get", wraps=cache.get) as reads,
        django_assert_num_queries(0),
    ):
        response = client.get(feed_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    values = [cache.get(call.args[0]) for call in reads.call_args_list]
    assert not any(isinstance(value, dict) and "body" in value for value in values)


@pytest.mark.django_db
def test_feeds_are_sent_gzip_compressed_when_asked(client):
    meeting = MeetingFactory()
    plain = client.get(feed_url())

    compressed = client.get(feed_url(), HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")
    refused = client.get(feed_url(), HTTP_ACCEPT_ENCODING="gzip;q=0, identity")

    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert list(events_by_uid(gzip.decompress(compressed.content))) == [uid(meeting)]
    assert "Content-Encoding" not in refused and refused.content == plain.content
    assert "Accept-Encoding" in plain["Vary"] and "Accept-Encoding" in compressed["Vary"]
    # Two representations, two strong ETags; each revalidates as itself.
    assert compressed["ETag"] != plain["ETag"]
    again = client.get(
        feed_url(), HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=compressed["ETag"]
    )
    assert again.status_code == 304
    assert client.get(feed_url(), HTTP_IF_NONE_MATCH=compressed["ETag"]).status_code == 200
