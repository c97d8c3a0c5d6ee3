"""The app as deployed: the server started with the Dockerfile's command and production settings,
against real Redis and PostgreSQL servers the tests start (and stop) themselves."""

import re
import socket
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.servers import (
    REDIS_SERVER,
    clean_env,
    create_meeting,
    http,
    manage,
    postgres_available,
    production_server,
    redis_server,
    throwaway_postgres,
)

pytestmark = pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server")


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory):
    """Production settings over an SQLite file holding the meeting "town-hall"."""
    database = tmp_path_factory.mktemp("deploy") / "outreach.sqlite3"
    env = clean_env(DATABASE_URL=f"sqlite:///{database}", RSVP_MIN_FILL_SECONDS="0")
    manage("migrate", "--no-input", env=env)
    create_meeting(env)
    return env


class Resident:
    """One browser: its cookies, the meeting page's form, then RSVP posts."""

    def __init__(self, base, language="en"):
        self.base, self.language = base, language
        status, headers, page = http(f"{base}/{language}/meetings/town-hall/")
        assert status == 200, page
        cookie = SimpleCookie(headers["Set-Cookie"])
        self.csrf = cookie["csrftoken"].value
        self.form_token = re.search(r'name="form_token" value="([^"]+)"', page)[1]

    def post_rsvp(self, **headers):
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.csrf,
                "form_token": self.form_token,
                "party_size": "1",
                "language": self.language,
            }
        ).encode()
        return http(
            f"{self.base}/{self.language}/meetings/town-hall/rsvp/",
            data=body,
            headers={"Cookie": f"csrftoken={self.csrf}", **headers},
        )[0]


@pytest.mark.parametrize(
    ("proxies", "forwarded_for"),
    [
        # Nobody may set X-Forwarded-For: the client reached the server directly.
        ("192.0.2.1", None),
        ("192.0.2.1", lambda n: f"203.0.113.{n}"),
        # Behind our proxy (this test, on 127.0.0.1), which appends the real client.
        ("127.0.0.1", lambda n: f"203.0.113.{n}, 198.51.100.7"),
    ],
    ids=["direct", "direct-made-up-forwarded-for", "proxy-made-up-forwarded-for"],
)
def test_eleventh_rsvp_post_from_one_client_is_refused_across_three_workers(
    sqlite_env, proxies, forwarded_for
):
    with redis_server() as (port, _redis):
        env = {
            **sqlite_env,
            "CACHE_URL": f"redis://127.0.0.1:{port}/0",
            "RSVP_RATE_LIMIT": "10/600",
            "BEHIND_PROXY": "true",
            "FORWARDED_ALLOW_IPS": proxies,
        }
        with production_server(env, workers=3) as (base, _log):
            resident = Resident(base)
            statuses = [
                resident.post_rsvp(
                    **({"X-Forwarded-For": forwarded_for(n)} if forwarded_for else {})
                )
                for n in range(11)
            ]

    assert 429 not in statuses[:10]
    assert statuses[10] == 429


def test_rsvps_go_through_when_redis_stops(sqlite_env):
    with redis_server() as (port, redis):
        env = {**sqlite_env, "CACHE_URL": f"redis://127.0.0.1:{port}/0"}
        with production_server(env, workers=2) as (base, log):
            before = Resident(base).post_rsvp()
            redis.kill()
            redis.wait()
            started = time.monotonic()
            after = Resident(base).post_rsvp()
            elapsed = time.monotonic() - started
            text = log.read_text()

    assert (before, after) == (302, 302)
    assert elapsed < 5
    assert "Rate limit cache unavailable" in text


def test_script_name_header_from_a_client_never_moves_the_links(sqlite_env):
    with production_server(sqlite_env, workers=1) as (base, _log):
        status, _headers, page = http(f"{base}/en/meetings/", headers={"SCRIPT_NAME": "/evil"})

    assert status == 200
    assert "/evil" not in page
    assert 'href="/en/meetings/town-hall/"' in page


def test_server_log_shows_no_private_link_and_no_address(sqlite_env):
    token = "Secret-token-of-a-resident-0123456789abcdef"
    env = {**sqlite_env, "LOG_LEVEL": "DEBUG", "GRANIAN_LOG_LEVEL": "debug"}
    with production_server(env, workers=1) as (base, log):
        http(f"{base}/es/rsvp/{token}/")
        # Requests the server cannot parse: answered 400 before the app, and not logged.
        for raw in [
            f"GET /es/rsvp/{token}/ HTTP/1.1 extra\r\n\r\n",
            f"GET /es/rsvp/{token}/\x00 HTTP/1.1\r\n\r\n",
        ]:
            with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as sock:
                sock.sendall(raw.encode())
                assert sock.recv(1000).startswith(b"HTTP/1.1 400")
        time.sleep(0.5)
        text = log.read_text()

    assert "/es/rsvp/[private]/" in text  # the app's own log line, redacted
    assert token not in text
    assert "127.0.0.1" not in text.replace("127.0.0.1:", "")  # no client address


