"""What /healthz?deep=1 reports to the operator's monitoring (README, "Monitoring and alerts").

Each check is one cheap query or cache round trip, run only when the monitoring asks (with
HEALTH_CHECK_TOKEN): the database, the cache, and the mail backlog (queued and sending
messages, the age of the oldest queued one, the worker's tasks). Counts and ages only,
never an address or a name.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from meetings.models import OutgoingEmail

CACHE_KEY = "outreach:health-check"


def _timed(check):
    started = time.perf_counter()
    try:
        details = check() or {}
        ok = True
    except Exception:  # noqa: BLE001 - any failure of a dependency is what we report
        details, ok = {}, False
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), **details}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    cache.set(CACHE_KEY, 1, timeout=10)
    if cache.get(CACHE_KEY) != 1:
        raise RuntimeError("the cache did not keep a value")


def _mail(now):
    figures = OutgoingEmail.objects.aggregate(
        queued=Count("pk", filter=Q(status=OutgoingEmail.Status.QUEUED)),
        sending=Count("pk", filter=Q(status=OutgoingEmail.Status.SENDING)),
        oldest=Min("created_at", filter=Q(status=OutgoingEmail.Status.QUEUED)),
    )
    oldest = figures.pop("oldest")
    figures["oldest_queued_seconds"] = round((now - oldest).total_seconds()) if oldest else 0
    return figures


def _tasks(now):
    figures = DBTaskResult.objects.aggregate(
        ready=Count("pk", filter=Q(status="READY")),
        running=Count("pk", filter=Q(status="RUNNING")),
        oldest_running=Min("started_at", filter=Q(status="RUNNING")),
    )
    oldest = figures.pop("oldest_running")
    figures["oldest_running_seconds"] = round((now - oldest).total_seconds()) if oldest else 0
    return figures


def deep_report():
    """(healthy, report): the report is a JSON-ready dict with a list of `problems`."""
    now = timezone.now()
    report = {"database": _timed(_database), "cache": _timed(_cache)}
    problems = []
    if not report["database"]["ok"]:
        problems.append("database: not answering")
    if not report["cache"]["ok"]:
        problems.append("cache: not answering")
    if report["database"]["ok"]:
        try:
            report["mail"] = _mail(now)
            report["tasks"] = _tasks(now)
        except DatabaseError:
            problems.append("database: the mail backlog could not be read")
        else:
            limit = settings.HEALTH_MAX_QUEUE_AGE_SECONDS
            if report["mail"]["oldest_queued_seconds"] > limit:
                problems.append(f"mail: the oldest queued message waits for more than {limit} s")
    report["status"] = "unhealthy" if problems else "ok"
    report["problems"] = problems
    return not problems, report
