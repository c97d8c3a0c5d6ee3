"""Remember the reader's language, so `/` brings them back to it next time."""

from django.conf import settings
from django.utils import translation


class RememberLanguageMiddleware:
    """Store the language of every page a reader views under /es/, /vi/… in the language cookie.

    The URL prefix decides the language of a page; `views.home` reads this cookie (then
    Accept-Language) when someone comes back to `/`. Only successful HTML pages count, so
    a calendar app fetching a feed or a mistyped link does not change anybody's choice,
    and the cookie is sent only when it would change.
    A response marked `remember_language = False` (the embeddable listing, framed by other
    sites) sets no cookie at all.
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
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
