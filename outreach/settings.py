"""Settings for Outreach.

Everything that differs between machines comes from the environment (or a `.env` file beside
manage.py); every variable is listed, with its default, in `.env.example` and the README.
"""

import email.utils
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# ENV_FILE names another file (or /dev/null for none); real environment variables always win.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    # A fixed key is fine for a developer's machine; production must set its own.
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    # Django's own deploy check (security.W009) asks for 50: refuse to start with less.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (at least 50 random characters) in the environment when DEBUG is off."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it must come before django.contrib.admin.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    # Before django_tasks_db: its `db_worker` command is replaced by outreach's own, which
    # survives a database outage and stops in time (outreach/management/commands/db_worker.py).
    "outreach",
    "django_tasks",
    "django_tasks_db",
    "meetings",
]

MIDDLEWARE = [
    # First: the response names the request's id, which its log lines carry (outreach/logging.py).
    "outreach.logging.RequestIdMiddleware",
    "outreach.middleware.ForwardedHeadersFromProxiesOnly",
    "django.middleware.security.SecurityMiddleware",
    # The security headers come before anything that may answer by itself (the 400 and 413
    # below, whitenoise's static files), so every response carries the same ones. A view
    # opts out with Django's and django-csp's decorators (xframe_options_exempt, csp_update,
    # csp_exempt) or by setting its own Permissions-Policy.
    "outreach.middleware.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # /healthz for any Host (compose's healthcheck, a proxy's active check), before
    # CommonMiddleware checks ALLOWED_HOSTS.
    "outreach.middleware.HealthzAnyHost",
    "outreach.middleware.RejectUnreadableRequests",
    "meetings.api.ApiGuard",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "meetings.middleware.StaffLanguageMiddleware",
    "meetings.middleware.RememberLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: turns a refused admin login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "outreach.urls"
WSGI_APPLICATION = "outreach.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "meetings.context_processors.site",
            ],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'outreach.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's default "deferred" transactions answer concurrent writers with
    # "database is locked"; IMMEDIATE takes the write lock up front and waits for it.
    _db.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus a watchdog that ends a query sent to a frozen server
    # (outreach/postgresql/base.py): such a query fails in about DATABASE_FREEZE_CHECK_SECONDS
    # + 2 s and the request gets the translated 503 page, instead of waiting for the server.
    _db["ENGINE"] = "outreach.postgresql"
    # No request may wait on a lock (or a runaway query) forever.
    _statement_timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=15000)
    # How long a statement may wait for a lock (0: up to the statement timeout). compose's
    # `migrate` sets 5 s, so a migration never queues every RSVP behind a lock it waits for.
    _lock_timeout_ms = env.int("DATABASE_LOCK_TIMEOUT_MS", default=0)
    _db.setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={_statement_timeout_ms} -c lock_timeout={_lock_timeout_ms}"
    )
    # A database that does not answer fails the request (a 503 page) in seconds, not minutes.
    _db["OPTIONS"]["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    # A database host that vanishes (a dead machine, a cut network) is noticed by TCP in about
    # 5 s: keepalive probes after 2 s of silence, every 1 s, 3 unanswered ones close the
    # connection; unacknowledged data the same after 5 s (tcp_user_timeout, in ms).
    _db["OPTIONS"].update(
        keepalives=1,
        keepalives_idle=env.int("DATABASE_KEEPALIVES_IDLE", default=2),
        keepalives_interval=env.int("DATABASE_KEEPALIVES_INTERVAL", default=1),
        keepalives_count=env.int("DATABASE_KEEPALIVES_COUNT", default=3),
        tcp_user_timeout=env.int("DATABASE_TCP_USER_TIMEOUT_MS", default=5000),
    )
    _db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)
DATABASE_FREEZE_CHECK_SECONDS = env.float("DATABASE_FREEZE_CHECK_SECONDS", default=3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# A Redis that is down or stuck costs half a second once, never a hung request: short socket
# timeouts, no retry (redis-py retries 3 times by default), and outreach.cache skips the cache
# for a few seconds after a failure.
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
    "retry": Retry(NoBackoff(), 0),
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "outreach.cache.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(REDIS_CACHE_OPTIONS)
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # Room for the pages and feeds of one process (Django's default keeps 300 entries).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 2000)
# Every key this site puts in the cache starts with CACHE_KEY_PREFIX, so several sites (or a
# staging copy) can share one Redis without seeing each other's pages, counts or lockouts.
# Default: the host and port of SITE_URL.
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default=urlsplit(SITE_URL).netloc)
CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX


