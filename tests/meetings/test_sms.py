"""Texts on the outbox: queued with the change, sent once by the worker to the provider (a
local server speaking Twilio's API), retried or given up on as its answers say; delivery
reports and STOP/START/HELP through the signed webhooks; the phone field; staff messages."""

import datetime as dt
import logging
import time

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from meetings import sms
from meetings.models import OutgoingEmail, Rsvp, SmsOptOut
from meetings.phones import opt_out_hash
from meetings.services import (
    cancel_rsvp,
    create_rsvp,
    save_meeting,
    send_reminders,
)
from meetings.tokens import make_form_token
from tests.factories import MeetingFactory
from tests.fake_twilio import FakeTwilio

pytestmark = pytest.mark.django_db

NUMBER = "+12145550123"
Status = OutgoingEmail.Status


def texts_of(fake, number=NUMBER):
    return [message.body for message in fake.to(number)]


def rsvp_by_phone(meeting, *, language="es", phone=NUMBER, **kwargs):
    return create_rsvp(meeting=meeting, party_size=2, language=language, phone=phone, **kwargs)


# The resident's form ---------------------------------------------------------------------


def post_rsvp(client, meeting, language="es", **answers):
    with translation.override(language):
        url = reverse("meetings:rsvp-create", kwargs={"slug": meeting.slug})
    data = {
        "party_size": "2",
        "language": language,
        "form_token": make_form_token(meeting, issued_at=time.time() - 60),
        **answers,
    }
    return client.post(url, data)


@pytest.mark.parametrize(
    "typed", ["(214) 555-0123", "214.555.0123", "+1 214 555 0123", "1-214-555-0123"]
)
def test_the_form_stores_any_usual_spelling_in_e164(client, typed):
    meeting = MeetingFactory()

    response = post_rsvp(client, meeting, phone=typed)

    assert response.status_code == 302
    assert Rsvp.objects.get().phone == NUMBER


@pytest.mark.parametrize("typed", ["555-0123", "(999) 555-0123", "call me", "+1" + "2" * 40])
def test_a_number_that_cannot_take_texts_is_refused_with_a_translated_message(client, typed):
    meeting = MeetingFactory()

    response = post_rsvp(client, meeting, phone=typed)

    assert response.status_code == 400
    assert "Escriba un número de celular como (214) 555-0123" in response.content.decode()
    assert not Rsvp.objects.exists()


def test_the_form_says_what_we_text_and_that_stop_ends_it(client):
    meeting = MeetingFactory()
    with translation.override("es"):
        page = client.get(meeting.get_absolute_url()).content.decode()

    assert "Celular para recibir un recordatorio por mensaje de texto (opcional)" in page
    assert "Responda STOP para dejar de recibirlos" in page
    assert 'type="tel"' in page


def test_no_phone_field_when_texts_are_off(client, settings):
    settings.SMS_ENABLED = False
    meeting = MeetingFactory()

    page = client.get(meeting.get_absolute_url()).content.decode()

    assert 'name="phone"' not in page


# Queued with the change, sent once by the worker -------------------------------------------


def test_a_phone_only_rsvp_gets_its_confirmation_by_text_in_its_language(
    twilio, send_queued_mail, client
):
    meeting = MeetingFactory(title_es="Café con la policía")
    response = post_rsvp(client, meeting, phone="(214) 555-0123")
    assert twilio.messages == []  # the request only queued it

    sent = send_queued_mail()

    assert sent == []  # no email address, no mail
    (body,) = texts_of(twilio)
    # é is in the GSM-7 alphabet, í is not: "Café con la policia".
    assert body.startswith(
        "Policia comunitaria: tiene 2 espacios confirmados para Café con la policia"
    )
    link = response["Location"]
    assert f"https://outreach.example.org{link}" in body
    assert client.get(link).status_code == 200  # the private link works
    row = OutgoingEmail.objects.get()
    assert (row.channel, row.status, row.language) == ("sms", Status.SENT, "es")
    assert row.provider_id == twilio.messages[0].sid
    assert (row.recipient, row.text) == ("", "")  # nothing personal stays
    assert twilio.messages[0].status_callback == "https://outreach.example.org/sms/status/"


