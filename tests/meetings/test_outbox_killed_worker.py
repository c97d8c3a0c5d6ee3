"""A mail worker killed (SIGKILL: an out-of-memory kill, a hard deploy) in the middle of a hung
SMTP conversation loses no message and sends none twice.

Real pieces only: PostgreSQL, `manage.py db_worker` as a subprocess, `manage.py
send_reminders` as the scheduler runs it every few minutes, and an aiosmtpd server that hangs
on command. What the outbox knows decides what happens to the message the worker held:
- never handed to the server (the worker died before the DATA phase): it goes back to the
  queue by itself and is sent once;
- handed over but never acknowledged: it may have arrived, so it is not sent again on its
  own; it is marked "unknown" and staff resend it with one click from the admin outbox.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from meetings.models import OutgoingEmail
from meetings.services import create_rsvp
from tests.factories import MeetingFactory
from tests.servers import ROOT, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESIDENTS = ["ana@example.org", "bao@example.org", "carmen@example.org"]
STALE_SECONDS = 2


class HangingServer:
    """An SMTP server that accepts, or hangs at RCPT TO (before anything is handed over) or
    after the message's final dot (handed over, never acknowledged), as the test says."""

    def __init__(self):
        self.accepted = []  # recipient of every message the server said 250 to
        self.mode = "ok"
        self.hung = threading.Event()
        self._release = None

    async def _hang(self):
        self.hung.set()
        await asyncio.sleep(3600)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.mode == "hang_rcpt":
            await self._hang()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.mode == "hang_data":
            await self._hang()
        self.accepted.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    handler = HangingServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def worker_env(port):
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL")
    }
    return {
        **env,
        "ENV_FILE": "/dev/null",
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        # Long enough that the worker is still waiting when it is killed.
        "EMAIL_TIMEOUT": "60",
        "OUTBOX_STALE_SECONDS": str(STALE_SECONDS),
        "SITE_URL": "https://outreach.example.org",
    }


def start_worker(env):
    return subprocess.Popen(  # noqa: S603 - the project's own command
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(worker):
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def stop(worker):
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def scheduler_run(env):
    """One pass of the scheduler, as compose and `make run` run it every few minutes."""
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "send_reminders"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def wait_until(condition, *, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def queue_confirmations():
    meeting = MeetingFactory(capacity=None)
    for email in RESIDENTS:
        create_rsvp(meeting=meeting, party_size=1, language="en", email=email)


def statuses():
    return dict(OutgoingEmail.objects.values_list("recipient", "status"))


def test_killed_before_the_hand_over_every_message_arrives_once(smtp):
    server, port = smtp
    env = worker_env(port)
    queue_confirmations()
    server.mode = "hang_rcpt"
    worker = start_worker(env)
    try:
        assert server.hung.wait(30), "the worker never reached the server"
        held = OutgoingEmail.objects.get(status=OutgoingEmail.Status.SENDING)
        assert held.handed_over_at is None
        kill(worker)
    finally:
        stop(worker)

    # The server comes back; a new worker starts; the scheduler runs a while later.
    server.mode = "ok"
    worker = start_worker(env)
    try:
        time.sleep(STALE_SECONDS + 0.5)
        scheduler_run(env)
        wait_until(lambda: len(server.accepted) >= len(RESIDENTS), what="every message sent")
        time.sleep(1)  # anything sent twice would show up now
    finally:
        stop(worker)

    assert sorted(server.accepted) == sorted(RESIDENTS)
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}
    # The task the killed worker held is not left running for ever.
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_killed_after_the_hand_over_the_message_is_unknown_and_staff_resend_it(smtp, admin_client):
    server, port = smtp
    env = worker_env(port)
    queue_confirmations()
    server.mode = "hang_data"
    worker = start_worker(env)
    try:
        assert server.hung.wait(30), "the worker never reached the server"
        held = OutgoingEmail.objects.get(status=OutgoingEmail.Status.SENDING)
        assert held.handed_over_at is not None
        kill(worker)
    finally:
        stop(worker)

    server.mode = "ok"
    worker = start_worker(env)
    try:
        time.sleep(STALE_SECONDS + 0.5)
        scheduler_run(env)
        others = [email for email in RESIDENTS if email != held.recipient]
        wait_until(lambda: len(server.accepted) >= len(others), what="the others sent")
        time.sleep(1)
        # Not sent again by itself: it may have arrived.
        assert sorted(server.accepted) == sorted(others)
        held.refresh_from_db()
        assert held.status == OutgoingEmail.Status.UNKNOWN

        # Staff see it in the outbox, with a resend button, and press it.
        outbox = admin_client.get(reverse("admin:meetings_outgoingemail_changelist"))
        assert "Unknown (may have arrived)" in outbox.content.decode()
        resend_url = reverse("admin:meetings_outgoingemail_resend", args=[held.pk])
        assert resend_url in outbox.content.decode()
        response = admin_client.post(resend_url)
        assert response.status_code == 302
        wait_until(lambda: len(server.accepted) == len(RESIDENTS), what="the resend")
        time.sleep(1)
    finally:
        stop(worker)

    assert sorted(server.accepted) == sorted(RESIDENTS)
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}
