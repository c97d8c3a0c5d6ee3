"""One pass of the emails that go out at a set time: reminders before meetings and the
anonymous questions after them. Safe to run every few minutes, and by two machines at once:
each party gets each email once.

The same pass settles what a killed mail worker left behind (meetings.outbox.recover): a
message it never handed to the server is queued again, one it did is marked "unknown" for
staff to see and resend."""

from django.core.management.base import BaseCommand

from meetings import outbox
from meetings.services import ask_for_feedback, send_reminders


class Command(BaseCommand):
    help = (
        "Queue the reminders of meetings starting within REMINDER_HOURS_BEFORE hours and the "
        "follow-up questions of meetings that ended; each party gets each email once. Also "
        "re-queues the messages a killed mail worker never handed over."
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
        self.stdout.write(
            f"Queued {reminders} reminder(s) and {follow_ups} follow-up question email(s)."
        )
