"""Pages and feeds come from the cache, and show every change within the stated freshness."""

import re
import time
import uuid

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from meetings import caching
from meetings.models import Meeting, Rsvp
from meetings.services import cancel_rsvp, create_rsvp, save_meeting
from meetings.tokens import read_form_token
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def form_token(response):
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def csrf_input(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())


@pytest.fixture
def clock():
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


# Built once


def test_listing_is_served_from_the_cache_without_a_query(client, django_assert_num_queries):
    MeetingFactory(title="Town hall")
    client.get(url("meetings:meeting-list"))

    with django_assert_num_queries(0):
        response = client.get(url("meetings:meeting-list"))

    assert "Town hall" in response.content.decode()


def test_cached_meeting_page_gives_each_visitor_a_new_form_key(client, django_assert_num_queries):
    meeting = MeetingFactory(capacity=10)
    first = client.get(meeting.get_absolute_url())

    with django_assert_num_queries(0):
        second = client.get(meeting.get_absolute_url())

    assert form_token(first) != form_token(second)
    assert read_form_token(form_token(second))[1] == meeting.pk
    assert "outreach" not in form_token(second).lower()


def test_cached_meeting_page_carries_the_visitors_csrf_token_and_stays_private(client):
    meeting = MeetingFactory(capacity=10)
    client.get(meeting.get_absolute_url())

    response = client.get(meeting.get_absolute_url())

    assert csrf_input(response) is not None
    assert "Marker" not in response.content.decode()
    assert "csrftoken" in response.cookies
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_cached_meeting_page_form_is_accepted(client, settings):
    settings.RSVP_MIN_FILL_SECONDS = 0
    meeting = MeetingFactory(capacity=10)
    client.get(meeting.get_absolute_url())
    page = client.get(meeting.get_absolute_url())

    response = client.post(
        url("meetings:rsvp-create", slug=meeting.slug),
        {"form_token": form_token(page), "party_size": 2, "language": "en"},
    )

    assert response.status_code == 302
    assert meeting.rsvps.get().party_size == 2


def test_staff_see_drafts_and_never_a_cached_page(client):
    meeting = MeetingFactory(title="Public title")
    client.get(meeting.get_absolute_url())
    meeting.status = Meeting.Status.DRAFT
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.DRAFT)  # no signal
    staff = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)

    content = client.get(meeting.get_absolute_url()).content.decode()

    assert "Draft: only staff can see this page" in content


# Fresh after every change


def test_listing_and_meeting_page_show_a_staff_edit_at_once(client):
    meeting = MeetingFactory(title="Town hall")
    client.get(url("meetings:meeting-list"))
    client.get(meeting.get_absolute_url())

    meeting.title = "Coffee with the chief"
    save_meeting(meeting=meeting)

    assert "Coffee with the chief" in client.get(url("meetings:meeting-list")).content.decode()
    assert "Coffee with the chief" in client.get(meeting.get_absolute_url()).content.decode()


def test_spanish_pages_show_a_new_translation_at_once(client):
    meeting = MeetingFactory(title_en="Town hall", title_es="")
    client.get(meeting.get_absolute_url().replace("/en/", "/es/"))

    meeting.title_es = "Reunión comunitaria"
    save_meeting(meeting=meeting)

    with translation.override("es"):
        address = meeting.get_absolute_url()
    assert "Reunión comunitaria" in client.get(address).content.decode()


def test_venue_edit_shows_on_the_meeting_page(client):
    meeting = MeetingFactory(venue=VenueFactory(name="Old library"))
    client.get(meeting.get_absolute_url())

    meeting.venue.name = "New library"
    meeting.venue.save()

    assert "New library" in client.get(meeting.get_absolute_url()).content.decode()


# Every save and delete of what pages show, for each model: (page, change, shown, gone).


def meeting_saved():
    meeting = MeetingFactory(title="Town hall")

    def change():
        meeting.title = "Coffee with the chief"
        meeting.save()

    return url("meetings:meeting-list"), change, "Coffee with the chief", "Town hall"


