"""The SQL function behind accent- and case-insensitive search (meetings/search.py).

PostgreSQL gets `outreach_fold(text)`, a pure SQL function; SQLite registers the same function
from Python on every connection, so nothing is created there.
"""

from django.db import migrations

from meetings.search import postgresql_translate_table


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    sources, targets = postgresql_translate_table()
    # Letters only (checked), so the literals need no escaping.
    assert (sources + targets).isalpha()
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION outreach_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"AS $$ SELECT lower(translate(value, '{sources}', '{targets}')) $$"
    )


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS outreach_fold(text)")


class Migration(migrations.Migration):
    dependencies = [("meetings", "0002_rsvp_submission_key")]

    operations = [migrations.RunPython(create_function, drop_function)]
