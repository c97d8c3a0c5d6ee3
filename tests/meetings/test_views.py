import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from meetings.models import Meeting, Rsvp
from tests.factories import (
    MeetingFactory,
    MeetingSeriesFactory,
    RsvpFactory,
    VenueFactory,
)

pytestmark = pytest.mark.django_db


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def json_ld(response):
    match = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(match.group(1))


# Home and languages


def test_home_redirects_to_listing_in_english_by_default(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/en/meetings/"


def test_home_redirects_to_listing_in_accept_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")

    assert response["Location"] == "/es/meetings/"


def test_language_root_redirects_to_listing(client):
    response = client.get("/vi/")

    assert response.status_code == 302
    assert response["Location"] == "/vi/meetings/"


@pytest.mark.parametrize("language", ["en", "es", "vi"])
def test_listing_html_lang_matches_url_language(client, language):
    response = client.get(url("meetings:meeting-list", language))

    assert f'<html lang="{language}">' in response.content.decode()


def test_language_switcher_keeps_page_and_filters(client):
    response = client.get("/en/meetings/?language=es&q=chief")

    content = response.content.decode()
    assert 'href="/es/meetings/?language=es&amp;q=chief"' in content
    assert 'href="/vi/meetings/?language=es&amp;q=chief"' in content


def test_language_switcher_names_languages_in_their_own_language(client):
    content = client.get("/en/meetings/").content.decode()

    for name in ("English", "Español", "Tiếng Việt"):
        assert f">{name}</a>" in content


# Listing


def test_listing_shows_upcoming_published_meetings_soonest_first(client):
    now = timezone.now()
    later = MeetingFactory(title="Later", starts_at=now + dt.timedelta(days=3))
    sooner = MeetingFactory(title="Sooner", starts_at=now + dt.timedelta(days=1))
    MeetingFactory(title="Draft", status=Meeting.Status.DRAFT)
    MeetingFactory(title="Over", starts_at=now - dt.timedelta(days=2))

    response = client.get(url("meetings:meeting-list"))

    assert list(response.context["meetings"]) == [sooner, later]


def test_listing_groups_meetings_by_local_day(client):
    day = timezone.localdate() + dt.timedelta(days=5)
    tz = timezone.get_current_timezone()
    for hour in (10, 18):
        MeetingFactory(starts_at=dt.datetime.combine(day, dt.time(hour), tz))
    MeetingFactory(starts_at=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9), tz))

    content = client.get(url("meetings:meeting-list")).content.decode()

    assert content.count('<section class="day"') == 2


def test_listing_shows_local_date_and_time_in_spanish(client):
    MeetingFactory(
        starts_at=dt.datetime(2099, 2, 11, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6))),
        title_es="Reunión",
    )

    content = client.get(url("meetings:meeting-list", "es")).content.decode()

    assert "Miércoles, 11 de febrero de 2099" in content
    assert "6:30\u202fp.m." in content  # CLDR puts a narrow no-break space before p.m.


def test_listing_marks_cancelled_meetings(client):
    MeetingFactory(title="Called off", status=Meeting.Status.CANCELLED)

    content = client.get(url("meetings:meeting-list")).content.decode()

    assert "Called off" in content
    assert "This meeting is cancelled." in content


@pytest.mark.parametrize(
    "capacity, rsvp_enabled, taken, expected",
    [
        (10, True, 7, "3 seats left"),
        (10, True, 9, "1 seat left"),
        (4, True, 4, "Full: join the waitlist."),
        (None, False, 0, "No RSVP needed"),
    ],
)
def test_listing_shows_seat_availability(client, capacity, rsvp_enabled, taken, expected):
    meeting = MeetingFactory(capacity=capacity, rsvp_enabled=rsvp_enabled)
    if taken:
        RsvpFactory(meeting=meeting, party_size=taken)

    content = client.get(url("meetings:meeting-list")).content.decode()

    assert expected in content


def test_listing_filters_by_language(client):
    spanish = MeetingFactory(language="es")
    MeetingFactory(language="en")

    response = client.get(url("meetings:meeting-list"), {"language": "es"})

    assert list(response.context["meetings"]) == [spanish]


