"""The files around the code: compose, Dockerfile, lock files, README."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_a_postgres_db_with_a_named_volume_and_healthcheck():
    db = compose()["services"]["db"]

    image, _sep, version = db["image"].partition(":")
    assert image == "postgres"
    assert int(version.split(".")[0]) >= 15
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]


def test_compose_web_waits_for_a_healthy_db_and_reads_env():
    web = compose()["services"]["web"]

    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert web["env_file"] == ".env"
    assert "ports" not in web  # only the proxy is published
    assert web["expose"] == ["8000"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["CACHE_URL"].startswith("redis://")


def test_compose_runs_the_mail_worker_on_the_same_database_after_migrations():
    services = compose()["services"]
    worker = services["worker"]

    assert worker["command"] == ["python", "manage.py", "db_worker"]
    assert worker["environment"]["DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"]
    assert worker["env_file"] == ".env"
    # The web service migrates at start: the worker waits until it is healthy.
    assert worker["depends_on"]["web"]["condition"] == "service_healthy"


def test_compose_scales_out_behind_a_proxy_with_health_checks():
    services = compose()["services"]
    web, proxy = services["web"], services["proxy"]

    assert set(services) >= {"db", "redis", "migrate", "web", "proxy", "worker"}
    assert web["deploy"]["replicas"] == 2
    assert web["environment"]["BEHIND_PROXY"] == "true"
    # The replicas trust forwarded headers from the proxy's fixed address only.
    assert (
        web["environment"]["FORWARDED_ALLOW_IPS"] == (proxy["networks"]["default"]["ipv4_address"])
    )
    assert web["environment"]["MIGRATE_ON_START"] == "false"
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("db", "redis", "web", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    assert proxy["image"].startswith("caddy:")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert any(port.endswith(":80") for port in proxy["ports"])
    # Static files: collected by `migrate` into a volume the proxy serves.
    assert "static:/app/var/static" in services["migrate"]["volumes"]
    assert "static:/srv/static:ro" in proxy["volumes"]
    assert "collectstatic" in " ".join(services["migrate"]["command"])


def test_caddyfile_balances_healthy_replicas_and_serves_static_files():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()

    assert "name web" in caddyfile and "port 8000" in caddyfile
    assert "health_uri /healthz" in caddyfile
    assert "handle_path /static/*" in caddyfile
    assert "\tlog" not in caddyfile  # no access log: addresses and private links


def test_dockerfile_migrates_at_start_unless_told_not_to():
    cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )

    assert "MIGRATE_ON_START" in cmd
    assert "migrate --no-input || exit 1" in cmd


def session_commands(session_id):
    """The command lines of the running processes in session `session_id` (Linux /proc)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            commands.append(command)
    return commands


