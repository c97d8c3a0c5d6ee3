import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Rsvp
from meetings.services import create_rsvp
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db


def change_url(meeting):
    return reverse("admin:meetings_meeting_change", args=[meeting.pk])


def meeting_form_data(meeting, **overrides):
    """What the meeting's change form posts back unchanged."""
    local_start, local_end = meeting.local_starts_at, meeting.local_ends_at
    data = {
        "title_en": meeting.title_en,
        "slug": meeting.slug,
        "status": meeting.status,
        "summary_en": meeting.summary_en or "",
        "venue": meeting.venue_id,
        "starts_at_0": local_start.strftime("%Y-%m-%d"),
        "starts_at_1": local_start.strftime("%H:%M:%S"),
        "ends_at_0": local_end.strftime("%Y-%m-%d"),
        "ends_at_1": local_end.strftime("%H:%M:%S"),
        "language": meeting.language,
        "rsvp_enabled": "on" if meeting.rsvp_enabled else "",
        "capacity": meeting.capacity or "",
        "rsvps-TOTAL_FORMS": str(meeting.rsvps.count()),
        "rsvps-INITIAL_FORMS": str(meeting.rsvps.count()),
    }
    for number, rsvp in enumerate(meeting.rsvps.order_by("status", "created_at")):
        data[f"rsvps-{number}-id"] = rsvp.pk
        data[f"rsvps-{number}-meeting"] = meeting.pk
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def test_meeting_page_shows_seats_waitlist_and_needs(admin_client):
    meeting = MeetingFactory(capacity=10, language="en")
    RsvpFactory(meeting=meeting, party_size=3, needs_interpretation="es", needs_childcare=True)
    RsvpFactory(meeting=meeting, party_size=2, needs_interpretation="es")
    RsvpFactory(
        meeting=meeting, party_size=1, needs_interpretation="vi", needs_wheelchair_access=True
    )
    RsvpFactory(meeting=meeting, party_size=4, status=Rsvp.Status.WAITLISTED)

    content = admin_client.get(change_url(meeting)).content.decode()

    assert "Confirmed seats: 6 of 10" in content
    assert "Waitlist: 1 party" in content
    assert "Interpretation into Spanish: 2 parties (5 people)" in content
    assert "Interpretation into Vietnamese: 1 party (1 person)" in content
    assert "Wheelchair or step-free access: 1" in content
    assert "Childcare: 1" in content


def test_staff_add_a_phone_in_rsvp_under_the_same_rules(admin_client):
    meeting = MeetingFactory(capacity=3)
    RsvpFactory(meeting=meeting, party_size=2)

    response = admin_client.post(
        reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]),
        {"party_size": "2", "language": "es", "first_name": "Lupe"},
        follow=True,
    )

    rsvp = Rsvp.objects.get(first_name="Lupe")
    assert rsvp.status == Rsvp.Status.WAITLISTED
    assert "waitlisted, number 1 in line" in response.content.decode()


def test_phone_in_rsvp_with_bad_input_saves_nothing(admin_client):
    meeting = MeetingFactory()

    response = admin_client.post(
        reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]),
        {"party_size": "11", "language": "es", "first_name": "Lupe\r\n"},
    )

    assert response.status_code == 200
    assert not Rsvp.objects.exists()


def test_phone_in_rsvp_to_a_cancelled_meeting_is_refused_plainly(admin_client):
    meeting = MeetingFactory(status=Meeting.Status.CANCELLED)

    response = admin_client.post(
        reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]),
        {"party_size": "1", "language": "es"},
    )

    assert "This meeting is cancelled." in response.content.decode()
    assert not Rsvp.objects.exists()


def test_meeting_page_links_to_phone_in_and_check_in(admin_client):
    meeting = MeetingFactory()

    content = admin_client.get(change_url(meeting)).content.decode()

    assert reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]) in content
    assert f"?meeting__id__exact={meeting.pk}" in content


def test_check_in_marks_arrival(admin_client):
    meeting = MeetingFactory()
    arrived, other = RsvpFactory(meeting=meeting), RsvpFactory(meeting=meeting)

    admin_client.post(
        reverse("admin:meetings_rsvp_changelist"),
        {"action": "check_in", "_selected_action": [arrived.pk]},
    )

    arrived.refresh_from_db()
    other.refresh_from_db()
    assert arrived.checked_in_at is not None
    assert other.checked_in_at is None


def test_rsvp_list_filters_by_meeting_for_the_door(admin_client):
    meeting, other = MeetingFactory(), MeetingFactory()
    RsvpFactory(meeting=meeting, first_name="Rosa")
    RsvpFactory(meeting=other, first_name="Lupe")

    content = admin_client.get(
        reverse("admin:meetings_rsvp_changelist"), {"meeting__id__exact": meeting.pk}
    ).content.decode()

    assert "Rosa" in content
    assert "Lupe" not in content