def test_listing_filters_by_area(client):
    oak_cliff = MeetingFactory(venue=VenueFactory(area="Oak Cliff"))
    MeetingFactory(venue=VenueFactory(area="Downtown"))

    response = client.get(url("meetings:meeting-list"), {"venue": "area:Oak Cliff"})

    assert list(response.context["meetings"]) == [oak_cliff]


def test_listing_filters_by_venue(client):
    meeting = MeetingFactory()
    MeetingFactory()

    response = client.get(url("meetings:meeting-list"), {"venue": f"venue:{meeting.venue.slug}"})

    assert list(response.context["meetings"]) == [meeting]


def test_listing_filters_by_date_range(client):
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    inside = MeetingFactory(
        starts_at=dt.datetime.combine(today + dt.timedelta(days=3), dt.time(18), tz)
    )
    MeetingFactory(starts_at=dt.datetime.combine(today + dt.timedelta(days=10), dt.time(18), tz))

    response = client.get(
        url("meetings:meeting-list"),
        {"date_from": str(today), "date_to": str(today + dt.timedelta(days=5))},
    )

    assert list(response.context["meetings"]) == [inside]


def test_listing_filters_by_text(client):
    meeting = MeetingFactory(title="Town hall with the chief")
    MeetingFactory(title="Bike safety")

    response = client.get(url("meetings:meeting-list"), {"q": "chief"})

    assert list(response.context["meetings"]) == [meeting]


def test_listing_empty_state_is_honest(client):
    content = client.get(url("meetings:meeting-list")).content.decode()

    assert "No meetings are scheduled right now." in content


def test_listing_paginates(client, settings):
    for _ in range(25):
        MeetingFactory()

    first = client.get(url("meetings:meeting-list"))
    second = client.get(url("meetings:meeting-list"), {"page": 2})

    assert len(first.context["meetings"]) == 20
    assert len(second.context["meetings"]) == 5
    assert "Page 1 of 2" in first.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2025-13-45"},
        {"date_from": "yesterday", "date_to": "\x00"},
        {"language": "klingon"},
        {"venue": "venue:nowhere"},
        {"q": "x" * 10_000},
        {"q": "nul\x00byte"},
        {"language": "es\x00"},
        {"page": "last-but-one"},
        {"page": "99999"},
        {"page": "-1"},
        {"date_from": "2025-02-20", "date_to": "2025-02-12"},
        {"unknown": "parameter"},
    ],
)
def test_listing_bad_query_parameters_never_fail(client, params):
    MeetingFactory()

    response = client.get(url("meetings:meeting-list"), params)

    assert response.status_code == 200


def test_listing_explains_a_malformed_date(client):
    response = client.get(url("meetings:meeting-list"), {"date_from": "12/02/2025x"})

    assert "Please enter a date such as 2025-02-12." in response.content.decode()


def test_listing_explains_an_overlong_search(client):
    response = client.get(url("meetings:meeting-list"), {"q": "x" * 10_000})

    assert "at most 100 characters" in response.content.decode()


def test_listing_query_count_does_not_grow_with_meetings(client, django_assert_num_queries):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("meetings:meeting-list")).status_code == 200
        return len(queries)

    venue = VenueFactory()
    for _ in range(5):
        RsvpFactory(meeting=MeetingFactory(venue=venue, capacity=50))
    small = count_queries()
    for _ in range(195):
        MeetingFactory(venue=VenueFactory(), capacity=50)

    assert count_queries() == small


def test_past_listing_shows_ended_meetings(client):
    ended = MeetingFactory(starts_at=timezone.now() - dt.timedelta(days=2))
    MeetingFactory()

    response = client.get(url("meetings:meeting-list-past"))

    assert list(response.context["meetings"]) == [ended]


# Detail


def test_detail_shows_everything_a_resident_needs(client):
    venue = VenueFactory(
        name="Bethel church",
        street_address="1 Main St",
        accessibility_notes_en="Ramp at the side door",
    )
    meeting = MeetingFactory(
        venue=venue,
        host="Interim Chief of Police",
        language="es",
        interpretation_languages=["en"],
        description="We will talk about 911.",
    )

    content = client.get(meeting.get_absolute_url()).content.decode()

    for text in (
        meeting.title,
        "Bethel church",
        "1 Main St, Dallas, TX 75201",
        "https://www.openstreetmap.org/search?query=",
        "Ramp at the side door",
        "Interim Chief of Police",
        "In Spanish",
        "Interpretation into English",
        "We will talk about 911.",
    ):
        assert text in content


