"""One pass of the emails that go out at a set time: reminders before meetings and the
anonymous questions after them. Safe to run every few minutes, and by two machines at once:
each party gets each email once."""

from django.core.management.base import BaseCommand

from meetings.services import ask_for_feedback, send_reminders


class Command(BaseCommand):
    help = (
        "Queue the reminders of meetings starting within REMINDER_HOURS_BEFORE hours and the "
        "follow-up questions of meetings that ended; each party gets each email once."
    )

    def handle(self, *args, **options):
        reminders = send_reminders()
        follow_ups = ask_for_feedback()
        self.stdout.write(
            f"Queued {reminders} reminder(s) and {follow_ups} follow-up question email(s)."
        )
