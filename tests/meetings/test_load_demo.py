import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from modeltranslation.translator import translator

from meetings.models import Meeting, MeetingSeries, Rsvp, Venue

pytestmark = pytest.mark.django_db


def snapshot():
    """Every column of every row the demo writes (translations, timestamps, sequence)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Venue, MeetingSeries, Meeting, Rsvp)
    }


def local_dates():
    """The dates of the campaign's upcoming sessions (the past kickoff session and the
    generated Saturday series aside)."""
    campaign = Meeting.objects.filter(series__slug="community-sessions-with-the-chief").exclude(
        slug="kickoff-listening-session-familia-bethel"
    )
    return [m.local_starts_at.date() for m in campaign.order_by("starts_at")]


def test_load_demo_twice_changes_nothing():
    call_command("load_demo", stdout=StringIO())
    first = snapshot()

    output = StringIO()
    call_command("load_demo", stdout=output)

    assert snapshot() == first
    assert "0 rows created or updated" in output.getvalue()
    meeting = Meeting.objects.with_seat_counts().get(slug="pleasant-grove-small-group")
    assert meeting.seat_counts == (12, 2)


@time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC))  # a Tuesday
def test_load_demo_starts_on_the_coming_wednesday():
    call_command("load_demo")

    dates = local_dates()
    assert dates[0] == dt.date(2026, 11, 25)
    assert dates[0].weekday() == 2
    assert dates[-1] == dt.date(2026, 12, 3)


def test_load_demo_as_recorded_uses_the_real_dates():
    call_command("load_demo", "--as-recorded")

    dates = local_dates()
    assert dates[0] == dt.date(2025, 2, 12)
    assert dates[-1] == dt.date(2025, 2, 20)
    assert len(dates) >= 5


def test_load_demo_first_session_is_at_the_church_in_spanish_with_the_chief():
    call_command("load_demo", "--as-recorded")

    first = (
        Meeting.objects.exclude(slug="kickoff-listening-session-familia-bethel")
        .order_by("starts_at")
        .select_related("venue")
        .first()
    )
    assert "Familia Bethel Internacional" in first.venue.name_en
    assert first.language == "es"
    assert first.host_en == "Interim Chief of Police"
    assert first.local_starts_at.hour >= 17  # an evening session


def test_load_demo_mixes_spanish_and_interpreted_english_sessions():
    call_command("load_demo")

    meetings = Meeting.objects.published()
    assert meetings.count() == 11
    assert meetings.filter(language="es").count() == 5
    assert meetings.filter(language="en", interpretation_languages__icontains='"es"').count() == 2


def test_load_demo_has_one_full_meeting_with_a_waitlist():
    call_command("load_demo")

    full = [m for m in Meeting.objects.with_seat_counts() if m.is_full]
    assert len(full) == 1
    assert full[0].waitlist_count > 0


def test_load_demo_texts_exist_in_english_and_spanish():
    call_command("load_demo")

    for meeting in Meeting.objects.all():
        assert meeting.title_en and meeting.title_es
        assert meeting.summary_en and meeting.summary_es
    for venue in Venue.objects.all():
        assert venue.name_en and venue.name_es


def test_load_demo_other_venues_are_clearly_samples():
    call_command("load_demo")

    others = Venue.objects.exclude(slug="familia-bethel-internacional")
    assert others.count() == 4
    assert all("sample" in venue.name_en.lower() for venue in others)


def untranslated(model):
    """(slug, field_xx) for every text written in English but empty in another language."""
    fields = translator.get_options_for_model(model).fields
    missing = []
    for obj in model.objects.all():
        for field in fields:
            if not getattr(obj, f"{field}_{settings.LANGUAGE_CODE}"):
                continue
            missing += [
                (obj.slug, f"{field}_{code}")
                for code, _name in settings.LANGUAGES
                if not getattr(obj, f"{field}_{code}")
            ]
    return missing


@pytest.mark.parametrize("model", [Venue, MeetingSeries, Meeting])
def test_load_demo_text_is_written_in_every_language(model):
    call_command("load_demo", "--as-recorded", stdout=StringIO())

    assert untranslated(model) == []


def test_load_demo_has_a_past_session_with_arrivals_walk_ins_and_feedback():
    from meetings.reports import feedback_counts, figures_by_meeting

    call_command("load_demo", stdout=StringIO())

    past = Meeting.objects.get(slug="kickoff-listening-session-familia-bethel")
    figures = figures_by_meeting(Meeting.objects.filter(pk=past.pk))[past.pk]
    assert past.is_past
    assert (figures.expected, figures.arrived, figures.walk_ins) == (19, 19, 6)
    assert figures.no_show_parties == 2
    assert feedback_counts([past])[0][2] == 5


def test_load_demo_generates_the_saturday_series_from_a_pattern():
    call_command("load_demo", stdout=StringIO())

    saturdays = Meeting.objects.filter(series__slug="saturday-office-hours-vickery-meadow")
    assert [m.local_starts_at.weekday() for m in saturdays] == [5, 5, 5, 5]
    assert {m.status for m in saturdays} == {Meeting.Status.PUBLISHED}


def test_load_demo_makes_one_staff_user_per_role_on_a_development_database(settings):
    from django.contrib.auth.models import User

    settings.DEBUG = True
    output = StringIO()
    call_command("load_demo", stdout=output)

    roles = {user.username: user.groups.get().name for user in User.objects.all()}
    assert roles == {
        "demo-coordinator": "Outreach coordinators",
        "demo-volunteer": "Door volunteers",
        "demo-viewer": "Viewers",
    }
    assert "demo-volunteer / " in output.getvalue()


def test_load_demo_makes_no_staff_user_in_production(settings):
    from django.contrib.auth.models import User

    settings.DEBUG = False
    output = StringIO()
    call_command("load_demo", stdout=output)

    assert not User.objects.exists()
    # It says how to make the first staff users instead, one command per role.
    said = output.getvalue()
    assert "manage.py createsuperuser" in said
    for role in ("Outreach coordinators", "Door volunteers", "Viewers"):
        assert f"Group.objects.get(name='{role}')" in said
    assert "manage.py changepassword" in said


def test_the_printed_commands_make_a_staff_user_in_a_role(settings):
    from django.contrib.auth.models import User

    settings.DEBUG = False
    output = StringIO()
    call_command("load_demo", stdout=output)
    line = next(line for line in output.getvalue().splitlines() if "'Door volunteers'" in line)
    code = line.split('shell -c "', 1)[1].rstrip('"').replace("NAME", "maria")

    call_command("shell", command=code)

    user = User.objects.get(username="maria")
    assert user.is_staff and not user.has_usable_password()
    assert user.has_perm("meetings.check_in_rsvp") and not user.has_perm("meetings.export_rsvp")


def test_demo_parties_with_a_phone_number_get_their_confirmation_as_a_text(
    settings, send_queued_mail, capsys
):
    """`make run` prints texts (SMS_URL=console://) as it prints mail."""
    from meetings.models import OutgoingEmail

    settings.SMS_URL = "console://"
    call_command("load_demo", stdout=StringIO())

    send_queued_mail()

    assert Rsvp.objects.exclude(phone="").count() == 2
    assert OutgoingEmail.objects.filter(channel="sms", status="sent").count() == 2
    assert "Text message (sms) to +12145550101" in capsys.readouterr().out
