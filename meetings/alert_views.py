"""'Tell me about new meetings': the subscribe page, the confirmation link, the unsubscribe
link. Thin: the form validates, meetings/alerts.py keeps the rules.

Neither link changes anything when merely opened (mail scanners open links): each shows one
button. The unsubscribe address also takes the one-click POST mail programs send for the
List-Unsubscribe-Post header (RFC 8058), without a CSRF token: the signed link is the proof.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from meetings import alerts
from meetings.forms import AlertSubscribeForm
from meetings.models import MeetingSeries, Venue
from meetings.ratelimit import is_rate_limited
from meetings.views import too_many_requests

# What the subscribe page may be opened with to pick the choice (the venue and series pages
# link to it so).
PRESETS = ("venue", "series", "area", "held-in")


def _form(data=None, initial=None):
    venues = list(Venue.objects.order_by("name"))
    areas = [venue.area.strip() for venue in venues if venue.area.strip()]
    series = MeetingSeries.objects.order_by("title")
    return AlertSubscribeForm(data, initial=initial, venues=venues, series=series, areas=areas)


def _private(response):
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if is_rate_limited(request, scope="alerts"):
            return too_many_requests(request)
        form = _form(request.POST)
        if form.is_valid():
            alerts.subscribe(
                choice=form.alert_choice(),
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                language=translation.get_language(),
            )
            # The same page whatever was there before: it never says whether an address
            # was already subscribed.
            return redirect("meetings:alerts-sent")
        return _subscribe_page(request, form, status=400)
    initial = {}
    for name in PRESETS:
        if value := request.GET.get(name, "").strip():
            initial["about"] = f"{name}:{value}"
            break
    form = _form(initial=initial)
    if initial.get("about") not in dict(_flat(form.fields["about"].choices)):
        # Opened from the listing (or with an unknown preset): meetings held in the reader's
        # language to start with.
        form.initial["about"] = f"held-in:{translation.get_language()}"
    return _subscribe_page(request, form)


def _subscribe_page(request, form, *, status=200):
    context = {"form": form, "confirm_days": settings.ALERTS_CONFIRM_DAYS}
    return render(request, "meetings/alerts_subscribe.html", context, status=status)


def _flat(choices):
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from label
        else:
            yield value, label


@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "meetings/alerts_sent.html")


def _link_not_valid(request):
    return _private(render(request, "meetings/alerts_link_invalid.html", status=404))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    choice = alerts.choice_for_token(token)
    if choice is None:
        return _link_not_valid(request)
    context: dict[str, object] = {"what": alerts.describe(choice), "token": token}
    if request.method == "POST":
        alerts.confirm(choice, language=translation.get_language())
        context["unsubscribe_url"] = alerts.unsubscribe_url(choice.subscriber)
        return _private(render(request, "meetings/alerts_confirmed.html", context))
    context["confirmed"] = choice.confirmed_at is not None
    return _private(render(request, "meetings/alerts_confirm.html", context))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber_id = alerts.subscriber_id_for_token(token)
    if subscriber_id is None:
        return _link_not_valid(request)
    if request.method == "POST":
        # Already gone (a second click, or the mail program's POST first): the same answer.
        alerts.unsubscribe(subscriber_id)
        return _private(render(request, "meetings/alerts_unsubscribed.html"))
    return _private(render(request, "meetings/alerts_unsubscribe.html", {"token": token}))
