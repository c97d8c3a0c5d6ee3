"""What a killed worker leaves behind, settled: the hand-over mark, the sweep (`recover`),
staff's "Send again", and every personal field erased on cancel whatever the row's status.
(The same against a real worker process and SMTP server: test_outbox_killed_worker.py.)"""

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from meetings import emails, outbox
from meetings.models import OutgoingEmail
from meetings.outbox import Delivery
from meetings.services import cancel_rsvp, create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

Status = OutgoingEmail.Status
OUTBOX = reverse("admin:meetings_outgoingemail_changelist")
PERSONAL = ("recipient", "subject", "text", "html", "calendar")


def queue(email="ana@example.org"):
    result = create_rsvp(
        meeting=MeetingFactory(), party_size=1, language="es", email=email, first_name="Ana"
    )
    return result.rsvp, OutgoingEmail.objects.get(rsvp=result.rsvp)


def left_by_a_killed_worker(row, *, handed_over, minutes_ago=30):
    """The row as a worker killed mid-send leaves it: claimed, maybe handed over, in "sending"."""
    then = timezone.now() - dt.timedelta(minutes=minutes_ago)
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status=Status.SENDING,
        attempts=1,
        claimed_at=then,
        handed_over_at=then if handed_over else None,
    )
    row.refresh_from_db()
    return row


def personal(row):
    row.refresh_from_db()
    return [getattr(row, name) for name in PERSONAL]


# The hand-over mark ------------------------------------------------------------------------


def test_the_hand_over_is_recorded_before_the_message_goes(send_queued_mail):
    _rsvp, row = queue()
    seen = []

    def sender(claimed):
        outbox.handing_over(claimed)
        seen.append(OutgoingEmail.objects.get(pk=claimed.pk).handed_over_at)

    assert outbox.deliver(row.pk, send=sender) == Delivery.SENT
    row.refresh_from_db()
    assert seen[0] is not None
    assert (row.status, row.handed_over_at) == ("sent", seen[0])


def test_a_cancel_during_the_send_stops_it_before_the_hand_over():
    rsvp, row = queue()

    def sender(claimed):
        # The resident cancels while the worker talks to the server (before DATA).
        cancel_rsvp(rsvp=rsvp)
        outbox.handing_over(claimed)
        raise AssertionError("the message went over")

    assert outbox.deliver(row.pk, send=sender) == Delivery.SKIPPED
    row.refresh_from_db()
    assert row.status == Status.WITHDRAWN
    assert personal(row) == ["", "", "", "", ""]


def test_a_worker_whose_row_was_taken_back_stops_before_the_hand_over():
    _rsvp, row = queue()

    def slow_sender(claimed):
        # Past the staleness limit, the sweep gives the row to another worker.
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
            outbox.recover()
        outbox.handing_over(claimed)

    assert outbox.deliver(row.pk, send=slow_sender) == Delivery.SKIPPED
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.last_error == outbox.TAKEN_BACK


# The sweep ---------------------------------------------------------------------------------


def test_recover_queues_again_what_was_never_handed_over_and_it_is_sent_once(
    send_queued_mail,
):
    _rsvp, row = queue()
    DBTaskResult.objects.all().delete()  # its task died with the worker
    left_by_a_killed_worker(row, handed_over=False)

    recovered = outbox.recover()
    sent = send_queued_mail()
    outbox.recover()
    send_queued_mail()

    assert (recovered.requeued, recovered.unknown) == (1, 0)
    assert [message.to for message in sent] == [["ana@example.org"]]
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_recover_marks_what_was_handed_over_unknown_and_does_not_send_it(send_queued_mail):
    _rsvp, row = queue()
    left_by_a_killed_worker(row, handed_over=True)

    recovered = outbox.recover()
    send_queued_mail()

    assert (recovered.requeued, recovered.unknown) == (0, 1)
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN
    assert row.last_error == outbox.NO_ANSWER
    # Kept whole so staff can send it again.
    assert row.recipient == "ana@example.org"
    assert "Ana" in row.text


def test_recover_leaves_a_row_being_sent_right_now_alone():
    _rsvp, row = queue()
    left_by_a_killed_worker(row, handed_over=False, minutes_ago=1)

    recovered = outbox.recover()

    assert (recovered.requeued, recovered.unknown) == (0, 0)
    row.refresh_from_db()
    assert row.status == Status.SENDING


def test_recover_queues_a_task_again_for_queued_rows_whose_task_died(send_queued_mail):
    _rsvp, row = queue()
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        recovered = outbox.recover()
        send_queued_mail()

    assert (recovered.orphans, recovered.tasks) == (1, 1)
    assert [message.to for message in mail.outbox] == [["ana@example.org"]]
    dead = DBTaskResult.objects.get(status="FAILED")
    assert dead.args_kwargs == {"args": [], "kwargs": {}}


