"""Backup and restore of a running site (README, "Backup and restore"): `scripts/backup.sh`
dumps a throwaway PostgreSQL while the app, under the Dockerfile's server command, takes RSVPs;
`pg_restore` loads the dump into another database, and the app then serves from the copy."""

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

from tests.outreach.test_deploy import Resident
from tests.servers import (
    PG_BIN,
    ROOT,
    clean_env,
    create_meeting,
    http,
    manage,
    postgres_available,
    production_server,
    throwaway_postgres,
)

PG_RESTORE = shutil.which("pg_restore") or str(PG_BIN / "pg_restore")

pytestmark = pytest.mark.skipif(
    not postgres_available(), reason="needs PostgreSQL 15 server binaries (initdb, pg_ctl)"
)

# Two residents who gave an email: one for a meeting that ended long ago (past the retention
# limit, so the purge must erase her before the dump), one for the meeting ahead.
SEED = """
import datetime as dt
import django; django.setup()
from django.utils import timezone
from meetings.models import Meeting
from tests.factories import MeetingFactory, RsvpFactory
town_hall = Meeting.objects.get(slug="town-hall")
long_ago = timezone.now() - dt.timedelta(days=90)
old = MeetingFactory(slug="old-meeting", venue=town_hall.venue, starts_at=long_ago,
                     ends_at=long_ago + dt.timedelta(hours=1))
RsvpFactory(meeting=old, first_name="Oldcanary", email="old.canary@example.org")
RsvpFactory(meeting=town_hall, first_name="Newcanary",
            email="new.canary@example.org", party_size=2)
"""

COUNT_SEATS = """
import django; django.setup()
from django.db.models import Sum
from meetings.models import Rsvp
print(Rsvp.objects.filter(meeting__slug="town-hall").aggregate(seats=Sum("party_size"))["seats"])
"""


def python(code, env):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def createdb(cluster, name):
    cluster.run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", name)


def seats_left(page):
    return int(re.search(r"(\d+) seats left", page)[1])


def test_a_dump_taken_while_rsvps_arrive_restores_into_a_copy_that_serves(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    # A dump older than the seven days kept, which the backup script deletes.
    stale = backups / "outreach-20200101T030000Z.dump"
    stale.write_bytes(b"old")
    os.utime(stale, (0, 0))
    # One of yesterday, which stays.
    recent = backups / "outreach-20991231T030000Z.dump"
    recent.write_bytes(b"recent")
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).timestamp()
    os.utime(recent, (yesterday, yesterday))
    with throwaway_postgres() as cluster:
        createdb(cluster, "outreach")
        env = clean_env(
            DATABASE_URL=cluster.url("outreach"), RSVP_MIN_FILL_SECONDS="0", RSVP_RATE_LIMIT=""
        )
        manage("migrate", "--no-input", env=env)
        create_meeting(env)
        python(SEED, env)

        with production_server(env, workers=2) as (base, _log):
            # Residents RSVP, one after another, for the whole time the backup runs.
            statuses, stop = [], threading.Event()

            def resident_after_resident():
                while not stop.is_set():
                    statuses.append(Resident(base).post_rsvp())

            writer = threading.Thread(target=resident_after_resident)
            writer.start()
            try:
                while len(statuses) < 5:
                    stop.wait(0.1)
                taken_before_the_dump = statuses.count(302)
                backup = subprocess.run(  # noqa: S603
                    [ROOT / "scripts/backup.sh", str(backups)],
                    cwd=ROOT,
                    env={**env, "PYTHON": sys.executable},
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                taken_during_the_dump = len(statuses)
                while len(statuses) < taken_during_the_dump + 5:
                    stop.wait(0.1)
            finally:
                stop.set()
                writer.join(timeout=60)
            live_seats = int(python(COUNT_SEATS, env))

        assert backup.returncode == 0, backup.stderr
        dump = Path(backup.stdout.strip().splitlines()[-1])
        assert sorted(path.name for path in backups.iterdir()) == [dump.name, recent.name]
        # The dump, as SQL: the purge ran first, so the resident of the old meeting is not in it.
        sql = subprocess.run(  # noqa: S603
            [PG_RESTORE, "--file=-", str(dump)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert "new.canary@example.org" in sql
        assert "old.canary@example.org" not in sql
        assert "Oldcanary" not in sql

        # Restored into another database, as an operator would (README's commands).
        createdb(cluster, "outreach_copy")
        subprocess.run(  # noqa: S603
            [
                PG_RESTORE,
                "--no-owner",
                "--exit-on-error",
                f"--dbname={cluster.url('outreach_copy')}",
                str(dump),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        copy_env = {**env, "DATABASE_URL": cluster.url("outreach_copy")}
        # Every migration is applied in the copy, and the app's checks pass on it.
        manage("migrate", "--check", env=copy_env)
        manage("check", env=copy_env)
        copy_seats = int(python(COUNT_SEATS, copy_env))

        with production_server(copy_env, workers=1) as (base, _log):
            page_status, _headers, page = http(f"{base}/en/meetings/town-hall/")
            resident = Resident(base)
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": resident.csrf,
                    "form_token": resident.form_token,
                    "party_size": "3",
                    "language": "en",
                }
            ).encode()
            rsvp_status, rsvp_headers, _ = http(
                f"{base}/en/meetings/town-hall/rsvp/",
                data=body,
                headers={"Cookie": f"csrftoken={resident.csrf}"},
            )
            private_status, _headers, private_page = http(
                urllib.parse.urljoin(base, rsvp_headers["Location"])
            )
        seats_after = int(python(COUNT_SEATS, copy_env))

    assert set(statuses) == {302}
    # A consistent snapshot: every RSVP confirmed before the dump began is in the copy (the
    # resident with the email counts 2), and nothing the live site never took.
    assert 2 + taken_before_the_dump <= copy_seats <= live_seats
    assert live_seats == 2 + len(statuses)
    # The copy serves the meeting page with the seats its own RSVPs leave, and takes an RSVP
    # that the resident can read back through the private link.
    assert page_status == 200
    assert seats_left(page) == 500 - copy_seats
    assert rsvp_status == 302
    assert private_status == 200
    assert "Town hall" in private_page
    assert seats_after == copy_seats + 3


def test_backup_script_refuses_to_run_without_a_database_url(tmp_path):
    env = {key: value for key, value in clean_env().items() if key != "DATABASE_URL"}
    result = subprocess.run(  # noqa: S603
        [ROOT / "scripts/backup.sh", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "DATABASE_URL must name the database" in result.stderr
    assert list(tmp_path.iterdir()) == []
