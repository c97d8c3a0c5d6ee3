"""Benchmark the site as residents and calendar apps use it, under the production server.

    make bench                                   # the Dockerfile's server command, 16 connections
    make bench BENCH_ARGS="--connections 64 --duration 20"
    .venv/bin/python scripts/bench.py --server granian:2x1 --server gunicorn-sync:4

Creates a throwaway PostgreSQL database, migrates it and seeds 1,000 meetings (50 venues in
10 areas, 6 series, one of 67 dates) and 100,000 RSVPs; collects the static files; serves the
app with DEBUG off and Redis as the cache; then measures each path with wrk (after a warm-up)
and prints req/s, p50, p99 and the ratio to /healthz measured in the same run, beside the
targets of issue 12. Every RSVP POST carries a fresh signed one-time form key, and the RSVPs
in the database are counted afterwards. The database is dropped at the end, even on Ctrl-C.

Needs wrk (Debian: apt-get install wrk), PostgreSQL and Redis. A benchmark, not a test:
the figures depend on the machine and on whatever else it is doing.
"""

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.cookiejar
import json
import os
import platform
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
DEFAULT_REDIS_DB = 11

# The paths of issue 12, with its target ratios to /healthz.
PATHS = {
    "healthz": ("/healthz", None),
    "listing": ("listing /en/meetings/", 0.30),
    "meeting": ("meeting page, series of 67 dates", 0.20),
    "feed": ("all-meetings feed (200)", 0.30),
    "feed-304": ("same feed, If-None-Match (304)", 0.60),
    "atom": ("Atom feed", 0.30),
    "rsvp": ("RSVP POST (each a new RSVP)", 0.08),
}

# Seed sizes (the issue's: 1,000 meetings and 100,000 RSVPs).
MEETINGS = 1000
RSVPS = 100_000
VENUES = 50
BIG_SERIES_DATES = 67


# Seeding -----------------------------------------------------------------------------------