def meeting_deleted():
    MeetingFactory(title="Coffee with the chief")
    gone = MeetingFactory(title="Town hall")
    return url("meetings:meeting-list"), gone.delete, "Coffee with the chief", "Town hall"


def series_saved():
    meeting = MeetingFactory(title="Town hall", series=MeetingSeriesFactory(title="Old talks"))

    def change():
        meeting.series.title = "Neighbourhood talks"
        meeting.series.save()

    return meeting.get_absolute_url(), change, "Neighbourhood talks", "Old talks"


def series_deleted():
    meeting = MeetingFactory(title="Town hall", series=MeetingSeriesFactory(title="Old talks"))
    # The meeting stays (its series is set to none by a bulk update, which sends no signal).
    return meeting.get_absolute_url(), meeting.series.delete, "Town hall", "Old talks"


def venue_saved():
    meeting = MeetingFactory(venue=VenueFactory(name="Old library"))

    def change():
        meeting.venue.name = "New library"
        meeting.venue.save()

    return url("meetings:meeting-list"), change, "New library", "Old library"


def venue_deleted():
    MeetingFactory(venue=VenueFactory(name="New library"))
    empty = VenueFactory(name="Old library")  # offered in the listing's venue filter
    return url("meetings:meeting-list"), empty.delete, "New library", "Old library"


@pytest.mark.parametrize(
    "case",
    [meeting_saved, meeting_deleted, series_saved, series_deleted, venue_saved, venue_deleted],
)
def test_every_save_and_delete_of_what_pages_show_is_shown_at_once(client, case):
    address, change, shown, gone = case()
    before = client.get(address).content.decode()
    assert gone in before

    change()

    response = client.get(address)
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert gone not in response.content.decode()


def test_a_page_built_while_a_change_commits_is_not_kept_past_the_commit(
    client, django_capture_on_commit_callbacks
):
    """The version moves with the change and again at its commit: a page another request
    built in between, from the rows as they were before the commit, is not served after it."""
    meeting = MeetingFactory(title="Town hall")
    client.get(url("meetings:meeting-list"))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        meeting.title = "Coffee with the chief"
        save_meeting(meeting=meeting)  # the first move
        # Another request, which still sees the committed rows, builds the listing now.
        Meeting.objects.filter(pk=meeting.pk).update(title="Town hall")  # no signal
        assert "Town hall" in client.get(url("meetings:meeting-list")).content.decode()
        Meeting.objects.filter(pk=meeting.pk).update(title="Coffee with the chief")

    content = client.get(url("meetings:meeting-list")).content.decode()
    assert "Coffee with the chief" in content
    assert "Town hall" not in content


def test_a_new_release_never_serves_the_html_the_old_one_built(client, settings):
    meeting = MeetingFactory(title="Town hall")
    client.get(meeting.get_absolute_url())
    # What a deploy changes (templates, translations, code) moves no data version.
    Meeting.objects.filter(pk=meeting.pk).update(title="Coffee with the chief")  # no signal
    assert "Town hall" in client.get(meeting.get_absolute_url()).content.decode()

    settings.RELEASE = "next-release"

    assert "Coffee with the chief" in client.get(meeting.get_absolute_url()).content.decode()


def site(settings, name):
    """Switch to site `name`: another CACHE_KEY_PREFIX on the same shared cache (the local
    memory cache with one LOCATION is shared by every cache object, as Redis is)."""
    settings.CACHE_KEY_PREFIX = name
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shared",
            "KEY_PREFIX": name,
        }
    }


