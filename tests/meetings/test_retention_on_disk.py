"""Erased means erased on disk: after the purge, the values are gone from PostgreSQL's table and
index files once the operator's `--vacuum-full` has run (README, "Retention"), even when that
run has nothing new to erase. A cluster of the test's own, whose files it can read."""

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.servers import ROOT, clean_env, manage, postgres_available, throwaway_postgres

pytestmark = pytest.mark.skipif(not postgres_available(), reason="needs PostgreSQL 15 binaries")

CANARY_NAME, CANARY_EMAIL = "Canarycat", "canary.cat@example.org"

RSVP_LONG_AGO = f"""
import datetime as dt
import django; django.setup()
from django.utils import timezone
from tests.factories import MeetingFactory, RsvpFactory
meeting = MeetingFactory(starts_at=timezone.now() - dt.timedelta(days=400))
RsvpFactory(meeting=meeting, first_name="{CANARY_NAME}", email="{CANARY_EMAIL}", note="CanaryNote")
"""


def files_holding(data_dir, *needles):
    """The cluster's table and index files (base/) holding any of the byte strings."""
    found = set()
    for path in (Path(data_dir) / "base").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if any(needle.encode() in content for needle in needles):
                found.add(path.name)
    return found


def test_vacuum_full_after_the_purge_leaves_no_erased_value_in_the_table_files():
    with throwaway_postgres() as cluster:
        env = clean_env(DATABASE_URL=cluster.url(), RSVP_RETENTION_DAYS="30")
        manage("migrate", "--no-input", env=env)
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", RSVP_LONG_AGO],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings"},
            check=True,
            capture_output=True,
            timeout=60,
        )

        def checkpoint():
            with psycopg.connect(cluster.url(), autocommit=True) as db:
                db.execute("CHECKPOINT")

        checkpoint()
        before = files_holding(cluster.data, CANARY_NAME, CANARY_EMAIL)
        erased = manage("purge_rsvp_personal_data", env=env).stdout
        # The nightly run (plain VACUUM), then the operator's weekly one, with nothing new to erase.
        again = manage("purge_rsvp_personal_data", "--vacuum-full", env=env).stdout
        checkpoint()
        after = files_holding(cluster.data, CANARY_NAME, CANARY_EMAIL, "CanaryNote")

    assert before, "the canary should be in the files before the purge"
    assert "Erased the personal data of 1 RSVP(s)" in erased
    assert "Erased the personal data of 0 RSVP(s)" in again
    assert after == set()
