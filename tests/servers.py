"""Real services for the tests that are about one: the server started with the Dockerfile's
command, a Redis server and a throwaway PostgreSQL cluster, each on a free port of its own.

Nothing here touches the shared PostgreSQL (5432) or Redis (6379).
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.bench.serve import dockerfile_command

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")

# Production settings, as the Dockerfile's image runs them, minus HTTPS (plain http here).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "tests-only-a-production-like-secret-key-with-fifty-plus-characters-0123",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "ENV_FILE": "/dev/null",
    "LOG_LEVEL": "INFO",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides):
    base = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is the test process's own (tests/e2e/conftest.py): the
        # processes it starts run as production does, with Django's async safety on.
        if key
        not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return {**base, **PRODUCTION_ENV, **overrides}


def manage(*args, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def dockerfile_server_command(port, env):
    """The server part of the Dockerfile's CMD (after `exec`), bound to 127.0.0.1:`port`, with
    its ${VAR:-default} expanded from `env` as the shell would (read as `make bench` reads it)."""
    args = dockerfile_command((ROOT / "Dockerfile").read_text(), port, environ=env)
    return [str(BIN / args[0]), *args[1:]]


def dockerfile_shell(port):
    """The whole of the Dockerfile's CMD, the `sh -c` line its container runs (migrations,
    then the server), with the server bound to 127.0.0.1:`port` instead of 0.0.0.0:8000 (the
    address compose's healthcheck and Caddy reach)."""
    cmd = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line[:4] == "CMD "]
    argv = json.loads(cmd[-1][4:])
    assert argv[:2] == ["sh", "-c"], argv
    shell = argv[2]
    for listen, here in (("--host 0.0.0.0", "--host 127.0.0.1"), ("--port 8000", f"--port {port}")):
        shell, count = re.subn(rf"{re.escape(listen)}(?!\S)", here, shell)
        assert count == 1, f"the CMD does not say {listen} once: {argv[2]}"
    return shell


def stop_session(process):
    """Stop `process` and everything in its session (started with start_new_session): TERM,
    then KILL if it is still running after 45 s. granian waits for its workers up to
    --workers-kill-timeout (30 s); on a loaded machine that can pass: the tests are about
    answers, not shutdowns."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def container_process(shell, env, log):
    """`sh -c shell` from the project's folder (the image's WORKDIR), in a session of its own,
    writing to the file `log`; yields the process. On leaving, the whole session is stopped
    (a migration under way, or the server and its workers)."""
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            ["sh", "-c", shell],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_session(process)


def wait_for_http(url, process, log, *, seconds):
    """The first answer of `url` (see `http`), polled until the deadline; RuntimeError with
    the server's log if `process` ends first or nothing answers within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return http(url, timeout=10)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)


def http(url, *, data=None, headers=None, timeout=30):
    """(status, headers, body text) without following redirects or raising on 4xx/5xx."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@contextlib.contextmanager
def production_server(env, *, workers=3):
    """The app under the Dockerfile's server command; yields (base URL, log path)."""
    port = free_port()
    manage("collectstatic", "--no-input", env=env)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("w") as log_file:
            process = subprocess.Popen(  # noqa: S603
                dockerfile_server_command(port, {**env, "WEB_CONCURRENCY": str(workers)}),
                cwd=ROOT,
                env={**env, "WEB_CONCURRENCY": str(workers)},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_for_http(f"{base}/healthz", process, log, seconds=30)
                yield base, log
            finally:
                stop_session(process)


@contextlib.contextmanager
def redis_server():
    """A Redis of the test's own on a free port; yields (port, process) so a test can kill it."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port, that a test may stop.

    As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def run(self, *args):
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=120, check=True
        )

    def init(self):
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def start(self):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self):
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def processes(self):
        """The postmaster's pid and those of its children (the backends, the checkpointer…)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # "pid (name) state ppid …": the name may hold spaces, so split after ")".
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self):
        """SIGSTOP every process of the cluster: connections stay open, nothing answers (the
        kernel still acknowledges packets), as a hung or paused database does."""
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def url(self, name="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


def postgres_available():
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser"))


@contextlib.contextmanager
def throwaway_postgres():
    with tempfile.TemporaryDirectory(prefix="outreach-pg-") as folder:
        cluster = ThrowawayPostgres(folder).init()
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                cluster.stop()


CREATE_MEETING = """
import django; django.setup()
from tests.factories import MeetingFactory
meeting = MeetingFactory(slug="town-hall", title_en="Town hall", title_es="Asamblea", capacity=500)
"""


def create_meeting(env):
    """A published meeting with slug "town-hall" in the database `env` points at."""
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", CREATE_MEETING],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "outreach.settings"},
        check=True,
        capture_output=True,
        timeout=60,
    )
