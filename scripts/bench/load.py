"""The load: wrk with its Lua scripts, what a run measured, and the server's CPU time."""

import dataclasses
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .config import PATHS

# wrk and its Lua scripts -------------------------------------------------------------------

LUA_COMMON = """
-- Written by scripts/bench (load.py): prints one JSON line at the end, so the benchmark reads the
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


def postgres_admin(base_url):
    import psycopg

    return psycopg.connect(f"{base_url}/postgres", autocommit=True)
