"""Keep only a SHA-256 of each RSVP form's one-time key, never the key itself.

The manage token of an RSVP made from a form is an HMAC of that key with SECRET_KEY: with the
key stored in clear, the database plus SECRET_KEY gave every such RSVP's private link.
"""

import hashlib

from django.db import migrations, models


def hash_keys(apps, schema_editor):
    Rsvp = apps.get_model("meetings", "Rsvp")
    for rsvp in Rsvp.objects.exclude(submission_key=None).only("pk", "submission_key"):
        digest = hashlib.sha256(rsvp.submission_key.hex.encode()).hexdigest()
        Rsvp.objects.filter(pk=rsvp.pk).update(submission_key_hash=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0005_rsvp_email_not_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="rsvp",
            name="submission_key_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text=(
                    "SHA-256 of the one-time key of the form that made this RSVP, so a form "
                    "sent twice (a double click) makes one RSVP; the key itself is never stored."
                ),
                max_length=64,
                null=True,
                unique=True,
                verbose_name="form submission key hash",
            ),
        ),
        # Old links keep working: the manage token was derived from the key once, and only
        # its hash was ever stored.
        migrations.RunPython(hash_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="rsvp", name="submission_key"),
    ]
