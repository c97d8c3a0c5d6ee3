"""Read the public API of a running site as a partner's script would, and check it.

    .venv/bin/python scripts/check_api.py http://127.0.0.1:8000

Fetches /api/v1/openapi.json and validates it as OpenAPI 3 (openapi-spec-validator), then
walks every endpoint (every page of upcoming and past meetings, each meeting on its own,
venues, series, a 304, a bad parameter) and checks each answer against the document
(openapi-core) and for the fields partners rely on. Exits 1 and says what is wrong, else
prints a summary. Needs the dev dependencies (make install). tests/e2e/test_api_script.py
runs it against the site served as in production.
"""

import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_spec_validator import validate
from werkzeug.datastructures import Headers, ImmutableMultiDict

MEETING_FIELDS = {
    "slug",
    "title",
    "summary",
    "description",
    "status",
    "starts_at",
    "ends_at",
    "previous_starts_at",
    "time_zone",
    "cancellation_note",
    "language",
    "interpretation",
    "place",
    "series",
    "capacity",
    "seats_left",
    "takes_rsvps",
    "page_urls",
    "ics_urls",
    "feed_urls",
}


class Request:
    """What openapi-core reads of a request (its protocol for any HTTP client)."""

    def __init__(self, base, path, query):
        self.host_url = base
        self.path = path
        self.method = "get"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(name, str(value)) for name, value in query.items()]),
            header=Headers(),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = ""
        self.body = b""


class Response:
    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self.content_type = headers.get("Content-Type", "").lower()
        self.data = body


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - the site given
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, Headers(list(answer.headers.items())), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, Headers(list(error.headers.items())), error.read()


class Checker:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.problems = []
        self.answers = 0
        status, _headers, body = fetch(self.base + "/api/v1/openapi.json")
        if status != 200:
            raise SystemExit(f"/api/v1/openapi.json answered {status}")
        self.document = json.loads(body)
        validate(self.document)  # raises on an invalid OpenAPI 3 document
        self.spec = OpenAPI.from_dict(self.document)

    def problem(self, text):
        self.problems.append(text)

    def get(self, path, *, query=None, headers=None, expect=200):
        query = query or {}
        url = self.base + path + ("?" + urlencode(query) if query else "")
        status, response_headers, body = fetch(url, headers)
        self.answers += 1
        if status != expect:
            self.problem(f"{url}: {status}, expected {expect}")
        if response_headers.get("Access-Control-Allow-Origin") != "*":
            self.problem(f"{url}: not open to other origins (CORS)")
        if status != 304:
            request = Request(self.base, path, query)
            try:
                self.spec.validate_response(request, Response(status, response_headers, body))
            except Exception as error:  # noqa: BLE001 - every mismatch is reported
                self.problem(f"{url}: does not match the OpenAPI document: {error}")
        return status, response_headers, (json.loads(body) if body else None)

    def meeting(self, item, where):
        missing = MEETING_FIELDS - set(item)
        if missing:
            self.problem(f"{where}: missing {sorted(missing)}")
        for name in ("starts_at", "ends_at"):
            value = item.get(name) or ""
            if not (len(value) > 6 and value[-6] in "+-" and value[-3] == ":"):
                self.problem(f"{where}: {name} {value!r} has no UTC offset")
        if item.get("status") not in ("scheduled", "moved", "cancelled"):
            self.problem(f"{where}: status {item.get('status')!r}")

    def walk(self, when):
        slugs, query = [], {"when": when, "limit": 5}
        while True:
            _status, _headers, page = self.get("/api/v1/meetings", query=query)
            for item in page["items"]:
                self.meeting(item, f"meetings?when={when}")
                slugs.append(item["slug"])
            if not page["next_cursor"]:
                return slugs
            query = {**query, "cursor": page["next_cursor"]}

    def run(self):
        upcoming = self.walk("upcoming")
        past = self.walk("past")
        if len(set(upcoming)) != len(upcoming):
            self.problem("a meeting came twice while paging")
        for slug in upcoming[:10] + past[:3]:
            _status, _headers, item = self.get(f"/api/v1/meetings/{slug}", query={"lang": "es"})
            self.meeting(item, f"meetings/{slug}")
        self.get("/api/v1/venues", headers={"Accept-Language": "vi"})
        self.get("/api/v1/series")
        _status, headers, _body = self.get("/api/v1/series")
        self.get("/api/v1/series", headers={"If-None-Match": headers.get("ETag", "")}, expect=304)
        self.get("/api/v1/meetings", query={"date_from": "soon"}, expect=400)
        self.get("/api/v1/meetings/no-such-meeting", expect=404)
        return upcoming, past


def main(argv):
    if len(argv) != 2 or not urlsplit(argv[1]).scheme:
        print(__doc__)
        return 2
    checker = Checker(argv[1])
    upcoming, past = checker.run()
    if checker.problems:
        print("\n".join(checker.problems))
        return 1
    print(
        f"OpenAPI {checker.document['openapi']} document valid; {checker.answers} answers match "
        f"it; {len(upcoming)} upcoming and {len(past)} past meetings, every field present."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
