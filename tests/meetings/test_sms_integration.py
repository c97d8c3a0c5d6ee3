"""Texts with the rest of the app: the outbox's hand-over and recovery after a killed worker
(as for mail), the RSVP notices a phone gets like an email (changed, cancelled), and alerts of
new meetings sent, confirmed and stopped by text through the signed webhook."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from meetings import alerts, outbox
from meetings.models import AlertChoice, AlertSubscriber, OutgoingEmail, Rsvp, SmsOptOut
from meetings.phones import opt_out_hash
from meetings.services import (
    cancel_meeting,
    cancel_rsvp,
    create_rsvp,
    save_meeting,
    send_reminders,
    update_rsvp,
)
from tests.factories import MeetingFactory
from tests.fake_twilio import FakeTwilio, twilio_signature

pytestmark = pytest.mark.django_db

NUMBER = "+12145550123"
Status = OutgoingEmail.Status


def texts_of(fake, number=NUMBER):
    return [message.body for message in fake.to(number)]


def rsvp_by_phone(meeting, *, language="es", phone=NUMBER, **kwargs):
    return create_rsvp(meeting=meeting, party_size=2, language=language, phone=phone, **kwargs)


def signed_post(client, fake, path, params):
    """A webhook POST signed as Twilio signs it (tests/fake_twilio.py's own implementation)."""
    url = "https://outreach.example.org" + path
    signature = twilio_signature(fake.auth_token, url, params).decode()
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


# The outbox's hand-over and recovery, for texts as for mail --------------------------------


def test_a_sent_text_records_when_it_was_handed_over(twilio, send_queued_mail):
    before = timezone.now()
    rsvp_by_phone(MeetingFactory())

    send_queued_mail()

    row = OutgoingEmail.objects.get()
    assert row.status == Status.SENT
    assert row.handed_over_at is not None and row.handed_over_at >= before
    assert len(texts_of(twilio)) == 1


def test_a_provider_that_never_answers_leaves_the_text_unknown_for_staff_to_resend(
    twilio, send_queued_mail
):
    rsvp_by_phone(MeetingFactory())
    twilio.hang_next(2)

    send_queued_mail()

    row = OutgoingEmail.objects.get()
    assert row.status == Status.UNKNOWN
    assert row.handed_over_at is not None
    assert row.recipient == NUMBER  # kept whole, so staff can send it again
    assert row.last_error.startswith("No answer from Twilio after the request")

    assert outbox.resend(row.pk) is True
    send_queued_mail()

    assert OutgoingEmail.objects.get().status == Status.SENT
    # The hung request reached the provider (which our fake then drops), then staff's resend.
    assert twilio.requests == 2
    assert len(texts_of(twilio)) == 1


def test_an_unreachable_provider_never_stamps_a_hand_over(settings, send_queued_mail):
    fake = FakeTwilio().start()
    settings.SMS_URL = fake.sms_url()
    fake.stop()  # nothing listens there any more: connection refused
    settings.SMS_TIMEOUT = 1
    rsvp_by_phone(MeetingFactory())

    send_queued_mail()

    row = OutgoingEmail.objects.get()
    assert (row.status, row.handed_over_at) == (Status.QUEUED, None)


def left_in_sending_by_a_killed_worker(*, handed_over):
    long_ago = timezone.now() - dt.timedelta(hours=1)
    OutgoingEmail.objects.update(
        status=Status.SENDING,
        attempts=1,
        claimed_at=long_ago,
        handed_over_at=long_ago if handed_over else None,
    )


def test_a_text_left_in_sending_before_the_hand_over_is_sent_once_after_recovery(
    twilio, send_queued_mail
):
    rsvp_by_phone(MeetingFactory())
    left_in_sending_by_a_killed_worker(handed_over=False)

    send_queued_mail()  # the dead worker's task: the row is not queued, nothing to do
    assert twilio.messages == []
    recovered = outbox.recover()
    send_queued_mail()
    send_queued_mail()

    assert recovered.requeued == 1 and recovered.unknown == 0
    assert len(texts_of(twilio)) == 1
    assert OutgoingEmail.objects.get().status == Status.SENT


def test_a_text_left_in_sending_after_the_hand_over_becomes_unknown(twilio, send_queued_mail):
    rsvp_by_phone(MeetingFactory())
    left_in_sending_by_a_killed_worker(handed_over=True)

    recovered = outbox.recover()
    send_queued_mail()

    assert recovered.unknown == 1
    assert twilio.messages == []  # it may have arrived: never sent again by itself
    assert OutgoingEmail.objects.get().status == Status.UNKNOWN


# Every notice an email gets, a phone gets as a text ----------------------------------------


def test_a_phone_only_rsvp_that_cancels_gets_a_cancel_text_and_its_number_goes(
    twilio, send_queued_mail
):
    meeting = MeetingFactory(title_es="Café con la policía")
    result = rsvp_by_phone(meeting)
    send_queued_mail()

    cancel_rsvp(rsvp=result.rsvp)
    send_queued_mail()

    confirmation, cancelled = texts_of(twilio)
    assert "cancelada" in cancelled and "Café con la policia" in cancelled
    assert Rsvp.objects.get().phone == ""
    rows = OutgoingEmail.objects.order_by("pk")
    assert [row.kind for row in rows] == ["rsvp_confirmation", "rsvp_cancelled"]
    assert [row.status for row in rows] == [Status.SENT, Status.SENT]
    assert not OutgoingEmail.objects.filter(recipient=NUMBER).exists()
    assert not OutgoingEmail.objects.exclude(text="").exists()


def test_a_cancel_by_staff_says_so_and_withdraws_what_was_queued(twilio, send_queued_mail):
    meeting = MeetingFactory()
    result = rsvp_by_phone(meeting, language="en")

    cancel_rsvp(rsvp=result.rsvp, staff=True)
    send_queued_mail()

    (cancelled,) = texts_of(twilio)
    assert "the organizers cancelled your RSVP" in cancelled
    confirmation = OutgoingEmail.objects.get(kind="rsvp_confirmation")
    assert (confirmation.status, confirmation.recipient) == (Status.WITHDRAWN, "")
    assert not OutgoingEmail.objects.filter(recipient=NUMBER).exists()


def test_a_change_of_party_size_is_texted_without_keeping_what_was_before(twilio, send_queued_mail):
    meeting = MeetingFactory(capacity=10)
    result = rsvp_by_phone(meeting, language="vi", first_name="Lan", note="Lan đi xe lăn")
    send_queued_mail()

    update_rsvp(rsvp=result.rsvp, party_size=3, language="vi", first_name="Lan")
    send_queued_mail()

    _confirmation, changed = texts_of(twilio)
    assert "đã thay đổi" in changed and "3 người" in changed
    row = OutgoingEmail.objects.get(kind="rsvp_changed", channel="sms")
    assert "Lan" not in str(row.context)  # the note before the change is in no copy


def private_link(text):
    """The path of the private link in a text (SITE_URL is https://outreach.example.org)."""
    found = re.search(r"https://outreach\.example\.org(/\w\w/rsvp/[\w-]{43}/)", text)
    assert found, text
    return found[1]


def test_a_move_is_texted_with_a_private_link_and_every_earlier_link_keeps_working(
    client, twilio, send_queued_mail
):
    meeting = MeetingFactory(title_es="Café con la policía")
    result = rsvp_by_phone(meeting)
    send_queued_mail()
    assert send_reminders(now=meeting.starts_at - dt.timedelta(hours=2)) == 1
    send_queued_mail()

    meeting.refresh_from_db()
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)
    save_meeting(meeting=meeting)
    send_queued_mail()

    confirmation, reminder, moved = texts_of(twilio)
    assert "ahora" in moved.lower() and "p.m.." not in moved
    links = [private_link(text) for text in (confirmation, reminder, moved)]
    assert len(set(links)) == 3  # each text its own link
    for link in links:
        page = client.get(link)
        assert page.status_code == 200
        assert page.context["rsvp"] == result.rsvp


