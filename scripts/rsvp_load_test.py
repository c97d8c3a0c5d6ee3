"""Many residents RSVP at the same moment, over HTTP: is capacity kept and every form counted?

Start the site against PostgreSQL with the bot checks off, then run this with the same
DATABASE_URL (it creates its own meeting, then reads the results from the database):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/outreach_rsvp
    RSVP_RATE_LIMIT= RSVP_MIN_FILL_SECONDS=0 DEBUG=true .venv/bin/gunicorn outreach.wsgi \\
        --bind 127.0.0.1:8001 --workers 4 --threads 4 &
    .venv/bin/python scripts/rsvp_load_test.py --base-url http://127.0.0.1:8001 --clients 150

Each client opens the meeting page (its own cookies, CSRF token and form key), waits until
all are ready, then posts the form; with --double-click it posts the same form twice at once.
Exits 1 if more seats were confirmed than the capacity, or if a form that got a private link
has no RSVP behind it (or shares one with another client).
"""

import argparse
import http.cookiejar
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from meetings.models import Meeting, Rsvp, Venue  # noqa: E402
from meetings.tokens import hash_token  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def make_meeting(capacity):
    venue, _created = Venue.objects.get_or_create(
        slug="load-test-venue", defaults={"name": "Load test venue"}
    )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    starts = timezone.now() + timezone.timedelta(days=3)
    return Meeting.objects.create(
        venue=venue,
        title=f"Load test {stamp}",
        slug=f"load-test-{stamp}",
        starts_at=starts,
        ends_at=starts + timezone.timedelta(hours=1),
        status=Meeting.Status.PUBLISHED,
        published_at=timezone.now(),
        capacity=capacity,
    )


def client(base_url, meeting, party_size, double_click, barrier, results):
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), NoRedirect)
    outcome = {"statuses": [], "locations": []}
    try:
        page = opener.open(f"{base_url}/en/meetings/{meeting.slug}/", timeout=60).read().decode()
        fields = {
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[
                1
            ],
            "form_token": re.search(r'name="form_token" value="([^"]+)"', page)[1],
            "party_size": str(party_size),
            "language": "en",
        }
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(  # noqa: S310 - --base-url is the tester's own server
            f"{base_url}/en/meetings/{meeting.slug}/rsvp/",
            data=body,
            headers={"Referer": f"{base_url}/en/meetings/{meeting.slug}/"},
        )
        barrier.wait()

        def post():
            try:
                response = opener.open(request, timeout=60)
                outcome["statuses"].append(response.status)
            except urllib.error.HTTPError as error:
                outcome["statuses"].append(error.code)
                outcome["locations"].append(error.headers.get("Location"))

        posts = [threading.Thread(target=post) for _ in range(2 if double_click else 1)]
        for thread in posts:
            thread.start()
        for thread in posts:
            thread.join()
    except Exception as error:  # noqa: BLE001 - counted as a lost client below
        outcome["error"] = repr(error)
    results.append(outcome)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8001")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--capacity", type=int, default=20)
    parser.add_argument("--party-size", type=int, default=1)
    parser.add_argument("--double-click", action="store_true")
    options = parser.parse_args()
    if not options.base_url.startswith(("http://", "https://")):
        parser.error("--base-url must be an http:// or https:// address")

    meeting = make_meeting(options.capacity)
    barrier = threading.Barrier(options.clients)
    results = []
    threads = [
        threading.Thread(
            target=client,
            args=(
                options.base_url,
                meeting,
                options.party_size,
                options.double_click,
                barrier,
                results,
            ),
        )
        for _ in range(options.clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    errors = [result["error"] for result in results if "error" in result]
    statuses = [status for result in results for status in result["statuses"]]
    tokens_per_client = [
        {re.search(r"/rsvp/([^/]+)/$", location)[1] for location in result["locations"]}
        for result in results
        if result["locations"]
    ]
    rsvps = Rsvp.objects.filter(meeting=meeting)
    confirmed, waitlisted = Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts
    linked = [
        rsvps.filter(token_hash=hash_token(token)).count()
        for tokens in tokens_per_client
        for token in tokens
    ]

    print(f"meeting {meeting.slug}: capacity {options.capacity}, {options.clients} clients")
    print(f"{len(statuses)} posts in {elapsed:.1f}s; statuses {sorted(set(statuses))}")
    print(f"RSVP rows {rsvps.count()}: {confirmed} seats confirmed, {waitlisted} waitlisted")
    problems = []
    if errors:
        problems.append(f"{len(errors)} clients failed, e.g. {errors[0]}")
    if confirmed > options.capacity:
        problems.append(f"overbooked: {confirmed} seats for {options.capacity}")
    if any(len(tokens) != 1 for tokens in tokens_per_client):
        problems.append("a client got two different private links for one form")
    if len(tokens_per_client) != options.clients:
        problems.append(f"only {len(tokens_per_client)} clients got a private link")
    if rsvps.count() != len(tokens_per_client):
        problems.append(f"{rsvps.count()} RSVPs for {len(tokens_per_client)} forms")
    if any(count != 1 for count in linked):
        problems.append("a private link leads to no RSVP")
    print("OK" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
