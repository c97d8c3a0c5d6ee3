"""The seat counter's triggers again, after the merge of the text-message branch.

On SQLite, Django rebuilds a table for most changes to it, and the rebuild drops its triggers:
when the text-message branch's change to meetings_rsvp (the phone column) runs after
0018_ops2_seat_counter, the counter stops following RSVPs. This creates the triggers again
where they are missing and recounts every meeting's seats. PostgreSQL keeps triggers through
ALTER TABLE: there it only recounts.
"""

import importlib

from django.db import migrations

seat_counter = importlib.import_module("meetings.migrations.0018_ops2_seat_counter")


def create_missing_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'meetings_rsvp'"
            )
            present = {row[0] for row in cursor.fetchall()}
        for statement, reverse in zip(
            seat_counter.SQLITE, seat_counter.SQLITE_REVERSE, strict=True
        ):
            if reverse.split()[-1] not in present:
                schema_editor.execute(statement)
    schema_editor.execute("DELETE FROM meetings_meetingseats")
    schema_editor.execute(seat_counter.BACKFILL)


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0020_sms_db_defaults"),
    ]

    operations = [
        migrations.RunPython(create_missing_triggers, migrations.RunPython.noop),
    ]