def test_a_cancelled_meeting_is_texted_with_the_private_link(client, twilio, send_queued_mail):
    meeting = MeetingFactory()
    rsvp_by_phone(meeting, language="en")
    cancel_meeting(meeting=meeting)
    send_queued_mail()

    _confirmation, cancelled = texts_of(twilio)
    assert "is cancelled" in cancelled
    page = client.get(private_link(cancelled))
    assert page.status_code == 200 and page.context["rsvp"].meeting.is_cancelled


def test_an_rsvp_that_texted_stop_gets_no_cancel_text(twilio, send_queued_mail, client):
    result = rsvp_by_phone(MeetingFactory())
    send_queued_mail()
    signed_post(client, twilio, "/sms/inbound/", {"From": NUMBER, "Body": "STOP"})

    cancel_rsvp(rsvp=result.rsvp)
    send_queued_mail()

    assert len(texts_of(twilio)) == 1  # the confirmation only


# Alerts of new meetings by text ------------------------------------------------------------


def subscribe_by_text(client, language="es"):
    with translation.override(language):
        url = reverse("meetings:alerts-subscribe")
    return client.post(url, {"about": "held-in:es", "phone": "(214) 555-0123"})


def test_an_alert_subscription_by_text_is_confirmed_by_replying_yes(
    client, twilio, send_queued_mail
):
    subscribe_by_text(client)
    send_queued_mail()
    (request,) = texts_of(twilio)
    assert "responda SI" in request  # GSM-7: the Í the alphabet lacks is dropped
    assert AlertChoice.objects.get().confirmed_at is None

    response = signed_post(client, twilio, "/sms/inbound/", {"From": NUMBER, "Body": "Sí"})
    send_queued_mail()

    assert response.status_code == 200
    assert AlertChoice.objects.get().confirmed_at is not None
    confirmed = texts_of(twilio)[-1]
    assert "STOP" in confirmed and "/alerts/stop/" in confirmed
    assert not SmsOptOut.objects.exists()


def test_yes_without_a_pending_alert_is_still_a_start(client, twilio):
    SmsOptOut.objects.create(number_hash=opt_out_hash(NUMBER))

    signed_post(client, twilio, "/sms/inbound/", {"From": NUMBER, "Body": "YES"})

    assert not SmsOptOut.objects.exists()