def left_running(session_id):
    """The manage.py commands (web server, worker, reminders) still running in the session."""
    return [command for command in session_commands(session_id) if "manage.py" in command]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_make_run_starts_the_mail_worker_beside_the_web_server_and_ctrl_c_stops_both():
    """`make run` (its setup steps taken as done), then Ctrl-C: what a terminal sends to the
    whole foreground group. Background jobs of a shell ignore it, so only the Makefile's trap
    stops the worker."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = subprocess.Popen(  # noqa: S603
        ["make", "-o", "setup", "-o", "demo", "run", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "make run never answered"
                time.sleep(0.5)
        workers = [
            command
            for command in session_commands(run.pid)
            if command.split()[1:3] == ["manage.py", "db_worker"]
        ]
        assert workers  # (with its autoreloader's parent in DEBUG: two processes)

        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
        deadline = time.monotonic() + 15
        while left_running(run.pid) and time.monotonic() < deadline:
            time.sleep(0.2)

        # (The reminder loop's idle `sleep 300` may outlive it by a few minutes: it runs nothing.)
        assert left_running(run.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)


def test_compose_environment_names_are_settings_the_app_reads():
    source = (ROOT / "outreach" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))

    # MIGRATE_ON_START is read by the image's start command (Dockerfile), not by settings.
    names = set(compose()["services"]["web"]["environment"]) - {"MIGRATE_ON_START"}

    assert names <= read


def test_dockerfile_runs_migrations_then_granian_on_port_8000():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "migrate" in dockerfile
    assert "exec granian --interface wsgi" in dockerfile
    assert "--host 0.0.0.0 --port 8000" in dockerfile
    assert "collectstatic" in dockerfile


def locked(lock_name):
    """{name: (version, number of hashes)} of a lock file written by `make lock`."""
    entries = {}
    for block in re.split(r"\n(?=\S)", (ROOT / lock_name).read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match[1]).lower()
            entries[name] = (match[2], len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block)))
    return entries


def declared(*, extra=None):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(spec) for spec in specs]


@pytest.mark.parametrize(
    ("lock_name", "requirements"),
    [
        ("requirements.lock", declared()),
        ("requirements-dev.lock", declared() + declared(extra="dev")),
    ],
)
def test_lock_files_pin_with_hashes_what_pyproject_declares(lock_name, requirements):
    """A dependency added to pyproject.toml without `make lock` fails here, offline."""
    pins = locked(lock_name)

    for requirement in requirements:
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not in {lock_name}: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), f"{name}=={version} vs {requirement}"
        assert hashes >= 1, f"{name} has no hash in {lock_name}"


def test_lock_files_agree_and_runtime_holds_no_dev_tools():
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")

    assert {name: dev[name][0] for name in runtime} == {n: v for n, (v, _h) in runtime.items()}
    assert "pytest" not in runtime
    assert "django" in runtime


def test_installs_take_the_lock_as_it_is_without_a_resolver():
    """The lock is installed with --no-deps: pip resolves nothing, so neither its version nor a
    release published after the lock can pull in an unhashed package (issue 16); `pip check`
    follows. What make would run is read from make itself, not from the Makefile's text."""
    planned = subprocess.run(  # noqa: S603
        ["make", "-n", "-B", ".venv/.installed"],  # noqa: S607 - make from the PATH, as a person runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    install = next(line for line in planned.splitlines() if "pip install" in line)
    assert "--no-deps" in install and "--require-hashes -r requirements-dev.lock" in install
    assert "pip check" in planned.split(install, 1)[1]

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--no-deps --require-hashes -r requirements.lock && pip check" in dockerfile


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]

    commands = re.findall(r"^(make \w+)", quick_start, re.M)
    assert commands == ["make run", "make test"]


def docker_context_excludes(path):
    """Whether `docker build` leaves `path` out of the build context, by .dockerignore's rules:
    patterns anchored at the root (`**` for any folders), a folder's pattern covers what is in
    it, `!` brings a path back, and the last matching line wins."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(rf"{regex}(?:/.*)?", path):
            excluded = not negate
    return excluded


def test_docker_build_context_leaves_out_secrets_and_personal_data():
    left_out = [
        ".env",
        ".env.production",
        "var/outreach.sqlite3",
        "var/static/css/site.css",
        "backup.sqlite3",
        ".venv/bin/python",
        ".git/config",
        "tests/js/node_modules/ical.js/package.json",
        "meetings/__pycache__/models.cpython-311.pyc",
    ]
    kept = [
        ".env.example",
        "Dockerfile",
        "deploy/Caddyfile",
        "requirements.lock",
        "manage.py",
        "meetings/models.py",
        "locale/es/LC_MESSAGES/django.po",
        "templates/503.html",
    ]

    assert [path for path in left_out if not docker_context_excludes(path)] == []
    assert [path for path in kept if docker_context_excludes(path)] == []


def test_dockerfile_trusts_no_forwarded_headers_from_anyone():
    assert "*" not in (ROOT / "Dockerfile").read_text().split("\nCMD ", 1)[1]
