"""The growth run (issue 19, item 4): what a change costs when the feed is big. The feed is
fetched once on a cold cache (the cold build). After a change (the data version moves), 4
calendar apps fetch the all-meetings feed at once while wrk measures /healthz; a poller then
waits for the new feed. The feed must be built once, the apps served without waiting for that
build (a slow feed is rebuilt in the background while its previous copy is served:
meetings.caching), and the rest of the site must not wait (target: /healthz p99 under
config.GROWTH_HEALTHZ_P99_MS during the rebuild).
Run it on 10x data: make bench BENCH_ARGS="--meetings 10000 --rsvps 1000000 --paths growth".
"""

import threading
import time
import urllib.request

from .load import Measurement, NoRedirect, fetch, lua_get, measurement_from, run_wrk

CALENDAR_APPS = 4
# How long the poller waits for the rebuilt feed before it reports a problem.
REBUILD_WAIT_SECONDS = 120


def growth_run(url, *, options):
    """(the apps' Measurement, /healthz's Measurement) of one rebuild."""
    feed = url + "/en/feeds/meetings.ics"
    opener = urllib.request.build_opener(NoRedirect)
    started = time.monotonic()
    status, headers, plain = fetch(opener, feed)
    cold = time.monotonic() - started
    if status != 200:
        raise RuntimeError(f"the feed answered {status}")
    before = headers["ETag"]
    answers, lock = [], threading.Lock()

    def calendar_app():
        started = time.monotonic()
        status, headers, body = fetch(opener, feed, {"Accept-Encoding": "gzip"})
        with lock:
            answers.append((time.monotonic() - started, status, len(body)))

    healthz = {}
    wrk = threading.Thread(
        target=lambda: healthz.update(
            run_wrk(
                url + "/healthz",
                lua_get(),
                duration=options.duration,
                connections=options.connections,
                threads=options.wrk_threads,
                timeout=options.timeout,
            )
        )
    )
    wrk.start()
    time.sleep(min(1.0, options.duration / 4))  # wrk under way first
    changed_at = time.monotonic()
    _staff_edit()
    apps = [threading.Thread(target=calendar_app) for _ in range(CALENDAR_APPS)]
    for app in apps:
        app.start()
    for app in apps:
        app.join()
    rebuilt = _wait_for_new_feed(opener, feed, before, since=changed_at)
    wrk.join()

    seconds = sorted(elapsed for elapsed, _status, _size in answers)
    statuses = {}
    for _elapsed, code, _size in answers:
        statuses[code] = statuses.get(code, 0) + 1
    apps_m = Measurement(
        key="growth-feed",
        label=f"growth: feed after a change, {CALENDAR_APPS} apps at once",
        requests=len(answers),
        seconds=max(seconds),
        p50_ms=seconds[len(seconds) // 2] * 1000,
        p90_ms=seconds[-1] * 1000,
        p99_ms=seconds[-1] * 1000,
        statuses={},
        errors={},
    )
    sizes = sorted({size for _e, _s, size in answers})
    rebuilt_text = f"{rebuilt:.2f} s" if rebuilt is not None else "not within the wait"
    apps_m.note = (
        f"cold build {cold:.2f} s; after the change the apps waited {seconds[-1]:.2f} s at most, "
        f"the new feed was served {rebuilt_text} after it; {len(plain):,} bytes plain, "
        + ", ".join(f"{size:,}" for size in sizes)
        + " bytes gzip"
    )
    if set(statuses) != {200}:
        apps_m.problems.append(f"statuses {statuses}")
    if rebuilt is None:
        apps_m.problems.append(f"no new feed {REBUILD_WAIT_SECONDS} s after the change")
    health = measurement_from("growth-healthz", healthz)
    health.note = "while the feed rebuilds"
    return apps_m, health


def _staff_edit():
    """What a staff edit of a meeting in the feed does: its title and change time move, and
    so does the data version (every process's copy is now old, and the feed's ETag changes)."""
    from django.db.models import Value
    from django.db.models.functions import Concat
    from django.utils import timezone

    from meetings import caching
    from meetings.models import Meeting

    meeting = Meeting.objects.in_feed_window().order_by("pk").first()
    Meeting.objects.filter(pk=meeting.pk).update(
        title_en=Concat("title_en", Value(" (moved)")), updated_at=timezone.now()
    )
    caching.content_changed()


def _wait_for_new_feed(opener, feed, before, *, since):
    """Seconds from `since` until the feed answers with an ETag other than `before`, or None.
    Polls with If-None-Match, as a calendar app does (a 304 reads no body)."""
    deadline = since + REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        status, headers, _body = fetch(opener, feed, {"If-None-Match": before})
        if status == 200 and headers["ETag"] != before:
            return time.monotonic() - since
        time.sleep(0.1)
    return None