def test_stop_deletes_the_alert_subscription_of_the_number(client, twilio, send_queued_mail):
    subscribe_by_text(client)
    signed_post(client, twilio, "/sms/inbound/", {"From": NUMBER, "Body": "SI"})

    response = signed_post(client, twilio, "/sms/inbound/", {"From": NUMBER, "Body": "STOP"})
    send_queued_mail()

    assert response.status_code == 200
    assert not AlertSubscriber.objects.exists()
    assert not AlertChoice.objects.exists()
    assert SmsOptOut.objects.filter(number_hash=opt_out_hash(NUMBER)).exists()
    assert not OutgoingEmail.objects.filter(recipient=NUMBER).exists()


def test_a_delivery_report_saying_the_number_unsubscribed_deletes_its_alerts(
    client, twilio, send_queued_mail
):
    subscribe_by_text(client)
    send_queued_mail()
    sid = OutgoingEmail.objects.get().provider_id
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610", "To": NUMBER}

    assert signed_post(client, twilio, "/sms/status/", params).status_code == 204

    assert not AlertSubscriber.objects.exists()


def test_a_text_the_provider_refuses_as_unsubscribed_ends_the_alerts_of_the_number(
    twilio, send_queued_mail
):
    # The number texted STOP to the provider, and we never heard of it (Twilio's 21610).
    subscriber = AlertSubscriber.objects.create(channel="text", address=NUMBER, language="es")
    AlertChoice.objects.create(subscriber=subscriber, held_in="es", confirmed_at=timezone.now())
    MeetingFactory(language="es", published_at=timezone.now())
    twilio.unsubscribed.add(NUMBER)

    assert alerts.send_digests() == 1
    send_queued_mail()

    assert texts_of(twilio) == []
    assert SmsOptOut.objects.filter(number_hash=opt_out_hash(NUMBER)).exists()
    assert not AlertSubscriber.objects.exists() and not AlertChoice.objects.exists()
    row = OutgoingEmail.objects.get()
    assert row.status == Status.FAILED
    assert row.recipient == "" and row.text == ""  # the number is erased from the copy too
    # Tomorrow's digest has nobody to go to.
    MeetingFactory(language="es", published_at=timezone.now())
    assert alerts.send_digests(now=timezone.now() + dt.timedelta(days=1, hours=1)) == 0


def test_a_number_that_texted_stop_and_then_answers_yes_to_alerts_gets_them(
    client, twilio, send_queued_mail
):
    signed_post(client, twilio, "/sms/inbound/", twilio.incoming(from_=NUMBER, body="STOP"))
    assert SmsOptOut.objects.filter(number_hash=opt_out_hash(NUMBER)).exists()
    subscribe_by_text(client)
    send_queued_mail()
    assert texts_of(twilio) == []  # the request to confirm is not sent to a stopped number

    # The page told them to answer YES; Twilio lifts its own block on a YES, and so do we.
    signed_post(client, twilio, "/sms/inbound/", twilio.incoming(from_=NUMBER, body="YES"))
    send_queued_mail()

    assert AlertChoice.objects.get().confirmed_at is not None
    assert not SmsOptOut.objects.exists()
    (confirmed,) = texts_of(twilio)
    assert "STOP" in confirmed and "/alerts/stop/" in confirmed
    MeetingFactory(language="es", title_es="Reunión de vecinos", published_at=timezone.now())
    assert alerts.send_digests(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    send_queued_mail()
    assert "Reunion de vecinos" in texts_of(twilio)[-1]


def test_an_alert_digest_by_text_reaches_the_provider(twilio, send_queued_mail):
    subscriber = AlertSubscriber.objects.create(channel="text", address=NUMBER, language="es")
    AlertChoice.objects.create(subscriber=subscriber, held_in="es", confirmed_at=timezone.now())
    MeetingFactory(language="es", title_es="Reunión de vecinos", published_at=timezone.now())

    assert alerts.send_digests() == 1
    send_queued_mail()

    (digest,) = texts_of(twilio)
    assert "Reunion de vecinos" in digest  # GSM-7: the ó the alphabet lacks is dropped


def test_a_phone_only_party_promoted_from_the_waitlist_gets_a_text(
    client, twilio, send_queued_mail
):
    meeting = MeetingFactory(capacity=2)
    first = rsvp_by_phone(meeting, phone="+12145550124")
    waiting = rsvp_by_phone(meeting)
    assert waiting.rsvp.status == Rsvp.Status.WAITLISTED

    cancel_rsvp(rsvp=first.rsvp)
    send_queued_mail()

    waitlisted, promoted = texts_of(twilio)
    assert "lista de espera" in waitlisted
    assert "se libero un espacio" in promoted
    # Its own private link, which opens the RSVP, now confirmed; the first one still works.
    page = client.get(private_link(promoted))
    assert page.status_code == 200 and page.context["rsvp"].is_confirmed
    assert client.get(private_link(waitlisted)).context["rsvp"] == page.context["rsvp"]
