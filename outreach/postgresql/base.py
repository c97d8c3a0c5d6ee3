"""Django's PostgreSQL backend, plus a guard against a database that is frozen, not down.

A PostgreSQL that is stopped (SIGSTOP), paused or stuck keeps its connections open and its
kernel keeps acknowledging packets, so neither TCP keepalives nor `statement_timeout` (enforced
by the server that is not answering) ever end a query sent to it: the request would wait as long
as the server stays frozen. Here every query, commit, rollback and health check is watched: one
that has waited `DATABASE_FREEZE_CHECK_SECONDS` (3) makes the process's watchdog thread try a
new connection to the same server with a 2-second limit. A server that answers is alive (the
query is just slow, and `statement_timeout` governs it); one whose new connection times out or
is refused is frozen or gone, and the watchdog shuts the waiting connection's socket. The query
then fails at once with an OperationalError, which the app answers with its translated 503 page
(`outreach.views.server_error`), and Django opens a fresh connection for the next request.
"""

import contextlib
import itertools
import os
import socket
import threading
import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base

PROBE_TIMEOUT_SECONDS = 2


class Watchdog:
    """One thread per process, watching the connections with a statement under way."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting = {}  # key -> [started, fd, probe conninfo, probed_at]
        self.keys = itertools.count()
        self.thread = None

    @contextlib.contextmanager
    def watch(self, connection, conninfo):
        if connection is None or connection.closed:
            yield
            return
        key = next(self.keys)
        with self.lock:
            self.waiting[key] = [time.monotonic(), connection.fileno(), conninfo, 0.0]
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="db-watchdog", daemon=True)
                self.thread.start()
        try:
            yield
        finally:
            # Under the lock: while the entry is there, its socket is still the connection's.
            with self.lock:
                del self.waiting[key]

    def run(self):
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            limit = getattr(settings, "DATABASE_FREEZE_CHECK_SECONDS", 3)
            with self.lock:
                due = [
                    (key, entry[2])
                    for key, entry in self.waiting.items()
                    if now - entry[0] >= limit and now - entry[3] >= limit
                ]
                for key, _conninfo in due:
                    self.waiting[key][3] = now
            for key, conninfo in due:
                if self.server_answers(conninfo):
                    continue
                with self.lock:
                    entry = self.waiting.get(key)
                    if entry is not None:
                        with contextlib.suppress(OSError):
                            sock = socket.socket(fileno=os.dup(entry[1]))
                            try:
                                sock.shutdown(socket.SHUT_RDWR)
                            finally:
                                sock.close()

    @staticmethod
    def server_answers(conninfo):
        try:
            psycopg.connect(conninfo, connect_timeout=PROBE_TIMEOUT_SECONDS).close()
        except psycopg.Error as error:
            # An answer such as "too many clients" or a refused password is a server alive.
            message = str(error).lower()
            return not ("timeout" in message or "refused" in message or "closed" in message)
        return True


WATCHDOG = Watchdog()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._watched_execute)
        self._probe_conninfo = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # The same server, user and database, for the watchdog's probe.
        self._probe_conninfo = psycopg.conninfo.make_conninfo(
            "",
            **{
                key: value
                for key, value in conn_params.items()
                if key in ("dbname", "user", "password", "host", "port", "sslmode")
            },
        )
        return connection

    def _watch(self):
        return WATCHDOG.watch(self.connection, self._probe_conninfo)

    def _watched_execute(self, execute, sql, params, many, context):
        with self._watch():
            return execute(sql, params, many, context)

    def is_usable(self):
        with self._watch():
            return super().is_usable()

    # Django's private hooks around COMMIT and ROLLBACK, which django-stubs does not declare.
    def _commit(self):
        with self._watch():
            return super()._commit()  # type: ignore[misc]

    def _rollback(self):
        with self._watch():
            return super()._rollback()  # type: ignore[misc]
