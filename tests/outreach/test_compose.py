"""docker compose as shipped starts and survives. There is no Docker engine in CI, so each
service's command is run here the way its container would run it (compose's environment,
`sh -c`, `$$` unescaped), and what only Docker does is read from the files."""

import re
import shutil
import sqlite3
import subprocess

import pytest
import yaml

from tests.servers import (
    BIN,
    ROOT,
    clean_env,
    container_process,
    dockerfile_shell,
    free_port,
    http,
    manage,
    production_server,
    wait_for_http,
)

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "scheduler", "purge")


def env_example():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _sep, value = line.partition("=")
            values[name] = value
    return values


def container_env(service, **overrides):
    """The service's environment as its container gets it: .env (from .env.example, with a
    SECRET_KEY as the README says to set), then compose's `environment`."""
    compose_env = {
        name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
        for name, value in SERVICES[service]["environment"].items()
    }
    env = clean_env(
        **{
            **env_example(),
            "SECRET_KEY": "compose-test-secret-key-long-and-random-enough-0123456789abcdef",
            **compose_env,
        }
    )
    return {**env, "PATH": f"{BIN}:{env['PATH']}", **overrides}


def shell_command(service):
    command = SERVICES[service]["command"]
    assert command[:2] == ["sh", "-c"]
    return command[2].replace("$$", "$")


def test_every_service_running_the_app_shares_one_cache_and_database():
    """The worker, scheduler and purge move the pages' data version too (D7)."""
    urls = {name: SERVICES[name]["environment"]["CACHE_URL"] for name in APP_SERVICES}
    databases = {name: SERVICES[name]["environment"]["DATABASE_URL"] for name in APP_SERVICES}

    assert set(urls.values()) == {"redis://redis:6379/0"}
    assert len(set(databases.values())) == 1


@pytest.mark.parametrize("email_url", [None, "smtp://mail.example.org:25"])
def test_migrate_runs_the_deploy_checks_first(tmp_path, email_url):
    """Without EMAIL_URL every email, private links included, would go to the logs: the
    start stops before migrating (D6); with it (and SMS_URL, the text provider, likewise
    required: outreach.E002), migrations and static files follow."""
    database = tmp_path / "db.sqlite3"
    env = container_env(
        "migrate", DATABASE_URL=f"sqlite:///{database}", ALLOWED_HOSTS="outreach.example.org"
    )
    if email_url:
        env["EMAIL_URL"] = email_url
        env["SMS_URL"] = "twilio://ACtest:test-token@+15005550006"

    done = subprocess.run(  # noqa: S603
        ["sh", "-c", shell_command("migrate").replace("python ", f"{BIN}/python ")],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    if email_url:
        assert done.returncode == 0, done.stdout + done.stderr
        assert database.stat().st_size > 0
    else:
        assert done.returncode != 0
        assert "outreach.E001" in done.stderr
        assert not database.exists() or database.stat().st_size == 0
    assert "--clear" not in shell_command("migrate")  # old replicas' files stay


def test_the_image_gives_the_static_files_to_the_user_that_collects_them_again():
    """Docker seeds the `static` volume with the image's files and owners; `migrate` then
    collects into it as uid 10001 (D1)."""
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"chown -R outreach /app/var\b", dockerfile)
    assert dockerfile.index("collectstatic") < dockerfile.index("chown -R outreach")
    assert "USER outreach" in dockerfile


