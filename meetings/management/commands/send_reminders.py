"""One pass of the messages that go out at a set time: reminders before meetings, the
anonymous questions after them, and the daily digest of alerts of new meetings. Safe to run
every few minutes, and by two machines at once: each party gets each email once, and each
alert subscriber at most one digest a day.

The same pass settles what a killed mail worker left behind (meetings.outbox.recover): a
message it never handed to the server is queued again, one it did is marked "unknown" for
staff to see and resend."""

from django.core.management.base import BaseCommand

from meetings import outbox
from meetings.alerts import send_digests
from meetings.services import ask_for_feedback, send_reminders


class Command(BaseCommand):
    help = (
        "Queue the reminders of meetings starting within REMINDER_HOURS_BEFORE hours, the "
        "follow-up questions of meetings that ended, and the digests of alerts of new "
        "meetings; each party gets each email once. Also re-queues the messages a killed mail "
        "worker never handed over."
    )

    def handle(self, *args, **options):
        recovered = outbox.recover()
        if recovered.requeued or recovered.unknown or recovered.orphans or recovered.tasks:
            self.stdout.write(
                f"Outbox: {recovered.requeued} message(s) a stopped worker held queued again, "
                f"{recovered.unknown} marked unknown, {recovered.orphans} re-queued, "
                f"{recovered.tasks} dead task(s) closed."
            )
        reminders = send_reminders()
        follow_ups = ask_for_feedback()
        digests = send_digests()
        self.stdout.write(
            f"Queued {reminders} reminder(s), {follow_ups} follow-up question email(s) "
            f"and {digests} alert digest(s)."
        )
