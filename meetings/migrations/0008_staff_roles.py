"""The staff roles, as groups (README, "Staff roles"):

- Outreach coordinators: everything in the meetings app.
- Door volunteers: the check-in page of meetings (first names only: no emails, notes or exports).
- Viewers: meetings, venues and series with their counts, no personal fields.

Running it again (or after staff edited the groups) only adds what is missing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DOOR_VOLUNTEERS = ["view_meeting", "check_in_rsvp"]
VIEWERS = ["view_meeting", "view_venue", "view_meetingseries"]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations: make this app's exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    meetings = Permission.objects.filter(content_type__app_label="meetings")
    roles = {
        "Outreach coordinators": meetings,
        "Door volunteers": meetings.filter(codename__in=DOOR_VOLUNTEERS),
        "Viewers": meetings.filter(codename__in=VIEWERS),
    }
    for name, permissions in roles.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("meetings", "0007_rsvp_walk_in_and_staff_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
