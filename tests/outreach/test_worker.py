"""The mail worker (`manage.py db_worker`) against a PostgreSQL cluster the test starts and
stops: it outlives the database going away, and it stops at once on SIGTERM."""

import signal
import socket
import subprocess
import sys
import time

import psycopg
import pytest

from tests.servers import ROOT, clean_env, manage, postgres_available, throwaway_postgres

pytestmark = pytest.mark.skipif(not postgres_available(), reason="needs PostgreSQL 15 binaries")

ENQUEUE = """
import django; django.setup()
from meetings.emails import send_queued_email
print(send_queued_email.enqueue([]).id)
"""


def enqueue(env):
    """A real task of ours (the outbox's send, with nothing to send); returns its id."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", ENQUEUE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def task_status(cluster, task_id, *, within):
    """The task's status once it is no longer waiting, or after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        with psycopg.connect(cluster.url(), autocommit=True) as db:
            (status,) = db.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s", [task_id]
            ).fetchone()
        if status not in ("READY", "RUNNING") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_the_worker_outlives_a_database_outage_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "worker.log"
    with throwaway_postgres() as cluster, log.open("w") as log_file:
        env = clean_env(DATABASE_URL=cluster.url(), EMAIL_URL="consolemail://")
        manage("migrate", "--no-input", env=env)
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval=0.2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            assert task_status(cluster, enqueue(env), within=30) == "SUCCESSFUL"

            cluster.stop()
            time.sleep(4)  # several polls, and backoffs, without a database
            still_running = worker.poll() is None
            cluster.start()
            after_outage = task_status(cluster, enqueue(env), within=45)

            worker.send_signal(signal.SIGTERM)
            exit_code = worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    output = log.read_text()
    assert still_running, output
    assert after_outage == "SUCCESSFUL", output
    assert "Database unavailable" in output and "tries again in" in output
    assert "Traceback" not in output
    assert exit_code == 0, output


RSVP_WITH_EMAIL = """
import django; django.setup()
from meetings import services
from tests.factories import MeetingFactory
meeting = MeetingFactory(capacity=None)
services.create_rsvp(meeting=meeting, party_size=1, language="en", email="resident@example.org")
"""


def running_task(cluster, *, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with psycopg.connect(cluster.url(), autocommit=True) as db:
            row = db.execute(
                "SELECT id FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
            ).fetchone()
        if row:
            return str(row[0])
        time.sleep(0.2)
    return None


def test_sigterm_stops_a_task_stuck_on_a_hung_mail_server_in_time(tmp_path):
    """docker stop sends SIGTERM, then SIGKILL after its grace: the worker, stuck in a send
    to a mail server that never answers, stops by itself after WORKER_STOP_SECONDS, and its
    task is recorded as ended, not left RUNNING for ever."""
    log = tmp_path / "worker.log"
    with (
        throwaway_postgres() as cluster,
        socket.socket() as hanging,
        log.open("w") as log_file,
    ):
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(100)  # accepts, never says a word
        env = clean_env(
            DATABASE_URL=cluster.url(),
            EMAIL_URL=f"smtp://127.0.0.1:{hanging.getsockname()[1]}",
            EMAIL_TIMEOUT="60",
            WORKER_STOP_SECONDS="2",
        )
        manage("migrate", "--no-input", env=env)
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", RSVP_WITH_EMAIL],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings"},
            check=True,
            capture_output=True,
            timeout=60,
        )
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval=0.2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            task_id = running_task(cluster, within=30)
            assert task_id, log.read_text()
            time.sleep(0.5)  # inside the send
            worker.send_signal(signal.SIGTERM)
            exit_code = worker.wait(timeout=20)  # well before the 60 s mail timeout
            status = task_status(cluster, task_id, within=0)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    output = log.read_text()
    assert exit_code == 0, output
    assert status == "FAILED", output
    assert "did not finish in time" in output
