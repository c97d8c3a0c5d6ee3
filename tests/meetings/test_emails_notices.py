"""What a resident who gave an email receives, read from a real SMTP server (aiosmtpd).

Every message is in the resident's language (Content-Language says which) with a subject on
one header line; replies go to the no-reply address. A party with a seat gets the meeting as
a calendar invitation that updates in place (iTIP: REQUEST, then REQUEST with the same UID
and a higher SEQUENCE after any change, CANCEL when it is off); a waitlisted party's
calendar never says they are going.
"""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from meetings.models import OutgoingEmail, Rsvp
from meetings.services import cancel_meeting, cancel_rsvp, save_meeting
from tests.conftest import run_mail_worker
from tests.e2e.mailbox import Mailbox
from tests.factories import MeetingFactory, RsvpFactory
from tests.meetings.calendars import HOST, next_year_at
from tests.meetings.test_views_rsvp import post_rsvp, token_from

pytestmark = pytest.mark.django_db

ANA = "ana@example.org"
NO_REPLY = "no-reply@outreach.example.org"


@pytest.fixture
def mailbox(settings):
    box = Mailbox().start()
    settings.EMAIL_BACKEND = "meetings.mail_backend.SmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = f"Outreach <{NO_REPLY}>"
    settings.EMAIL_NO_REPLY_ADDRESS = NO_REPLY
    yield box
    box.stop()


@pytest.fixture
def meeting():
    return MeetingFactory(
        title_en="Coffee with the police",
        title_es="Café con la policía",
        title_vi="Cà phê với cảnh sát",
        starts_at=next_year_at(7, 15, 18, 30),
        ends_at=next_year_at(7, 15, 20),
        capacity=4,
    )


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(f"meetings:{name}", kwargs=kwargs)


def invitation(message, method):
    """The message's one calendar part, checked against its MIME header; its VEVENT."""
    (part,) = message.calendar_parts()
    assert part.get_param("method") == method
    calendar = Calendar.from_ical(part.get_content())
    assert str(calendar["METHOD"]) == method
    (event,) = calendar.walk("VEVENT")
    return event


def sent(mailbox, address, count):
    run_mail_worker()
    return mailbox.wait_for(address, count=count, timeout=5)


# Every message ---------------------------------------------------------------------------


def test_confirmation_is_an_invitation_in_a_multipart_alternative(client, mailbox, meeting):
    post_rsvp(client, meeting, page_language="es", language="es", email=ANA, party_size="2")

    message = sent(mailbox, ANA, 1)

    parsed = message.parsed
    assert parsed.get_content_type() == "multipart/mixed"
    alternative = parsed.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    event = invitation(message, "REQUEST")
    assert b'Content-Type: text/calendar; charset="utf-8"; method=REQUEST\r\n' in message.raw
    rsvp = Rsvp.objects.get()
    assert str(event["UID"]) == f"rsvp-{rsvp.pk}@{HOST}"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Café con la policía"
    assert str(event["ORGANIZER"]) == f"mailto:{NO_REPLY}"
    assert str(event["ATTENDEE"]) == f"mailto:{ANA}"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    # The same file as an attachment, named in the resident's language.
    (attachment,) = message.attachments()
    assert attachment.get_filename() == "reunion.ics"
    assert Calendar.from_ical(attachment.get_content())["METHOD"] == "REQUEST"
    assert "(reunion.ics)" in message.text
    assert "meeting.ics" not in message.text


@pytest.mark.parametrize(
    ("language", "subject", "filename"),
    [
        ("en", "You are confirmed: Coffee with the police", "meeting.ics"),
        ("es", "Su reservación está confirmada: Café con la policía", "reunion.ics"),
        ("vi", "Đăng ký của quý vị đã được xác nhận: Cà phê với cảnh sát", "buoi-hop.ics"),
    ],
)
def test_every_message_says_its_language_and_keeps_its_subject_on_one_line(
    client, mailbox, meeting, language, subject, filename
):
    post_rsvp(client, meeting, page_language=language, language=language, email=ANA)

    message = sent(mailbox, ANA, 1)

    assert message.parsed["Content-Language"] == language
    # Folded as "Subject: \r\n =?utf-8?…", mail programs showed a leading space.
    assert re.search(rb"\r\nSubject: \S", message.raw), message.raw[:600]
    assert str(message.parsed["Subject"]) == subject
    assert message.parsed["Reply-To"] == NO_REPLY
    (attachment,) = message.attachments()
    assert attachment.get_filename() == filename