def test_email_and_phone_each_get_the_notice_once(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting, email="ana@example.org")

    sent = send_queued_mail()
    send_queued_mail()  # a second pass finds nothing to send

    assert [message.to for message in sent] == [["ana@example.org"]]
    assert len(texts_of(twilio)) == 1


def test_a_change_and_a_reminder_reach_the_phone(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting, language="en")
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)
    save_meeting(meeting=meeting)
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=3)):
        assert send_reminders() == 1
        assert send_reminders() == 0

    send_queued_mail()

    confirmation, changed, reminder = texts_of(twilio)
    assert "you are confirmed" in confirmation
    # One segment: the new time and a private link (the place did not change).
    assert changed.startswith("Police outreach: your meeting is now ")
    assert "/en/rsvp/" in changed
    assert reminder.startswith("Reminder: ")  # one segment: the when, and the link
    assert "?cant-come" in reminder


def test_a_cancelled_rsvp_withdraws_its_queued_text_and_erases_the_number(twilio, send_queued_mail):
    meeting = MeetingFactory()
    result = rsvp_by_phone(meeting)

    cancel_rsvp(rsvp=result.rsvp)
    send_queued_mail()

    # Only the last text, saying it is cancelled; the confirmation never went.
    (text,) = texts_of(twilio)
    assert "cancelada" in text
    assert Rsvp.objects.get().phone == ""
    confirmation = OutgoingEmail.objects.get(kind="rsvp_confirmation")
    assert (confirmation.status, confirmation.recipient) == (Status.WITHDRAWN, "")
    assert not OutgoingEmail.objects.exclude(recipient="").exists()


# What the provider's answers become ----------------------------------------------------------


def test_an_invalid_number_fails_for_good(twilio, send_queued_mail, caplog):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    twilio.answer_next(400, code=21211)

    send_queued_mail()

    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error, row.attempts) == (Status.FAILED, "Twilio 400 code 21211", 1)
    assert NUMBER not in caplog.text


def test_a_number_twilio_knows_as_unsubscribed_goes_on_our_list(twilio, send_queued_mail):
    twilio.unsubscribed.add(NUMBER)
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)

    send_queued_mail()
    rsvp_by_phone(MeetingFactory())  # a later RSVP with the same number

    assert OutgoingEmail.objects.get().status == Status.FAILED
    assert SmsOptOut.objects.filter(number_hash=opt_out_hash(NUMBER)).exists()
    assert OutgoingEmail.objects.count() == 1  # the later RSVP queued no text


