"""Project endpoints that belong to no app: the health check, the `/` redirect, the favicon,
the page for an unreachable database and the admin login lockout."""

import hmac
import sys

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import (
    HttpResponse,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from meetings.context_processors import site
from outreach import health

# Seconds a browser or client should wait before trying again while the database is down.
RETRY_AFTER_SECONDS = 30


@require_safe
def home(request):
    """Send visitors to the listing in their language: cookie, then Accept-Language, else English."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        return HttpResponseRedirect(reverse("meetings:meeting-list"))


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, a raw feed)."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("favicon.svg"))


@never_cache
@require_safe
def healthz(request):
    """ "ok" when the database answers; "unavailable" (503) when it does not, within seconds.

    With ?deep=1 and the monitoring's token (`Authorization: Bearer HEALTH_CHECK_TOKEN`): a
    JSON report of the database, the cache and the mail backlog, 503 when any is unhealthy
    (outreach/health.py). Answered whatever the Host header (outreach.middleware.HealthzAnyHost).
    """
    if "deep" in request.GET:
        return deep_healthz(request)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("unavailable", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")


def deep_healthz(request):
    expected = settings.HEALTH_CHECK_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden("a monitoring token is needed", content_type="text/plain")
    healthy, report = health.deep_report()
    return JsonResponse(report, status=200 if healthy else 503)


def server_error(request):
    """handler500: a 503 page with Retry-After when the database cannot be reached.

    Django calls this from inside its exception handler, so the exception is the one in
    sys.exc_info(), wherever it was raised (a view, the session or the auth middleware).
    Other errors get the plain 500 page, as Django's own handler renders it.
    """
    error = sys.exc_info()[1]
    unavailable = isinstance(error, OperationalError | InterfaceError)
    # Rendered without the request, as Django's server_error does: nothing on the page may
    # need the database. The language comes from the page's /es/… prefix; the contact
    # details come from settings, so people still learn whom to call.
    language = translation.get_language_from_path(request.path_info) or translation.get_language()
    with translation.override(language):
        body = loader.render_to_string("503.html" if unavailable else "500.html", site(request))
    if not unavailable:
        return HttpResponseServerError(body)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def admin_lockout(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the admin login page's answer while a lockout lasts (429), or
    while the cache holding the counts cannot be reached (503)."""
    from django.contrib import admin

    if getattr(request, "login_throttle_unavailable", False):
        # The cache with the counts is away (outreach/login_throttle.py): refused, briefly.
        response = render(
            request, "admin/login_unavailable.html", admin.site.each_context(request), status=503
        )
        response["Retry-After"] = "60"
        return response
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    context = {**admin.site.each_context(request), "minutes": minutes}
    response = render(request, "admin/lockout.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
