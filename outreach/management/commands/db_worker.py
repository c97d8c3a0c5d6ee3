"""`manage.py db_worker`: django-tasks-db's mail worker, made to survive and to stop in time.

- **A database that goes away** (a restart, a failover, a network blip): the worker logs one
  warning, closes its connections and tries again after 1, 2, 4 ... up to 30 seconds, for as
  long as it takes; it never exits for it (the upstream worker exits with a traceback, and
  mail stops until something restarts it). A restart policy (compose, systemd) stays as a
  second line.
- **SIGTERM or Ctrl-C** (a deploy, `docker stop`): no new task is taken; an idle or waiting
  worker exits at once; a task under way gets WORKER_STOP_SECONDS (8, inside docker's 10 s
  default grace) to finish, then is interrupted and recorded as failed, so its row is never
  left RUNNING. The messages it had not sent yet stay queued, and the outbox sends them again
  (meetings/emails.py). A second signal stops at once.

This command replaces django-tasks-db's own (the `outreach` app comes before it in
INSTALLED_APPS); its options are the same.
"""

import contextlib
import logging
import signal
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django_tasks_db.management.commands import db_worker as upstream

logger = logging.getLogger("outreach.worker")

BACKOFF_FIRST_SECONDS = 1
BACKOFF_MAX_SECONDS = 30


class StopNow(SystemExit):
    """Raised in the worker's thread when its time to stop is up."""


class Worker(upstream.Worker):
    def run(self):
        delay = BACKOFF_FIRST_SECONDS
        while self.running:
            started = time.monotonic()
            try:
                super().run()
                return
            except DatabaseError as error:
                if not self.running:
                    return
                # A worker that ran a good while before failing starts its backoff afresh.
                if time.monotonic() - started > 2 * BACKOFF_MAX_SECONDS:
                    delay = BACKOFF_FIRST_SECONDS
                logger.warning(
                    "Database unavailable (%s); the mail worker tries again in %d s",
                    str(error).strip().splitlines()[0]
                    if str(error).strip()
                    else type(error).__name__,
                    delay,
                )
                for connection in connections.all(initialized_only=True):
                    with contextlib.suppress(DatabaseError):
                        connection.close()
                time.sleep(delay)  # a SIGTERM here exits at once (shutdown below)
                delay = min(delay * 2, BACKOFF_MAX_SECONDS)

    def shutdown(self, signum, frame):
        if self.running and self.running_task:
            seconds = settings.WORKER_STOP_SECONDS
            logger.warning(
                "Received %s: finishing the current task (at most %d s), then stopping",
                signal.strsignal(signum),
                seconds,
            )
            self.running = False
            signal.signal(signal.SIGALRM, self.out_of_time)
            signal.alarm(max(1, seconds))
            return
        super().shutdown(signum, frame)

    def out_of_time(self, signum, frame):
        logger.warning(
            "The current task did not finish in time: stopping it (its rest stays queued)"
        )
        raise StopNow(1)

    def run_task(self, db_task_result):
        try:
            super().run_task(db_task_result)
        finally:
            signal.alarm(0)
            if not self.running:
                self.reset_signals()


class Command(upstream.Command):
    help = upstream.Command.help + " (retries a database that went away; stops in time on SIGTERM)"

    def handle(self, **options):
        # The upstream command builds its Worker by name: give it ours.
        original = upstream.Worker
        upstream.Worker = Worker  # type: ignore[misc]  # a class swapped on purpose
        try:
            return super().handle(**options)
        finally:
            upstream.Worker = original  # type: ignore[misc]