def test_staff_cancel_rsvps_promotes_the_waitlist(admin_client):
    meeting = MeetingFactory(capacity=1)
    confirmed = RsvpFactory(meeting=meeting)
    waiting = RsvpFactory(meeting=meeting, status=Rsvp.Status.WAITLISTED)

    admin_client.post(
        reverse("admin:meetings_rsvp_changelist"),
        {"action": "cancel_rsvps", "_selected_action": [confirmed.pk]},
    )

    waiting.refresh_from_db()
    assert waiting.status == Rsvp.Status.CONFIRMED


def test_rsvp_seats_cannot_be_edited_or_deleted_around_the_rules(admin_client):
    rsvp = RsvpFactory()

    content = admin_client.get(
        reverse("admin:meetings_rsvp_change", args=[rsvp.pk])
    ).content.decode()

    assert 'name="status"' not in content
    assert 'name="party_size"' not in content
    assert admin_client.get(reverse("admin:meetings_rsvp_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:meetings_rsvp_delete", args=[rsvp.pk])).status_code == 403
    )


def test_raising_capacity_in_the_admin_promotes_the_waitlist(admin_client, send_queued_mail):
    meeting = MeetingFactory(capacity=2)
    RsvpFactory(meeting=meeting, party_size=2)
    waiting = RsvpFactory(
        meeting=meeting, party_size=2, status=Rsvp.Status.WAITLISTED, email="w@example.org"
    )

    response = admin_client.post(change_url(meeting), meeting_form_data(meeting, capacity=4))
    send_queued_mail()

    assert response.status_code == 302, response.content.decode()[:2000]
    waiting.refresh_from_db()
    assert waiting.status == Rsvp.Status.CONFIRMED
    assert [message.to for message in mail.outbox] == [["w@example.org"]]


def test_new_time_in_the_admin_emails_each_rsvp_once(admin_client, send_queued_mail):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="a@example.org")
    later = meeting.local_starts_at + dt.timedelta(hours=1)

    admin_client.post(
        change_url(meeting),
        meeting_form_data(meeting, starts_at_1=later.strftime("%H:%M:%S")),
    )
    send_queued_mail()
    meeting.refresh_from_db()
    admin_client.post(change_url(meeting), meeting_form_data(meeting))  # saved unchanged
    send_queued_mail()

    assert len(mail.outbox) == 1
    assert "new date or time" in mail.outbox[0].body


def test_cancel_action_emails_rsvps_with_a_cancelled_calendar(admin_client, send_queued_mail):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="a@example.org", language="es")

    admin_client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "cancel_meetings", "_selected_action": [meeting.pk]},
    )
    send_queued_mail()

    (message,) = mail.outbox
    assert "STATUS:CANCELLED" in message.attachments[0].content.decode()
    meeting.refresh_from_db()
    assert meeting.is_cancelled


def test_phone_in_rsvp_shows_the_private_link_in_the_callers_language(admin_client):
    meeting = MeetingFactory(capacity=10)

    response = admin_client.post(
        reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]),
        {"party_size": "2", "language": "vi"},
    )

    content = response.content.decode()
    rsvp = Rsvp.objects.get()
    link = re.search(r"<code>(https://outreach\.example\.org/vi/rsvp/[\w-]{43}/)</code>", content)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Confirmed: 2 seats." in content
    assert "The caller's private link, in Vietnamese" in content
    assert '<svg role="img" aria-label="QR code of the private link"' in content
    assert Rsvp.objects.by_token(link.group(1).split("/")[-2]).get() == rsvp