def test_a_50_mb_rsvp_post_is_refused_without_being_read(sqlite_env):
    with production_server(sqlite_env, workers=1) as (base, _log):
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /es/meetings/town-hall/rsvp/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 52428800\r\n\r\nparty_size=1&"
            )
            # Only the first bytes were sent: an answer now means the rest was never awaited.
            # The server closes the connection after it, so read to the end.
            chunks = []
            while chunk := sock.recv(100_000):
                chunks.append(chunk)
            answer = b"".join(chunks).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413")
    assert '<html lang="es">' in answer


def test_a_utf16_form_post_is_a_client_error(sqlite_env):
    with production_server(sqlite_env, workers=1) as (base, _log):
        resident = Resident(base)
        body = f"csrfmiddlewaretoken={resident.csrf}&party_size=1&language=en".encode("utf-16")
        status = http(
            f"{base}/en/meetings/town-hall/rsvp/",
            data=body,
            headers={
                "Cookie": f"csrftoken={resident.csrf}",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-16",
            },
        )[0]

    assert status == 400


# The database stopped, then back; and a database that never answers.

needs_postgres_binaries = pytest.mark.skipif(
    not postgres_available(), reason="needs PostgreSQL 15 server binaries (initdb, pg_ctl)"
)


@needs_postgres_binaries
def test_database_stopped_gives_a_503_in_the_pages_language_then_recovers():
    with throwaway_postgres() as cluster:
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "outreach"
        )
        env = clean_env(DATABASE_URL=cluster.url("outreach"))
        manage("migrate", "--no-input", env=env)
        create_meeting(env)
        with production_server(env, workers=2) as (base, _log):
            up = http(f"{base}/es/meetings/")[0]

            cluster.stop()
            started = time.monotonic()
            down_status, down_headers, down_page = http(f"{base}/es/meetings/town-hall/")
            health = http(f"{base}/healthz")
            elapsed = time.monotonic() - started

            cluster.start()
            back = [http(f"{base}/es/meetings/town-hall/")[0] for _ in range(4)]
            health_back = http(f"{base}/healthz")[2]

    assert up == 200
    assert down_status == 503
    assert down_headers["Retry-After"] == "30"
    assert '<html lang="es">' in down_page
    assert "El sitio no está disponible por un momento" in down_page
    assert (health[0], health[2]) == (503, "unavailable")
    assert elapsed < 5
    assert back == [200, 200, 200, 200]
    assert health_back == "ok"


@needs_postgres_binaries
def test_a_frozen_database_answers_the_translated_503_instead_of_hanging():
    with throwaway_postgres() as cluster:
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "outreach"
        )
        env = clean_env(DATABASE_URL=cluster.url("outreach"), RSVP_MIN_FILL_SECONDS="0")
        manage("migrate", "--no-input", env=env)
        create_meeting(env)
        # One worker, so the connection it keeps (CONN_MAX_AGE) is the one that freezes.
        with production_server(env, workers=1) as (base, _log):
            up = Resident(base, "es").post_rsvp()
            resident = Resident(base, "es")
            cluster.freeze()
            try:
                # Generous bounds: the test asserts what the resident gets, not how fast.
                frozen_status, frozen_headers, frozen_page = http(
                    f"{base}/es/meetings/town-hall/rsvp/",
                    data=urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": resident.csrf,
                            "form_token": resident.form_token,
                            "party_size": "1",
                            "language": "es",
                        }
                    ).encode(),
                    headers={"Cookie": f"csrftoken={resident.csrf}"},
                    timeout=30,
                )
            finally:
                cluster.thaw()
            back = Resident(base, "es").post_rsvp()

    assert up == 302
    assert (frozen_status, frozen_headers["Retry-After"]) == (503, "30")
    assert "El sitio no está disponible por un momento" in frozen_page
    assert back == 302


def test_a_database_that_never_answers_fails_requests_in_seconds(sqlite_env):
    # A server that accepts connections and never says a word, like a hung database.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(100)
        port = hung.getsockname()[1]
        env = {
            **sqlite_env,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/outreach",
            "DATABASE_CONNECT_TIMEOUT": "2",
        }
        with production_server(env, workers=2) as (base, _log):
            started = time.monotonic()
            page_status, page_headers, _page = http(f"{base}/en/meetings/")
            health = http(f"{base}/healthz")
            elapsed = time.monotonic() - started

    assert (page_status, page_headers["Retry-After"]) == (503, "30")
    assert (health[0], health[2]) == (503, "unavailable")
    assert elapsed < 10


def test_dockerfile_serves_with_granian_without_an_access_log():
    dockerfile = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
    cmd = dockerfile.split("\nCMD ", 1)[1]

    assert "exec granian --interface wsgi" in cmd
    assert "--no-access-log" in cmd
    assert "outreach.wsgi:application" in cmd
