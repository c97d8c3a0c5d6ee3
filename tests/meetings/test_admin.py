import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Rsvp
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db


def test_admin_is_titled_for_the_outreach_site(admin_client):
    content = admin_client.get(reverse("admin:index")).content.decode()

    assert "Police Community Outreach: staff" in content
    assert "Django administration" not in content


def test_meeting_list_shows_seats_taken_of_capacity_and_waitlist(admin_client):
    meeting = MeetingFactory(title="Town hall", capacity=10)
    RsvpFactory(meeting=meeting, party_size=4)
    RsvpFactory(meeting=meeting, party_size=3)
    RsvpFactory(meeting=meeting, party_size=5, status=Rsvp.Status.WAITLISTED)

    content = admin_client.get(reverse("admin:meetings_meeting_changelist")).content.decode()

    assert "7 / 10" in content
    assert '<td class="field-waitlist">1</td>' in content


def test_meeting_list_shows_local_start_time(admin_client):
    meeting = MeetingFactory()

    content = admin_client.get(reverse("admin:meetings_meeting_changelist")).content.decode()

    assert meeting.local_starts_at.strftime("%Y-%m-%d %H:%M") in content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "published"}, ["Old hall", "Town hall"]),
        ({"status__exact": "draft"}, ["Coffee"]),
        ({"when": "upcoming"}, ["Coffee", "Town hall"]),
        ({"when": "past"}, ["Old hall"]),
        ({"q": "hall"}, ["Old hall", "Town hall"]),
    ],
)
def test_meeting_list_filters_and_search_keep_the_right_meetings(admin_client, params, expected):
    MeetingFactory(title="Town hall", series=MeetingSeriesFactory())
    MeetingFactory(title="Coffee", status=Meeting.Status.DRAFT, published_at=None)
    ended = timezone.now() - dt.timedelta(days=3)
    MeetingFactory(title="Old hall", starts_at=ended - dt.timedelta(hours=1), ends_at=ended)

    response = admin_client.get(reverse("admin:meetings_meeting_changelist"), params)

    assert sorted(m.title for m in response.context["cl"].result_list) == expected


def test_meeting_list_query_count_does_not_grow(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(reverse("admin:meetings_meeting_changelist"))
        return len(queries)

    for _ in range(5):
        MeetingFactory(capacity=5)
    small = count_queries()
    for _ in range(45):
        MeetingFactory(capacity=5, venue=VenueFactory())

    assert count_queries() == small


def test_publish_action_publishes_drafts(admin_client):
    draft = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    admin_client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "publish_meetings", "_selected_action": [draft.pk]},
    )

    draft.refresh_from_db()
    assert draft.status == Meeting.Status.PUBLISHED
    assert draft.published_at is not None


def test_cancel_action_cancels_and_raises_sequence(admin_client):
    meeting = MeetingFactory()

    admin_client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "cancel_meetings", "_selected_action": [meeting.pk]},
    )

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.sequence == 1


def test_meeting_change_page_shows_its_rsvps(admin_client):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, first_name="Rosa", needs_childcare=True)

    content = admin_client.get(
        reverse("admin:meetings_meeting_change", args=[meeting.pk])
    ).content.decode()

    assert "Rosa" in content
    assert "childcare" in content


def test_meeting_change_page_has_a_tab_per_language(admin_client):
    meeting = MeetingFactory()

    content = admin_client.get(
        reverse("admin:meetings_meeting_change", args=[meeting.pk])
    ).content.decode()

    for code in ("en", "es", "vi"):
        assert f'name="title_{code}"' in content


@pytest.mark.parametrize(
    "name", ["meetings_meeting_add", "meetings_venue_add", "meetings_meetingseries_add"]
)
def test_admin_pages_load_nothing_from_third_parties(admin_client, name):
    content = admin_client.get(reverse(f"admin:{name}")).content.decode()

    sources = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', content)
    assert sources == []