def test_editing_a_name_in_the_admin_keeps_the_seats(admin_client):
    meeting = MeetingFactory(capacity=2)
    rsvp = create_rsvp(meeting=meeting, party_size=2, language="en").rsvp
    data = model_to_dict(rsvp, fields=["language", "needs_interpretation", "note", "email"])
    data = {key: value for key, value in data.items() if value}
    data["first_name"] = "Rosa"

    response = admin_client.post(reverse("admin:meetings_rsvp_change", args=[rsvp.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    rsvp.refresh_from_db()
    assert (rsvp.first_name, rsvp.party_size, rsvp.status) == ("Rosa", 2, Rsvp.Status.CONFIRMED)


def test_an_email_already_used_at_the_meeting_is_saved_and_flagged_for_staff(admin_client):
    meeting = MeetingFactory(capacity=10)
    first = create_rsvp(meeting=meeting, party_size=1, language="en", email="ana@example.org").rsvp
    rsvp = create_rsvp(meeting=meeting, party_size=1, language="en", email="luis@example.org").rsvp
    data = model_to_dict(rsvp, fields=["language", "needs_interpretation", "note"])
    data = {key: value for key, value in data.items() if value}
    data["email"] = "ANA@example.org"

    response = admin_client.post(reverse("admin:meetings_rsvp_change", args=[rsvp.pk]), data)

    assert response.status_code == 302
    rsvp.refresh_from_db()
    assert rsvp.email == "ANA@example.org"
    flagged = admin_client.get(reverse("admin:meetings_rsvp_changelist") + "?shares_email=yes")
    assert {row.pk for row in flagged.context["cl"].result_list} == {first.pk, rsvp.pk}


def test_rsvps_with_different_emails_are_not_flagged(admin_client):
    meeting = MeetingFactory()
    create_rsvp(meeting=meeting, party_size=1, language="en", email="ana@example.org")
    create_rsvp(meeting=meeting, party_size=1, language="en", email="luis@example.org")
    create_rsvp(meeting=MeetingFactory(), party_size=1, language="en", email="ana@example.org")
    create_rsvp(meeting=meeting, party_size=1, language="en")
    create_rsvp(meeting=meeting, party_size=1, language="en")

    flagged = admin_client.get(reverse("admin:meetings_rsvp_changelist") + "?shares_email=yes")

    assert list(flagged.context["cl"].result_list) == []


def test_the_same_email_at_another_meeting_is_fine_for_staff(admin_client):
    create_rsvp(meeting=MeetingFactory(), party_size=1, language="en", email="ana@example.org")
    rsvp = create_rsvp(meeting=MeetingFactory(), party_size=1, language="en").rsvp
    data = model_to_dict(rsvp, fields=["language", "needs_interpretation", "note"])
    data = {key: value for key, value in data.items() if value}
    data["email"] = "ana@example.org"

    response = admin_client.post(reverse("admin:meetings_rsvp_change", args=[rsvp.pk]), data)

    assert response.status_code == 302


# Staff who lack a permission.


@pytest.fixture
def staff_client(client, django_user_model):
    """Log in a staff member (not a superuser) with just the given permissions."""

    def login(*codenames):
        user = django_user_model.objects.create_user("clerk", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client.force_login(user)
        return client

    return login


def test_staff_without_add_rsvp_permission_gets_403_on_the_phone_in_page(staff_client):
    meeting = MeetingFactory()
    client = staff_client("view_meeting", "change_meeting", "view_rsvp")
    page = reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk])

    got = client.get(page)
    posted = client.post(page, {"party_size": "2", "language": "en"})

    assert (got.status_code, posted.status_code) == (403, 403)
    assert not Rsvp.objects.exists()


def test_staff_with_add_rsvp_permission_may_take_a_phone_in_rsvp(staff_client):
    meeting = MeetingFactory()
    client = staff_client("view_meeting", "change_meeting", "add_rsvp")

    response = client.post(
        reverse("admin:meetings_meeting_add_rsvp", args=[meeting.pk]),
        {"party_size": "2", "language": "en"},
    )

    assert response.status_code == 200
    assert "RSVP taken" in response.content.decode()
    assert list(Rsvp.objects.values_list("party_size", flat=True)) == [2]


@pytest.mark.parametrize("action", ["publish_meetings", "cancel_meetings"])
def test_staff_who_may_only_view_meetings_cannot_publish_or_cancel_them(staff_client, action):
    draft = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)
    published = MeetingFactory()
    client = staff_client("view_meeting")
    changelist = reverse("admin:meetings_meeting_changelist")

    action_form = client.get(changelist).context["action_form"]
    client.post(changelist, {"action": action, "_selected_action": [draft.pk, published.pk]})

    offered = [] if action_form is None else action_form.fields["action"].choices
    assert action not in [name for name, _label in offered]
    assert list(Meeting.objects.order_by("pk").values_list("status", flat=True)) == [
        Meeting.Status.DRAFT,
        Meeting.Status.PUBLISHED,
    ]


@pytest.mark.parametrize("action", ["check_in", "undo_check_in", "cancel_rsvps"])
def test_staff_who_may_only_view_rsvps_cannot_change_them(staff_client, action):
    rsvp = RsvpFactory(checked_in_at=None)
    checked_in = RsvpFactory(checked_in_at=timezone.now())
    client = staff_client("view_rsvp")

    client.post(
        reverse("admin:meetings_rsvp_changelist"),
        {"action": action, "_selected_action": [rsvp.pk, checked_in.pk]},
    )

    rsvp.refresh_from_db()
    checked_in.refresh_from_db()
    assert (rsvp.status, rsvp.checked_in_at) == (Rsvp.Status.CONFIRMED, None)
    assert checked_in.checked_in_at is not None


def test_undo_check_in_clears_the_arrival(admin_client):
    meeting = MeetingFactory()
    mistaken = RsvpFactory(meeting=meeting, checked_in_at=timezone.now())
    arrived = RsvpFactory(meeting=meeting, checked_in_at=timezone.now())

    response = admin_client.post(
        reverse("admin:meetings_rsvp_changelist"),
        {"action": "undo_check_in", "_selected_action": [mistaken.pk]},
        follow=True,
    )

    mistaken.refresh_from_db()
    arrived.refresh_from_db()
    assert mistaken.checked_in_at is None
    assert arrived.checked_in_at is not None
    assert "Undid 1 check-in." in response.content.decode()