def _source_digest():
    """A digest of what pages are made from: code, templates, translations, static files."""
    digest = hashlib.sha256()
    for folder in ("meetings", "outreach", "templates", "locale", "static"):
        for path in sorted((BASE_DIR / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".txt", ".po", ".css", ".js", ".svg", ".json"}:
                digest.update(path.relative_to(BASE_DIR).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# The release: part of every cached page's key, so a deploy never serves HTML built by the
# code, templates or translations it replaced. Set it to the version or commit you deploy;
# unset, it is a digest of the source files (read once at start-up).
RELEASE = env.str("RELEASE", default="") or _source_digest()
# Public pages and feeds are kept in the cache, keyed by a data version that every visible
# change moves (meetings.caching). Entries expire after PAGE_CACHE_SECONDS for what changes
# with the clock alone (a meeting that starts leaves the upcoming list); a page showing seat
# counts is rebuilt at most SEATS_FRESH_SECONDS after an RSVP changes them.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)
SEATS_FRESH_SECONDS = env.int("SEATS_FRESH_SECONDS", default=5)
# Each process keeps copies of the entries it used last, up to this many bytes.
LOCAL_COPIES_BYTES = env.int("LOCAL_COPIES_BYTES", default=32 * 1024 * 1024)
# Gunicorn workers (the Dockerfile's default); with more than one, the cache must be shared.
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2)

# Admin logins: after AXES_FAILURE_LIMIT wrong passwords for one account, or from one client,
# further tries are refused for AXES_COOLOFF_MINUTES (the right password included). Counts
# live in the cache and expire with the lockout; the client is known only by a keyed hash of
# its address (meetings.ratelimit.hashed_client_address), and nothing is written to the database.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# With the cache away, logins are refused with a "try again" page (outreach/login_throttle.py).
AXES_HANDLER = "outreach.login_throttle.CacheHandlerFailingClosed"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "meetings.ratelimit.hashed_client_address"
AXES_LOCKOUT_CALLABLE = "outreach.views.admin_lockout"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# django-axes warns about a local-memory cache whatever the number of workers; our own
# deploy check (outreach.W001) warns when it matters: several workers.
SILENCED_SYSTEM_CHECKS = ["axes.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages. Adding one: see "Adding a language" in the README.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("vi", _("Vietnamese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
# The language cookie lasts the browser session; a language the reader picked with the
# switcher is kept this long (meetings.middleware.RememberLanguageMiddleware). The privacy
# notice lists every cookie and its lifetime: change it with these.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 30
LANGUAGE_COOKIE_SAMESITE = "Lax"

MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# The tabbed translation admin would otherwise load jQuery UI from a public CDN.
JQUERY_UI_URL = "meetings/vendor/jquery-ui/jquery-ui.min.js"

# Static files, served by whitenoise in every environment.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: printed to the console unless EMAIL_URL names a server (with DEBUG off, the deploy
# check outreach.E001 refuses the console). Only the mail worker (`manage.py db_worker`)
# talks to the server: requests put messages in the outbox (meetings.emails, meetings.outbox).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    # The same SMTP backend, which also notes whether the server was handed a whole message
    # before a failure: such a message is not sent again (see meetings.mail_backend).
    EMAIL_BACKEND = "meetings.mail_backend.SmtpBackend"
# Seconds the worker waits for the mail server (Django's default waits forever).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
# A message the server does not take is tried again after 1 minute, then 2, 4… (at most an
# hour apart) until EMAIL_RETRY_HOURS have passed since it was queued; then it is marked failed.
EMAIL_RETRY_HOURS = env.float("EMAIL_RETRY_HOURS", default=24)
EMAIL_RETRY_FIRST_SECONDS = 60
EMAIL_RETRY_MAX_SECONDS = 60 * 60
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Outreach <outreach@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address whose mail is discarded: the ORGANIZER of the calendar invitations residents
# get and the Reply-To of every message (calendar apps email "Accepted" to the organizer).
# Gmail compares it with the sender: best the same address as DEFAULT_FROM_EMAIL's.
EMAIL_NO_REPLY_ADDRESS = env.str(
    "EMAIL_NO_REPLY_ADDRESS", default=email.utils.parseaddr(DEFAULT_FROM_EMAIL)[1]
)

# Text messages (meetings.sms_backend): residents may give a mobile number instead of (or
# beside) an email, and get every notice as a text. SMS_ENABLED=false hides the phone field
# and sends none. SMS_URL picks the provider, as EMAIL_URL does: console:// prints texts to
# the worker's terminal (the default; `check --deploy` refuses it when DEBUG is off and texts
# are on), twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567 (or @MG… a Messaging Service SID)
# sends through Twilio's Messages API. Only the worker talks to the provider.
SMS_ENABLED = env.bool("SMS_ENABLED", default=True)
SMS_URL = env.str("SMS_URL", default="console://")
# Seconds the worker waits for the provider's answer.
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=10)
# Numbers without a "+" are read as numbers of this country (ISO 3166 code).
PHONE_REGION = env.str("PHONE_REGION", default="US")
# The key of the opt-out list's hashes. Keep it when SECRET_KEY is rotated: a new key would
# forget every STOP (defaults to SECRET_KEY, so set it on its own in production).
SMS_HASH_KEY = env.str("SMS_HASH_KEY", default="") or SECRET_KEY
# Languages whose texts may drop the accents the GSM-7 alphabet lacks ("reunión" → "reunion"),
# so a text costs one segment in 160 characters instead of 70 (meetings.segments). Never
# Vietnamese: without its marks the words change meaning.
SMS_PLAIN_LETTER_LANGUAGES = ["en", "es"]

# Background tasks (outgoing mail): Django's tasks framework with the database as the queue,
# so a message is queued in the same transaction as the change it is about.
# Run the worker beside the web server: `python manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# /healthz?deep=1 (database, cache, mail backlog) answers only to this bearer token; empty:
# the deep report is off. It fails when the oldest queued message is older than the limit.
HEALTH_CHECK_TOKEN = env.str("HEALTH_CHECK_TOKEN", default="")
HEALTH_MAX_QUEUE_AGE_SECONDS = env.int("HEALTH_MAX_QUEUE_AGE_SECONDS", default=15 * 60)
# On SIGTERM the mail worker finishes its current task for at most this long, then stops it
# (docker stop waits 10 s by default; compose gives the worker more).
WORKER_STOP_SECONDS = env.int("WORKER_STOP_SECONDS", default=8)
# The outbox worker hands each row to its channel's sender (meetings/outbox.py): a callable
# taking the row, raising outbox.SendFailed when the message was not handed over.
OUTBOX_SENDERS = {
    "email": "meetings.emails.send",
    "sms": "meetings.sms.send",
    "whatsapp": "meetings.sms.send",
}
# A message in "sending" for longer than this lost its worker (killed, out of memory): the
# scheduler (`send_reminders`) queues it again if the server never had it, or marks it
# "unknown" (staff may resend it) if it was handed over. Far above a send's few EMAIL_TIMEOUTs.
OUTBOX_STALE_SECONDS = env.int("OUTBOX_STALE_SECONDS", default=600)

# Security. Production runs behind HTTPS; a laptop (DEBUG) or a plain-http compose trial does not.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Secure-only cookies follow HTTPS: over plain http nobody could log in or post a form.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SECURE_SSL_REDIRECT
# Only pages with a form set it; it goes when the browser closes (a shared family phone
# keeps no year-long trace of a police site).
CSRF_COOKIE_AGE = None
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if SECURE_SSL_REDIRECT else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page here uses, switched off for the page and anything it embeds
# (outreach.middleware.PermissionsPolicyMiddleware; a view may send its own instead).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "browsing-topics=()"
)
# Content-Security-Policy (django-csp) on every response, the admin included: nothing but this
# site's own files, no inline script or style, no third-party origin, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The admin's calendar and clock widgets draw small icons from data: URLs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Set BEHIND_PROXY only when a proxy you control sets X-Forwarded-Proto / X-Forwarded-For.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
# The proxies' own addresses (or networks): X-Forwarded-For counts only when the request came
# from one of them, and only as far back as a chain of them reaches; X-Forwarded-Proto and
# -Host are dropped from anyone else (outreach.middleware.ForwardedHeadersFromProxiesOnly).
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
# The health check of load balancers and compose must not be redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Requests: the forms here are small. A bigger body is refused (413) before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Logs go to stdout, where the process manager collects them.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "json": one JSON object per line (time in UTC with its offset, level, logger, message, the
# request's id, a traceback as one string), for a log pipeline; "plain" for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT is json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "outreach.logging.JsonFormatter"},
        "plain": {
            "()": "outreach.logging.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "filters": {
        "redact_rsvp_tokens": {"()": "outreach.logging.RedactRsvpTokens"},
        "request_id": {"()": "outreach.logging.AddRequestId"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["redact_rsvp_tokens", "request_id"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    # Django's own defaults give "django" and "django.server" (runserver's request lines)
    # handlers of their own, which would print every line twice and skip the redaction:
    # send them to the one stdout handler instead.
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # Its warnings name the username and the (hashed) client of every failed login.
        "axes": {"level": "ERROR"},
    },
}


# RSVPs. The rate limit is "COUNT/SECONDS" per client across all RSVP form posts (an empty
# value turns it off, e.g. for a load test or a staffed kiosk); it is counted in the cache, so
# several workers share it when CACHE_URL points at Redis.
def _rate_limit(value, name="RSVP_RATE_LIMIT"):
    if not value.strip():
        return None
    count, _slash, seconds = value.partition("/")
    try:
        return int(count), int(seconds)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must look like 10/600 (requests/seconds), not {value!r}."
        ) from None