# The waitlist: no event until there is a seat ----------------------------------------------


def test_waitlisted_party_gets_no_calendar_until_promoted_then_a_new_link_and_the_invitation(
    client, mailbox, meeting
):
    first = RsvpFactory(meeting=meeting, party_size=4)
    post_rsvp(client, meeting, page_language="es", language="es", email=ANA, party_size="2")

    waitlisted = sent(mailbox, ANA, 1)
    assert waitlisted.subject.startswith("Usted está en la lista de espera")
    assert waitlisted.calendar_parts() == []
    assert waitlisted.attachments() == []
    assert ".ics" not in waitlisted.text
    assert "invitación" in waitlisted.text  # it says the invitation comes with the seat

    cancel_rsvp(rsvp=first)
    promoted = sent(mailbox, ANA, 2)

    assert promoted.subject.startswith("Se liberó un espacio")
    event = invitation(promoted, "REQUEST")
    rsvp = Rsvp.objects.get(email=ANA)
    assert str(event["UID"]) == f"rsvp-{rsvp.pk}@{HOST}"
    assert str(event["STATUS"]) == "CONFIRMED"
    # A new private link, as reminders carry: it opens the (now confirmed) RSVP.
    link = promoted.link_to("/rsvp/")
    assert "primer correo" not in promoted.text
    page = client.get(link.removeprefix("https://outreach.example.org"))
    assert page.status_code == 200
    assert "confirmada" in page.content.decode()


def test_waitlisted_party_cancelling_gets_a_notice_with_no_calendar_part(client, mailbox, meeting):
    RsvpFactory(meeting=meeting, party_size=4)
    token = token_from(post_rsvp(client, meeting, email=ANA))
    sent(mailbox, ANA, 1)

    client.post(url("rsvp-cancel", token=token))
    notice = sent(mailbox, ANA, 2)

    assert notice.subject == "Your RSVP is cancelled: Coffee with the police"
    assert "You are off the waitlist" in notice.text
    assert notice.calendar_parts() == []


# Changes by the resident or staff: a message that says what changed, and the event follows --


def test_resident_change_is_confirmed_by_email_with_the_updated_event(client, mailbox, meeting):
    token = token_from(
        post_rsvp(client, meeting, page_language="es", language="es", email=ANA, party_size="2")
    )
    first = invitation(sent(mailbox, ANA, 1), "REQUEST")

    client.post(
        url("rsvp-change", "es", token=token),
        {"party_size": "3", "language": "es", "needs_childcare": "on"},
    )
    notice = sent(mailbox, ANA, 2)

    assert notice.subject == "Se cambió su reservación: Café con la policía"
    assert notice.parsed["Content-Language"] == "es"
    text = " ".join(notice.text.split())
    assert "Personas: 3 (antes: 2)" in text
    assert "Cuidado de niños" in text
    event = invitation(notice, "REQUEST")
    assert event["UID"] == first["UID"]
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_resident_cancel_is_confirmed_by_email_that_removes_the_event(client, mailbox, meeting):
    token = token_from(
        post_rsvp(client, meeting, page_language="vi", language="vi", email=ANA, first_name="Lan")
    )
    first = invitation(sent(mailbox, ANA, 1), "REQUEST")

    client.post(url("rsvp-cancel", "vi", token=token))
    notice = sent(mailbox, ANA, 2)

    assert notice.subject == "Đã hủy đăng ký của quý vị: Cà phê với cảnh sát"
    assert notice.parsed["Content-Language"] == "vi"
    event = invitation(notice, "CANCEL")
    assert event["UID"] == first["UID"]
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ATTENDEE"]) == f"mailto:{ANA}"
    # Nothing personal stays behind once it is sent.
    assert set(OutgoingEmail.objects.values_list("recipient", flat=True)) == {""}
    assert not Rsvp.objects.filter(email=ANA).exists()