def test_the_scheduler_runs_the_sweep():
    _rsvp, row = queue()
    left_by_a_killed_worker(row, handed_over=True)

    call_command("send_reminders", stdout=io.StringIO())

    row.refresh_from_db()
    assert row.status == Status.UNKNOWN


# Cancel and purge erase every copy, whatever the status (red-team F1) ------------------------


@pytest.mark.parametrize(
    ("status", "handed_over", "after"),
    [
        (Status.QUEUED, False, Status.WITHDRAWN),
        (Status.SENDING, False, Status.WITHDRAWN),
        (Status.SENDING, True, Status.SENDING),
        (Status.FAILED, False, Status.FAILED),
        (Status.UNKNOWN, True, Status.UNKNOWN),
    ],
)
def test_cancelling_erases_the_outbox_whatever_the_status(status, handed_over, after):
    rsvp, row = queue()
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status=status, handed_over_at=timezone.now() if handed_over else None
    )

    cancel_rsvp(rsvp=rsvp)

    row.refresh_from_db()
    assert personal(row) == ["", "", "", "", ""]
    assert row.status == after


def test_the_purge_erases_a_row_left_in_sending_and_closes_dead_tasks():
    rsvp, row = queue()
    left_by_a_killed_worker(row, handed_over=False)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=2))
    meeting = rsvp.meeting

    with time_machine.travel(meeting.ends_at + dt.timedelta(days=31)):
        call_command("purge_rsvp_personal_data", stdout=io.StringIO())

    assert personal(row) == ["", "", "", "", ""]
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


# Staff's "Send again" ----------------------------------------------------------------------


def unknown_row():
    _rsvp, row = queue()
    left_by_a_killed_worker(row, handed_over=True)
    outbox.recover()
    return row


def staff(*codenames, group=None):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def test_coordinators_see_unknown_messages_with_a_send_again_button(client, send_queued_mail):
    row = unknown_row()
    client.force_login(staff(group="Outreach coordinators"))

    page = client.get(OUTBOX).content.decode()
    response = client.post(reverse("admin:meetings_outgoingemail_resend", args=[row.pk]))
    sent = send_queued_mail()

    assert "Unknown (may have arrived): 1" in page
    assert f'form="resend-{row.pk}"' in page
    assert reverse("admin:meetings_outgoingemail_resend", args=[row.pk]) in page
    assert response.status_code == 302
    assert [message.to for message in sent] == [["ana@example.org"]]
    # The same Message-ID: a mail program that has the first copy files them as one.
    assert sent[0].extra_headers["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_send_again_needs_the_permission(client):
    row = unknown_row()
    client.force_login(staff("view_outgoingemail"))

    page = client.get(OUTBOX).content.decode()
    response = client.post(reverse("admin:meetings_outgoingemail_resend", args=[row.pk]))

    assert "Send again" not in page
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN


def test_send_again_is_a_post_with_the_csrf_token():
    row = unknown_row()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(group="Outreach coordinators"))
    url = reverse("admin:meetings_outgoingemail_resend", args=[row.pk])

    opened = client.get(url)
    forged = client.post(url)

    assert opened.status_code == 302
    assert forged.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN


def test_only_unknown_messages_are_sent_again(admin_client, send_queued_mail):
    _rsvp, row = queue()
    send_queued_mail()

    response = admin_client.post(
        reverse("admin:meetings_outgoingemail_resend", args=[row.pk]), follow=True
    )

    assert "Only a message whose arrival is unknown" in response.content.decode()
    assert len(mail.outbox) == 1


def test_the_email_sender_marks_the_hand_over(send_queued_mail):
    _rsvp, row = queue()

    assert outbox.deliver(row.pk, send=emails.send) == Delivery.SENT
    row.refresh_from_db()
    assert row.handed_over_at is not None


def test_a_sender_failing_after_the_hand_over_leaves_the_message_unknown_for_any_channel():
    """A text-message carrier that times out after the POST: the same "unknown" as email."""
    _rsvp, row = queue()

    def carrier_timing_out(claimed):
        outbox.handing_over(claimed)
        raise outbox.SendFailed("ReadTimeout", may_have_arrived=True)

    assert outbox.deliver(row.pk, send=carrier_timing_out) == Delivery.UNKNOWN
    row.refresh_from_db()
    assert (row.status, row.last_error, row.next_attempt_at) == ("unknown", "ReadTimeout", None)
    assert row.handed_over_at is not None
    # No retry is queued: only the task that first named it.
    assert DBTaskResult.objects.count() == 1


def test_recover_adds_no_task_while_due_tasks_wait_for_a_worker_that_is_only_behind():
    _rsvp, row = queue()  # its task is READY: the worker has not got to it yet

    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        recovered = outbox.recover()

    assert recovered.orphans == 0
    assert DBTaskResult.objects.count() == 1