def test_two_sites_sharing_one_cache_never_see_each_others_pages_and_feeds(client, settings):
    site(settings, "a.example.org")
    meeting = MeetingFactory(title="Town hall", series=MeetingSeriesFactory())
    addresses = [
        url("meetings:meeting-list"),
        meeting.get_absolute_url(),
        meeting.venue.get_absolute_url(),
        meeting.series.get_absolute_url(),
        url("meetings:feed-all"),
        url("meetings:feed-atom"),
        url("meetings:meeting-ics", slug=meeting.slug),
    ]
    for address in addresses:
        assert b"Town hall" in client.get(address).content, address
    # Site B's database: the same rows, another title (written without a signal, as another
    # site's database would be, so no version moves).
    Meeting.objects.filter(pk=meeting.pk).update(title="Coffee with the chief")

    site(settings, "b.example.org")

    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        assert b"Coffee with the chief" in response.content, address
        assert b"Town hall" not in response.content, address


def test_an_rsvp_to_one_site_for_a_meeting_of_another_is_not_found(client, settings):
    settings.RSVP_MIN_FILL_SECONDS = 0
    site(settings, "a.example.org")
    meeting = MeetingFactory(capacity=10)
    page = client.get(meeting.get_absolute_url())
    address = url("meetings:rsvp-create", slug=meeting.slug)
    rsvp = {"form_token": form_token(page), "party_size": 1, "language": "en"}
    assert client.post(address, rsvp).status_code == 302  # site A keeps the meeting it read
    # Site B's database has no such meeting (removed without a signal, as another site's
    # database simply would not have it).
    meeting.rsvps.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM meetings_meeting WHERE id = %s", [meeting.pk])

    site(settings, "b.example.org")
    response = client.post(address, rsvp)

    assert response.status_code == 404
    assert not Rsvp.objects.exists()


def seats_shown(client, meeting):
    pages = [client.get(url("meetings:meeting-list")), client.get(meeting.get_absolute_url())]
    return [re.findall(r"(\d+) seats? left", page.content.decode())[0] for page in pages]


def test_rsvp_and_cancel_show_in_seats_left_within_the_freshness_window(client, settings, clock):
    settings.SEATS_FRESH_SECONDS = 5
    meeting = MeetingFactory(capacity=10)
    assert seats_shown(client, meeting) == ["10", "10"]

    result = create_rsvp(meeting=meeting, party_size=3, language="en")
    clock.shift(4)
    assert seats_shown(client, meeting) == ["10", "10"]  # kept at most 5 seconds
    clock.shift(1)
    assert seats_shown(client, meeting) == ["7", "7"]

    cancel_rsvp(rsvp=result.rsvp)
    clock.shift(5)
    assert seats_shown(client, meeting) == ["10", "10"]


def test_promotion_from_the_waitlist_shows_within_the_freshness_window(client, settings, clock):
    settings.SEATS_FRESH_SECONDS = 5
    meeting = MeetingFactory(capacity=2)
    first = create_rsvp(meeting=meeting, party_size=2, language="en")
    create_rsvp(meeting=meeting, party_size=1, language="en")  # waitlisted
    assert "Full: join the waitlist." in client.get(meeting.get_absolute_url()).content.decode()

    cancel_rsvp(rsvp=first.rsvp)
    clock.shift(5)

    assert "1 seat left" in client.get(meeting.get_absolute_url()).content.decode()


def test_seats_are_shown_at_once_with_no_freshness_window(client, settings):
    settings.SEATS_FRESH_SECONDS = 0
    meeting = MeetingFactory(capacity=10)
    client.get(meeting.get_absolute_url())

    RsvpFactory(meeting=meeting, party_size=4)

    assert "6 seats left" in client.get(meeting.get_absolute_url()).content.decode()


def test_changed_feed_is_never_answered_with_304(client):
    meeting = MeetingFactory(title="Town hall")
    first = client.get(url("meetings:feed-all"))

    meeting.title = "Coffee with the chief"
    save_meeting(meeting=meeting)
    response = client.get(url("meetings:feed-all"), HTTP_IF_NONE_MATCH=first["ETag"])

    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]
    assert b"Coffee with the chief" in response.content


