"""Log filters. A private RSVP link is a password: it never reaches the logs."""

import logging
import re

RSVP_TOKEN_IN_PATH = re.compile(r"(/rsvp/)[A-Za-z0-9_-]+")
# The signed links of alerts of new meetings (confirm, stop): anyone holding one can use it.
ALERT_TOKEN_IN_PATH = re.compile(r"(/alerts/(?:confirm|stop)/)[A-Za-z0-9_:-]+")
# gunicorn names the client of a request it cannot parse: "Invalid request from ip=…".
CLIENT_ADDRESS = re.compile(r"\b(ip=)(?:\d+(?:\.\d+){3}|[0-9A-Fa-f:.]*[0-9A-Fa-f])")


def redact(value):
    if not isinstance(value, str):
        return value
    value = ALERT_TOKEN_IN_PATH.sub(r"\1[private]", RSVP_TOKEN_IN_PATH.sub(r"\1[private]", value))
    return CLIENT_ADDRESS.sub(r"\1[address]", value)


class RedactRsvpTokens(logging.Filter):
    """Replaces the token in /rsvp/<token>/ paths, e.g. Django's "Bad Request: /es/rsvp/…"."""

    def filter(self, record):
        record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) for key, arg in record.args.items()}
        return True