def test_429_waits_as_long_as_retry_after_says(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    twilio.answer_next(429, code=20429, headers={"Retry-After": "600"})

    before = timezone.now()
    send_queued_mail()

    row = OutgoingEmail.objects.get()
    assert row.status == Status.QUEUED
    assert row.next_attempt_at >= before + dt.timedelta(seconds=600)
    with time_machine.travel(row.next_attempt_at + dt.timedelta(seconds=1)):
        send_queued_mail()
    assert OutgoingEmail.objects.get().status == Status.SENT
    assert len(texts_of(twilio)) == 1


def test_a_5xx_is_retried_and_then_sent_once(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    twilio.answer_next(500, code=20500)

    send_queued_mail()
    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error) == (Status.QUEUED, "Twilio 500 code 20500")
    with time_machine.travel(row.next_attempt_at + dt.timedelta(seconds=1)):
        send_queued_mail()

    assert OutgoingEmail.objects.get().status == Status.SENT
    assert len(texts_of(twilio)) == 1


def test_a_provider_that_hangs_after_the_request_is_not_sent_to_again(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    twilio.hang_next(3)

    send_queued_mail()

    row = OutgoingEmail.objects.get()
    # It may have arrived: "unknown", never sent again by itself (staff may resend it).
    assert row.status == Status.UNKNOWN
    assert row.last_error.startswith("No answer from Twilio after the request")
    assert row.next_attempt_at is None


def test_an_unreachable_provider_holds_back_the_other_texts_not_the_mail(
    settings, send_queued_mail
):
    fake = FakeTwilio().start()
    settings.SMS_URL = fake.sms_url()
    fake.stop()  # nothing listens there any more: connection refused
    settings.SMS_TIMEOUT = 1
    meeting = MeetingFactory()
    for number in ("+12145550123", "+12145550124"):
        rsvp_by_phone(meeting, phone=number, email=f"{number[1:]}@example.org")
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)

    save_meeting(meeting=meeting)  # one task for two emails and two texts
    sent = send_queued_mail()

    assert len(sent) == 4  # both confirmations and both change notices by email
    texts = OutgoingEmail.objects.filter(channel="sms")
    assert set(texts.values_list("status", flat=True)) == {Status.QUEUED}
    # Each confirmation had a task of its own; of the change's two texts, the second waited
    # for the first's retry instead of trying a provider known to be down.
    changed = texts.filter(kind="meeting_changed").order_by("pk")
    assert list(changed.values_list("attempts", flat=True)) == [1, 0]
    assert changed[0].next_attempt_at == changed[1].next_attempt_at


# The webhooks ------------------------------------------------------------------------------


@pytest.fixture
def live(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server


@pytest.mark.django_db(transaction=True)
def test_a_delivery_report_reaches_the_outbox(twilio, live, send_queued_mail):
    rsvp_by_phone(MeetingFactory())
    send_queued_mail()
    (message,) = twilio.messages

    assert twilio.deliver(message, "sent")[0] == 204
    assert twilio.deliver(message, "delivered")[0] == 204
    assert twilio.deliver(message, "sent")[0] == 204  # late, out of order

    row = OutgoingEmail.objects.get()
    assert (row.status, row.delivery_status) == (Status.SENT, "delivered")


@pytest.mark.django_db(transaction=True)
def test_an_undelivered_report_marks_the_text_failed(twilio, live, send_queued_mail):
    rsvp_by_phone(MeetingFactory())
    send_queued_mail()

    twilio.deliver(twilio.messages[0], "undelivered", error_code=30003)

    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error) == (
        Status.FAILED,
        "Delivery report: undelivered (error 30003)",
    )


@pytest.mark.django_db(transaction=True)
def test_a_webhook_with_a_wrong_signature_changes_nothing(twilio, live, send_queued_mail):
    rsvp_by_phone(MeetingFactory())
    send_queued_mail()
    message = twilio.messages[0]
    params = {"MessageSid": message.sid, "MessageStatus": "undelivered", "To": NUMBER}

    status, _body = twilio.post_signed(message.status_callback, params, signature="forged")
    stop, _body = twilio.post_signed(
        f"{live.url}/sms/inbound/", {"From": NUMBER, "Body": "STOP"}, signature="forged"
    )

    assert (status, stop) == (403, 403)
    assert OutgoingEmail.objects.get().status == Status.SENT
    assert not SmsOptOut.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stop_ends_every_text_and_start_brings_them_back(twilio, live, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    send_queued_mail()
    inbound = f"{live.url}/sms/inbound/"

    status, reply = twilio.reply(inbound, from_=NUMBER, body="Stop")
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)
    save_meeting(meeting=meeting)
    send_queued_mail()

    assert status == 200
    assert "<Response></Response>" in reply  # Twilio confirms its own STOP
    assert len(texts_of(twilio)) == 1  # the confirmation only: no change notice
    (opt_out,) = SmsOptOut.objects.all()
    assert opt_out.number_hash == opt_out_hash(NUMBER)
    assert NUMBER not in str(SmsOptOut.objects.values_list())

    status, reply = twilio.reply(inbound, from_=NUMBER, body="START")
    save_meeting(meeting=meeting)  # nothing changed: nothing to tell
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)
    save_meeting(meeting=meeting)
    send_queued_mail()

    assert "Responda STOP" in reply  # in the RSVP's language
    assert not SmsOptOut.objects.exists()
    assert len(texts_of(twilio)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_spanish_alto_is_a_stop_we_confirm_ourselves(twilio, live):
    rsvp_by_phone(MeetingFactory())

    _status, reply = twilio.reply(f"{live.url}/sms/inbound/", from_=NUMBER, body="alto")

    assert "no recibira mas mensajes" in reply
    assert SmsOptOut.objects.exists()
    # What was queued for the number is withdrawn.
    assert OutgoingEmail.objects.get().status == Status.WITHDRAWN


@pytest.mark.django_db(transaction=True)
def test_help_answers_with_the_departments_contact(twilio, live, settings):
    settings.DEPARTMENT_PHONE = "(214) 555-0100"
    rsvp_by_phone(MeetingFactory(), language="vi")

    _status, reply = twilio.reply(f"{live.url}/sms/inbound/", from_=NUMBER, body="help")

    assert "(214) 555-0100" in reply
    assert "Nhắn STOP để ngừng" in reply


@pytest.mark.django_db(transaction=True)
def test_any_other_reply_is_neither_answered_nor_kept(twilio, live, caplog):
    caplog.set_level(logging.DEBUG)

    _status, reply = twilio.reply(
        f"{live.url}/sms/inbound/", from_=NUMBER, body="Can I bring my son?"
    )

    assert "<Message>" not in reply
    assert "bring my son" not in caplog.text
    assert NUMBER not in caplog.text


def test_webhooks_are_off_without_a_provider(client, settings):
    settings.SMS_URL = "console://"

    assert client.post("/sms/inbound/", {"From": NUMBER, "Body": "STOP"}).status_code == 404


# Privacy -------------------------------------------------------------------------------------


def test_the_purge_erases_the_number_everywhere(twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    twilio.answer_next(400, code=21211)  # a failed text keeps its number for staff, until…
    send_queued_mail()
    assert OutgoingEmail.objects.get().recipient == NUMBER

    with time_machine.travel(meeting.ends_at + dt.timedelta(days=31)):
        call_command("purge_rsvp_personal_data", stdout=None)

    assert Rsvp.objects.get().phone == ""
    assert OutgoingEmail.objects.get().recipient == ""


def test_the_console_backend_prints_texts_for_development(settings, send_queued_mail, capsys):
    settings.SMS_URL = "console://"
    rsvp_by_phone(MeetingFactory(), language="vi")

    send_queued_mail()

    out = capsys.readouterr().out
    assert f"Text message (sms) to {NUMBER}" in out
    assert "Nhắn STOP để ngừng" in out


def test_queue_text_sends_a_text_about_no_rsvp(twilio, send_queued_mail):
    """The small public function other features (alerts of new meetings) call."""
    row = sms.queue_text(
        NUMBER, language="es", text="Nueva reunión el jueves.", kind="staff_message"
    )
    SmsOptOut.objects.create(number_hash=opt_out_hash("+12145550199"))
    none = sms.queue_text("+12145550199", language="es", text="x", kind="staff_message")

    send_queued_mail()

    assert none is None
    assert texts_of(twilio) == ["Nueva reunion el jueves."]
    row.refresh_from_db()
    assert row.status == Status.SENT


# Staff messages ------------------------------------------------------------------------------


@pytest.fixture
def login_as(client, django_user_model):
    def login(role):
        user = django_user_model.objects.create_user(f"user-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def message_url(meeting):
    return reverse("admin:meetings_meeting_message_rsvps_view", args=[meeting.pk])


@pytest.mark.parametrize("role", ["Door volunteers", "Viewers"])
def test_door_volunteers_and_viewers_cannot_message_rsvps(login_as, role):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting)
    client = login_as(role)

    assert client.get(message_url(meeting)).status_code == 403
    response = client.post(message_url(meeting), {"template": "doors_late", "minutes": "15"})

    assert response.status_code == 403
    assert OutgoingEmail.objects.filter(kind="staff_message").count() == 0


def test_a_coordinator_tells_everyone_the_doors_open_late_in_their_language(
    login_as, twilio, send_queued_mail
):
    meeting = MeetingFactory(capacity=2)
    rsvp_by_phone(meeting, language="es", email="ana@example.org")
    rsvp_by_phone(meeting, language="vi", phone="+12145550124")  # waitlisted
    rsvp_by_phone(meeting, language="en", phone="+12145550125")
    cancelled = rsvp_by_phone(meeting, language="en", phone="+12145550126")
    cancel_rsvp(rsvp=cancelled.rsvp)
    send_queued_mail()
    client = login_as("Outreach coordinators")

    response = client.post(message_url(meeting), {"template": "doors_late", "minutes": "15"})
    sent = send_queued_mail()

    assert response.status_code == 302
    (spanish_mail,) = [message for message in sent if "15 minutos tarde" in message.body]
    assert spanish_mail.to == ["ana@example.org"]
    assert "Hoy las puertas abren 15 minutos tarde" in texts_of(twilio)[-1]
    assert "cửa mở trễ 15 phút" in texts_of(twilio, "+12145550124")[-1]
    assert "doors open 15 minutes late" in texts_of(twilio, "+12145550125")[-1]
    # The cancelled party got its last text (the cancellation), not staff's message.
    (last,) = texts_of(twilio, "+12145550126")
    assert "is cancelled" in last
    entry = LogEntry.objects.get(object_id=str(meeting.pk))
    assert "doors open 15 minutes late" in entry.change_message
    assert "(1 email(s), 3 text(s))" in entry.change_message
    for private in ("ana@example.org", "555", "Ana"):
        assert private not in entry.change_message


def test_a_custom_message_needs_english_and_falls_back_to_it(login_as, twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting, language="vi")
    rsvp_by_phone(meeting, language="es", phone="+12145550124")
    client = login_as("Outreach coordinators")

    refused = client.post(message_url(meeting), {"template": "custom", "custom_es": "Hola"})
    client.post(
        message_url(meeting),
        {
            "template": "custom",
            "custom_en": "Use the side door.",
            "custom_es": "Use la puerta lateral.",
        },
    )
    send_queued_mail()

    assert refused.status_code == 200
    assert "Please write the message in English." in refused.content.decode()
    assert texts_of(twilio)[-1].endswith("Use the side door.")
    assert texts_of(twilio, "+12145550124")[-1].endswith("Use la puerta lateral.")


# The admin's outbox ----------------------------------------------------------------------------


def test_the_outbox_lists_texts_by_channel_and_hides_numbers_without_the_permission(
    client, django_user_model
):
    from django.contrib.auth.models import Permission

    rsvp_by_phone(MeetingFactory(), email="ana@example.org")  # queued: mail and a text
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename="view_outgoingemail"))
    client.force_login(clerk)
    outbox = reverse("admin:meetings_outgoingemail_changelist")

    texts_only = client.get(outbox, {"channel__exact": "sms"})

    assert len(texts_only.context["cl"].result_list) == 1
    assert "Text message" in texts_only.content.decode()
    assert NUMBER not in texts_only.content.decode()
    clerk.user_permissions.add(Permission.objects.get(codename="view_outgoingemail_recipient"))
    assert NUMBER in client.get(outbox, {"channel__exact": "sms"}).content.decode()


