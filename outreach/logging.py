"""Log filters. A private RSVP link is a password, and a phone number personal data: neither
reaches the logs."""

import logging
import re

RSVP_TOKEN_IN_PATH = re.compile(r"(/rsvp/)[A-Za-z0-9_-]+")
# gunicorn names the client of a request it cannot parse: "Invalid request from ip=…".
CLIENT_ADDRESS = re.compile(r"\b(ip=)(?:\d+(?:\.\d+){3}|[0-9A-Fa-f:.]*[0-9A-Fa-f])")

# A phone number in E.164 (as the site stores them, and as a provider's error may quote one).
PHONE_NUMBER = re.compile(r"(?<![\w+])\+\d{8,15}\b")


def redact(value):
    if not isinstance(value, str):
        return value
    value = RSVP_TOKEN_IN_PATH.sub(r"\1[private]", value)
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