def test_the_web_healthcheck_passes_with_a_real_allowed_hosts():
    """Run word for word against the Dockerfile's server, with ALLOWED_HOSTS for a real host
    (D2); the proxy, worker, scheduler and purge all wait for it."""
    web = SERVICES["web"]
    test = web["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    env = clean_env(ALLOWED_HOSTS="outreach.example.org", DATABASE_URL="sqlite:///:memory:")

    with production_server(env, workers=1) as (base, _log):
        port = base.rsplit(":", 1)[1]
        code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(  # noqa: S603
            [str(BIN / "python"), "-c", code], capture_output=True, text=True, timeout=30
        )

    assert done.returncode == 0, done.stderr
    for name in ("proxy", "worker", "scheduler", "purge"):
        assert SERVICES[name]["depends_on"]["web"]["condition"] == "service_healthy"
    assert int(web["healthcheck"]["interval"].rstrip("s")) <= 10


# The web service: the image's CMD -----------------------------------------------------------


def web_env(database, **overrides):
    """The web container's environment over the SQLite file `database`, with the cache in
    memory (no `redis` host here) and the image's own MIGRATE_ON_START unless given."""
    env = container_env("web", DATABASE_URL=f"sqlite:///{database}", **overrides)
    env.pop("CACHE_URL")
    if "MIGRATE_ON_START" not in overrides:
        env.pop("MIGRATE_ON_START")
    return env


def tables(database):
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_the_image_migrates_a_new_database_then_serves(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = web_env(database)
    port = free_port()

    with container_process(dockerfile_shell(port), env, tmp_path / "log") as process:
        status, _headers, body = wait_for_http(
            f"http://127.0.0.1:{port}/healthz", process, tmp_path / "log", seconds=120
        )
        manage("migrate", "--check", env=env)  # fails while a migration is unapplied

    assert (status, body) == (200, "ok")
    assert {"django_migrations", "meetings_meeting", "meetings_rsvp"} <= tables(database)


def test_the_web_service_serves_without_migrating(tmp_path):
    """compose's `web` sets MIGRATE_ON_START=false: the `migrate` service has done it once."""
    database = tmp_path / "db.sqlite3"
    port = free_port()

    with container_process(
        dockerfile_shell(port), web_env(database, MIGRATE_ON_START="false"), tmp_path / "log"
    ) as process:
        status, _headers, _body = wait_for_http(
            f"http://127.0.0.1:{port}/healthz", process, tmp_path / "log", seconds=120
        )

    assert status == 200  # the database answers
    assert tables(database) == set()


def test_a_failing_migrate_stops_the_container_instead_of_serving(tmp_path):
    """A database it cannot open: the container exits with an error (docker restarts it, and
    compose's healthcheck never sees a server on a half-migrated database)."""
    port = free_port()
    env = web_env(tmp_path / "missing-folder" / "db.sqlite3")

    with container_process(dockerfile_shell(port), env, tmp_path / "log") as process:
        with pytest.raises(RuntimeError):
            wait_for_http(
                f"http://127.0.0.1:{port}/healthz", process, tmp_path / "log", seconds=120
            )
        returncode = process.poll()

    assert returncode not in (None, 0)
    assert "unable to open database file" in (tmp_path / "log").read_text()


@pytest.mark.parametrize("from_proxy", [False, True], ids=["client", "proxy"])
def test_forwarded_proto_and_host_count_only_from_the_proxy(tmp_path, from_proxy):
    """compose's `web` believes X-Forwarded-Proto and -Host from the proxy's address alone. A
    client reaching the server directly, even one naming the proxy in X-Forwarded-For, is
    still on plain http at its own host: the HTTPS redirect says so. (From the proxy, here by
    making 127.0.0.1 the proxy's address, the same headers are believed.)"""
    port = free_port()
    env = web_env(
        tmp_path / "db.sqlite3",
        SECURE_SSL_REDIRECT="true",
        USE_X_FORWARDED_HOST="true",
        ALLOWED_HOSTS="127.0.0.1,outreach.example.org",
    )
    assert env["BEHIND_PROXY"] == "true" and env["FORWARDED_ALLOW_IPS"] == "172.30.0.10"
    if from_proxy:
        env["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
    manage("collectstatic", "--no-input", env=env)
    page = f"http://127.0.0.1:{port}/en/privacy/"
    forwarded = {"X-Forwarded-For": "172.30.0.10", "X-Forwarded-Host": "outreach.example.org"}

    with container_process(dockerfile_shell(port), env, tmp_path / "log") as process:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process, tmp_path / "log", seconds=120)
        says_https = http(page, headers={**forwarded, "X-Forwarded-Proto": "https"})
        says_http = http(page, headers={**forwarded, "X-Forwarded-Proto": "http"})

    if from_proxy:
        assert says_https[0] == 200
        assert (says_http[0], says_http[1]["Location"]) == (
            301,
            "https://outreach.example.org/en/privacy/",
        )
    else:
        own_host = f"https://127.0.0.1:{port}/en/privacy/"
        assert (says_https[0], says_https[1]["Location"]) == (301, own_host)
        assert (says_http[0], says_http[1]["Location"]) == (301, own_host)


def seconds(value):
    return int(str(value).rstrip("s"))


def test_stop_grace_periods_cover_what_each_process_needs():
    """docker stop's default 10 s killed the worker mid-batch (D5)."""
    worker, web = SERVICES["worker"], SERVICES["web"]
    kill_timeout = re.search(r"--workers-kill-timeout (\d+)", (ROOT / "Dockerfile").read_text())

    assert seconds(worker["stop_grace_period"]) > int(worker["environment"]["WORKER_STOP_SECONDS"])
    assert seconds(web["stop_grace_period"]) > int(kill_timeout[1])


def test_the_purge_runs_vacuum_full_on_sundays_only(tmp_path):
    """The purge's loop, run once with `python`, `date` and `sleep` standing in."""
    (tmp_path / "python").write_text('#!/bin/sh\necho "ran: $*" >> "$LOG"\n')
    (tmp_path / "sleep").write_text("#!/bin/sh\nexit 1\n")  # ends the loop's first turn
    results = {}
    for day in ("3", "7"):
        (tmp_path / "date").write_text(f"#!/bin/sh\necho {day}\n")
        for tool in ("python", "sleep", "date"):
            (tmp_path / tool).chmod(0o755)
        log = tmp_path / f"log-{day}"
        command = shell_command("purge").replace("while true; do", "while :; do")
        command = command.replace("sleep 86400; done", "sleep 86400 || break; done")
        subprocess.run(  # noqa: S603
            ["sh", "-c", command],  # noqa: S607
            env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LOG": str(log)},
            timeout=30,
            check=True,
        )
        results[day] = log.read_text().strip()

    assert results == {
        "3": "ran: manage.py purge_rsvp_personal_data",
        "7": "ran: manage.py purge_rsvp_personal_data --vacuum-full",
    }


def test_caddy_retries_another_replica_and_passes_the_apps_503_through():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    proxy = caddyfile[caddyfile.index("reverse_proxy {") :]

    assert re.search(r"lb_try_duration [1-9]\d*s", proxy)
    # Passive marks only, and short: a restarted replica is back within seconds (D8).
    assert seconds(re.search(r"fail_duration (\S+)", proxy)[1]) <= 10
    # No active check (it would turn a database outage into Caddy's own empty 503) and no
    # status counted as a failure (the app's translated 503 reaches residents).
    assert "health_uri" not in proxy and "unhealthy_status" not in proxy
    assert "response_header_timeout" in proxy
    assert "header_up X-Request-ID {http.request.uuid}" in proxy


@pytest.mark.skipif(
    not shutil.which("caddy"), reason="no caddy on PATH (Debian: apt-get install caddy)"
)
def test_caddy_accepts_the_caddyfile(tmp_path):
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    version = subprocess.run(
        ["caddy", "version"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    ).stdout
    if re.match(r"v?2\.[0-6]\.", version):  # Debian 12's 2.6 names request buffering so
        caddyfile = caddyfile.replace("request_buffers 64KiB", "buffer_requests")
    (tmp_path / "Caddyfile").write_text(caddyfile)

    done = subprocess.run(  # noqa: S603
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")],  # noqa: S607
        env={**clean_env(), "SITE_ADDRESS": ":8999"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