RSVP_RATE_LIMIT = _rate_limit(env.str("RSVP_RATE_LIMIT", default="10/600"))
# The public API (/api/v1/): requests per client (a keyed hash, never the address) and window.
API_RATE_LIMIT = _rate_limit(env.str("API_RATE_LIMIT", default="120/60"), "API_RATE_LIMIT")
# Who may frame the embeddable listing (/<lang>/embed/meetings/): CSP frame-ancestors
# sources, space-separated ("*" for any site, or e.g. "https://church.example"). Every other
# page keeps frame-ancestors 'none' and X-Frame-Options DENY.
EMBED_FRAME_ANCESTORS = env.str("EMBED_FRAME_ANCESTORS", default="*").split()
# A form sent back sooner than this after it was shown came from a bot.
RSVP_MIN_FILL_SECONDS = env.int("RSVP_MIN_FILL_SECONDS", default=3)
# A form older than this is shown again to be checked and sent anew.
RSVP_FORM_MAX_AGE_SECONDS = 24 * 60 * 60
# A form sent again this soon after it made an RSVP (a double click, a slow connection) shows
# that RSVP's private link; later, the form again, never the link.
RSVP_REPLAY_SECONDS = 10 * 60
# Names, emails and notes of RSVPs are erased this many days after their meeting ends
# (manage.py purge_rsvp_personal_data); the privacy page states the same number.
RSVP_RETENTION_DAYS = env.int("RSVP_RETENTION_DAYS", default=30)