AREAS = [
    "Oak Cliff",
    "West Dallas",
    "Vickery Meadow",
    "Pleasant Grove",
    "Bachman Lake",
    "Lake Highlands",
    "Old East Dallas",
    "South Dallas",
    "Northwest Dallas",
    "Far North Dallas",
]
# (English, Spanish, Vietnamese): the venue kind; its name is built around the area.
VENUE_KINDS = [
    ("{area} Recreation Center", "Centro Recreativo de {area}", "Trung tâm Giải trí {area}"),
    ("{area} Branch Library", "Biblioteca de {area}", "Thư viện Chi nhánh {area}"),
    ("{area} Community Room", "Salón Comunitario de {area}", "Phòng Sinh hoạt Cộng đồng {area}"),
    ("{area} Church Hall", "Salón parroquial de {area}", "Hội trường Nhà thờ {area}"),
    (
        "{area} Elementary School Cafeteria",
        "Cafetería de la Escuela Primaria de {area}",
        "Căng-tin Trường Tiểu học {area}",
    ),
]
TOPICS = [
    (
        (
            "Community meeting with the police chief",
            "Reunión comunitaria con el jefe de policía",
            "Họp cộng đồng với cảnh sát trưởng",
        ),
        (
            "Questions and answers with the chief; families welcome.",
            "Preguntas y respuestas con el jefe; familias bienvenidas.",
            "Hỏi đáp với cảnh sát trưởng; gia đình được chào đón.",
        ),
    ),
    (
        (
            "Know your rights when you talk with officers",
            "Conozca sus derechos al hablar con los agentes",
            "Biết quyền của bạn khi nói chuyện với cảnh sát",
        ),
        (
            "What officers may ask, and what you never have to answer.",
            "Lo que los agentes pueden preguntar y lo que nunca tiene que responder.",
            "Cảnh sát có thể hỏi gì, và điều gì bạn không bao giờ phải trả lời.",
        ),
    ),
    (
        (
            "Reporting a crime without fear",
            "Denunciar un delito sin miedo",
            "Báo cáo tội phạm mà không sợ hãi",
        ),
        (
            "How to report, with or without your name; interpreters present.",
            "Cómo denunciar, con o sin su nombre; habrá intérpretes.",
            "Cách báo cáo, có hoặc không cần tên; có thông dịch viên.",
        ),
    ),
    (
        ("Scam and fraud prevention", "Prevención de estafas y fraudes", "Phòng chống lừa đảo"),
        (
            "Phone, notario and rental scams, and where to get help.",
            "Estafas por teléfono, de notarios y de alquiler, y dónde pedir ayuda.",
            "Lừa đảo qua điện thoại, công chứng và thuê nhà, và nơi tìm trợ giúp.",
        ),
    ),
    (
        (
            "Neighborhood safety walk",
            "Caminata de seguridad en el vecindario",
            "Đi bộ an toàn khu phố",
        ),
        (
            "Walk the neighborhood with officers and point out what needs fixing.",
            "Recorra el vecindario con los agentes y señale lo que hay que arreglar.",
            "Đi quanh khu phố cùng cảnh sát và chỉ ra những gì cần sửa.",
        ),
    ),
    (
        (
            "Youth and family night",
            "Noche de jóvenes y familias",
            "Đêm thanh thiếu niên và gia đình",
        ),
        (
            "Games, food and a conversation about school safety.",
            "Juegos, comida y una conversación sobre la seguridad escolar.",
            "Trò chơi, đồ ăn và trò chuyện về an toàn học đường.",
        ),
    ),
    (
        (
            "Traffic safety and your car",
            "Seguridad vial y su auto",
            "An toàn giao thông và xe của bạn",
        ),
        (
            "Traffic stops, car seats and what to carry with you.",
            "Paradas de tráfico, asientos infantiles y qué llevar consigo.",
            "Khi bị dừng xe, ghế ngồi trẻ em và giấy tờ cần mang theo.",
        ),
    ),
    (
        (
            "Domestic violence: help is confidential",
            "Violencia doméstica: la ayuda es confidencial",
            "Bạo lực gia đình: sự trợ giúp được giữ kín",
        ),
        (
            "Advocates and officers explain the help available, in confidence.",
            "Defensores y agentes explican la ayuda disponible, con confidencialidad.",
            "Người hỗ trợ và cảnh sát giải thích sự trợ giúp hiện có, một cách kín đáo.",
        ),
    ),
]
DESCRIPTION = (
    "Come as you are: no ID is asked for at the door, and nobody's immigration status is "
    "discussed or recorded. Officers from the Community Affairs unit answer questions, listen "
    "to concerns and explain how to reach them. Light refreshments; children are welcome.",
    "Venga tal como es: no se pide identificación en la puerta y no se habla ni se anota la "
    "situación migratoria de nadie. Agentes de la unidad de Asuntos Comunitarios responden "
    "preguntas, escuchan sus inquietudes y explican cómo comunicarse con ellos. Habrá un "
    "refrigerio; los niños son bienvenidos.",
    "Xin cứ đến: không cần xuất trình giấy tờ tùy thân ở cửa, và không ai hỏi hay ghi lại tình "
    "trạng di trú của bất kỳ ai. Cảnh sát thuộc đơn vị Cộng đồng sẽ trả lời câu hỏi, lắng nghe "
    "và hướng dẫn cách liên lạc. Có đồ ăn nhẹ; trẻ em được chào đón.",
)
HOSTS = [
    ("Interim Chief of Police", "Jefe de Policía interino", "Quyền Cảnh sát trưởng"),
    ("Community Affairs Unit", "Unidad de Asuntos Comunitarios", "Đơn vị Cộng đồng"),
    (
        "Patrol Division commander",
        "Comandante de la División de Patrulla",
        "Chỉ huy Phân khu Tuần tra",
    ),
]
# (English title, Spanish, Vietnamese, number of dates, days between dates)
SERIES = [
    (
        "Coffee with the chief",
        "Café con el jefe",
        "Cà phê với cảnh sát trưởng",
        BIG_SERIES_DATES,
        3,
    ),
    ("Know your rights", "Conozca sus derechos", "Biết quyền của bạn", 24, 7),
    ("Safe neighborhoods", "Vecindarios seguros", "Khu phố an toàn", 16, 10),
    ("Youth nights", "Noches de jóvenes", "Đêm thanh thiếu niên", 12, 14),
    (
        "Small business watch",
        "Vigilancia para pequeños negocios",
        "Canh phòng cho tiểu thương",
        8,
        21,
    ),
    ("Senior safety", "Seguridad para mayores", "An toàn cho người cao tuổi", 6, 28),
]
CAPACITIES = [None, 120, 150, 200, 250, 300, 400, 500, 200, 150, 250, 300, 60, 80]
FIRST_NAMES = ["María", "José", "Lan", "Minh", "Guadalupe", "Tuấn", "Ana", "Carlos", "Hương", ""]
FIRST_DAY = -120  # meetings run from four months ago (the feeds show the last 90 days) ...
LAST_DAY = 150  # ... to five months ahead


