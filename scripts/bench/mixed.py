"""The mixed run (issue 19, item 6): readers of one meeting page and of the listing at
`--mixed-connections` (64) while new RSVPs to that meeting arrive at `--mixed-rate` (20) a
second, each with a fresh one-time key. wrk keeps the readers busy (a closed loop); the RSVPs
come from a thread pool on a fixed schedule (an open loop: a slow answer does not slow the
arrivals, as with real residents), and their latencies are measured from the scheduled time.
"""

import concurrent.futures
import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request

from .load import LUA_COMMON, Measurement, NoRedirect, fetch, lua_string, measurement_from, run_wrk
from .seed import make_form_keys, rsvps_made, submission_keys

RSVP_P99_TARGET_MS = 500


def lua_alternate(paths):
    """wrk script for GETs of the paths in turn."""
    listed = ", ".join(lua_string(path) for path in paths)
    return (
        LUA_COMMON
        + f"""
local paths = {{{listed}}}
local turn = 0

function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn % #paths) + 1])
end
"""
    )


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class RsvpStream:
    """POST new RSVPs to the meeting's form at `rate` a second for `seconds`, in threads."""

    def __init__(self, url, meeting, *, rate, seconds):
        self.url, self.rate, self.seconds = url, rate, seconds
        self.page = f"/en/meetings/{meeting.slug}/"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        status, _headers, body = fetch(browser, url + self.page)
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        cookie = next((c.value for c in jar if c.name == "csrftoken"), None)
        if status != 200 or not csrf or not cookie:
            raise RuntimeError(f"{self.page}: no RSVP form with a CSRF token (status {status})")
        self.csrf, self.cookie = csrf[1].decode(), cookie
        self.keys = make_form_keys(meeting, int(rate * seconds) + 10)
        self.latencies_ms, self.statuses, self.errors = [], {}, 0
        self.lock = threading.Lock()

    def post(self, key, due):
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.csrf,
                "party_size": "2",
                "language": "es",
                "needs_interpretation": "",
                "leave_empty": "",
                "form_token": key,
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={self.cookie}",
            "Origin": self.url,
            "Referer": self.url + self.page,
        }
        opener = urllib.request.build_opener(NoRedirect)
        try:
            status, _headers, _body = fetch(opener, self.url + self.page + "rsvp/", headers, body)
        except OSError:
            with self.lock:
                self.errors += 1
            return
        elapsed = (time.monotonic() - due) * 1000
        with self.lock:
            self.latencies_ms.append(elapsed)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def run(self):
        count = int(self.rate * self.seconds)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=256) as pool:
            for n, key in enumerate(self.keys[:count]):
                due = started + n / self.rate
                time.sleep(max(0.0, due - time.monotonic()))
                pool.submit(self.post, key, due)
        self.elapsed = time.monotonic() - started
        self.sent = count

    def measurement(self):
        made = rsvps_made(submission_keys(self.keys[: self.sent]))
        m = Measurement(
            key="mixed-rsvp",
            label=f"mixed: RSVP POSTs at {self.rate:g}/s, each a new RSVP",
            requests=len(self.latencies_ms),
            seconds=self.elapsed,
            p50_ms=percentile(self.latencies_ms, 0.50),
            p90_ms=percentile(self.latencies_ms, 0.90),
            p99_ms=percentile(self.latencies_ms, 0.99),
            statuses={},
            errors={"connect": self.errors} if self.errors else {},
            expected_status=302,
        )
        m.note = f"302 ×{self.statuses.get(302, 0):,}; RSVPs made {made:,} for {self.sent:,} posts"
        unexpected = {code: n for code, n in self.statuses.items() if code != 302}
        if unexpected:
            m.problems.append(
                "unexpected statuses "
                + ", ".join(f"{code} ×{n:,}" for code, n in sorted(unexpected.items()))
            )
        if self.errors:
            m.problems.append(f"{self.errors:,} posts failed to connect")
        if made != self.sent:
            m.problems.append(f"{made:,} RSVPs made for {self.sent:,} posts")
        return m


def mixed_run(url, meeting, *, options):
    """(readers' Measurement, RSVPs' Measurement) of one mixed run."""
    paths = [f"/en/meetings/{meeting.slug}/", "/en/meetings/"]
    stream = RsvpStream(url, meeting, rate=options.mixed_rate, seconds=options.duration)
    poster = threading.Thread(target=stream.run)
    poster.start()
    result = run_wrk(
        url + paths[0],
        lua_alternate(paths),
        duration=options.duration,
        connections=options.mixed_connections,
        threads=options.wrk_threads,
        timeout=options.timeout,
    )
    poster.join()
    reads = measurement_from("mixed-reads", result)
    reads.note = f"{options.mixed_connections} connections, meeting page and listing in turn"
    return reads, stream.measurement()
