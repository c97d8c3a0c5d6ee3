"""The run: a throwaway database, the seed, each server measured on each path, the report."""

import argparse
import contextlib
import datetime as dt
import http.cookiejar
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from . import __doc__ as bench_doc
from .config import (
    BIN,
    DEFAULT_POSTGRES,
    DEFAULT_REDIS,
    DEFAULT_REDIS_DB,
    GROWTH_PATHS,
    HOST,
    MEETINGS,
    PATHS,
    ROOT,
    RSVPS,
    VENUES,
)
from .growth import growth_run
from .load import (
    CpuShare,
    NoRedirect,
    fetch,
    lua_get,
    lua_rsvp_post,
    measurement_from,
    postgres_admin,
    run_wrk,
    session_cpu_seconds,
    settle,
    wire_size,
)
from .mixed import mixed_run
from .report import load_average, report
from .seed import make_form_keys, rsvps_made, seed, submission_keys, write_key_files
from .serve import Server, free_port, parse_server_spec, server_command


def benchmark_server(spec, options, pages, environment, log_dir):
    """Serve with one server command and measure every chosen path; returns (command, results)."""
    from django.db import close_old_connections

    from meetings.models import Meeting

    port = free_port()
    url = f"http://{HOST}:{port}"
    env = {**environment, "SITE_URL": url}
    command = server_command(spec, port)
    flush_redis(options)
    server = Server(command, env, log_dir / f"server-{spec.name.replace(':', '-')}.log")
    print(f"\n== {spec.name}: {shlex.join(command)}", flush=True)
    results = []
    try:
        server.start(url)
        cpu = CpuShare(
            server.process.pid,
            postgres=options.postgres,
            database=environment["DATABASE_URL"].rsplit("/", 1)[1],
        )
        opener = urllib.request.build_opener(NoRedirect)
        wrk = {
            "connections": options.connections,
            "threads": options.wrk_threads,
            "timeout": options.timeout,
        }

        def measure(key, path, script, *, expected_status=200, headers=None):
            # The page answers as it should before it is timed; its size checks wrk's responses.
            status, probe_headers, body = fetch(opener, url + path, headers)
            if status != expected_status:
                raise RuntimeError(f"{path} answered {status}, not {expected_status}")
            print(f"   {PATHS[key][0]} …", end=" ", flush=True)
            if options.warmup:
                settle(url, run_wrk(url + path, script, duration=options.warmup, **wrk), options)
            cpu_before = session_cpu_seconds(server.process.pid)
            result = run_wrk(url + path, script, duration=options.duration, **wrk)
            result["server_cpu_s"] = session_cpu_seconds(server.process.pid) - cpu_before
            settle(url, result, options)
            measurement = measurement_from(
                key,
                result,
                expected_status=expected_status,
                expected_bytes=wire_size(status, probe_headers, body),
            )
            print(f"{measurement.rps:,.1f} req/s", flush=True)
            results.append(measurement)
            return measurement

        paths = {
            "healthz": "/healthz",
            "listing": "/en/meetings/",
            "meeting": f"/en/meetings/{pages['meeting']}/",
            "feed": "/en/feeds/meetings.ics",
            "feed-304": "/en/feeds/meetings.ics",
            "atom": "/en/feeds/announcements.atom",
        }
        for key in options.paths:
            if key in ("rsvp", "mixed-reads", "mixed-rsvp", *GROWTH_PATHS):
                continue
            if key == "feed-304":
                _status, headers, _body = fetch(opener, url + paths[key])
                conditional = {"If-None-Match": headers["ETag"]}
                script = lua_get(conditional, count_statuses=True)
                measure(key, paths[key], script, expected_status=304, headers=conditional)
            else:
                measure(key, paths[key], lua_get())

        if "rsvp" in options.paths:
            meeting = Meeting.objects.get(slug=pages["rsvp"])
            page = f"/en/meetings/{meeting.slug}/"
            jar = http.cookiejar.CookieJar()
            browser = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(jar), NoRedirect
            )
            status, _headers, body = fetch(browser, url + page)
            csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
            cookie = next((c.value for c in jar if c.name == "csrftoken"), None)
            if status != 200 or not csrf or not cookie:
                raise RuntimeError(f"{page}: no RSVP form with a CSRF token (status {status})")
            healthz = next((m for m in results if m.key == "healthz"), None)
            # No POST outruns /healthz: that rate, with room to spare, bounds the keys needed.
            rate = max(healthz.rps if healthz else 2000, 200) * 1.5
            workdir = Path(tempfile.mkdtemp(prefix="bench-keys-"))
            try:

                def script(name, seconds):
                    keys_dir = workdir / name
                    keys_dir.mkdir()
                    keys = make_form_keys(meeting, int(rate * seconds) + 1000)
                    write_key_files(keys, keys_dir, options.wrk_threads)
                    return keys, lua_rsvp_post(
                        path=page + "rsvp/",
                        keys_dir=keys_dir,
                        fields={
                            "csrfmiddlewaretoken": csrf[1].decode(),
                            "party_size": "2",
                            "language": "es",
                            "needs_interpretation": "",
                            "leave_empty": "",
                        },
                        headers={
                            "Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": f"csrftoken={cookie}",
                            "Origin": url,
                            "Referer": url + page,
                        },
                    )

                warm = script("warm", options.warmup)[1] if options.warmup else None
                keys, measured = script("measured", options.duration)
                # Only RSVPs made with the measured run's keys count: not the warm-up's.
                measured_keys = submission_keys(keys)
                if warm:
                    warm_result = run_wrk(
                        url + page + "rsvp/", warm, duration=options.warmup, **wrk
                    )
                    settle(url, warm_result, options)
                close_old_connections()
                print(f"   {PATHS['rsvp'][0]} …", end=" ", flush=True)
                cpu_before = session_cpu_seconds(server.process.pid)
                result = run_wrk(url + page + "rsvp/", measured, duration=options.duration, **wrk)
                result["server_cpu_s"] = session_cpu_seconds(server.process.pid) - cpu_before
                settle(url, result, options)
                made, deadline = -1, time.monotonic() + 60
                while time.monotonic() < deadline:  # until the last POSTs have landed
                    now_made = rsvps_made(measured_keys)
                    if now_made == made:
                        break
                    made = now_made
                    time.sleep(1)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            m = measurement_from("rsvp", result, expected_status=302)
            print(f"{m.rps:,.1f} req/s", flush=True)
            # wrk counts the responses it read; up to one request per connection may still
            # have been in flight (and made its RSVP) when it stopped.
            m.note = f"302; RSVPs made {made:,} for {m.requests:,} posts"
            if m.exhausted:
                m.problems.append(f"ran out of form keys {m.exhausted:,} times")
            if not m.requests <= made <= m.requests + options.connections:
                m.problems.append(f"{made:,} RSVPs made for {m.requests:,} posts")
            results.append(m)

        if "mixed-reads" in options.paths:
            meeting = Meeting.objects.get(slug=pages["meeting"])
            print(
                f"   mixed: {options.mixed_connections} readers, {options.mixed_rate:g} RSVPs/s …",
                end=" ",
                flush=True,
            )
            close_old_connections()
            cpu_before = session_cpu_seconds(server.process.pid)
            reads, rsvps = mixed_run(url, meeting, options=options)
            reads.server_cpu_s = session_cpu_seconds(server.process.pid) - cpu_before
            settle(url, {"requests": 1, "latency_us": {"p99": rsvps.p99_ms * 1000}}, options)
            print(f"{reads.rps:,.1f} reads/s, RSVP p99 {rsvps.p99_ms:,.0f} ms", flush=True)
            results += [reads, rsvps]

        if "growth-feed" in options.paths:
            print("   growth: the feed rebuilt after a change …", end=" ", flush=True)
            apps, health = growth_run(url, options=options)
            print(
                f"apps waited {apps.p99_ms / 1000:.2f} s at most, /healthz p99 "
                f"{health.p99_ms:.0f} ms"
            )
            results += [apps, health]

        # Again at the end, so a machine that got busier (or quieter) shows in the spread.
        measure("healthz", paths["healthz"], lua_get()).label = "/healthz (again, last)"
        others = cpu.others()
    finally:
        server.stop()
    return command, results, others


