"""Mail against a real SMTP server the test runs (aiosmtpd): slow, hanging, refusing, then back.

Requests only write rows, so they stay fast whatever the server does; the worker retries what
failed before the server had the whole message, and every message arrives exactly once.
"""

import asyncio
import datetime as dt
import smtplib
import socket
import time
from collections import Counter

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.urls import reverse
from django.utils import timezone

from meetings import mail_backend
from meetings.models import OutgoingEmail
from meetings.services import cancel_meeting
from meetings.tokens import make_form_token
from tests.conftest import run_mail_worker
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db


class Recorder:
    """An SMTP server's handler that keeps what it accepted and can answer late."""

    def __init__(self):
        self.received = []  # (recipient, subject) per accepted message
        self.rcpt_delay = 0.0
        self.data_delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.data_delay)
        subject = next(
            line[len("Subject: ") :]
            for line in envelope.content.decode().splitlines()
            if line.startswith("Subject: ")
        )
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, subject))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def hanging_port():
    """A server that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1000)
        yield sock.getsockname()[1]


@pytest.fixture
def mail_settings(settings):
    settings.EMAIL_BACKEND = "meetings.mail_backend.SmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 0.2
    return settings


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def later(minutes):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_hanging_refusing_slow_then_back_every_cancellation_arrives_once(
    client, admin_client, mail_settings, smtp_server, hanging_port
):
    meeting = MeetingFactory(capacity=None, title_en="Town hall")
    emails = [f"resident{number}@example.org" for number in range(199)]
    for email in emails:
        RsvpFactory(meeting=meeting, email=email)
    mail_settings.EMAIL_PORT = hanging_port

    # A resident RSVPs and staff cancel the meeting while the server hangs: both are quick.
    rsvp, rsvp_took = timed(
        lambda: client.post(
            reverse("meetings:rsvp-create", kwargs={"slug": meeting.slug}),
            {
                "party_size": "1",
                "language": "en",
                "email": "last@example.org",
                "form_token": make_form_token(meeting, issued_at=time.time() - 60),
            },
        )
    )
    cancel, cancel_took = timed(
        lambda: admin_client.post(
            reverse("admin:meetings_meeting_changelist"),
            {"action": "cancel_meetings", "_selected_action": [meeting.pk]},
        )
    )
    assert (rsvp.status_code, cancel.status_code) == (302, 302)
    assert rsvp_took < 1, rsvp_took
    assert cancel_took < 1, cancel_took
    assert OutgoingEmail.objects.filter(status="queued").count() == 201

    # The worker meets the hanging server: a try gives up after EMAIL_TIMEOUT, and the rest
    # of the batch waits with it instead of each costing a timeout.
    _sent, took = timed(run_mail_worker)
    assert took < 3, took
    # Refused (nothing listens on the port), a few minutes later.
    mail_settings.EMAIL_PORT = free_port()
    with later(minutes=3):
        run_mail_worker()
    # Slow: the server answers each address after the worker stopped waiting.
    mail_settings.EMAIL_PORT = smtp_server.port
    smtp_server.handler.rcpt_delay = 0.5
    with later(minutes=15):
        run_mail_worker()
    assert smtp_server.handler.received == []
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"queued"}
    # Back to normal: everything waiting goes out.
    smtp_server.handler.rcpt_delay = 0
    with later(minutes=120):
        run_mail_worker()

    received = smtp_server.handler.received
    cancellations = Counter(to for to, subject in received if subject == "Cancelled: Town hall")
    assert cancellations == Counter([*emails, "last@example.org"])
    assert [to for to, subject in received if subject != "Cancelled: Town hall"] == [
        "last@example.org"  # its confirmation, also once
    ]
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_a_slow_server_within_the_timeout_gets_each_message_once(mail_settings, smtp_server):
    mail_settings.EMAIL_PORT = smtp_server.port
    mail_settings.EMAIL_TIMEOUT = 1
    smtp_server.handler.data_delay = 0.2
    meeting = MeetingFactory(title_en="Town hall")
    RsvpFactory(meeting=meeting, email="ana@example.org")
    cancel_meeting(meeting=meeting)
    run_mail_worker()
    run_mail_worker()

    assert smtp_server.handler.received == [("ana@example.org", "Cancelled: Town hall")]
    assert OutgoingEmail.objects.get().status == "sent"


def test_no_answer_after_the_whole_message_is_not_sent_again(mail_settings, smtp_server):
    mail_settings.EMAIL_PORT = smtp_server.port
    # The server takes the message but answers after the worker stopped waiting.
    smtp_server.handler.data_delay = 0.5
    meeting = MeetingFactory(title_en="Town hall")
    RsvpFactory(meeting=meeting, email="ana@example.org")
    cancel_meeting(meeting=meeting)
    run_mail_worker()
    with later(minutes=120):
        run_mail_worker()

    # The server may or may not have kept it; it was offered once and not again.
    assert len(smtp_server.handler.received) <= 1
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.last_error == "No answer after the whole message was sent: it may have arrived."


def test_a_refusal_is_described_by_its_codes_never_its_addresses():
    refused = smtplib.SMTPRecipientsRefused(
        {"ana@example.org": (550, b"no such user ana@example.org"), "b@example.org": (451, b"")}
    )

    assert mail_backend.describe(refused) == "SMTPRecipientsRefused 451,550"
    # One address may be accepted later: not refused for good.
    assert not mail_backend.refused_for_good(refused)
    assert mail_backend.refused_for_good(
        smtplib.SMTPRecipientsRefused({"ana@example.org": (550, b"no such user")})
    )
    assert mail_backend.describe(ConnectionRefusedError("x")) == "ConnectionRefusedError"
