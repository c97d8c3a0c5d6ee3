"""scripts/bench (`make bench`): its data, its wrk scripts, its table, its server commands, and
one short real run.

Nothing here is timed; the wrk test runs a second against a tiny local server only to check
that every RSVP POST carries a key of its own, and the real run checks that the benchmark
starts the Dockerfile's server and measures it, not how fast it is.
"""

import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db.models import Count, F, Q, Sum

from meetings.models import Meeting, MeetingSeries, Rsvp, Venue
from meetings.tokens import hash_submission_key
from scripts.bench import load, report, seed, serve
from tests import servers
from tests.factories import MeetingFactory, RsvpFactory

try:
    from meetings.tokens import read_form_token
except ImportError:  # before the tokens module existed it lived in forms.py
    from meetings.forms import read_form_token

ROOT = Path(__file__).resolve().parents[2]


def measurement(key, requests, *, statuses=None, errors=None, size=2048, cpu=None, **expected):
    return load.measurement_from(
        key,
        {
            "requests": requests,
            "server_cpu_s": cpu,
            "duration_us": 10_000_000,
            "bytes": requests * size,
            "errors": {
                "connect": 0,
                "read": 0,
                "write": 0,
                "status": 0,
                "timeout": 0,
                **(errors or {}),
            },
            "latency_us": {"p50": 3_100, "p90": 9_000, "p99": 17_250, "max": 40_000},
            "statuses": statuses or {},
        },
        **expected,
    )


def test_table_gives_ratios_to_healthz_targets_and_verdicts():
    results = [
        measurement("healthz", 50_000, cpu=12.5),
        measurement("listing", 16_000, cpu=24.0),
        measurement("feed", 100),
        measurement("feed-304", 40_000, statuses={"304": 39_990, "200": 10}, expected_status=304),
    ]

    table = report.markdown_table(report.table_rows(results, healthz_rps=5000))

    assert table.splitlines() == [
        "| path | req/s | p50 | p99 | server CPU/req | ratio to /healthz | target | result | checks |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
        "| /healthz | 5,000 | 3.1 ms | 17 ms | 0.25 ms | 1 | — | — | 200, 2.0 KiB each |",
        "| listing /en/meetings/ | 1,600 | 3.1 ms | 17 ms | 1.5 ms | 0.320 | ≥ 0.30 | pass "
        "| 200, 2.0 KiB each |",
        "| all-meetings feed (200) | 10.0 | 3.1 ms | 17 ms | — | 0.002 | ≥ 0.30 "
        "| FAIL: below target | 200, 2.0 KiB each |",
        "| same feed, If-None-Match (304) | 4,000 | 3.1 ms | 17 ms | — | 0.800 | ≥ 0.60 "
        "| FAIL: unexpected statuses 200 ×10 | 200 ×10, 304 ×39,990 |",
    ]


def test_wrk_errors_fail_a_path_that_reaches_its_target():
    listing = measurement("listing", 20_000, errors={"timeout": 3, "status": 2})

    assert report.verdict(listing, healthz_rps=1000) == "FAIL: wrk errors status 2, timeout 3"


def test_responses_much_smaller_than_the_probe_fail_the_path():
    """A redirect or a short error page instead of the listing, which wrk counts as fine."""
    listing = measurement("listing", 20_000, size=300, expected_bytes=24_000)

    assert report.verdict(listing, healthz_rps=1000) == (
        "FAIL: responses of 300 bytes, not about 24,000"
    )


def test_wrk_result_line_is_read_from_the_output():
    output = 'Running 10s test\n  2 threads\nBENCH-RESULT {"requests": 7, "statuses": {"200": 7}}\n'

    assert load.parse_wrk_output(output) == {"requests": 7, "statuses": {"200": 7}}


@pytest.mark.django_db
def test_form_key_pool_gives_each_wrk_thread_its_own_valid_keys(tmp_path):
    meeting = MeetingFactory()

    keys = seed.make_form_keys(meeting, 9)
    files = seed.write_key_files(keys, tmp_path, threads=2)

    per_file = [[urllib.parse.unquote(line) for line in f.read_text().splitlines()] for f in files]
    assert [len(lines) for lines in per_file] == [5, 4]
    tokens = [read_form_token(line) for lines in per_file for line in lines]
    assert {token[1] for token in tokens} == {meeting.pk}
    assert len({token[0] for token in tokens}) == 9


