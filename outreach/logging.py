"""Log filters and formats. A private RSVP link is a password, and a phone number personal data:
neither reaches the logs. Lines are JSON objects in UTC with the request's id (LOG_FORMAT=plain
for a terminal)."""

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

RSVP_TOKEN_IN_PATH = re.compile(r"(/rsvp/)[A-Za-z0-9_-]+")
# The signed links of alerts of new meetings (confirm, stop): anyone holding one can use it.
ALERT_TOKEN_IN_PATH = re.compile(r"(/alerts/(?:confirm|stop)/)[A-Za-z0-9_:-]+")
# gunicorn names the client of a request it cannot parse: "Invalid request from ip=…".
CLIENT_ADDRESS = re.compile(r"\b(ip=)(?:\d+(?:\.\d+){3}|[0-9A-Fa-f:.]*[0-9A-Fa-f])")

# A phone number in E.164 (as the site stores them, and as a provider's error may quote one).
PHONE_NUMBER = re.compile(r"(?<![\w+])\+\d{8,15}\b")


def redact(value):
    if not isinstance(value, str):
        return value
    value = ALERT_TOKEN_IN_PATH.sub(r"\1[private]", RSVP_TOKEN_IN_PATH.sub(r"\1[private]", value))
    return PHONE_NUMBER.sub("[phone]", CLIENT_ADDRESS.sub(r"\1[address]", value))


class RedactRsvpTokens(logging.Filter):
    """Replaces the token in /rsvp/<token>/ paths, e.g. Django's "Bad Request: /es/rsvp/…"."""

    def filter(self, record):
        record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) for key, arg in record.args.items()}
        return True


# --- The log's format: one JSON object per line, in UTC, with the request's id --------------

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# An id a proxy sent (Caddy's {http.request.uuid}) is kept when it is this plain; else ours.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def utc_timestamp(record):
    """2026-12-04T15:20:01.123+00:00: UTC, with its offset, whatever TIME_ZONE says."""
    moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds")


class AddRequestId(logging.Filter):
    """Gives every record the id of the request being served ("" outside a request)."""

    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and the
    traceback as one string (a multi-line traceback never splits a record)."""

    def format(self, record):
        entry = {
            "time": utc_timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """LOG_FORMAT=plain: `time level logger [request id] message`, the time in UTC too."""

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return utc_timestamp(record)


def start_request(sender, environ=None, **kwargs):
    """request_started: names the request, before any middleware runs, for as long as it is
    served (Django logs a 4xx or 5xx after the middleware has returned): the proxy's
    X-Request-ID when it is plain, else a new one."""
    given = (environ or {}).get("HTTP_X_REQUEST_ID", "")
    _request_id.set(given if SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)


def finish_request(sender, **kwargs):
    """request_finished: lines written between requests carry no id."""
    _request_id.set("")


class RequestIdMiddleware:
    """The response names its request's id (X-Request-ID), so a resident's "it failed at
    3:05" or a proxy's log line leads to the app's lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _request_id.get():  # served without request_started (a test's RequestFactory)
            start_request(None, environ=request.META)
        response = self.get_response(request)
        response.headers["X-Request-ID"] = _request_id.get()
        return response
