"""Erase names, emails and notes of RSVPs whose meeting ended RSVP_RETENTION_DAYS ago.

Idempotent: an RSVP is erased once and marked, so running it every night is safe. The rows
stay, so seat counts, attendance and needs statistics are unchanged.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from meetings.models import Rsvp


class Command(BaseCommand):
    help = (
        "Erase the names, emails and notes of RSVPs whose meeting ended more than "
        "RSVP_RETENTION_DAYS days ago, keeping the counts. Safe to run repeatedly (e.g. daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the RSVPs that would be erased; change nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        days = settings.RSVP_RETENTION_DAYS
        now = timezone.now()
        expired = Rsvp.objects.personal_data_expired(days=days, now=now)
        if dry_run:
            count = expired.count()
            verb = "Would erase"
        else:
            count = expired.erase_personal_data(now=now)
            verb = "Erased"
        self.stdout.write(
            f"{verb} the personal data of {count} RSVP(s) of meetings that ended more than "
            f"{days} day(s) ago."
        )