@pytest.mark.django_db
def test_rsvps_made_counts_only_those_of_the_given_form_keys():
    meeting = MeetingFactory()
    measured, warm_up = seed.make_form_keys(meeting, 3), seed.make_form_keys(meeting, 1)
    RsvpFactory(
        meeting=meeting, submission_key_hash=hash_submission_key(seed.submission_keys(measured)[1])
    )
    RsvpFactory(
        meeting=meeting, submission_key_hash=hash_submission_key(seed.submission_keys(warm_up)[0])
    )
    RsvpFactory(meeting=meeting)

    assert seed.rsvps_made(seed.submission_keys(measured)) == 1


@pytest.mark.django_db
def test_seed_makes_the_data_and_pages_the_benchmark_measures():
    pages = seed.seed(meetings=150, rsvps=15_000, venues=10)

    assert (Meeting.objects.count(), Rsvp.objects.count(), Venue.objects.count()) == (
        150,
        15_000,
        10,
    )
    assert Venue.objects.exclude(area="").count() == 10
    biggest = MeetingSeries.objects.annotate(dates=Count("meetings")).order_by("-dates").first()
    page = Meeting.objects.get(slug=pages["meeting"])
    assert (biggest.dates, page.series) == (67, biggest)
    assert page.capacity and page.is_taking_rsvps
    target = Meeting.objects.get(slug=pages["rsvp"])
    assert target.capacity is None and target.is_taking_rsvps
    assert Meeting.objects.filter(status=Meeting.Status.CANCELLED).exists()
    assert not Meeting.objects.filter(title_es="").exists()
    assert not Meeting.objects.filter(title_vi="").exists()
    overbooked = Meeting.objects.annotate(
        seats=Sum("rsvps__party_size", filter=Q(rsvps__status=Rsvp.Status.CONFIRMED))
    ).filter(seats__gt=F("capacity"))
    assert not overbooked.exists()
    assert Rsvp.objects.filter(status=Rsvp.Status.WAITLISTED).exists()


def test_dockerfile_command_is_served_on_the_benchmark_port():
    gunicorn = (
        'CMD ["sh", "-c", "python manage.py migrate --no-input && exec gunicorn '
        "outreach.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} "
        "--forwarded-allow-ips='*'\"]\n"
    )
    granian = 'CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port=8000", \\\n "outreach.wsgi:application"]\n'

    assert serve.dockerfile_command(gunicorn, 9123, environ={}) == [
        "gunicorn",
        "outreach.wsgi:application",
        "--bind",
        "127.0.0.1:9123",
        "--workers",
        "3",
        "--forwarded-allow-ips=*",
    ]
    assert serve.dockerfile_command(gunicorn, 9123, environ={"WEB_CONCURRENCY": "5"})[5] == "5"
    assert serve.dockerfile_command(granian, 9123, environ={}) == [
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port=9123",
        "outreach.wsgi:application",
    ]


def test_the_server_is_read_from_a_cmd_that_migrates_in_an_if_first():
    """The CMD as it is since migrations moved into an `if ... fi;` before `exec granian`."""
    dockerfile = (
        'CMD ["sh", "-c", "if [ \\"${MIGRATE_ON_START:-true}\\" != false ]; then python manage.py '
        "migrate --no-input || exit 1; fi; exec granian --interface wsgi --host 0.0.0.0 --port 8000 "
        '--workers ${WEB_CONCURRENCY:-2} outreach.wsgi:application"]\n'
    )

    assert serve.dockerfile_command(dockerfile, 9123, environ={"WEB_CONCURRENCY": "3"}) == [
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        "9123",
        "--workers",
        "3",
        "outreach.wsgi:application",
    ]


def test_the_repository_dockerfile_command_is_its_server_on_the_benchmark_port():
    command = serve.server_command(serve.parse_server_spec("dockerfile"), 9123)

    assert command[0] == "granian" and command[-1] == "outreach.wsgi:application"
    assert command[command.index("--host") + 1 :][:3] == ["127.0.0.1", "--port", "9123"]
    assert not {"migrate", "fi", "exec", "||", ";"} & set(command)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