def test_detail_has_canonical_and_hreflang_links(client):
    MeetingFactory(slug="town-hall")

    content = client.get(url("meetings:meeting-detail", "es", slug="town-hall")).content.decode()

    assert (
        '<link rel="canonical" href="https://outreach.example.org/es/meetings/town-hall/">'
        in content
    )
    for code in ("en", "es", "vi"):
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="https://outreach.example.org/{code}/meetings/town-hall/">' in content
        )


def test_detail_json_ld_describes_the_event(client):
    meeting = MeetingFactory(slug="town-hall", title="Town hall")

    data = json_ld(client.get(meeting.get_absolute_url()))

    assert data["@type"] == "Event"
    assert data["name"] == "Town hall"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["url"] == "https://outreach.example.org/en/meetings/town-hall/"
    assert data["startDate"] == meeting.local_starts_at.isoformat()


def test_detail_json_ld_marks_cancelled_event(client):
    meeting = MeetingFactory(status=Meeting.Status.CANCELLED)

    data = json_ld(client.get(meeting.get_absolute_url()))

    assert data["eventStatus"] == "https://schema.org/EventCancelled"


def test_detail_json_ld_cannot_break_out_of_its_script(client):
    meeting = MeetingFactory(title="</script><script>alert(1)</script>")

    content = client.get(meeting.get_absolute_url()).content.decode()

    assert "<script>alert(1)" not in content


def test_detail_of_cancelled_meeting_shows_note(client):
    meeting = MeetingFactory(status=Meeting.Status.CANCELLED, cancellation_note="Storm warning")

    content = client.get(meeting.get_absolute_url()).content.decode()

    assert "This meeting is cancelled." in content
    assert "Storm warning" in content


def test_detail_lists_other_dates_of_the_series(client):
    series = MeetingSeriesFactory()
    meeting = MeetingFactory(series=series)
    other = MeetingFactory(series=series, title="Second session")
    MeetingFactory(series=series, title="Hidden draft", status=Meeting.Status.DRAFT)

    response = client.get(meeting.get_absolute_url())

    assert list(response.context["series_meetings"]) == [other]


def test_detail_of_draft_is_not_found_for_the_public(client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)

    assert client.get(meeting.get_absolute_url()).status_code == 404


def test_detail_of_draft_is_previewed_by_staff(admin_client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)

    response = admin_client.get(meeting.get_absolute_url())

    assert response.status_code == 200
    assert "only staff can see this page" in response.content.decode()


def test_detail_query_count_does_not_grow_with_series(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    series = MeetingSeriesFactory()
    meeting = MeetingFactory(series=series, capacity=20)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(meeting.get_absolute_url()).status_code == 200
        return len(queries)

    for _ in range(4):
        RsvpFactory(meeting=MeetingFactory(series=series, venue=VenueFactory(), capacity=9))
    small = count_queries()
    for _ in range(195):
        MeetingFactory(series=series, venue=VenueFactory(), capacity=9)

    assert count_queries() == small


def test_unknown_meeting_gets_friendly_404(client):
    response = client.get("/es/meetings/no-such-meeting/")

    assert response.status_code == 404
    assert '<html lang="es">' in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/en/meetings/%00/",
        "/en/meetings/a%00b/",
        "/en/venues/%00/",
        "/en/series/" + "x" * 5000 + "/",
        "/xx/meetings/",
        "/en/meetings/%ff%fe/",
    ],
)
def test_odd_paths_are_not_found_never_an_error(client, path):
    assert client.get(path).status_code == 404


# Venue and series


def test_venue_page_lists_its_upcoming_meetings(client):
    venue = VenueFactory(name="Library")
    meeting = MeetingFactory(venue=venue)
    MeetingFactory(venue=venue, status=Meeting.Status.DRAFT)
    MeetingFactory()

    response = client.get(venue.get_absolute_url())

    assert list(response.context["upcoming_meetings"]) == [meeting]


def test_series_page_lists_its_meetings(client):
    series = MeetingSeriesFactory(title="February sessions")
    meeting = MeetingFactory(series=series)
    MeetingFactory()

    response = client.get(series.get_absolute_url())

    assert list(response.context["upcoming_meetings"]) == [meeting]
    assert "February sessions" in response.content.decode()


