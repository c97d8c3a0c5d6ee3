"""Mail against a real SMTP server the test runs (aiosmtpd): slow, hanging, refusing, then back.

Requests only write rows, so they stay fast whatever the server does; the worker retries what
failed before the server had the whole message, and every message arrives exactly once.
"""

import asyncio
import datetime as dt
import smtplib
import socket
import threading
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


class HangingServer:
    """A mail server that accepts connections and never says a word; it counts them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1000)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)  # held open, silent

    @property
    def connections(self):
        return len(self.accepted)

    def close(self):
        self.sock.close()
        for connection in self.accepted:
            connection.close()
        self.thread.join(timeout=5)


@pytest.fixture
def hanging_server():
    server = HangingServer()
    yield server
    server.close()


@pytest.fixture
def mail_settings(settings):
    settings.EMAIL_BACKEND = "meetings.mail_backend.SmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 0.2
    return settings


def later(minutes):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_hanging_refusing_slow_then_back_every_cancellation_arrives_once(
    client, admin_client, mail_settings, smtp_server, hanging_server
):
    meeting = MeetingFactory(capacity=None, title_en="Town hall")
    emails = [f"resident{number}@example.org" for number in range(199)]
    for email in emails:
        RsvpFactory(meeting=meeting, email=email)
    mail_settings.EMAIL_PORT = hanging_server.port

    # A resident RSVPs and staff cancel the meeting while the server hangs: neither request
    # talks to the mail server (the messages wait in the outbox for the worker).
    rsvp = client.post(
        reverse("meetings:rsvp-create", kwargs={"slug": meeting.slug}),
        {
            "party_size": "1",
            "language": "en",
            "email": "last@example.org",
            "form_token": make_form_token(meeting, issued_at=time.time() - 60),
        },
    )
    cancel = admin_client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "cancel_meetings", "_selected_action": [meeting.pk]},
    )
    assert (rsvp.status_code, cancel.status_code) == (302, 302)
    assert hanging_server.connections == 0
    assert OutgoingEmail.objects.filter(status="queued").count() == 201

    # The worker meets the hanging server: one try per batch (the RSVP's confirmation, the
    # cancellation's 200 messages) gives up after EMAIL_TIMEOUT, and the rest of each batch
    # waits with it instead of each message costing a connection and a timeout.
    run_mail_worker()
    assert hanging_server.connections == 2
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


def test_no_answer_after_the_whole_message_is_unknown_and_not_sent_again(
    mail_settings, smtp_server
):
    mail_settings.EMAIL_PORT = smtp_server.port
    # The server takes the message but answers after the worker stopped waiting.
    smtp_server.handler.data_delay = 0.5
    meeting = MeetingFactory(title_en="Town hall")
    RsvpFactory(meeting=meeting, email="ana@example.org")
    cancel_meeting(meeting=meeting)
    run_mail_worker()
    with later(minutes=120):
        run_mail_worker()

    # The server may or may not have kept it; it was offered once and not again: "unknown",
    # for staff to resend (so its address stays), with the moment it was handed over.
    assert len(smtp_server.handler.received) <= 1
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == ("unknown", 1)
    assert email.last_error == "No answer after the whole message was sent: it may have arrived."
    assert email.handed_over_at is not None
    assert email.recipient == "ana@example.org"


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
