"""Erase names, emails and notes of RSVPs whose meeting ended RSVP_RETENTION_DAYS ago, and
every copy of them the site keeps: outbox messages, the admin's history entries.

Idempotent: an RSVP is erased once and marked, so running it every night is safe. The rows
stay, so seat counts, attendance and needs statistics are unchanged. On PostgreSQL the tables
it changed are vacuumed afterwards, so the old row versions (which still hold the erased
values) are cleared out of the tables instead of waiting for autovacuum.
"""

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from meetings import outbox
from meetings.models import OutgoingEmail, Rsvp


class Command(BaseCommand):
    help = (
        "Erase the names, emails and notes of RSVPs whose meeting ended more than "
        "RSVP_RETENTION_DAYS days ago, with their outbox messages and admin history entries, "
        "keeping the counts; then VACUUM on PostgreSQL. Safe to run repeatedly (e.g. daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the RSVPs that would be erased; change nothing.",
        )
        parser.add_argument(
            "--vacuum-full",
            action="store_true",
            help=(
                "On PostgreSQL, VACUUM FULL: rewrite the tables' files so no old row version "
                "stays on disk (locks each table while it runs)."
            ),
        )

    def handle(self, *args, dry_run=False, vacuum_full=False, **options):
        days = settings.RSVP_RETENTION_DAYS
        now = timezone.now()
        expired = Rsvp.objects.personal_data_expired(days=days, now=now)
        if dry_run:
            count = expired.count()
            verb = "Would erase"
        else:
            with transaction.atomic():
                pks = list(expired.values_list("pk", flat=True))
                count = Rsvp.objects.filter(pk__in=pks).erase_personal_data(now=now)
                emails = erase_outbox(pks)
                entries = anonymise_history(pks)
                # Tasks a killed worker left RUNNING hold their arguments for ever otherwise.
                tasks = outbox.close_dead_tasks(now=now)
            verb = "Erased"
            # VACUUM cannot run inside a transaction (a caller's, or a test's). --vacuum-full
            # runs even with nothing new to erase: it is how the operator clears the files of
            # the earlier nightly runs (README, "Retention").
            if (
                (count or vacuum_full)
                and connection.vendor == "postgresql"
                and not connection.in_atomic_block
            ):
                vacuum(
                    [Rsvp, OutgoingEmail, LogEntry] if emails or entries or vacuum_full else [Rsvp],
                    full=vacuum_full,
                )
            if tasks and connection.vendor == "postgresql" and not connection.in_atomic_block:
                vacuum([DBTaskResult], full=vacuum_full)
        self.stdout.write(
            f"{verb} the personal data of {count} RSVP(s) of meetings that ended more than "
            f"{days} day(s) ago."
        )


def erase_outbox(rsvp_pks):
    """Blank every personal field of the RSVPs' messages, whatever their status (one left in
    "sending" by a killed worker too); one never handed over is given up on."""
    return OutgoingEmail.objects.filter(rsvp_id__in=rsvp_pks).withdraw(
        "Erased by the purge before it was sent."
    )


def anonymise_history(rsvp_pks):
    """Admin history entries of the RSVPs name them by number only, and keep only which
    fields changed (never values: Django's change messages hold field names)."""
    rsvp_type = ContentType.objects.get_for_model(Rsvp)
    return LogEntry.objects.filter(
        content_type=rsvp_type, object_id__in=[str(pk) for pk in rsvp_pks]
    ).update(object_repr=Concat(Value("RSVP #"), Cast("object_id", output_field=CharField())))


def vacuum(models, *, full=False):
    """VACUUM runs outside a transaction (the command's connection is in autocommit)."""
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {'FULL ' if full else ''}{tables}")
