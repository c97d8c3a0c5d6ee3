"""Staff roles and the pages beyond Django's admin: check-in at the door, exports, reports."""

import csv
import datetime as dt
import io
import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from meetings.models import DoorAction, Rsvp
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login_as(client, django_user_model):
    """Log in a staff member who belongs to one of the roles the migration creates."""

    def login(role):
        user = django_user_model.objects.create_user(f"user-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def admin_url(name, *args):
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def meeting_with_people():
    meeting = MeetingFactory(capacity=10)
    RsvpFactory(
        meeting=meeting, first_name="José", email="jose@example.org", note="=1+1", party_size=3
    )
    RsvpFactory(meeting=meeting, first_name="Lan", needs_interpretation="vi", party_size=2)
    return meeting


# Roles


def test_the_three_roles_exist_with_their_permissions():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert codenames("Door volunteers") == {"view_meeting", "check_in_rsvp"}
    assert codenames("Viewers") == {
        "view_meeting",
        "view_venue",
        "view_meetingseries",
        "view_alert_counts",
    }
    assert {"view_rsvp_contact", "export_rsvp", "change_meeting", "add_rsvp"} <= codenames(
        "Outreach coordinators"
    )


def test_door_volunteer_checks_people_in_and_sees_no_email(login_as, meeting_with_people):
    client = login_as("Door volunteers")
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)

    shown = client.get(page)
    jose = meeting_with_people.rsvps.get(first_name="José")
    checked = client.post(page, {"rsvp": jose.pk, "key": uuid.uuid4()})

    content = shown.content.decode()
    assert shown.status_code == 200
    assert "Check in José" in content
    assert "jose@example.org" not in content
    assert "=1+1" not in content
    assert checked.status_code == 302
    jose.refresh_from_db()
    assert jose.checked_in_at is not None


@pytest.mark.parametrize(
    "name",
    [
        "meetings_rsvp_changelist",
        "meetings_meeting_export_rsvps",
        "meetings_meeting_add_rsvp",
        "meetings_rsvp_change",
        "meetings_meetingseries_export_series_counts",
    ],
)
def test_door_volunteer_cannot_open_anything_showing_an_email(login_as, meeting_with_people, name):
    client = login_as("Door volunteers")
    rsvp = meeting_with_people.rsvps.first()
    args = {
        "meetings_rsvp_changelist": [],
        "meetings_rsvp_change": [rsvp.pk],
        "meetings_meetingseries_export_series_counts": [MeetingSeriesFactory().pk],
    }.get(name, [meeting_with_people.pk])

    response = client.get(admin_url(name, *args))

    assert response.status_code == 403
    assert "jose@example.org" not in response.content.decode()