def test_staff_can_add_a_meeting(admin_client):
    venue = VenueFactory()

    response = admin_client.post(
        reverse("admin:meetings_meeting_add"),
        {
            "title_en": "Town hall",
            "slug": "town-hall",
            "status": "published",
            "venue": venue.pk,
            "starts_at_0": "2099-02-12",
            "starts_at_1": "18:30",
            "ends_at_0": "2099-02-12",
            "ends_at_1": "20:00",
            "language": "es",
            "interpretation_languages": ["en", "vi"],
            "rsvp_enabled": "on",
            "capacity": "40",
            "rsvps-TOTAL_FORMS": "0",
            "rsvps-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    meeting = Meeting.objects.get(slug="town-hall")
    assert meeting.interpretation_languages == ["en", "vi"]
    assert meeting.published_at is not None
    assert meeting.local_starts_at.hour == 18


def test_staff_get_a_clear_error_for_a_meeting_ending_before_it_starts(admin_client):
    venue = VenueFactory()

    response = admin_client.post(
        reverse("admin:meetings_meeting_add"),
        {
            "title_en": "Town hall",
            "slug": "town-hall",
            "status": "draft",
            "venue": venue.pk,
            "starts_at_0": "2099-02-12",
            "starts_at_1": "18:30",
            "ends_at_0": "2099-02-12",
            "ends_at_1": "17:00",
            "language": "en",
            "rsvps-TOTAL_FORMS": "0",
            "rsvps-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "The meeting must end after it starts." in response.content.decode()
    assert not Meeting.objects.exists()


def test_meeting_form_names_every_date_and_time_input(admin_client):
    meeting = MeetingFactory()

    content = admin_client.get(f"/admin/meetings/meeting/{meeting.pk}/change/").content.decode()

    assert 'aria-label="Starts at: date"' in content
    assert 'aria-label="Starts at: time"' in content
    assert 'aria-label="Ends at: date"' in content


def test_admin_pages_load_the_accessibility_fixes_for_translation_tabs(admin_client):
    content = admin_client.get("/admin/meetings/meeting/add/").content.decode()

    assert (
        'name="outreach:language-switch-label" content="Language of the translated fields"'
        in content
    )
    assert "admin_outreach/admin.js" in content
    assert "admin_outreach/admin.css" in content


def test_rsvp_list_filtered_to_a_meeting_names_it_and_drops_its_column(admin_client):
    meeting = MeetingFactory(title="Town hall")
    RsvpFactory(meeting=meeting)

    response = admin_client.get("/admin/meetings/rsvp/", {"meeting__id__exact": meeting.pk})

    content = response.content.decode()
    assert "<h1>RSVPs for Town hall</h1>" in content
    assert "column-meeting" not in content
    assert "column-party_size" in content


def test_admin_pages_leave_the_width_to_the_lists(admin_client):
    content = admin_client.get("/admin/meetings/meeting/").content.decode()

    assert 'id="nav-sidebar"' not in content


def move_second_form(second, series, **changes):
    """The change form of `second` as staff send it, 19:00-20:30 at its venue, plus `changes`."""
    day = second.local_starts_at.date().isoformat()
    data = {
        "title_en": second.title_en,
        "slug": second.slug,
        "series": series.pk,
        "status": "published",
        "venue": second.venue_id,
        "starts_at_0": day,
        "starts_at_1": "19:00",
        "ends_at_0": day,
        "ends_at_1": "20:30",
        "language": "es",
        "rsvp_enabled": "on",
        "capacity": "40",
        "rsvps-TOTAL_FORMS": "0",
        "rsvps-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def three_weekly_meetings_with_an_rsvp_each():
    series = MeetingSeriesFactory()
    venue = VenueFactory()
    start = dt.datetime(2027, 1, 6, 0, 30, tzinfo=dt.UTC)
    meetings = [
        MeetingFactory(
            series=series,
            venue=venue,
            starts_at=start + dt.timedelta(weeks=n),
            ends_at=start + dt.timedelta(weeks=n, hours=1),
        )
        for n in range(3)
    ]
    for meeting in meetings:
        RsvpFactory(meeting=meeting, email=f"p{meeting.pk}@example.org")
    return series, venue, meetings


def test_moving_this_and_later_meetings_says_how_many_moved_and_how_many_are_emailed(
    admin_client, django_capture_on_commit_callbacks, send_queued_mail
):
    series, venue, meetings = three_weekly_meetings_with_an_rsvp_each()
    second = meetings[1]
    new_venue = VenueFactory()
    data = move_second_form(second, series, venue=new_venue.pk, apply_to_later="on")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:meetings_meeting_change", args=[second.pk]), data, follow=True
        )

    assert response.status_code == 200
    said = [str(message) for message in response.context["messages"]]
    assert "Moved 1 later meeting of the series too." in said
    assert "Emailing 2 RSVPs about the change." in said
    moved = {m.pk: m for m in Meeting.objects.all()}
    assert moved[meetings[0].pk].venue == venue
    for meeting in meetings[1:]:
        assert moved[meeting.pk].venue == new_venue
        assert moved[meeting.pk].local_starts_at.strftime("%H:%M") == "19:00"
    send_queued_mail()
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == sorted(f"p{m.pk}@example.org" for m in meetings[1:])


def test_without_the_box_only_this_meeting_moves(admin_client, send_queued_mail):
    series, venue, meetings = three_weekly_meetings_with_an_rsvp_each()
    second, third = meetings[1], meetings[2]
    data = move_second_form(second, series, venue=VenueFactory().pk)

    response = admin_client.post(
        reverse("admin:meetings_meeting_change", args=[second.pk]), data, follow=True
    )

    said = [str(message) for message in response.context["messages"]]
    assert "Emailing 1 RSVP about the change." in said
    assert not any(message.startswith("Moved") for message in said)
    third.refresh_from_db()
    assert (third.venue, third.starts_at) == (venue, meetings[2].starts_at)
    assert [message.to for message in send_queued_mail()] == [[f"p{second.pk}@example.org"]]