def test_unchanged_feed_is_answered_with_304_after_an_rsvp(client):
    meeting = MeetingFactory(capacity=10)
    etag = client.get(url("meetings:feed-all"))["ETag"]

    create_rsvp(meeting=meeting, party_size=1, language="en")

    assert client.get(url("meetings:feed-all"), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_304_on_a_cache_miss_is_answered_from_the_fingerprint_before_building(
    client, settings, django_assert_num_queries
):
    MeetingFactory(title="Town hall")
    etag = client.get(url("meetings:feed-all"))["ETag"]
    settings.RELEASE = "next-release"  # a deploy: nothing of the old release is used

    with django_assert_num_queries(1):  # the fingerprint; the feed is not built
        response = client.get(url("meetings:feed-all"), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert (response["ETag"], response.content) == (etag, b"")
    assert "max-age=900" in response["Cache-Control"]
    # Nothing was kept from the 304: the next plain request builds and keeps the feed.
    assert b"Town hall" in client.get(url("meetings:feed-all")).content


def test_atom_feed_shows_a_newly_published_meeting(client):
    MeetingFactory(title="First meeting")
    client.get(url("meetings:feed-atom"))

    MeetingFactory(title="Second meeting")

    assert b"Second meeting" in client.get(url("meetings:feed-atom")).content


def test_series_feed_of_unknown_series_is_not_found_twice(client):
    assert client.get(url("meetings:feed-series", slug="nothing")).status_code == 404
    assert client.get(url("meetings:feed-series", slug="nothing")).status_code == 404


def test_page_with_a_message_is_not_kept(client, settings):
    settings.RSVP_MIN_FILL_SECONDS = 0
    meeting = MeetingFactory(capacity=10)
    page = client.get(meeting.get_absolute_url())
    client.post(
        url("meetings:rsvp-create", slug=meeting.slug),
        {"form_token": form_token(page), "party_size": 1, "language": "en"},
    )

    # The thank-you message shows on the next page, and only there.
    with_message = client.get(url("meetings:meeting-list")).content.decode()
    after = client.get(url("meetings:meeting-list")).content.decode()

    assert "Thank you. Your RSVP is saved." in with_message
    assert "Thank you. Your RSVP is saved." not in after


def test_version_lost_from_the_cache_starts_again_elsewhere(settings):
    first = caching.data_version()
    caching.content_changed()

    cache.delete(caching.VERSION_KEY)

    assert caching.data_version() not in (first, first + 1)


# The cache down


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


def test_pages_and_feeds_render_when_the_cache_is_down(client, cache_down):
    meeting = MeetingFactory(title="Town hall", series=MeetingSeriesFactory())

    for address in [
        url("meetings:meeting-list"),
        meeting.get_absolute_url(),
        meeting.series.get_absolute_url(),
        url("meetings:feed-all"),
        url("meetings:feed-atom"),
    ]:
        response = client.get(address)
        assert response.status_code == 200, address
    assert "Town hall" in client.get(meeting.get_absolute_url()).content.decode()


def test_rsvp_is_saved_when_the_cache_is_down(cache_down):
    meeting = MeetingFactory(capacity=10)

    create_rsvp(meeting=meeting, party_size=2, language="en", submission_key=uuid.uuid4())

    assert meeting.rsvps.count() == 1


def test_query_string_of_one_visitor_never_reaches_anothers_page(client):
    meeting = MeetingFactory()
    client.get(meeting.get_absolute_url() + "?planted=yes")

    response = client.get(meeting.get_absolute_url())

    assert response.status_code == 200
    assert meeting.title in response.content.decode()
    assert "planted" not in response.content.decode()


def test_filtered_listing_is_kept_apart_from_the_unfiltered_one(client):
    MeetingFactory(title="Town hall", language="es")
    MeetingFactory(title="Coffee with the chief", language="en")
    client.get(url("meetings:meeting-list"))

    content = client.get(url("meetings:meeting-list") + "?language=es").content.decode()

    assert "Town hall" in content
    assert "Coffee with the chief" not in content