def test_door_volunteer_sees_the_meeting_page_without_personal_fields(
    login_as, meeting_with_people
):
    client = login_as("Door volunteers")

    response = client.get(admin_url("meetings_meeting_change", meeting_with_people.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert "jose@example.org" not in content
    assert "José" not in content
    assert admin_url("meetings_meeting_check_in", meeting_with_people.pk) in content
    assert admin_url("meetings_meeting_export_rsvps", meeting_with_people.pk) not in content


def test_viewer_sees_counts_only(login_as, meeting_with_people):
    client = login_as("Viewers")

    listing = client.get(admin_url("meetings_meeting_changelist"))
    report = client.get(admin_url("meetings_meeting_meeting_report", meeting_with_people.pk))

    assert listing.status_code == 200
    assert "5 / 10" in listing.content.decode()
    assert report.status_code == 200
    for name, args in [
        ("meetings_meeting_check_in", [meeting_with_people.pk]),
        ("meetings_rsvp_changelist", []),
        ("meetings_meeting_export_rsvps", [meeting_with_people.pk]),
    ]:
        assert client.get(admin_url(name, *args)).status_code == 403, name
    assert "José" not in report.content.decode()


def test_viewer_cannot_change_or_act(login_as, meeting_with_people):
    client = login_as("Viewers")
    changelist = admin_url("meetings_meeting_changelist")

    client.post(
        changelist, {"action": "cancel_meetings", "_selected_action": [meeting_with_people.pk]}
    )
    response = client.post(admin_url("meetings_meeting_change", meeting_with_people.pk), {})

    meeting_with_people.refresh_from_db()
    assert not meeting_with_people.is_cancelled
    assert response.status_code == 403


# The door list


def test_door_search_finds_a_first_name_without_accents(admin_client, meeting_with_people):
    response = admin_client.get(
        admin_url("meetings_meeting_check_in", meeting_with_people.pk), {"q": "jose"}
    )

    assert [rsvp.first_name for rsvp in response.context["rsvps"]] == ["José"]


def test_undo_check_in(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    lan = meeting_with_people.rsvps.get(first_name="Lan")
    admin_client.post(page, {"rsvp": lan.pk, "key": uuid.uuid4()})

    admin_client.post(page, {"rsvp": lan.pk, "action": "undo", "key": uuid.uuid4()})

    lan.refresh_from_db()
    assert lan.checked_in_at is None


def test_totals_show_arrivals_and_interpretation_needed_now(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    admin_client.post(
        page, {"rsvp": meeting_with_people.rsvps.get(first_name="Lan").pk, "key": uuid.uuid4()}
    )

    response = admin_client.get(page)

    totals = response.context["totals"]
    assert (totals["figures"].arrived, totals["figures"].expected) == (2, 5)
    assert totals["interpretation_now"] == [("Vietnamese", 2)]


def walk_in(client, page, size, language="es", key=None):
    data = {"walk_in": "1", "party_size": str(size), "language": language}
    return client.post(page, {**data, "key": key or uuid.uuid4()}, follow=True)


def test_walk_ins_are_counted_and_checked_in_without_a_name(admin_client):
    meeting = MeetingFactory(capacity=4)
    page = admin_url("meetings_meeting_check_in", meeting.pk)

    walk_in(admin_client, page, 3)
    walk_in(admin_client, page, 2, "en")

    first, second = Rsvp.objects.order_by("pk")
    assert (first.is_walk_in, first.is_confirmed, first.checked_in_at is not None) == (
        True,
        True,
        True,
    )
    assert first.first_name == ""
    # Only one seat was left: the same seat rules as any RSVP (it waits for a seat), yet a
    # person at the door is never turned away: checked in, over capacity.
    assert (second.is_waitlisted, second.checked_in_at is not None) == (True, True)


def test_a_walk_in_sent_twice_is_counted_once(admin_client):
    # The audit's double tap on a slow connection: Walk-ins 3 -> 5 for one party of 2.
    meeting = MeetingFactory(capacity=40)
    page = admin_url("meetings_meeting_check_in", meeting.pk)
    key = uuid.uuid4()

    walk_in(admin_client, page, 2, key=key)
    response = walk_in(admin_client, page, 2, key=key)

    assert response.context["totals"]["figures"].walk_ins == 2
    assert Rsvp.objects.filter(meeting=meeting).count() == 1


def test_a_check_in_sent_again_after_its_undo_changes_nothing(admin_client, meeting_with_people):
    # A retry of a check-in whose answer was lost, arriving after the undo: applied once.
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    lan = meeting_with_people.rsvps.get(first_name="Lan")
    key = uuid.uuid4()
    admin_client.post(page, {"rsvp": lan.pk, "key": key})
    admin_client.post(page, {"rsvp": lan.pk, "action": "undo", "key": uuid.uuid4()})

    admin_client.post(page, {"rsvp": lan.pk, "key": key})

    lan.refresh_from_db()
    assert lan.checked_in_at is None
    assert DoorAction.objects.filter(rsvp=lan).count() == 2


def test_a_tap_without_its_key_changes_nothing_and_says_why(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    lan = meeting_with_people.rsvps.get(first_name="Lan")

    response = admin_client.post(page, {"rsvp": lan.pk}, follow=True)

    lan.refresh_from_db()
    assert lan.checked_in_at is None
    assert [str(m) for m in response.context["messages"]] == [
        "This page is out of date: please reload it and tap again."
    ]


def test_the_message_names_the_party(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    lan = meeting_with_people.rsvps.get(first_name="Lan")

    response = admin_client.post(page, {"rsvp": lan.pk, "key": uuid.uuid4()}, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Checked in: Lan, 2 people."]


def tap_json(client, page, rsvp, key, action="check_in"):
    response = client.post(
        page, {"rsvp": rsvp.pk, "key": key, "action": action}, HTTP_ACCEPT="application/json"
    )
    return response.status_code, response.json()


def test_two_doors_checking_in_one_party_count_it_once_and_the_second_is_told(
    admin_client, meeting_with_people
):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    jose = meeting_with_people.rsvps.get(first_name="José")

    first = tap_json(admin_client, page, jose, uuid.uuid4())
    second = tap_json(admin_client, page, jose, uuid.uuid4())

    assert (first[0], first[1]["outcome"], first[1]["conflict"]) == (200, "checked_in", False)
    assert (second[0], second[1]["outcome"], second[1]["conflict"]) == (200, "already_in", True)
    assert second[1]["message"] == (
        "José was already checked in (at another door, or by an earlier tap): counted once."
    )
    # The totals the phone puts on its screen: José's 3 people, once.
    assert '<dd data-total="arrived">3</dd>' in second[1]["totals"]
    assert "Undo check-in of José" in second[1]["row"]


def test_a_tap_sent_twice_answers_the_same_both_times(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    jose = meeting_with_people.rsvps.get(first_name="José")
    key = uuid.uuid4()

    first = tap_json(admin_client, page, jose, key)
    again = tap_json(admin_client, page, jose, key)

    assert (again[1]["outcome"], again[1]["repeated"]) == ("checked_in", True)
    assert first[1]["repeated"] is False


def test_a_tap_for_a_party_of_another_meeting_is_refused(admin_client, meeting_with_people):
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)
    other = RsvpFactory(first_name="Ana")

    status, body = tap_json(admin_client, page, other, uuid.uuid4())

    assert (status, body) == (400, {"error": "This party is not on this meeting's list."})
    other.refresh_from_db()
    assert other.checked_in_at is None


def test_checking_in_past_capacity_warns_and_never_refuses(admin_client):
    # The red team's F9: 15 people in at a meeting of 12, and nothing said.
    meeting = MeetingFactory(capacity=12)
    RsvpFactory(meeting=meeting, first_name="Ana", party_size=10).check_in()
    late = RsvpFactory(meeting=meeting, first_name="Binh", party_size=5, status="waitlisted")
    page = admin_url("meetings_meeting_check_in", meeting.pk)

    response = admin_client.post(page, {"rsvp": late.pk, "key": uuid.uuid4()}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Checked in: Binh, 5 people.",
        "Over capacity: 15 people are in for 12 seats. Tell the coordinator.",
    ]
    assert "Over capacity: 15 people are in for 12 seats." in response.content.decode()


def test_a_walk_in_past_capacity_is_checked_in_with_a_warning(admin_client):
    meeting = MeetingFactory(capacity=2)
    page = admin_url("meetings_meeting_check_in", meeting.pk)
    walk_in(admin_client, page, 2)

    response = walk_in(admin_client, page, 3)

    assert [str(m) for m in response.context["messages"]] == [
        "Walk-in added and checked in: 3 people.",
        "Over capacity: 5 people are in for 2 seats. Tell the coordinator.",
    ]
    assert response.context["totals"]["figures"].arrived == 5


def test_the_service_worker_is_served_from_under_the_check_in_page(login_as, meeting_with_people):
    client = login_as("Door volunteers")
    page = admin_url("meetings_meeting_check_in", meeting_with_people.pk)

    worker = client.get(admin_url("meetings_meeting_check_in_worker", meeting_with_people.pk))

    assert worker.status_code == 200
    assert worker["Content-Type"] == "text/javascript; charset=utf-8"
    # Its scope is the folder it is served from: the check-in page's own.
    assert worker.request["PATH_INFO"].rpartition("/")[0] + "/" == page
    assert f'data-worker="{worker.request["PATH_INFO"]}"' in client.get(page).content.decode()


# Exports


def read_csv(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_rsvp_export_neutralises_formulas_for_spreadsheets(admin_client):
    meeting = MeetingFactory()
    for name in ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "＝1", "Ana"]:
        RsvpFactory(meeting=meeting, first_name=name, note=name)

    rows = read_csv(admin_client.get(admin_url("meetings_meeting_export_rsvps", meeting.pk)))

    names = [row[8] for row in rows[1:]]
    assert names == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "'＝1", "Ana"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝")), cell


def test_rsvp_export_leaves_out_personal_fields_for_roles_without_them(
    client, django_user_model, meeting_with_people
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("counter", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_meeting", "export_rsvp"])
    )
    client.force_login(user)

    rows = read_csv(client.get(admin_url("meetings_meeting_export_rsvps", meeting_with_people.pk)))

    assert rows[0] == [
        "Party size",
        "Language",
        "Interpretation into",
        "Wheelchair or step-free access",
        "Childcare",
        "Status",
        "Checked in",
        "Walk-in",
    ]
    assert "jose@example.org" not in str(rows)
    assert "José" not in str(rows)


def test_series_counts_export_has_a_row_per_meeting_and_a_total(admin_client):
    series = MeetingSeriesFactory()
    for size in (2, 3):
        RsvpFactory(meeting=MeetingFactory(series=series), party_size=size)

    rows = read_csv(
        admin_client.get(admin_url("meetings_meetingseries_export_series_counts", series.pk))
    )

    assert len(rows) == 4
    assert rows[-1][0] == "Total"
    assert rows[-1][3] == "5"  # RSVPs (people)


# Reports


def test_meeting_report_counts_what_happened(admin_client, time_machine):
    meeting = MeetingFactory(capacity=10)
    came = RsvpFactory(meeting=meeting, party_size=3, needs_childcare=True)
    came.check_in()
    RsvpFactory(meeting=meeting, party_size=2, needs_childcare=True)  # a no-show
    RsvpFactory(meeting=meeting, status=Rsvp.Status.CANCELLED)
    RsvpFactory(meeting=meeting, is_walk_in=True, party_size=4).check_in()
    time_machine.move_to(meeting.ends_at + dt.timedelta(minutes=1))

    response = admin_client.get(admin_url("meetings_meeting_meeting_report", meeting.pk))

    figures = response.context["figures"]
    assert (figures.rsvp_parties, figures.expected, figures.arrived, figures.walk_ins) == (
        3,
        5,
        7,
        4,
    )
    assert (figures.cancelled_parties, figures.no_show_parties) == (1, 1)
    assert response.context["needs"] == [("Childcare", 2, 1)]


def test_reports_count_the_people_in_beyond_capacity(admin_client):
    series = MeetingSeriesFactory()
    full = MeetingFactory(series=series, capacity=12)
    RsvpFactory(meeting=full, party_size=10).check_in()
    RsvpFactory(meeting=full, party_size=5, status=Rsvp.Status.WAITLISTED).check_in()
    RsvpFactory(meeting=MeetingFactory(series=series, capacity=12), party_size=4).check_in()

    report = admin_client.get(admin_url("meetings_meeting_meeting_report", full.pk))
    rows = read_csv(
        admin_client.get(admin_url("meetings_meetingseries_export_series_counts", series.pk))
    )

    assert report.context["figures"].over_capacity == 3
    assert "Over capacity (people)" in report.content.decode()
    assert [row[-1] for row in rows] == ["Over capacity (people)", "3", "0", "3"]


def test_series_report_has_a_chart_and_a_row_per_meeting(admin_client):
    series = MeetingSeriesFactory()
    for size in (2, 3):
        RsvpFactory(meeting=MeetingFactory(series=series), party_size=size).check_in()

    response = admin_client.get(admin_url("meetings_meetingseries_series_report", series.pk))

    content = response.content.decode()
    assert '<svg class="report-chart"' in content
    assert "<script" not in content.split('<div id="content-main"')[1]
    assert len(response.context["rows"]) == 2
    assert response.context["total"].arrived == 5


def test_series_report_chart_shows_arrivals_only_for_meetings_held(admin_client):
    series = MeetingSeriesFactory()
    held_at = timezone.now() - dt.timedelta(days=7)
    held = MeetingFactory(series=series, starts_at=held_at, ends_at=held_at + dt.timedelta(hours=1))
    RsvpFactory(meeting=held, party_size=2).check_in()
    RsvpFactory(meeting=MeetingFactory(series=series), party_size=3)  # ahead

    response = admin_client.get(admin_url("meetings_meetingseries_series_report", series.pk))

    chart = response.content.decode().split('<svg class="report-chart"')[1].split("</svg>")[0]
    # The legend's "Arrived" swatch, then one bar: the meeting held. None for the one ahead.
    assert chart.count('fill="#0b3d91"') == 2
    assert chart.count('fill="#9db4d6"') == 3  # the legend's, and each meeting's expected


def test_rsvp_pages_hide_email_and_note_without_the_contact_permission(
    client, django_user_model, meeting_with_people
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("helper", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_rsvp", "change_rsvp", "view_meeting"])
    )
    client.force_login(user)
    rsvp = meeting_with_people.rsvps.get(first_name="José")

    page = client.get(admin_url("meetings_rsvp_change", rsvp.pk))
    found = client.get(admin_url("meetings_rsvp_changelist"), {"q": "jose@example.org"})

    assert page.status_code == 200
    assert "jose@example.org" not in page.content.decode()
    assert "=1+1" not in page.content.decode()
    assert list(found.context["cl"].result_list) == []


def test_history_is_for_coordinators(login_as, client, meeting_with_people):
    page = admin_url("meetings_meeting_history", meeting_with_people.pk)

    assert login_as("Viewers").get(page).status_code == 403
    client.logout()
    assert login_as("Outreach coordinators").get(page).status_code == 200


def test_report_shows_feedback_counts(admin_client):
    from meetings.models import FeedbackAnswer

    meeting = MeetingFactory()
    FeedbackAnswer.objects.create(meeting=meeting, felt_welcome=5, would_call_police=4)
    FeedbackAnswer.objects.create(meeting=meeting, felt_welcome=5)

    response = admin_client.get(admin_url("meetings_meeting_meeting_report", meeting.pk))

    assert response.context["feedback"] == [
        ("Did you feel welcome?", [0, 0, 0, 0, 2], 2),
        ("Did you get your questions answered?", [0, 0, 0, 0, 0], 0),
        ("Would you call the police if you needed help?", [0, 0, 0, 1, 0], 1),
    ]


def test_door_volunteer_lands_on_tonights_check_in_buttons(login_as):
    now = timezone.now()
    tonight = MeetingFactory(title="Tonight", starts_at=now - dt.timedelta(minutes=30))
    later = MeetingFactory(title="Next week")
    MeetingFactory(title="Last week", starts_at=now - dt.timedelta(days=7))
    MeetingFactory(title="Draft", status="draft")
    client = login_as("Door volunteers")

    home = client.get(reverse("admin:index"))

    door = home.content.decode().partition('class="door-today"')[2].partition("</section>")[0]
    links = [admin_url("meetings_meeting_check_in", m.pk) for m in (tonight, later)]
    assert [link in door for link in links] == [True, True]
    assert (links[0] in door.partition(links[1])[0], "Last week" in door, "Draft" in door) == (
        True,
        False,
        False,
    )


def test_viewers_get_no_door_buttons(login_as):
    MeetingFactory()
    home = login_as("Viewers").get(reverse("admin:index"))

    assert 'class="door-today"' not in home.content.decode()


def test_logging_out_tells_the_browser_to_delete_what_the_door_page_kept(login_as):
    client = login_as("Door volunteers")

    response = client.post(reverse("admin:logout"))

    assert response["Clear-Site-Data"] == '"cache", "storage"'
