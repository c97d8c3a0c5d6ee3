"""Project-wide request guards."""

import ipaddress

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.template import loader
from django.urls import reverse
from django.utils import translation


class RejectUnreadableRequests:
    """Answer 413 or 400 before a request that no page here can use reaches the views.

    - A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE: refused from its Content-Length, unread
      (Django checks form fields only, not files, and only once it reads the body).
    - A form body in another charset than UTF-8 (e.g. UTF-16): Django refuses to read it,
      then its own 400 page reads it again for the CSRF check and fails with a 500.
    - A NUL byte in an admin page's query string: PostgreSQL cannot compare text with one,
      so a list filter would otherwise fail with a 500. (Public pages' filter forms ignore
      such values and show the page.)
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return self.refuse(request, status=413)
        if (
            request.content_type == "application/x-www-form-urlencoded"
            and request.encoding
            and request.encoding.lower() != "utf-8"
        ):
            return self.refuse(request, status=400)
        if request.path_info.startswith(self.admin_prefix) and any(
            "\x00" in key or "\x00" in value
            for key, values in request.GET.lists()
            for value in values
        ):
            return self.refuse(request, status=400)
        return self.get_response(request)

    def refuse(self, request, *, status):
        # Before LocaleMiddleware: the page's language comes from its /es/… prefix here.
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        with translation.override(language):
            response = HttpResponseBadRequest(loader.render_to_string("400.html"))
        response.status_code = status
        return response


class HealthzAnyHost:
    """Answer /healthz whatever the Host header says, before anything checks it against
    ALLOWED_HOSTS: compose's healthcheck asks 127.0.0.1 and a proxy's active check sends the
    replica's own address, neither of which a real site allows. It tells nothing but "ok"
    (the deep report needs a token). Comes after the security headers' middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from outreach.views import healthz

            return healthz(request)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Send settings.PERMISSIONS_POLICY on every response that has none of its own (a view that
    needs a feature, e.g. a camera, sets the header itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response.headers:
            response.headers["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


class ForwardedHeadersFromProxiesOnly:
    """Drop X-Forwarded-Proto and X-Forwarded-Host unless the request came from one of our
    proxies (FORWARDED_ALLOW_IPS): with BEHIND_PROXY, Django believes them, and a client
    reaching the app directly must not make a plain-http request look secure or rename the
    host. (X-Forwarded-For is weighed the same way where it is read: meetings/ratelimit.py.)
    Goes first in settings.MIDDLEWARE, before SecurityMiddleware reads them.
    """

    HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")

    def __init__(self, get_response):
        self.get_response = get_response
        self.proxies = []
        for allowed in settings.FORWARDED_ALLOW_IPS:
            try:
                self.proxies.append(ipaddress.ip_network(allowed, strict=False))
            except ValueError:
                continue

    def __call__(self, request):
        if not self._from_proxy(request.META.get("REMOTE_ADDR", "")):
            for header in self.HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)

    def _from_proxy(self, address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)
