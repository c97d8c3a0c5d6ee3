"""A private RSVP link is a password: whatever logs a request path must not print it."""

import io
import logging

import pytest

from tests.outreach.test_settings import PRODUCTION_ENV, run_manage

TOKEN = "dq7UEN98UUsD10rxhaxKDwkqb6ahD9hYcWlJG3BHOg4"


@pytest.fixture
def json_lines():
    """The stdout handler writes JSON lines for the test, whatever the developer's .env says
    (LOG_FORMAT=plain is for a terminal; production and the defaults are JSON)."""
    from outreach.logging import JsonFormatter

    handlers = [
        handler
        for handler in handlers_reached_by(logging.getLogger("django.request"))
        if type(handler) is logging.StreamHandler
    ]
    previous = [handler.formatter for handler in handlers]
    for handler in handlers:
        handler.setFormatter(JsonFormatter())
    yield
    for handler, formatter in zip(handlers, previous, strict=True):
        handler.setFormatter(formatter)


def handlers_reached_by(logger):
    while logger:
        yield from logger.handlers
        logger = logger.parent if logger.propagate else None


def printed_by(logger_name, message, *args):
    """Everything the configured handlers print when `logger_name` logs the message."""
    logger = logging.getLogger(logger_name)
    # Exactly StreamHandler: pytest's own capturing handlers are subclasses.
    handlers = [h for h in handlers_reached_by(logger) if type(h) is logging.StreamHandler]
    assert handlers, f"{logger_name} logs nowhere"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        logger.warning(message, *args)
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("logger_name", "message", "args"),
    [
        # runserver's request line
        ("django.server", '"%s" %s %s', (f"GET /es/rsvp/{TOKEN}/ HTTP/1.1", "200", "7258")),
        # Django's "Not Found: /vi/rsvp/<token>/" and friends
        ("django.request", "Not Found: %s", (f"/vi/rsvp/{TOKEN}/",)),
        ("meetings", f"Could not send mail for /en/rsvp/{TOKEN}/", ()),
    ],
)
def test_rsvp_tokens_never_reach_the_log(logger_name, message, args):
    printed = printed_by(logger_name, message, *args)

    assert "/rsvp/[private]/" in printed
    assert TOKEN not in printed


def test_each_line_is_printed_once(settings):
    settings.DEBUG = True  # Django's default console handler only prints with DEBUG on
    printed = printed_by("django.request", "Not Found: %s", "/en/nowhere/")

    assert printed.count("Not Found: /en/nowhere/") == 1


def test_log_level_quiets_djangos_own_loggers_too():
    script = (
        "import logging; "
        "logging.getLogger('django.server').info('GET /en/meetings/ 200'); "
        "logging.getLogger('django.request').warning('Not Found: /en/nowhere/')"
    )

    result = run_manage("shell", "-c", script, env={**PRODUCTION_ENV, "LOG_LEVEL": "WARNING"})

    assert "Not Found: /en/nowhere/" in result.stdout
    assert "GET /en/meetings/" not in result.stdout


def test_client_addresses_gunicorn_names_are_redacted():
    from outreach.logging import redact

    line = "Invalid request from ip=203.0.113.7: Invalid HTTP request line: 'GET /en/rsvp/abc/'"

    assert redact(line) == (
        "Invalid request from ip=[address]: Invalid HTTP request line: 'GET /en/rsvp/[private]/'"
    )


# --- One JSON object per line, in UTC, with the request's id -------------------------------


def test_lines_are_json_objects_in_utc_with_the_offset(json_lines):
    import datetime as dt
    import json

    printed = printed_by("django.request", "Not Found: %s", f"/es/rsvp/{TOKEN}/")

    (line,) = printed.splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"] == "django.request"
    assert record["message"] == "Not Found: /es/rsvp/[private]/"
    assert record["time"].endswith("+00:00")
    moment = dt.datetime.fromisoformat(record["time"])
    assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_a_traceback_stays_inside_its_line(json_lines):
    import json

    logger = logging.getLogger("meetings")
    handler = next(h for h in handlers_reached_by(logger) if type(h) is logging.StreamHandler)
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("It failed")
    finally:
        handler.setStream(old)

    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "It failed"
    assert "ValueError: boom" in record["exception"]


@pytest.mark.django_db
def test_a_requests_log_lines_carry_its_id_which_the_response_names(client, json_lines):
    import json

    logger = logging.getLogger("django.request")
    handler = next(h for h in handlers_reached_by(logger) if type(h) is logging.StreamHandler)
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        first = client.get("/en/meetings/no-such-meeting/")
        second = client.get("/en/meetings/no-such-meeting/", HTTP_X_REQUEST_ID="caddy-1234-abcd")
        forged = client.get("/en/nowhere/", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    finally:
        handler.setStream(old)

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    ids = [record["request_id"] for record in records if record["logger"] == "django.request"]
    assert ids == [first["X-Request-ID"], "caddy-1234-abcd", forged["X-Request-ID"]]
    assert second["X-Request-ID"] == "caddy-1234-abcd"
    assert len(first["X-Request-ID"]) == 32 and "<" not in forged["X-Request-ID"]


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("Twilio refused a text to %s: %s", ("+12145550123", "Twilio 400 code 21211")),
        ("sending to +84912345678 failed", ()),
        ("%s", ("To=+12145550123&Body=Hola",)),
    ],
)
def test_a_phone_number_never_reaches_the_logs(message, args):
    printed = printed_by("meetings.sms_backend", message, *args)

    assert "[phone]" in printed
    assert "+1214555" not in printed and "+8491234" not in printed


def test_ids_without_a_plus_are_not_taken_for_phone_numbers():
    printed = printed_by("meetings.outbox", "Outgoing email %s (%s) in %d s", 12345678901, "x", 60)

    assert "12345678901" in printed
