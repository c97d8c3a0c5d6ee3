"""Languages: remember the reader's, so `/` brings them back to it next time; and keep the
admin in the staff member's own."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


class RememberLanguageMiddleware:
    """Store the language of every page a reader views under /es/, /vi/… in the language cookie.

    The URL prefix decides the language of a page; `views.home` reads this cookie (then
    Accept-Language) when someone comes back to `/`. Only successful HTML pages count, so
    a calendar app fetching a feed or a mistyped link does not change anybody's choice,
    and the cookie is sent only when it would change.
    A response marked `remember_language = False` (the embeddable listing, framed by other
    sites) sets no cookie at all.

    The cookie lasts the browser session; a language the reader picked (they came from a
    page of this site in another language: the language switcher) is kept for
    settings.LANGUAGE_COOKIE_AGE (30 days). The page's own address says nothing about it,
    so cached pages and links stay as they are.
    Goes after LocaleMiddleware in settings.MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        language = translation.get_language_from_path(request.path_info)
        if (
            language
            and request.method in ("GET", "HEAD")
            and response.status_code == 200
            and getattr(response, "remember_language", True)
            and response.get("Content-Type", "").startswith("text/html")
            and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language
        ):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE if _picked(request, language) else None,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


def _picked(request, language):
    """True when the reader came from one of our pages in another language (the switcher)."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc != request.get_host():
        return False
    came_from = translation.get_language_from_path(referer.path)
    return came_from is not None and came_from != language


class StaffLanguageMiddleware:
    """The admin in the staff member's own language: their browser's, never the public pages'.

    LocaleMiddleware reads the language cookie first, and the public pages set that cookie
    (RememberLanguageMiddleware), so a coordinator who looked at /vi/meetings/ or printed a
    Spanish flyer would get the admin, its CSV exports and the emails it sends in that
    language. Under /admin/ this switches to the browser's Accept-Language (the staff
    member's own setting), else settings.LANGUAGE_CODE. Goes right after LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/admin/"):
            language = browser_language(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def browser_language(request: HttpRequest) -> str:
    """The first of the browser's Accept-Language that the site speaks, else the default."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