def test_staff_cancelling_an_rsvp_tells_the_person(client, admin_client, mailbox, meeting):
    post_rsvp(client, meeting, email=ANA)
    first = invitation(sent(mailbox, ANA, 1), "REQUEST")
    rsvp = Rsvp.objects.get()

    admin_client.post(
        reverse("admin:meetings_rsvp_changelist"),
        {"action": "cancel_rsvps", "_selected_action": [rsvp.pk]},
    )
    notice = sent(mailbox, ANA, 2)

    assert notice.subject == "Your RSVP is cancelled: Coffee with the police"
    assert "The organizers cancelled your RSVP" in notice.text
    event = invitation(notice, "CANCEL")
    assert event["UID"] == first["UID"]
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])


def test_staff_moving_then_cancelling_the_meeting_updates_then_removes_the_event(
    client, mailbox, meeting
):
    post_rsvp(client, meeting, email=ANA)
    first = invitation(sent(mailbox, ANA, 1), "REQUEST")

    meeting.refresh_from_db()
    meeting.starts_at = next_year_at(7, 16, 18, 30)
    meeting.ends_at = next_year_at(7, 16, 20)
    save_meeting(meeting=meeting)
    moved = invitation(sent(mailbox, ANA, 2), "REQUEST")
    cancel_meeting(meeting=meeting)
    cancelled = invitation(sent(mailbox, ANA, 3), "CANCEL")

    assert first["UID"] == moved["UID"] == cancelled["UID"]
    assert int(first["SEQUENCE"]) < int(moved["SEQUENCE"]) < int(cancelled["SEQUENCE"])
    assert moved["DTSTART"].dt == next_year_at(7, 16, 18, 30)
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_waitlisted_party_hears_of_a_move_without_a_calendar_part(client, mailbox, meeting):
    RsvpFactory(meeting=meeting, party_size=4)
    post_rsvp(client, meeting, email=ANA)
    sent(mailbox, ANA, 1)

    meeting.refresh_from_db()
    meeting.starts_at = next_year_at(7, 16, 18, 30)
    meeting.ends_at = next_year_at(7, 16, 20)
    save_meeting(meeting=meeting)
    notice = sent(mailbox, ANA, 2)

    assert "new date or time" in notice.text
    assert notice.calendar_parts() == []


def test_staff_editing_an_rsvp_tells_the_person_what_changed(
    client, admin_client, mailbox, meeting
):
    post_rsvp(client, meeting, email=ANA, first_name="Ana")
    first = invitation(sent(mailbox, ANA, 1), "REQUEST")
    rsvp = Rsvp.objects.get()

    admin_client.post(
        reverse("admin:meetings_rsvp_change", args=[rsvp.pk]),
        {"first_name": "Ana", "email": ANA, "language": "es", "needs_interpretation": "es"},
    )
    notice = sent(mailbox, ANA, 2)

    assert notice.subject == "Se cambió su reservación: Café con la policía"
    text = " ".join(notice.text.split())
    assert "Idioma: español (antes: inglés)" in text
    event = invitation(notice, "REQUEST")
    assert event["UID"] == first["UID"]
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])


def test_staff_saving_an_rsvp_unchanged_sends_nothing(client, admin_client, mailbox, meeting):
    post_rsvp(client, meeting, email=ANA, first_name="Ana")
    sent(mailbox, ANA, 1)
    rsvp = Rsvp.objects.get()

    admin_client.post(
        reverse("admin:meetings_rsvp_change", args=[rsvp.pk]),
        {"first_name": "Ana", "email": ANA, "language": "en"},
    )
    run_mail_worker()

    assert len(mailbox.to(ANA)) == 1


def test_a_change_notice_keeps_no_name_or_note_outside_the_text_erased_when_sent(
    client, mailbox, meeting
):
    token = token_from(post_rsvp(client, meeting, email=ANA, first_name="Zorbaquilt"))
    sent(mailbox, ANA, 1)

    client.post(
        url("rsvp-change", token=token),
        {"party_size": "2", "language": "en", "first_name": "Zed", "note": "Zorbaquilt note"},
    )
    (notice,) = OutgoingEmail.objects.filter(kind="rsvp_changed")
    assert "Zorbaquilt" not in str(notice.context)
    sent(mailbox, ANA, 2)

    notice.refresh_from_db()
    assert "Zorbaquilt" not in str(
        [getattr(notice, name) for name in OutgoingEmail.PERSONAL_FIELDS]
    )
