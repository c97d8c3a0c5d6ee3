"""System checks for a production deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

LOCAL_MEMORY_CACHE = "django.core.cache.backends.locmem.LocMemCache"
CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"


@register(Tags.caches, deploy=True)
def check_cache_is_shared(app_configs, **kwargs):
    """Rate limits, the admin login lockout and the pages' data version live in the cache:
    each worker must see the same."""
    if settings.CACHES["default"]["BACKEND"] != LOCAL_MEMORY_CACHE or settings.WEB_CONCURRENCY < 2:
        return []
    return [
        Warning(
            f"The cache is in each process's own memory, but {settings.WEB_CONCURRENCY} "
            "workers run (WEB_CONCURRENCY): every worker counts RSVP posts and failed admin "
            "logins on its own, so the limits let several times more through, and a change "
            "made through one worker reaches the pages and feeds of the others only when their "
            "copies expire (PAGE_CACHE_SECONDS).",
            hint="Set CACHE_URL=redis://HOST:6379/0, or WEB_CONCURRENCY=1.",
            id="outreach.W001",
        )
    ]


@register(Tags.security, deploy=True)
def check_email_goes_to_a_server(app_configs, **kwargs):
    """The console backend prints every message, names and private links included, to the log."""
    if settings.DEBUG or settings.EMAIL_BACKEND != CONSOLE_EMAIL:
        return []
    return [
        Error(
            "Email would be printed to the log (names and private links included) instead of "
            "being sent: EMAIL_URL is not set.",
            hint="Set EMAIL_URL=smtp+tls://USER:PASSWORD@HOST:587 (your mail server).",
            id="outreach.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_texts_go_to_a_provider(app_configs, **kwargs):
    """Like mail: the console back-end prints every text, private links included, to the log."""
    if settings.DEBUG or not settings.SMS_ENABLED:
        return []
    if not settings.SMS_URL.startswith("console:"):
        return []
    return [
        Error(
            "Text messages would be printed to the log (phone numbers and private links "
            "included) instead of being sent: SMS_URL is not set.",
            hint=(
                "Set SMS_URL=twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567 (your provider), "
                "or SMS_ENABLED=false to offer no text messages."
            ),
            id="outreach.E002",
        )
    ]
