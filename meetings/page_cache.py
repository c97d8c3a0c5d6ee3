"""Public HTML pages kept in the cache (meetings.caching) and made personal again per request.

A kept page holds markers where the visitor's CSRF token and RSVP form key go (the template
gets them as `csrf_token` and `form_token_marker`); each request fills in its own, so the
form's key is new on every view while the rest is built once per data version. Which
addresses may be kept is decided here too: made-up query parameters never fill the cache.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from meetings import caching
from meetings.models import Meeting
from meetings.tokens import make_form_token

# Stand-ins for what differs per visitor in a page kept in the cache: rendered into the
# cached HTML, replaced by the visitor's own CSRF token and RSVP form key on every request.
# Plain letters, so escaping leaves them as they are.
CSRF_MARKER = "outreachCsrfTokenMarker7f3a9c"
FORM_TOKEN_MARKER = "outreachFormTokenMarker2b8e4d"  # noqa: S105 - a marker, not a secret
# The listing's query parameters; a listing address with any other is built, never kept.
LISTING_PARAMETERS = frozenset({"q", "language", "venue", "date_from", "date_to", "page"})


def cacheable(request, *, parameters=frozenset()):
    """Whether the page for `request` may come from the cache: a GET or HEAD with no query
    parameter outside `parameters`, and no messages to show (a page with messages shows them
    once: that page is this visitor's alone)."""
    return (
        request.method in ("GET", "HEAD")
        and set(request.GET) <= parameters
        and not len(messages.get_messages(request))
    )


def cached_page(request, build, *, parameters=frozenset(), shows_seats=True):
    """The page `build()` makes, kept in the cache under the language and the full address.

    Pages repeat their query string (the language links), so it is part of the key, and an
    address with a parameter not in `parameters` is built every time, never kept: nobody can
    fill the cache with made-up addresses, or plant a link in a page others get.

    Only 200 responses without cookies are kept; the Cache-Control of a page with a form
    (no-store) is kept with it.
    """
    if not cacheable(request, parameters=parameters):
        return build()

    def build_entry():
        response = build()
        if response.status_code != 200 or not hasattr(response, "context_data"):
            raise caching.NotKept(response)
        response.context_data.update(csrf_token=CSRF_MARKER, form_token_marker=FORM_TOKEN_MARKER)
        response.render()
        if response.cookies:
            raise caching.NotKept(fill_in(request, response, response.content.decode()))
        meeting = response.context_data.get("meeting")
        return {
            "html": response.content.decode(),
            "content_type": response["Content-Type"],
            "cache_control": response.get("Cache-Control"),
            "meeting_pk": meeting.pk if meeting is not None else None,
        }

    parts = (translation.get_language(), request.get_full_path())
    try:
        entry = caching.cached("page", parts, build_entry, shows_seats=shows_seats)
    except caching.NotKept as not_kept:
        return not_kept.answer
    response = HttpResponse(content_type=entry["content_type"])
    if entry["cache_control"] is not None:
        add_never_cache_headers(response)
    return fill_in(request, response, entry["html"], meeting_pk=entry["meeting_pk"])


def fill_in(request, response, html, *, meeting_pk=None):
    """`response` with `html`, its markers replaced by this visitor's CSRF token and form key."""
    if CSRF_MARKER in html:
        html = html.replace(CSRF_MARKER, get_token(request))
    if FORM_TOKEN_MARKER in html:
        html = html.replace(FORM_TOKEN_MARKER, make_form_token(Meeting(pk=meeting_pk)))
    response.content = html
    return response