def test_the_private_page_says_the_link_was_texted(client):
    meeting = MeetingFactory()
    response = post_rsvp(client, meeting, phone="(214) 555-0123")

    with translation.override("es"):
        page = client.get(response["Location"]).content.decode()

    assert "También se la enviamos por mensaje de texto." in page
    assert NUMBER in page


def signed_post(client, fake, path, params):
    """A webhook POST signed as Twilio signs it (tests/fake_twilio.py's own implementation)."""
    from tests.fake_twilio import twilio_signature

    url = "https://outreach.example.org" + path
    signature = twilio_signature(fake.auth_token, url, params).decode()
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_report_on_an_unknown_message_or_without_a_status(client, twilio):
    unknown = signed_post(
        client, twilio, "/sms/status/", {"MessageSid": "SM404", "MessageStatus": "delivered"}
    )
    incomplete = signed_post(client, twilio, "/sms/status/", {"MessageSid": "SM404"})

    assert (unknown.status_code, incomplete.status_code) == (204, 400)


def test_an_undelivered_report_for_an_unsubscribed_number_opts_it_out(
    client, twilio, send_queued_mail
):
    rsvp_by_phone(MeetingFactory())
    send_queued_mail()
    sid = OutgoingEmail.objects.get().provider_id
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610", "To": NUMBER}

    assert signed_post(client, twilio, "/sms/status/", params).status_code == 204

    assert OutgoingEmail.objects.get().status == Status.FAILED
    assert SmsOptOut.objects.filter(number_hash=opt_out_hash(NUMBER)).exists()


def test_a_reply_from_a_number_we_cannot_read_gets_no_answer(client, twilio):
    response = signed_post(client, twilio, "/sms/inbound/", {"From": "Unknown", "Body": "STOP"})

    assert response.status_code == 200
    assert "<Message>" not in response.content.decode()
    assert not SmsOptOut.objects.exists()