def seed(*, meetings=MEETINGS, rsvps=RSVPS, venues=VENUES, now=None):
    """Bulk-create venues, series, meetings and RSVPs through the models; return the pages to
    measure: {"meeting": slug of a meeting in the big series, "rsvp": slug of a meeting with
    no capacity limit that takes RSVPs}. Deterministic for the same arguments and day."""
    from django.db import transaction

    from meetings.models import Meeting, MeetingSeries, Rsvp, Venue

    chicago = zoneinfo.ZoneInfo("America/Chicago")
    today = (now or dt.datetime.now(tz=chicago)).astimezone(chicago).date()
    rng = random.Random(12)  # noqa: S311 - repeatable data, not secrets

    def at(day, hour, minute=0):
        return dt.datetime.combine(today + dt.timedelta(days=day), dt.time(hour, minute), chicago)

    with transaction.atomic():
        venue_rows = Venue.objects.bulk_create(
            Venue(
                name_en=kind[0].format(area=area),
                name_es=kind[1].format(area=area),
                name_vi=kind[2].format(area=area),
                slug=f"{area}-{n}".lower().replace(" ", "-"),
                street_address=f"{100 + 10 * n} Sample Street",
                postal_code=f"752{n % 50:02d}",
                area=area,
                latitude=Decimal("32.780000") + Decimal(n) / 1000,
                longitude=Decimal("-96.800000") - Decimal(n) / 1000,
                accessibility_notes_en="Step-free entrance; accessible restrooms.",
                accessibility_notes_es="Entrada sin escalones; baños accesibles.",
                accessibility_notes_vi="Lối vào không có bậc thềm; có nhà vệ sinh cho người khuyết tật.",
                directions_notes_en="Free parking beside the building; bus stop on the corner.",
                directions_notes_es="Estacionamiento gratis junto al edificio; parada de autobús en la esquina.",
                directions_notes_vi="Đậu xe miễn phí cạnh tòa nhà; trạm xe buýt ở góc đường.",
                time_zone="America/Chicago",
            )
            for n in range(venues)
            for area, kind in [
                (AREAS[n % len(AREAS)], VENUE_KINDS[n // len(AREAS) % len(VENUE_KINDS)])
            ]
        )
        series_rows = MeetingSeries.objects.bulk_create(
            MeetingSeries(
                title_en=en,
                title_es=es,
                title_vi=vi,
                slug=en.lower().replace(" ", "-"),
                description_en=DESCRIPTION[0],
                description_es=DESCRIPTION[1],
                description_vi=DESCRIPTION[2],
            )
            for en, es, vi, _dates, _every in SERIES
        )
        # Series dates first (the big one every 3 days from 50 days ago), then one-off meetings
        # spread evenly over the whole period.
        plan = []
        for series, (_en, _es, _vi, dates, every) in zip(series_rows, SERIES, strict=True):
            start = -50 if dates == BIG_SERIES_DATES else rng.randrange(FIRST_DAY, 0)
            plan += [(series, start + every * k) for k in range(dates)]
        plan = plan[:meetings]
        singles = meetings - len(plan)
        span = LAST_DAY - FIRST_DAY
        plan += [(None, FIRST_DAY + span * k // max(singles, 1)) for k in range(singles)]

        meeting_rows = []
        for n, (series, day) in enumerate(plan):
            topic, summary = TOPICS[n % len(TOPICS)]
            venue = venue_rows[(n * 7) % len(venue_rows)]
            language = ["en", "es", "en", "vi", "es"][n % 5]
            if series is not None:
                title = (series.title_en, series.title_es, series.title_vi)
            else:
                title = (
                    f"{topic[0]} in {venue.area}",
                    f"{topic[1]} en {venue.area}",
                    f"{topic[2]} tại {venue.area}",
                )
            starts = at(day, 10 if day % 7 == 5 else 18, 30 if n % 2 else 0)
            host = HOSTS[n % len(HOSTS)]
            meeting_rows.append(
                Meeting(
                    series=series,
                    venue=venue,
                    slug=f"{title[0].lower().replace(' ', '-').replace(':', '')}-{n}"[:100],
                    title_en=title[0],
                    title_es=title[1],
                    title_vi=title[2],
                    summary_en=summary[0],
                    summary_es=summary[1],
                    summary_vi=summary[2],
                    description_en=DESCRIPTION[0],
                    description_es=DESCRIPTION[1],
                    description_vi=DESCRIPTION[2],
                    host_en=host[0],
                    host_es=host[1],
                    host_vi=host[2],
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(minutes=90),
                    language=language,
                    interpretation_languages=[c for c in ("en", "es", "vi") if c != language][
                        : 1 + n % 2
                    ],
                    status=Meeting.Status.CANCELLED if n % 20 == 7 else Meeting.Status.PUBLISHED,
                    cancellation_note_en="Postponed: the room is not available."
                    if n % 20 == 7
                    else "",
                    cancellation_note_es="Aplazada: el salón no está disponible."
                    if n % 20 == 7
                    else "",
                    capacity=CAPACITIES[n % len(CAPACITIES)],
                    rsvp_enabled=n % 15 != 4,
                    published_at=starts - dt.timedelta(days=21),
                    sequence=n % 3,
                )
            )
        # The pages to measure: a date of the big series a week or more ahead, with a capacity
        # (so its page computes seats for every date), and a one-off meeting without a limit
        # that takes RSVPs (so every POST confirms).
        big = [m for m in meeting_rows if m.series is series_rows[0]]
        page = next((m for m in big if m.starts_at > at(7, 0)), big[-1])
        page.capacity, page.status, page.rsvp_enabled = 80, Meeting.Status.PUBLISHED, True
        singles = [m for m in meeting_rows if m.series is None] or meeting_rows
        target = next((m for m in singles if m.starts_at > at(20, 0)), singles[-1])
        target.capacity, target.status, target.rsvp_enabled = None, Meeting.Status.PUBLISHED, True
        meeting_rows = Meeting.objects.bulk_create(meeting_rows)

        # RSVPs: some meetings far more popular than others; confirmed while seats last, then
        # waitlisted; a few cancelled. Names and emails only on some, as on the real site.
        takers = [m for m in meeting_rows if m.rsvp_enabled]
        weights = [1 + (n * 37) % 11 for n in range(len(takers))]
        chosen = rng.choices(range(len(takers)), weights=weights, k=rsvps)
        seats = [0] * len(takers)
        rsvp_rows = []
        for i, index in enumerate(chosen):
            meeting = takers[index]
            party = rng.choices((1, 2, 3, 4, 5), weights=(50, 25, 12, 8, 5))[0]
            if i % 25 == 3:
                status = Rsvp.Status.CANCELLED
            elif meeting.capacity is None or seats[index] + party <= meeting.capacity:
                status = Rsvp.Status.CONFIRMED
                seats[index] += party
            else:
                status = Rsvp.Status.WAITLISTED
            rsvp_rows.append(
                Rsvp(
                    meeting=meeting,
                    party_size=party,
                    first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    email=f"resident{i}@example.org" if i % 3 == 0 else "",
                    language=["es", "en", "vi", "es"][i % 4],
                    needs_interpretation=["", "", "es", "", "vi"][i % 5],
                    needs_wheelchair_access=i % 17 == 0,
                    needs_childcare=i % 9 == 0,
                    status=status,
                    token_hash=hashlib.sha256(f"bench-rsvp-{i}".encode()).hexdigest(),
                )
            )
        Rsvp.objects.bulk_create(rsvp_rows, batch_size=5000)
    return {"meeting": page.slug, "rsvp": target.slug}


def make_form_keys(meeting, count):
    """`count` fresh signed one-time RSVP form keys for the meeting, as the page would give them."""
    try:
        from meetings.tokens import make_form_token
    except ImportError:  # before the tokens module existed they lived in forms.py
        from meetings.forms import make_form_token
    return [make_form_token(meeting) for _ in range(count)]


def submission_keys(form_keys):
    """The one-time keys inside signed form keys: an RSVP made from a form keeps its key."""
    try:
        from meetings.tokens import read_form_token
    except ImportError:  # before the tokens module existed they lived in forms.py
        from meetings.forms import read_form_token
    return [read_form_token(value)[0] for value in form_keys]


def rsvps_made(keys):
    """How many RSVPs carry one of these submission keys (stored hashed)."""
    from meetings.models import Rsvp
    from meetings.tokens import hash_submission_key

    hashes = [hash_submission_key(key) for key in keys]
    return sum(
        Rsvp.objects.filter(submission_key_hash__in=hashes[start : start + 5000]).count()
        for start in range(0, len(hashes), 5000)
    )


def write_key_files(keys, directory, threads):
    """Split the keys over one file per wrk thread (URL-encoded, one a line), so no two
    threads ever send the same key. Returns the file paths."""
    paths = []
    for n in range(threads):
        path = Path(directory) / f"keys-{n}.txt"
        path.write_text(
            "".join(urllib.parse.quote(key, safe="") + "\n" for key in keys[n::threads])
        )
        paths.append(path)
    return paths


# wrk and its Lua scripts -------------------------------------------------------------------

LUA_COMMON = """
-- Written by scripts/bench.py: prints one JSON line at the end, so the benchmark reads the
-- figures without parsing wrk's text.
local threads = {}
local thread_count = 0
statuses = {}
exhausted = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local counts, out_of_keys = {}, 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[code] = (counts[code] or 0) + n
    end
    out_of_keys = out_of_keys + thread:get("exhausted")
  end
  local parts = {}
  for code, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d}, ' ..
    '"statuses": {%s}, "exhausted": %d}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", "), out_of_keys))
end
"""


# Counting each response's status costs wrk time (it then hands every response to Lua), so
# only the 304 path counts them: there a 200 would otherwise pass unseen. Elsewhere wrk's own
# count of responses other than 2xx/3xx, a probe and the bytes per response do the checking.
LUA_COUNT_STATUSES = """
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def lua_string(value):
    return json.dumps(value)  # a JSON string with \\ and \" escapes is a valid Lua string


def lua_get(headers=None, *, count_statuses=False):
    """wrk script for a GET with fixed headers."""
    lines = [LUA_COMMON, LUA_COUNT_STATUSES if count_statuses else ""]
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    return "\n".join(lines) + "\n"


def lua_rsvp_post(*, path, keys_dir, fields, headers):
    """wrk script for RSVP POSTs: each request takes the next key from its thread's own file
    (`keys_dir`/keys-<thread>.txt); `fields` are the other form fields, already decided."""
    prefix = urllib.parse.urlencode(fields) + "&form_token="
    header_lines = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    return (
        LUA_COMMON
        + f"""
local path = {lua_string(path)}
local headers = {{{header_lines}}}
local prefix = {lua_string(prefix)}
local keys = {{}}
local next_key = 1

function init(args)
  local name = {lua_string(str(keys_dir))} .. "/keys-" .. wrk.thread:get("id") .. ".txt"
  for line in io.lines(name) do
    table.insert(keys, line)
  end
end

function request()
  local key = keys[next_key]
  if key == nil then
    -- Out of keys: a key sent again makes no RSVP, and the count after the run shows it.
    exhausted = exhausted + 1
    key = keys[1]
  else
    next_key = next_key + 1
  end
  return wrk.format("POST", path, headers, prefix .. key)
end
"""
    )


@dataclasses.dataclass
class Measurement:
    key: str
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    statuses: dict
    errors: dict
    bytes: int = 0
    server_cpu_s: float | None = None
    exhausted: int = 0
    expected_status: int = 200
    expected_bytes: int | None = None
    note: str = ""
    problems: list = dataclasses.field(default_factory=list)

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self):
        """The server's CPU time per answered request: steadier than req/s when other
        programs compete for the CPU, so the better figure for comparing servers."""
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def bytes_per_response(self):
        return self.bytes / self.requests if self.requests else 0.0

    @property
    def checks(self):
        """What the table says was checked."""
        if self.note:
            return self.note
        if self.statuses:
            return ", ".join(f"{code} ×{n:,}" for code, n in sorted(self.statuses.items()))
        return f"{self.expected_status}, {self.bytes_per_response / 1024:,.1f} KiB each"


def parse_wrk_output(text):
    """The BENCH-RESULT JSON line our Lua `done()` prints."""
    for line in text.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{text}")


def run_wrk(url, script, *, duration, connections, threads, timeout):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        command = [
            "wrk",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={duration}s",
            f"--timeout={timeout}s",
            f"--script={file.name}",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        return parse_wrk_output(done.stdout)
    finally:
        os.unlink(file.name)


def measurement_from(key, result, *, expected_status=200, expected_bytes=None):
    """A Measurement of wrk's result, with what is wrong with it in `problems`.

    `expected_bytes`: the size of one response (headers and body) as a probe saw it; the mean
    size of wrk's responses must be within a third of it (a redirect or an error page is not).
    """
    statuses = {int(code): n for code, n in result.get("statuses", {}).items()}
    errors = {name: n for name, n in result["errors"].items() if n}
    measurement = Measurement(
        key=key,
        label=PATHS[key][0],
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["latency_us"]["p50"] / 1000,
        p90_ms=result["latency_us"]["p90"] / 1000,
        p99_ms=result["latency_us"]["p99"] / 1000,
        statuses=statuses,
        errors=errors,
        bytes=result.get("bytes", 0),
        server_cpu_s=result.get("server_cpu_s"),
        exhausted=result.get("exhausted", 0),
        expected_status=expected_status,
        expected_bytes=expected_bytes,
    )
    unexpected = {code: n for code, n in statuses.items() if code != expected_status}
    if unexpected:
        measurement.problems.append(
            "unexpected statuses "
            + ", ".join(f"{code} ×{n:,}" for code, n in sorted(unexpected.items()))
        )
    if errors:
        measurement.problems.append(
            "wrk errors " + ", ".join(f"{name} {n:,}" for name, n in sorted(errors.items()))
        )
    if not measurement.requests:
        measurement.problems.append("no request completed")
    elif expected_bytes and not 0.67 < measurement.bytes_per_response / expected_bytes < 1.5:
        measurement.problems.append(
            f"responses of {measurement.bytes_per_response:,.0f} bytes, not about {expected_bytes:,}"
        )
    return measurement


# The table ---------------------------------------------------------------------------------


def ratio_to(measurement, healthz_rps):
    return measurement.rps / healthz_rps if healthz_rps else 0.0


def verdict(measurement, healthz_rps):
    if measurement.problems:
        return "FAIL: " + "; ".join(measurement.problems)
    target = PATHS[measurement.key][1]
    if target is None:
        return "—"
    return "pass" if ratio_to(measurement, healthz_rps) >= target else "FAIL: below target"


def table_rows(measurements, healthz_rps):
    rows = [
        [
            "path",
            "req/s",
            "p50",
            "p99",
            "server CPU/req",
            "ratio to /healthz",
            "target",
            "result",
            "checks",
        ]
    ]
    for m in measurements:
        target = PATHS[m.key][1]
        rows.append(
            [
                m.label,
                f"{m.rps:,.1f}" if m.rps < 100 else f"{m.rps:,.0f}",
                format_ms(m.p50_ms),
                format_ms(m.p99_ms),
                format_ms(m.cpu_ms_per_request) if m.cpu_ms_per_request is not None else "—",
                f"{ratio_to(m, healthz_rps):.3f}" if m.key != "healthz" else "1",
                f"≥ {target:.2f}" if target is not None else "—",
                verdict(m, healthz_rps)
                if m.key != "healthz"
                else ("—" if not m.problems else verdict(m, 0)),
                m.checks,
            ]
        )
    return rows


def format_ms(ms):
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


NUMERIC_COLUMNS = {1, 2, 3, 4, 5}


def markdown_table(rows):
    head, *body = rows
    align = ["---:" if n in NUMERIC_COLUMNS else "---" for n in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def text_table(rows):
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(widths[n]) if n in NUMERIC_COLUMNS else cell.ljust(widths[n])
            for n, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def machine_description():
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# Server commands ---------------------------------------------------------------------------


@dataclasses.dataclass
class ServerSpec:
    kind: str  # dockerfile, gunicorn-sync, gunicorn-gthread, granian
    workers: int | None = None
    threads: int | None = None

    @property
    def name(self):
        if self.kind == "dockerfile":
            return "dockerfile"
        if self.kind == "gunicorn-sync":
            return f"gunicorn-sync:{self.workers}"
        return f"{self.kind}:{self.workers}x{self.threads}"


SERVER_KINDS = ("dockerfile", "gunicorn-sync", "gunicorn-gthread", "granian")


def parse_server_spec(text, *, workers=2, threads=None):
    """'granian:2x1', 'gunicorn-gthread:2x4', 'gunicorn-sync:4' or a bare kind."""
    kind, _sep, size = text.partition(":")
    if kind not in SERVER_KINDS:
        raise ValueError(f"unknown server {kind!r}: choose from {', '.join(SERVER_KINDS)}")
    if kind == "dockerfile":
        if size:
            raise ValueError("the Dockerfile's command takes no size")
        return ServerSpec(kind)
    default_threads = {"granian": 1, "gunicorn-gthread": 4, "gunicorn-sync": 1}[kind]
    threads = threads or default_threads
    if size:
        match = re.fullmatch(r"(\d+)(?:x(\d+))?", size)
        if not match:
            raise ValueError(f"bad size {size!r}: write WORKERS or WORKERSxTHREADS")
        workers = int(match[1])
        threads = int(match[2]) if match[2] else threads
    if kind == "gunicorn-sync" and threads != 1:
        raise ValueError("gunicorn's sync workers have one thread each: use gunicorn-gthread")
    return ServerSpec(kind, workers, threads)


def server_command(spec, port, *, dockerfile=ROOT / "Dockerfile", environ=None):
    if spec.kind == "dockerfile":
        return dockerfile_command(Path(dockerfile).read_text(), port, environ=environ)
    app = "outreach.wsgi:application"
    if spec.kind == "granian":
        return [
            "granian",
            "--interface=wsgi",
            f"--host={HOST}",
            f"--port={port}",
            f"--workers={spec.workers}",
            f"--blocking-threads={spec.threads}",
            app,
        ]
    worker_class = (
        ["--worker-class=sync"]
        if spec.kind == "gunicorn-sync"
        else [
            "--worker-class=gthread",
            f"--threads={spec.threads}",
        ]
    )
    return ["gunicorn", app, f"--bind={HOST}:{port}", f"--workers={spec.workers}", *worker_class]


def dockerfile_command(text, port, *, environ=None):
    """The server command of the Dockerfile's CMD, listening on HOST:port instead.

    Takes the part after `exec` of a `sh -c` CMD (the migrations before it are done already),
    expands ${VAR:-default} from `environ`, and rewrites --bind, --host and --port.
    """
    environ = os.environ if environ is None else environ
    text = re.sub(r"\\\n", " ", text)
    lines = [line for line in text.splitlines() if re.match(r"\s*CMD\b", line)]
    if not lines:
        raise ValueError("the Dockerfile has no CMD")
    cmd = lines[-1].strip()[3:].strip()
    if cmd.startswith("["):
        argv = json.loads(cmd)
        if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash") and argv[1] == "-c":
            shell = argv[2]
        else:
            shell = shlex.join(argv)
    else:
        shell = cmd
    shell = shell.split("&&")[-1].strip()
    shell = re.sub(r"^exec\s+", "", shell)

    def expand(match):
        name, default = match[1] or match[3], match[2] or ""
        return environ.get(name, default)

    shell = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", expand, shell)
    argv = shlex.split(shell)
    rewritten, skip = [], False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        name, eq, _value = arg.partition("=")
        if name in ("--bind", "-b", "--host", "--port"):
            new = {"--host": HOST, "--port": str(port)}.get(name, f"{HOST}:{port}")
            rewritten.append(f"{name}={new}" if eq else name)
            if not eq:
                rewritten.append(new)
                skip = index + 1 < len(argv)
            continue
        rewritten.append(arg)
    if not any(a.split("=")[0] in ("--bind", "-b", "--port") for a in rewritten):
        raise ValueError(f"cannot tell where the Dockerfile's server listens: {shell}")
    return rewritten


class Server:
    """The app under a server command, in its own process group, logging to a file."""

    def __init__(self, command, env, log_path):
        self.command, self.env, self.log_path = command, env, log_path
        self.process = None

    def start(self, url, timeout=60):
        executable = BIN / self.command[0]
        command = [str(executable) if executable.exists() else self.command[0], *self.command[1:]]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.process.returncode}); see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer /healthz in {timeout}s; see {self.log_path}")

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()
        self.process = None


# The run -----------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url, headers=None, data=None):
    """(status, headers, body) without following redirects."""
    request = urllib.request.Request(url, headers=headers or {}, data=data)  # noqa: S310
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def settle(url, result, options):
    """Wait until the server has finished what wrk left in flight.

    wrk stops with up to one request per connection unanswered, and the server still works
    through them: after a slow path that is seconds of work, which would be counted against
    the next path. They are done in about as long as a request took to answer (the queue
    drains at the rate it filled), so wait the run's p99 latency, then until /healthz answers
    promptly twice in a row.
    """
    if result["requests"]:
        time.sleep(min(result["latency_us"]["p99"] / 1e6, options.timeout))
    else:
        time.sleep(options.timeout)
    opener = urllib.request.build_opener(NoRedirect)
    prompt, deadline = 0, time.monotonic() + 120
    while prompt < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        fetch(opener, url + "/healthz")
        prompt = prompt + 1 if time.monotonic() - started < 0.1 else 0
        time.sleep(0.05)


def session_cpu_seconds(session):
    """CPU time used so far by the processes of a session (the server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            values = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(values[3]) == session:  # field 6: the session id
            ticks += sum(int(v) for v in values[11:15])  # utime, stime and their children's
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuShare:
    """The share of the machine's CPU time that processes other than ours used since it was
    made: how noisy the measurement was. Ours are this script, wrk, the server's process group
    and the PostgreSQL backends serving the benchmark's database (sampled twice a second, as
    they come and go)."""

    def __init__(self, session, *, postgres, database):
        self.session, self.postgres, self.database = session, postgres, database
        self.backends = {}  # pid: [CPU ticks when first seen, when last seen]
        self.stopped = threading.Event()
        try:
            self.start = self._sample()
        except (OSError, ValueError, IndexError):
            self.start = None
            return
        self.thread = threading.Thread(target=self._watch_backends, daemon=True)
        self.thread.start()

    @staticmethod
    def _ticks(stat):
        values = stat.rsplit(")", 1)[1].split()
        return int(values[3]), sum(int(v) for v in values[11:15])  # session; u+s time, children's

    def _watch_backends(self):
        try:
            with postgres_admin(self.postgres) as admin:
                while not self.stopped.wait(0.5):
                    rows = admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                    ).fetchall()
                    for (pid,) in rows:
                        try:
                            ticks = self._ticks(Path(f"/proc/{pid}/stat").read_text())[1]
                        except OSError:
                            continue
                        self.backends.setdefault(pid, [ticks, ticks])[1] = ticks
        except Exception:  # noqa: BLE001 - the noise figure is then a little high
            return

    def _sample(self):
        jiffies = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        total = sum(jiffies[:8])  # guest time is already counted in user
        busy = total - jiffies[3] - jiffies[4]  # idle, iowait
        mine = os.times()  # this script and the children it has waited for: wrk
        seconds = mine.user + mine.system + mine.children_user + mine.children_system
        seconds += session_cpu_seconds(self.session)
        return total, busy, round(seconds * os.sysconf("SC_CLK_TCK"))

    def others(self):
        if self.start is None:
            return None
        self.stopped.set()
        self.thread.join()
        total, busy, ours = self._sample()
        ours += sum(last - first for first, last in self.backends.values())
        total0, busy0, ours0 = self.start
        if total <= total0:
            return None
        return max(0.0, ((busy - busy0) - (ours - ours0)) / (total - total0))


def wire_size(status, headers, body):
    """About the bytes wrk reads for this response: status line, headers, body."""
    head = sum(len(name) + len(value) + 4 for name, value in headers.items())
    return len(f"HTTP/1.1 {status} OK\r\n") + head + 2 + len(body)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def postgres_admin(base_url):
    import psycopg

    return psycopg.connect(f"{base_url}/postgres", autocommit=True)


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
            if key == "rsvp":
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

        # Again at the end, so a machine that got busier (or quieter) shows in the spread.
        measure("healthz", paths["healthz"], lua_get()).label = "/healthz (again, last)"
        others = cpu.others()
    finally:
        server.stop()
    return command, results, others


def flush_redis(options):
    import redis

    redis.Redis.from_url(f"{options.redis}/{options.redis_db}").flushdb()


def report(spec, command, results, options, seeded, others=None):
    """The table, with what it ran on, as (text for the terminal, markdown)."""
    healthz = [m.rps for m in results if m.key == "healthz"]
    healthz_rps = sum(healthz) / len(healthz) if healthz else 0.0
    rows = table_rows(results, healthz_rps)
    commit = subprocess.run(  # noqa: S603
        ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH, like make
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    facts = [
        f"Machine: {machine_description()}; load average before/after: {options.load_before} / {load_average()}",
        f"Server: `{shlex.join(command)}` ({spec.name})",
        f"wrk: {options.connections} connections, {options.wrk_threads} threads, "
        f"{options.duration} s per path after a {options.warmup} s warm-up",
        f"Data: {seeded}; PostgreSQL, Redis cache; DEBUG off",
        f"Commit: {commit}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]
    if len(healthz) > 1:
        facts.append(
            "/healthz measured first and last ("
            + ", ".join(f"{rps:,.0f}" for rps in healthz)
            + " req/s); ratios use their mean"
        )
    if len(healthz) > 1 and max(healthz) > 1.25 * min(healthz):
        facts.append(
            "WARNING: /healthz changed by more than a quarter between the first and the last "
            "measurement: the machine's load changed during the run, so the ratios are rough"
        )
    if others is not None:
        facts.append(
            f"Other processes used {others:.0%} of the machine's CPU time while this ran "
            "(0% on a quiet machine)"
        )
    text = "\n".join([*facts, "", text_table(rows)])
    markdown = "\n".join([*(f"- {fact}" for fact in facts), "", markdown_table(rows)])
    return text, markdown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        default=",".join(PATHS),
        help=f"comma-separated subset of {','.join(PATHS)} (/healthz is always measured)",
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


if __name__ == "__main__":
    sys.exit(main())