def flush_redis(options):
    import redis

    redis.Redis.from_url(f"{options.redis}/{options.redis_db}").flushdb()


def main(argv=None):
    parser = argparse.ArgumentParser(description=bench_doc.splitlines()[0])
    parser.add_argument(
        "--server",
        action="append",
        metavar="SPEC",
        help="dockerfile (the default), gunicorn-sync[:WORKERS], gunicorn-gthread[:WORKERSxTHREADS] "
        "or granian[:WORKERSxTHREADS] (WSGI); repeat to compare several on the same data",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers when SPEC gives none (2)")
    parser.add_argument("--threads", type=int, help="threads per worker when SPEC gives none")
    parser.add_argument("--connections", type=int, default=16, help="open connections (16)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per path (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per path (2)")
    parser.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout, s")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--paths",
        default=",".join(key for key in PATHS if key not in GROWTH_PATHS),
        help=f"comma-separated subset of {','.join(PATHS)} (/healthz is always measured)",
    )
    parser.add_argument(
        "--mixed-connections", type=int, default=64, help="readers in the mixed run (64)"
    )
    parser.add_argument(
        "--mixed-rate", type=float, default=20, help="new RSVPs a second in the mixed run (20)"
    )
    parser.add_argument("--meetings", type=int, default=MEETINGS)
    parser.add_argument("--rsvps", type=int, default=RSVPS)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server URL, no database")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="server URL, no database number")
    parser.add_argument("--redis-db", type=int, default=DEFAULT_REDIS_DB, help="flushed first")
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "bench" / "latest.md")
    options = parser.parse_args(argv)

    if options.redis_db == 0:
        parser.error("--redis-db 0 is the default database of other programs: pick another")
    if options.connections % options.wrk_threads:
        parser.error("--connections must be a multiple of --wrk-threads")
    chosen = [p.strip() for p in options.paths.split(",") if p.strip()]
    if "growth" in chosen:  # one run measures both
        chosen += list(GROWTH_PATHS)
        chosen.remove("growth")
    if "mixed" in chosen:  # one run measures both
        chosen += ["mixed-reads", "mixed-rsvp"]
        chosen.remove("mixed")
    unknown = set(chosen) - set(PATHS)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    # /healthz first (and again last): every ratio is to it, measured in the same run.
    options.paths = ["healthz", *[p for p in PATHS if p in chosen and p != "healthz"]]
    try:
        specs = [
            parse_server_spec(text, workers=options.workers, threads=options.threads)
            for text in options.server or ["dockerfile"]
        ]
        for spec in specs:
            server_command(spec, 8000)
    except ValueError as error:
        parser.error(str(error))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it as root)")

    # A SIGTERM (or a closed terminal) ends the run like Ctrl-C: through the `finally`s.
    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for signum in (
        signal.SIGINT,
        signal.SIGTERM,
        signal.SIGHUP,
    ):  # SIGINT too when inherited ignored
        signal.signal(signum, interrupted)

    name = f"outreach_bench_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}_{os.getpid()}"
    environment = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ENV_FILE": os.devnull,  # the developer's .env has no say
        "DJANGO_SETTINGS_MODULE": "outreach.settings",
        "DATABASE_URL": f"{options.postgres}/{name}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),  # the server's and ours: we sign form keys
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": HOST,
        "CACHE_URL": f"{options.redis}/{options.redis_db}",
        "RSVP_RATE_LIMIT": "",
        "RSVP_MIN_FILL_SECONDS": "0",
        # The server's and ours (the growth run moves the data version from here).
        "CACHE_KEY_PREFIX": "bench",
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    os.environ.update(environment)
    log_dir = options.output.parent
    log_dir.mkdir(parents=True, exist_ok=True)
    options.load_before = load_average()

    created = False
    try:
        with postgres_admin(options.postgres) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created = True
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        started = time.monotonic()
        print(f"Database {name}: migrating …", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        print(f"Seeding {options.meetings:,} meetings and {options.rsvps:,} RSVPs …", flush=True)
        pages = seed(meetings=options.meetings, rsvps=options.rsvps)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"Seeded in {time.monotonic() - started:.0f} s; collecting static files …", flush=True
        )
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity=0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
        seeded = (
            f"{options.meetings:,} meetings, {options.rsvps:,} RSVPs, {VENUES} venues; "
            f"meeting page /en/meetings/{pages['meeting']}/"
        )
        outputs, failed = [], False
        for spec in specs:
            command, results, others = benchmark_server(spec, options, pages, environment, log_dir)
            text, markdown = report(spec, command, results, options, seeded, others)
            print("\n" + text, flush=True)
            outputs.append(markdown)
            failed = failed or any(m.problems for m in results)
        options.output.write_text("\n\n".join(outputs) + "\n")
        print(f"\nWritten to {options.output}")
        return 1 if failed else 0
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C waits
            signal.signal(signum, signal.SIG_IGN)
        if created:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
                pass
            with postgres_admin(options.postgres) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"Dropped database {name}.", file=sys.stderr)
        with contextlib.suppress(Exception):  # the cache is only tidied up
            flush_redis(options)
