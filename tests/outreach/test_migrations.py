"""Migrations a rolling deploy survives (expand, then contract; README, "Migrations during a
deploy"): compose's `migrate` runs while replicas of the previous release still serve, so no
migration may leave a column that old code cannot insert without, nor drop or rename one it
reads."""

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED

# Contract steps: a column or table dropped or renamed only after a release in which no code
# read it any more. Add a row here only then, saying which release stopped reading it.
CONTRACTED = {
    # 0005 made the RSVP form keep only the key's hash; 0006 copies it and drops the plain key.
    ("meetings", "0006_rsvp_submission_key_hash", "RemoveField", "rsvp", "submission_key"),
}

DESTRUCTIVE = (
    migrations.RemoveField,
    migrations.RenameField,
    migrations.DeleteModel,
    migrations.RenameModel,
)


def our_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader, sorted(
        (key, migration)
        for key, migration in loader.disk_migrations.items()
        if key[0] == "meetings"
    )


def final_field(state: ProjectState, app, model_name, name):
    """The field as the last migration leaves it; None if a later migration removed it."""
    model = state.models.get((app, model_name.lower()))
    return model.fields.get(name) if model else None


def test_every_column_added_after_its_table_can_be_left_out_by_old_code():
    """A column added by AddField is nullable or has a database default (`db_default`) in the
    schema the migrations leave, so an INSERT from the previous release, which does not name
    it, still works (4 of 4 RSVP posts failed on old replicas when 0009 dropped its default)."""
    loader, migrations_on_disk = our_migrations()
    state = loader.project_state()
    old_code_cannot_insert = []
    for (app, name), migration in migrations_on_disk:
        for operation in migration.operations:
            if not isinstance(operation, migrations.AddField):
                continue
            field = final_field(state, app, operation.model_name, operation.name)
            if field is None or field.many_to_many or field.null:
                continue
            if field.db_default is not NOT_PROVIDED:
                continue
            old_code_cannot_insert.append(f"{name}: {operation.model_name}.{operation.name}")

    assert old_code_cannot_insert == []


def test_no_migration_drops_or_renames_what_the_previous_release_reads():
    _loader, migrations_on_disk = our_migrations()
    destructive = {
        (
            app,
            name,
            type(operation).__name__,
            getattr(operation, "model_name", None) or getattr(operation, "old_name", ""),
            getattr(operation, "name", None) or getattr(operation, "new_name", ""),
        )
        for (app, name), migration in migrations_on_disk
        for operation in migration.operations
        if isinstance(operation, DESTRUCTIVE)
    }

    assert destructive - CONTRACTED == set()
