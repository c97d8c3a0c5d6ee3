"""gunicorn's settings for Outreach (the Dockerfile's command reads this file).

Environment: WEB_CONCURRENCY (workers, default 3), FORWARDED_ALLOW_IPS (the proxies whose
X-Forwarded-Proto is believed, default 127.0.0.1,::1; never "*"), LOG_LEVEL.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
# Only our own proxy may say a request came over https.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# SCRIPT_NAME and PATH_INFO are never taken from request headers, whoever sends them:
# a forged SCRIPT_NAME would rewrite every link the app builds, those in emails included.
forwarder_headers = ""
# No access log: it would record every visitor's address and the private RSVP links in
# request paths. The error log goes through the same redaction as the app's own logs.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_rsvp_tokens": {"()": "outreach.logging.RedactRsvpTokens"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["redact_rsvp_tokens"],
        },
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "handlers": ["error_console"],
            "propagate": False,
        },
        "gunicorn.access": {"level": "CRITICAL", "handlers": ["null"], "propagate": False},
    },
}