# Reminders (manage.py send_reminders, every few minutes): this many hours before a meeting,
# everyone with an RSVP and an email gets one, with a link to cancel. After a meeting, the
# follow-up with the anonymous questions goes out once, to meetings that ended this long ago.
REMINDER_HOURS_BEFORE = env.int("REMINDER_HOURS_BEFORE", default=24)
FEEDBACK_REQUEST_HOURS_AFTER = env.int("FEEDBACK_REQUEST_HOURS_AFTER", default=2)

# Alerts of new meetings (meetings/alerts.py): residents subscribe with an email or a mobile
# number, no account. A subscription not confirmed within ALERTS_CONFIRM_DAYS days is deleted;
# a confirmed one is kept until its one-click unsubscribe. The digest goes out at most once a
# day per address, from the send_reminders pass.
ALERTS_CONFIRM_DAYS = env.int("ALERTS_CONFIRM_DAYS", default=7)
# The function that queues a text message (dotted path, called as
# f(number, language=…, text=…, kind=…) in the caller's transaction): the text channel of the
# outbox by default (meetings.sms.queue_text, which sends nothing while SMS_ENABLED is false or
# to a number that texted STOP). Empty: text subscriptions are kept and confirmed by a "YES"
# reply but get no text (README, "Alerts of new meetings").
ALERTS_TEXT_SENDER = env.str("ALERTS_TEXT_SENDER", default="meetings.sms.queue_text")
# PHONE_REGION (the country of numbers typed without "+") is set with the text messages' settings.

# Who residents can call: shown in the footer of every page, on the 429 page and error pages.
DEPARTMENT_PHONE = env.str("DEPARTMENT_PHONE", default="")
DEPARTMENT_EMAIL = env.str("DEPARTMENT_EMAIL", default="")

# How many meetings a listing page shows.
MEETINGS_PER_PAGE = 20

# CLDR locales for date and time formats where the language code alone is too broad:
# Spanish as written in the United States ("6:30 p.m."), not Spain ("18:30").
BABEL_LOCALES = {"en": "en_US", "es": "es_US"}
# Readers who expect a 12-hour clock that CLDR does not give their language: from which hour
# each word of the day applies. Vietnamese-American readers write "9:00 sáng", "12:00 trưa",
# "3:00 chiều", "6:30 tối", not "18:30".
TWELVE_HOUR_CLOCKS = {"vi": ((0, "sáng"), (12, "trưa"), (13, "chiều"), (18, "tối"))}
# Long dates CLDR writes otherwise than the language's own print: Vietnamese-American papers
# write "Thứ Tư, ngày 9 tháng 12 năm 2026" (CLDR: "Thứ Tư, 9 tháng 12, 2026").
LONG_DATE_PATTERNS = {"vi": "EEEE, 'ngày' d 'tháng' M 'năm' y"}
