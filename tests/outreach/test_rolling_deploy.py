"""A rolling deploy, as compose runs one: the new release migrates while replicas of the previous
release still serve. The previous release's code (the commit before the newest migration, taken
with `git archive`) must still take an RSVP on the new schema (README, "Migrations during a
deploy")."""

import io
import shutil
import subprocess
import sys
import tarfile

import pytest

from tests.servers import ROOT, clean_env, manage, postgres_available, throwaway_postgres

pytestmark = pytest.mark.skipif(
    not postgres_available() or not shutil.which("git") or not (ROOT / ".git").exists(),
    reason="needs PostgreSQL 15 server binaries and the project's git history",
)

# Run by the previous release's code, in its own folder: a meeting, its page, an RSVP posted
# through Django's test client with the form the page gave, and the row read back.
OLD_REPLICA = """
import re
import django
django.setup()
from django.test import Client
from meetings.models import Meeting, Rsvp
from tests.factories import MeetingFactory
meeting = MeetingFactory(slug="rolling", capacity=50)
client = Client()
page = client.get("/en/meetings/rolling/")
token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode())[1]
response = client.post(
    "/en/meetings/rolling/rsvp/",
    {"form_token": token, "party_size": "2", "language": "en", "first_name": "Old replica"},
)
print(page.status_code, response.status_code, Rsvp.objects.filter(meeting=meeting).count())
"""


def git(*args):
    return subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def previous_release():
    """The parent of the newest commit that added a migration."""
    newest = (
        git("log", "-1", "--diff-filter=A", "--format=%H", "--", "meetings/migrations/")
        .decode()
        .strip()
    )
    return git("rev-parse", f"{newest}^").decode().strip()


def test_the_previous_releases_code_takes_an_rsvp_on_the_new_schema(tmp_path):
    try:
        commit = previous_release()
    except subprocess.CalledProcessError:
        pytest.skip("the git history is too shallow to hold the previous release")
    old_code = tmp_path / "previous-release"
    old_code.mkdir()
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", commit))) as archive:
        archive.extractall(old_code, filter="data")
    with throwaway_postgres() as cluster:
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "outreach"
        )
        env = clean_env(
            DATABASE_URL=cluster.url("outreach"),
            DEBUG="true",
            ALLOWED_HOSTS="testserver",
            RSVP_MIN_FILL_SECONDS="0",
            RSVP_RATE_LIMIT="",
        )
        # The new release migrates (this checkout)…
        manage("migrate", "--no-input", env=env)
        # …while the previous release's code serves.
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", OLD_REPLICA],
            cwd=old_code,
            env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings", "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["200", "302", "1"]