@pytest.mark.skipif(not servers.postgres_available(), reason="no PostgreSQL 15 binaries")
def test_make_bench_starts_the_dockerfile_server_and_measures_it(tmp_path):
    """`make bench` as it runs by default (the Dockerfile's server), for a second per path on
    a tiny seed, against a PostgreSQL and a Redis of the test's own."""
    output = tmp_path / "latest.md"
    with servers.throwaway_postgres() as cluster, servers.redis_server() as (redis_port, _):
        done = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "scripts.bench",
                "--duration=1",
                "--warmup=0",
                "--meetings=40",
                "--rsvps=400",
                "--paths=listing,rsvp,mixed,growth",
                "--mixed-connections=2",
                "--mixed-rate=5",
                "--connections=2",
                "--wrk-threads=1",
                f"--postgres=postgres://postgres@127.0.0.1:{cluster.port}",
                f"--redis=redis://127.0.0.1:{redis_port}",
                "--redis-db=1",
                f"--output={output}",
            ],
            cwd=ROOT,
            env=servers.clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert done.returncode == 0, done.stdout + done.stderr
    text = output.read_text()
    assert "Server: `granian --interface wsgi --host 127.0.0.1 --port " in text
    rows = {
        line.split(" | ")[0].removeprefix("| "): line.split(" | ")
        for line in text.splitlines()
        if line.startswith("| ")
    }
    for label in (
        "/healthz",
        "listing /en/meetings/",
        "RSVP POST (each a new RSVP)",
        "mixed: meeting page + listing, RSVPs arriving",
        "mixed: RSVP POSTs at 5/s, each a new RSVP",
    ):
        assert float(rows[label][1].replace(",", "")) > 0, text
    made = re.findall(r"RSVPs made ([\d,]+) for ([\d,]+) posts", text)
    assert len(made) == 2  # the RSVP run's and the mixed run's
    for rsvps, posts in made:
        assert int(rsvps.replace(",", "")) >= int(posts.replace(",", "")) > 0
    # The mixed run's RSVPs: 5 a second for the run's second, each one made.
    assert "302 ×5; RSVPs made 5 for 5 posts" in text
    assert rows["mixed: RSVP POSTs at 5/s, each a new RSVP"][6] == "p99 ≤ 500 ms"
    # The growth run: 4 calendar apps got the rebuilt feed (gzip), /healthz measured meanwhile.
    assert rows["growth: feed after a change, 4 apps at once"][1] != "0.0"
    growth = rows["growth: feed after a change, 4 apps at once"][8]
    assert "bytes gzip" in growth and "cold build" in growth
    assert re.search(r"the new feed was served [\d.]+ s after it", growth), growth
    assert float(rows["/healthz while the feed rebuilds"][1].replace(",", "")) > 0
    assert "Dropped database outreach_bench_" in done.stderr


def test_server_specs_name_workers_and_threads():
    assert serve.server_command(serve.parse_server_spec("granian:2x1"), 9000) == [
        "granian",
        "--interface=wsgi",
        "--host=127.0.0.1",
        "--port=9000",
        "--workers=2",
        "--blocking-threads=1",
        "outreach.wsgi:application",
    ]
    assert serve.parse_server_spec("gunicorn-gthread", workers=3) == serve.ServerSpec(
        "gunicorn-gthread", 3, 4
    )
    assert serve.parse_server_spec("gunicorn-sync:4") == serve.ServerSpec("gunicorn-sync", 4, 1)
    with pytest.raises(ValueError, match="one thread"):
        serve.parse_server_spec("gunicorn-sync:2x4")


class FormRecorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(urllib.parse.parse_qs(body)["form_token"][0])
        self.send_response(302)
        self.send_header("Location", "/done/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_rsvp_post_script_sends_every_key_once(tmp_path):
    keys = [f"key:{n}" for n in range(30_000)]
    seed.write_key_files(keys, tmp_path, threads=2)
    script = load.lua_rsvp_post(
        path="/en/meetings/m/rsvp/",
        keys_dir=tmp_path,
        fields={"csrfmiddlewaretoken": "abc", "party_size": "2"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), FormRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/en/meetings/m/rsvp/"
        result = load.run_wrk(url, script, duration=1, connections=4, threads=2, timeout=5)
    finally:
        server.shutdown()
        server.server_close()

    sent = FormRecorder.received
    assert result["errors"]["status"] == 0 and result["exhausted"] == 0
    assert len(sent) >= result["requests"] > 0
    assert len(set(sent)) == len(sent)
    assert set(sent) <= set(keys)
