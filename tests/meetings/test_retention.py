"""Retention, end to end on PostgreSQL: a canary name and address go through an RSVP, a staff
edit, the emails and the purge, and then appear nowhere: not in a dump of the database, not in
the logs."""

import datetime as dt
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from meetings.models import OutgoingEmail, Rsvp, RsvpLink
from meetings.services import save_meeting
from meetings.tokens import make_form_token
from tests.factories import MeetingFactory

NAME = "Zorbaquilt"
EMAIL = "zorbaquilt.canary@example.org"
PHONE = "+12145550177"
PG_DUMP = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"


def pg_dump():
    db = connection.settings_dict
    command = [
        PG_DUMP,
        "--no-owner",
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
    ]
    command += ["-U", db["USER"], db["NAME"]]
    return subprocess.run(  # noqa: S603 - a fixed command on the test database
        command, capture_output=True, text=True, check=True, timeout=60
    ).stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_canary_leaves_no_trace_after_the_purge(
    client, admin_client, send_queued_mail, caplog, capsys, twilio
):
    if not Path(PG_DUMP).exists():
        pytest.skip("pg_dump is not installed")
    caplog.set_level("DEBUG")
    meeting = MeetingFactory(capacity=10)
    # A resident RSVPs through the form.
    response = client.post(
        reverse("meetings:rsvp-create", kwargs={"slug": meeting.slug}),
        {
            "party_size": "2",
            "language": "es",
            "first_name": NAME,
            "email": EMAIL,
            "phone": "(214) 555-0177",
            "note": f"{NAME} needs a ride",
            "form_token": make_form_token(meeting, issued_at=time.time() - 60),
        },
    )
    assert response.status_code == 302
    rsvp = Rsvp.objects.get()
    # Staff edit it in the admin (an entry in the admin's history).
    edited = admin_client.post(
        reverse("admin:meetings_rsvp_change", args=[rsvp.pk]),
        {
            "first_name": f"{NAME} M.",
            "email": EMAIL,
            "phone": PHONE,
            "language": "es",
            "note": f"Call {NAME}",
        },
    )
    assert edited.status_code == 302
    # The confirmation goes out, the person is told of staff's edit, then of a new time.
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)
    save_meeting(meeting=meeting)
    sent = send_queued_mail()
    assert [message.to for message in sent] == [[EMAIL], [EMAIL], [EMAIL]]
    assert len(twilio.to(PHONE)) == 3  # and the same three as texts
    # The confirmation and the move each carry a private link of their own; both open the
    # RSVP until the purge.
    found = [re.search(r"https?://[^/]+(/es/rsvp/[\w-]{43}/)", m.body) for m in twilio.to(PHONE)]
    links = [match[1] for match in found if match]
    assert len(set(links)) == 2
    assert [client.get(link).status_code for link in links] == [200, 200]
    assert NAME in pg_dump()  # the canary is there before the purge
    assert PHONE in pg_dump()

    with time_machine.travel(meeting.ends_at + dt.timedelta(days=31)):
        call_command("purge_rsvp_personal_data")

    assert [client.get(link).status_code for link in links] == [404, 404]
    assert not RsvpLink.objects.exists()
    dump = pg_dump().lower()
    assert dump.count(NAME.lower()) == 0
    assert dump.count(EMAIL.lower()) == 0
    assert dump.count(PHONE) == 0
    assert OutgoingEmail.objects.filter(status="sent").count() == 6
    logs = caplog.text + capsys.readouterr().out
    assert NAME.lower() not in logs.lower()
    assert EMAIL.lower() not in logs.lower()
    assert PHONE not in logs


def left_in_sending_by_a_killed_worker():
    """What a worker SIGKILLed at RCPT TO leaves (red-team F1; the real kill is in
    test_outbox_killed_worker.py): the confirmation in "sending", never handed over, with the
    address, the name and the private link, and its django-tasks row RUNNING."""
    long_ago = timezone.now() - dt.timedelta(hours=1)
    OutgoingEmail.objects.update(status="sending", attempts=1, claimed_at=long_ago)
    DBTaskResult.objects.update(status="RUNNING", started_at=long_ago)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("erased_by", ["cancel", "purge"])
def test_a_message_left_in_sending_leaves_no_trace(client, send_queued_mail, erased_by):
    if not Path(PG_DUMP).exists():
        pytest.skip("pg_dump is not installed")
    meeting = MeetingFactory(capacity=10)
    response = client.post(
        reverse("meetings:rsvp-create", kwargs={"slug": meeting.slug}),
        {
            "party_size": "1",
            "language": "es",
            "first_name": NAME,
            "email": EMAIL,
            "form_token": make_form_token(meeting, issued_at=time.time() - 60),
        },
    )
    left_in_sending_by_a_killed_worker()
    assert NAME in pg_dump()

    if erased_by == "cancel":
        # The resident cancels through the private link; their last message goes out.
        client.post(response["Location"] + "cancel/")
        send_queued_mail()
    else:
        with time_machine.travel(meeting.ends_at + dt.timedelta(days=31)):
            call_command("purge_rsvp_personal_data")

    dump = pg_dump().lower()
    assert dump.count(NAME.lower()) == 0
    assert dump.count(EMAIL.lower()) == 0
    assert "/rsvp/" not in dump
    if erased_by == "purge":
        assert not DBTaskResult.objects.filter(status="RUNNING").exists()
