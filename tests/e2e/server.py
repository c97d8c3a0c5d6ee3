"""The site as production runs it, started once for the end-to-end tests.

Everything that starts a process lives here, so a task queue worker (or anything else the
production deployment runs beside the web server) is added in one place: `AppServer.start()`.
"""

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
# A throwaway key: long enough for Django's deploy checks, never used outside a test run.
SECRET_KEY = "e2e-only-secret-key-" + "x7Qm2vLp9sRt4wZk8bNc3hYf6jDg1aUe5oPi0" * 2


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Redis on its usual port, a database of its own (flushed before each run).
E2E_CACHE_URL = os.environ.get("OUTREACH_E2E_CACHE_URL", "redis://127.0.0.1:6379/12")


def production_command(port, workers):
    """The server command of the Dockerfile's CMD (after `exec`), on our own port."""
    from tests.servers import dockerfile_server_command

    return dockerfile_server_command(port, {**os.environ, "WEB_CONCURRENCY": str(workers)})


@dataclass
class Database:
    """A fresh database for one e2e run: PostgreSQL beside DATABASE_URL's, or a temp SQLite file."""

    url: str
    _drop: object = None

    @classmethod
    def create(cls, tmp_dir):
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith(("postgres://", "postgresql://")):
            return cls(url=f"sqlite:///{Path(tmp_dir) / 'e2e.sqlite3'}")
        import psycopg

        parts = urlsplit(base)
        name = f"{parts.path.lstrip('/') or 'outreach'}_e2e_{os.getpid()}"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return cls(url=urlunsplit(parts._replace(path=f"/{name}")), _drop=drop)

    def drop(self):
        if self._drop:
            self._drop()


@dataclass
class AppServer:
    database_url: str
    smtp_port: int
    # The text message provider (tests/fake_twilio.py's server); console:// without one.
    sms_url: str = "console://"
    workers: int = 3
    extra_env: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: list = field(default_factory=list)
    log: object = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        return {
            **os.environ,
            "ENV_FILE": "/dev/null",
            "DEBUG": "false",
            "SECRET_KEY": SECRET_KEY,
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.url,
            "DATABASE_URL": self.database_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "SMS_URL": self.sms_url,
            # As in production: several workers share one cache (pages, data version, limits).
            "CACHE_URL": E2E_CACHE_URL,
            "RSVP_RATE_LIMIT": "",
            # A test fills the form in well under the 3 seconds a person takes.
            "RSVP_MIN_FILL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            **self.extra_env,
        }

    def manage(self, *args, input=None):
        """Run `manage.py` with the server's settings; returns stdout."""
        done = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {shlex.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def prepare(self):
        """What the image build and the container start do before the server serves."""
        import redis

        redis.Redis.from_url(E2E_CACHE_URL).flushdb()  # nothing cached from an earlier run
        # The catalogs compile with Babel, as `make messages` and the Dockerfile do.
        subprocess.run(  # noqa: S603
            [
                str(Path(sys.executable).with_name("pybabel")),
                "-q",
                "compile",
                "-d",
                "locale",
                "-D",
                "django",
            ],
            cwd=BASE_DIR,
            check=True,
        )
        self.manage("collectstatic", "--no-input")
        self.manage("migrate", "--no-input")
        self.manage("load_demo")

    def start(self):
        # Kept open as long as the server runs (its output goes there).
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="outreach-e2e-", suffix=".log", delete=False
        )
        self.processes.append(
            subprocess.Popen(  # noqa: S603 - the Dockerfile's command
                production_command(self.port, self.workers),
                cwd=BASE_DIR,
                env=self.env(),
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        )
        # The mail worker, as compose's `worker` service runs it: web requests only queue mail.
        self.processes.append(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--interval",
                    "0.2",
                    "--no-startup-delay",
                ],
                cwd=BASE_DIR,
                env=self.env(),
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                break
            try:
                healthz = f"{self.url}/healthz"
                with urllib.request.urlopen(healthz, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the app did not start; its log:\n{self.read_log()}")

    def read_log(self):
        return Path(self.log.name).read_text(errors="replace") if self.log else ""

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        if self.log:
            self.log.close()  # the file stays for read_log(); start() opens a new one