@pytest.mark.parametrize("name", ["venue-detail", "series-detail"])
def test_unknown_venue_or_series_is_not_found(client, name):
    assert client.get(url(f"meetings:{name}", slug="nowhere")).status_code == 404


def test_public_pages_load_nothing_from_third_parties(client):
    meeting = MeetingFactory(series=MeetingSeriesFactory())
    pages = [
        url("meetings:meeting-list"),
        url("meetings:meeting-list-past"),
        meeting.get_absolute_url(),
        meeting.venue.get_absolute_url(),
        meeting.series.get_absolute_url(),
    ]

    for page in pages:
        content = client.get(page).content.decode()
        # Everything a browser fetches by itself: scripts, images, frames, styles, icons,
        # and the links in <head> (alternates, feeds) that readers and crawlers follow.
        sources = re.findall(
            r'<(?:script|img|iframe|link|source|video|audio|embed)\b[^>]*?\s(?:src|href)="([^"]+)"',
            content,
        )
        assert sources, page  # the pattern finds the page's own stylesheet at least
        external = [
            source
            for source in sources
            if source.startswith(("http:", "https:", "//"))
            and not source.startswith("https://outreach.example.org/")
        ]
        assert external == [], page


def test_healthz_answers_ok(client):
    assert client.get("/healthz").content == b"ok"


def test_rsvp_counts_ignore_cancelled(client):
    meeting = MeetingFactory(capacity=5)
    RsvpFactory(meeting=meeting, party_size=5, status=Rsvp.Status.CANCELLED)

    assert "5 seats left" in client.get(meeting.get_absolute_url()).content.decode()


# Phones first, contact, security headers


def test_listing_drops_empty_filters_from_the_address(client):
    response = client.get(
        url("meetings:meeting-list"),
        {"q": "", "language": "vi", "venue": "", "date_from": "", "date_to": " "},
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/meetings/?language=vi"


def test_listing_with_only_empty_filters_goes_to_the_plain_listing(client):
    response = client.get(url("meetings:meeting-list"), {"q": "", "language": ""})

    assert response["Location"] == "/en/meetings/"


def test_listing_filters_are_folded_away_until_one_is_set(client):
    closed = client.get(url("meetings:meeting-list")).content.decode()
    opened = client.get(url("meetings:meeting-list"), {"language": "es"}).content.decode()

    assert '<details class="filters-panel" data-open-wide>' in closed
    assert '<details class="filters-panel" data-open-wide open>' in opened


def test_filter_error_is_pointed_at_by_its_field(client):
    response = client.get(url("meetings:meeting-list"), {"date_from": "soon"})

    content = response.content.decode()
    assert 'aria-describedby="id_date_from_error"' in content
    assert 'id="id_date_from_error"' in content


@pytest.mark.parametrize(
    ("capacity", "taken", "button", "submit"),
    [(10, 0, "Tell us you are coming", "Send my RSVP"), (2, 2, "Join the waitlist", None)],
)
def test_meeting_page_offers_a_button_to_the_form_near_the_top(
    client, capacity, taken, button, submit
):
    meeting = MeetingFactory(capacity=capacity)
    if taken:
        RsvpFactory(meeting=meeting, party_size=taken)

    content = client.get(meeting.get_absolute_url()).content.decode()

    jump = content.index(f'<a class="button" href="#rsvp">{button}</a>')
    assert jump < content.index('<dl class="facts">')
    assert f'<button type="submit">{submit or button}</button>' in content


def test_nav_marks_the_current_page(client):
    content = client.get(url("meetings:meeting-list-past")).content.decode()

    assert 'href="/en/meetings/past/" aria-current="page"' in content
    assert 'href="/en/meetings/" aria-current' not in content


def test_every_page_shows_who_to_call_and_the_privacy_page(client, settings):
    settings.DEPARTMENT_PHONE = "(555) 010-0100"
    settings.DEPARTMENT_EMAIL = "outreach@example.org"
    meeting = MeetingFactory()

    for path in [url("meetings:meeting-list"), meeting.get_absolute_url(), "/en/nowhere/"]:
        content = client.get(path).content.decode()
        assert '<a href="tel:5550100100">(555) 010-0100</a>' in content, path
        assert 'href="mailto:outreach@example.org"' in content, path
        assert f'href="{url("meetings:privacy")}"' in content, path


def test_contact_is_in_the_page_language(client, settings):
    settings.DEPARTMENT_PHONE = "311"

    content = client.get(url("meetings:meeting-list", "es")).content.decode()

    assert 'Llame al equipo de Acercamiento Comunitario al <a href="tel:311">311</a>.' in content


def test_every_response_has_a_strict_content_security_policy(client, admin_client):
    meeting = MeetingFactory()

    for response in [
        client.get(url("meetings:meeting-list")),
        client.get(meeting.get_absolute_url()),
        client.get("/en/nowhere/"),
        admin_client.get("/admin/meetings/meeting/"),
        admin_client.get(f"/admin/meetings/meeting/{meeting.pk}/change/"),
    ]:
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert policy["frame-ancestors"] == "'none'"


def test_favicon_is_served_from_the_site(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("policia", "Reunión con la policía"),
        ("POLICÍA", "Reunión con la policía"),
        ("canh sat", "Gặp gỡ Cảnh sát khu phố"),
        ("CẢNH SÁT", "Gặp gỡ Cảnh sát khu phố"),
        ("dia", "Gặp gỡ Địa phương"),
        ("OAK CLIFF", "Coffee in Oak Cliff"),
    ],
)
def test_search_ignores_case_accents_and_tone_marks(client, typed, title):
    MeetingFactory(title=title)
    MeetingFactory(title="Something else entirely")

    response = client.get(url("meetings:meeting-list"), {"q": typed})

    assert [meeting.title for meeting in response.context["meetings"]] == [title]


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("name", ["venue-detail", "series-detail"])
def test_venue_and_series_pages_query_count_does_not_grow(
    client, django_assert_num_queries, name, count
):
    venue, series = VenueFactory(), MeetingSeriesFactory()
    now = timezone.now()
    for number in range(count):
        MeetingFactory(venue=venue, series=series, capacity=10)
        MeetingFactory(
            venue=venue,
            series=series,
            starts_at=now - dt.timedelta(days=number + 2),
            ends_at=now - dt.timedelta(days=number + 2) + dt.timedelta(hours=1),
        )
    slug = venue.slug if name == "venue-detail" else series.slug

    # The page's object, its upcoming meetings, its past meetings.
    with django_assert_num_queries(3):
        response = client.get(url(f"meetings:{name}", slug=slug))

    assert len(response.context["upcoming_meetings"]) == count
    assert len(response.context["past_meetings"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_listing_query_count_is_flat_at_one_and_three_meetings(
    client, django_assert_num_queries, count
):
    for _ in range(count):
        RsvpFactory(meeting=MeetingFactory(venue=VenueFactory(), capacity=50))

    # The venues of the filter, the count for the pages, the meetings with their seats.
    with django_assert_num_queries(3):
        response = client.get(url("meetings:meeting-list"))

    assert len(response.context["meetings"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_meeting_page_query_count_is_flat_at_one_and_three_series_dates(
    client, django_assert_num_queries, count
):
    series = MeetingSeriesFactory()
    meeting = MeetingFactory(series=series, capacity=50)
    for _ in range(count):
        RsvpFactory(meeting=MeetingFactory(series=series, capacity=50))

    # The meeting with its seats, then the next dates of its series with theirs.
    with django_assert_num_queries(2):
        response = client.get(meeting.get_absolute_url())

    assert len(response.context["series_meetings"]) == count


def test_meeting_page_shows_the_next_five_dates_and_links_to_the_series(client):
    series = MeetingSeriesFactory(title="Coffee with a cop")
    now = timezone.now()
    meeting = MeetingFactory(series=series)
    MeetingFactory(
        series=series,
        title="Already held",
        starts_at=now - dt.timedelta(days=3),
        ends_at=now - dt.timedelta(days=3) + dt.timedelta(hours=1),
    )
    later = [
        MeetingFactory(
            series=series,
            starts_at=now + dt.timedelta(days=10 + week * 7),
            ends_at=now + dt.timedelta(days=10 + week * 7, hours=1),
        )
        for week in range(7)
    ]

    response = client.get(meeting.get_absolute_url())

    assert list(response.context["series_meetings"]) == later[:5]
    content = response.content.decode()
    assert "Already held" not in content
    assert f'<a href="{series.get_absolute_url()}">All dates of Coffee with a cop</a>' in content
