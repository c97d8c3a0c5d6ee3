"""The Spanish and Vietnamese catalogs are complete, and no English leaks into those pages.

Three checks, all driven by settings.LANGUAGES, so they cover a new language and new
strings (RSVP, feeds, e-mails) without being edited:

- every string marked in the code is in every catalog, and the catalogs hold nothing else
  (messages are extracted into a temporary folder with Django's `makemessages`);
- no entry is untranslated or fuzzy, plural entries have the language's number of forms,
  and translations keep the placeholders of their msgid;
- every public page (and every e-mail template, once templates/emails/ has some) rendered
  in each translated language contains no English interface text from the catalog.

Hooks to extend when new pages or e-mails arrive: PAGES (one entry per public URL name;
`test_every_public_url_is_checked_for_english` fails until a new one is added), NOT_PAGES,
OTHER_PAGES, the `site` fixture (content the pages show) and `email_contexts()`.
"""

import datetime as dt
import html
import re
import shutil
from contextlib import chdir
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.template import loader
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django.utils.functional import lazy

from meetings import alerts, services
from meetings.models import AlertChoice, AlertSubscriber, Meeting, Rsvp
from meetings.tokens import manage_url
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

PROJECT_DIR = Path(settings.BASE_DIR)
TRANSLATED_LANGUAGES = [
    code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
]
# Top-level folders that hold no source: the catalogs themselves and local data.
NOT_SOURCE = {"locale", "var", "node_modules", "venv"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}|\{\w*\}")


def catalog_path(code):
    return PROJECT_DIR / "locale" / code / "LC_MESSAGES" / "django.po"


def read_catalog(path):
    with open(path, "rb") as po_file:
        return read_po(po_file)


def message_key(message):
    """(context, msgid) or (context, (singular, plural)): what makes two entries the same."""
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return message.context, msgid


def keys(catalog):
    return {message_key(message) for message in catalog if message.id}


def translations(message):
    return [message.string] if isinstance(message.string, str) else list(message.string)


def msgids(message):
    return [message.id] if isinstance(message.id, str) else list(message.id)


# Catalogs up to date with the code ---------------------------------------------------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages `makemessages` finds in the code now, extracted from a copy of the project.

    The copy lives in a temporary folder with its own empty locale/, so the committed
    catalogs (and the working tree) are never touched.
    """
    for program in ("xgettext", "msguniq"):
        if shutil.which(program) is None:
            pytest.skip(
                f"GNU gettext's {program} is not installed, so messages cannot be extracted"
            )
    workdir = tmp_path_factory.mktemp("extract")
    for entry in PROJECT_DIR.iterdir():
        if entry.name.startswith(".") or entry.name in NOT_SOURCE:
            continue
        if entry.is_dir():
            ignore = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "*.mo")
            shutil.copytree(entry, workdir / entry.name, ignore=ignore)
        else:
            shutil.copy2(entry, workdir / entry.name)
    locale_dir = workdir / "locale"
    locale_dir.mkdir()
    code = TRANSLATED_LANGUAGES[0]
    with override_settings(LOCALE_PATHS=[locale_dir]), chdir(workdir):
        call_command("makemessages", locale=[code], no_location=True, no_obsolete=True, verbosity=0)
    # override_settings reset Django's translation caches on exit; nothing else to undo.
    return read_catalog(locale_dir / code / "LC_MESSAGES" / "django.po")


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_has_every_marked_string(extracted, code):
    missing = keys(extracted) - keys(read_catalog(catalog_path(code)))
    assert not missing, (
        f"{len(missing)} marked strings are not in locale/{code}: run "
        "`manage.py makemessages -a --no-location --no-obsolete` and translate them: "
        f"{sorted(missing, key=str)}"
    )


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_has_no_entries_the_code_no_longer_uses(extracted, code):
    stale = keys(read_catalog(catalog_path(code))) - keys(extracted)
    assert not stale, (
        f"locale/{code} has entries no code uses: run "
        "`manage.py makemessages -a --no-location --no-obsolete`: "
        f"{sorted(stale, key=str)}"
    )


# Catalogs complete -------------------------------------------------------------------------


def test_every_translated_language_has_a_catalog():
    missing = [code for code in TRANSLATED_LANGUAGES if not catalog_path(code).exists()]
    assert missing == []


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_has_no_untranslated_entries(code):
    catalog = read_catalog(catalog_path(code))
    untranslated = [
        message.id for message in catalog if message.id and not all(translations(message))
    ]
    assert untranslated == []


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_has_no_fuzzy_entries(code):
    catalog = read_catalog(catalog_path(code))
    fuzzy = [message.id or "(header)" for message in catalog if message.fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_plural_forms_suit_the_language(code):
    catalog = read_catalog(catalog_path(code))
    expected = get_plural(code).num_plurals
    wrong = [
        message.id
        for message in catalog
        if message.pluralizable and len(translations(message)) != expected
    ]
    assert (catalog.num_plurals, wrong) == (expected, [])


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_catalog_translations_keep_their_placeholders(code):
    catalog = read_catalog(catalog_path(code))
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        expected = {p for msgid in msgids(message) for p in PLACEHOLDER.findall(msgid)}
        for text in filter(None, translations(message)):
            found = set(PLACEHOLDER.findall(text))
            # A plural form may leave the number out ("one seat left"); nothing may be added,
            # and a singular message must keep every placeholder.
            if found - expected or (not message.pluralizable and found != expected):
                wrong.append((message.id, text))
    assert wrong == []


# No English on Spanish and Vietnamese pages ------------------------------------------------


def bare(text):
    """Text without its surrounding punctuation, whitespace collapsed."""
    return " ".join(text.split()).strip(" .,:;·()“”\"'")


def english_interface_text(code):
    """(patterns, labels): the English of every message the catalog of `code` translates.

    Patterns find a message, or a part of it between placeholders, with at least two English
    words anywhere in a page ("Page 2 of 3", "seats left"). Labels are whole messages without
    placeholders ("When", "Seats"): a piece of text that is exactly one of them is a leak.
    An untranslated entry counts as English too.
    """
    patterns, labels = {}, set()
    for message in read_catalog(catalog_path(code)):
        if not message.id or set(translations(message)) <= set(msgids(message)):
            continue
        for msgid in msgids(message):
            msgid = " ".join(msgid.split())
            parts = PLACEHOLDER.split(msgid)
            if len(parts) == 1:
                labels.add(bare(msgid))
            for part in [msgid, *parts]:
                literal = " ".join(bare(piece) for piece in PLACEHOLDER.split(part))
                if len(re.findall(r"[A-Za-z]+", literal)) < 2:
                    continue
                # The English pieces in order, anything between them. Pieces left empty (a
                # placeholder next to another or at either end) add nothing to find, and
                # chained ".+?" would backtrack for minutes over a long page.
                pieces = [re.escape(bare(piece)) for piece in PLACEHOLDER.split(part)]
                regex = r"\s*.+?\s*".join(piece for piece in pieces if piece)
                patterns[bare(part)] = re.compile(rf"(?<!\w){regex}(?!\w)")
    return patterns, labels


class VisibleText(HTMLParser):
    """Text nodes and readable attributes of a page, minus what is marked as another language.

    Text inside an element whose `lang` differs from the page's is left out: the switcher's
    "English", or content shown in English because it has no translation yet.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    READABLE_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "label"}

    def __init__(self, language):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack = []  # (tag, whether its text counts) for every open element
        self.texts = []

    def counting(self):
        return all(counts for _tag, counts in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang")
        counts = tag == "html" or (tag not in ("script", "style") and lang in (None, self.language))
        if counts and self.counting():
            self.texts.extend(
                value or "" for name, value in attrs.items() if name in self.READABLE_ATTRIBUTES
            )
            if tag == "meta" and attrs.get("name") == "description":
                self.texts.append(attrs.get("content") or "")
            if tag == "input" and attrs.get("type") in ("submit", "button"):
                self.texts.append(attrs.get("value") or "")
        if tag not in self.VOID:
            self.stack.append((tag, counts))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if self.counting():
            self.texts.append(data)


SHOWN_CALENDAR_PROPERTIES = {
    "NAME",
    "X-WR-CALNAME",
    "X-WR-CALDESC",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "COMMENT",
}


def visible_texts(body, content_type, language):
    """The pieces of text a reader (or their calendar app) shows, whitespace-normalised."""
    if content_type.startswith("text/calendar"):
        body = re.sub(r"\r?\n[ \t]", "", body)  # unfold long lines
        # Only what a calendar app shows: identifiers such as PRODID ("-//Police Community
        # Outreach//Outreach meetings//EN") are fixed machine text, never read by people.
        pieces = [
            value
            for name, _colon, value in (line.partition(":") for line in body.splitlines())
            if name.split(";")[0] in SHOWN_CALENDAR_PROPERTIES
        ]
        pieces = [
            piece.replace("\\n", " ").replace("\\,", ",").replace("\\;", ";") for piece in pieces
        ]
    elif content_type.startswith(("text/html", "application/xhtml", "application/atom")):
        parser = VisibleText(language)
        parser.feed(body)
        parser.close()
        pieces = parser.texts
    else:
        pieces = body.splitlines()
    return [" ".join(html.unescape(piece).split()) for piece in pieces if piece.strip()]


def english_leaks(texts, code):
    patterns, labels = english_interface_text(code)
    text = "\n".join(texts)
    found = {english for english, pattern in patterns.items() if pattern.search(text)}
    found |= {bare(piece) for piece in texts if bare(piece) in labels}
    return sorted(found)


def localized(**fields):
    """{field_<code>: text} for every language: English as given, the others "[es] title".

    Content in the other languages never contains English, so any English on their pages
    is interface text (or a fallback, which the page marks with lang="en").
    """
    return {
        f"{field}_{code}": english if code == settings.LANGUAGE_CODE else f"[{code}] {field}"
        for field, english in fields.items()
        for code, _name in settings.LANGUAGES
    }


@pytest.fixture
def site(django_user_model):
    """One of every kind of thing the public pages show, written in every language."""
    venue = VenueFactory(
        slug="hall",
        **localized(
            name="Hall", accessibility_notes="Ramp at the door.", directions_notes="Bus 12."
        ),
    )
    series = MeetingSeriesFactory(
        slug="sessions", **localized(title="Sessions", description="Sessions with the chief.")
    )
    text = localized(
        title="Session", summary="Hello.", description="Bring questions.", host="The chief"
    )
    common = {"venue": venue, "series": series, **text}
    meeting = MeetingFactory(
        slug="session",
        capacity=3,
        interpretation_languages=TRANSLATED_LANGUAGES,
        **common,
    )
    RsvpFactory(meeting=meeting, party_size=2)  # "1 seat left": the singular form
    full = MeetingFactory(slug="full", capacity=2, **common)
    RsvpFactory(meeting=full, party_size=2)
    MeetingFactory(slug="many-seats", capacity=50, **common)  # the plural form
    MeetingFactory(slug="drop-in", rsvp_enabled=False, **common)
    MeetingFactory(slug="open-seating", capacity=None, **common)
    cancelled = MeetingFactory(slug="cancelled", **common, **localized(cancellation_note="Moved."))
    cancelled.cancel()
    last_month = timezone.now() - dt.timedelta(days=30)
    MeetingFactory(
        slug="ended", starts_at=last_month, ends_at=last_month + dt.timedelta(hours=1), **common
    )
    MeetingFactory(slug="draft", status=Meeting.Status.DRAFT, **common)
    # Nothing translated: the page shows the English text marked lang="en", with a notice.
    english_venue = VenueFactory(
        slug="english-hall",
        name="English hall",
        accessibility_notes="Ramp.",
        directions_notes="Park behind.",
    )
    english_series = MeetingSeriesFactory(
        slug="english-sessions", title="English sessions", description="About them."
    )
    english_only = MeetingFactory(
        slug="english-only",
        venue=english_venue,
        series=english_series,
        title="English title",
        summary="English summary.",
        description="English description.",
    )
    english_only.cancel(note="English note.")
    MeetingFactory(
        slug="title-only", venue=english_venue, title="Only title", **localized(summary="Hello.")
    )
    staff = django_user_model.objects.create_user("staff", password="unused", is_staff=True)
    return {"staff": staff, "venue": venue, "series": series, "meeting": meeting}


@dataclass(frozen=True)
class Page:
    path: str
    staff: bool = False  # viewed by a logged-in staff member (draft previews)
    status: int = 200


def listing_pages(name):
    def pages(site):
        url = reverse(name)
        return [
            Page(url),
            Page(url + "?q=%5Bno+match%5D"),  # filtered, nothing found
            Page(url + "?date_from=2025-02-31&date_to=soon&q=" + "x" * 101),  # every error
            Page(url + "?date_from=2025-02-20&date_to=2025-02-12"),  # end before start
        ]

    return pages


def detail_pages(name, *slugs):
    return lambda site: [Page(reverse(name, kwargs={"slug": slug})) for slug in slugs]


# Every named URL a resident can open, and how to build its addresses from `site`.
# A new public URL (RSVP, feeds…) must be added here: the first test below says which.
PAGES = {
    "meetings:meeting-list": listing_pages("meetings:meeting-list"),
    "meetings:meeting-list-past": listing_pages("meetings:meeting-list-past"),
    "meetings:meeting-detail": lambda site: [
        *detail_pages(
            "meetings:meeting-detail",
            "session",
            "full",
            "many-seats",
            "drop-in",
            "open-seating",
            "cancelled",
            "ended",
            "english-only",
            "title-only",
        )(site),
        Page(reverse("meetings:meeting-detail", kwargs={"slug": "draft"}), staff=True),
        Page(reverse("meetings:meeting-detail", kwargs={"slug": "no-such-meeting"}), status=404),
    ],
    "meetings:venue-detail": detail_pages("meetings:venue-detail", "hall", "english-hall"),
    "meetings:series-detail": detail_pages(
        "meetings:series-detail", "sessions", "english-sessions"
    ),
}
# Named URLs that are not pages: redirects, machine endpoints, and the RSVP form's POST targets (their error pages are the meeting page, checked above).
NOT_PAGES = {
    "home",
    "healthz",
    "meetings:language-home",
    "meetings:rsvp-create",
    "meetings:rsvp-change",
    "meetings:rsvp-cancel",
    "meetings:rsvp-feedback",
    # The JSON API: its translated fields are checked in tests/meetings/test_api.py.
    "api-documentation",
    "api-v1:api-root",
    "api-v1:openapi-json",
    "api-v1:list_meetings",
    "api-v1:get_meeting",
    "api-v1:list_venues",
    "api-v1:list_series",
    # The text message provider's webhooks: signed POSTs, no page.
    "sms-status",
    "sms-inbound",
}


def manage_pages(site):
    result = services.create_rsvp(
        meeting=site["meeting"], party_size=1, language=translation.get_language()
    )
    return [
        Page(manage_url(result.token).removeprefix(settings.SITE_URL)),
        Page(reverse("meetings:rsvp-manage", kwargs={"token": "not-a-real-token"}), status=404),
    ]


def alert_pages(name):
    """A confirmation or unsubscribe link of a pending subscription, and a made-up one."""

    def build(site):
        subscriber = AlertSubscriber.objects.create(
            channel="email", address=f"{name}@example.org", language="en"
        )
        choice = AlertChoice.objects.create(subscriber=subscriber, held_in="es")
        token = (
            alerts.confirm_token(choice)
            if name == "meetings:alerts-confirm"
            else alerts.unsubscribe_token(subscriber)
        )
        return [
            Page(reverse(name, kwargs={"token": token})),
            Page(reverse(name, kwargs={"token": "1:not-signed"}), status=404),
        ]

    return build


PAGES.update(
    {
        "meetings:privacy": lambda site: [Page(reverse("meetings:privacy"))],
        # A flyer sets a second language beside the page's on purpose: check it alone.
        "meetings:meeting-flyer": lambda site: [
            Page(reverse("meetings:meeting-flyer", kwargs={"slug": slug}) + "?also=none")
            for slug in ("session", "cancelled")
        ],
        "meetings:series-flyer": lambda site: [
            Page(reverse("meetings:series-flyer", kwargs={"slug": "sessions"}) + "?also=none")
        ],
        "meetings:rsvp-manage": manage_pages,
        "meetings:rsvp-calendar": lambda site: [
            Page(page.path.rstrip("/") + "/calendar.ics") for page in manage_pages(site)[:1]
        ],
        "meetings:meeting-ics": lambda site: [
            Page(reverse("meetings:meeting-ics", kwargs={"slug": slug}))
            for slug in ("session", "cancelled")
        ],
        "meetings:feed-all": lambda site: [Page(reverse("meetings:feed-all"))],
        "meetings:feed-venue": detail_pages("meetings:feed-venue", "hall"),
        "meetings:feed-series": detail_pages("meetings:feed-series", "sessions"),
        "meetings:feed-language": lambda site: [
            Page(reverse("meetings:feed-language", kwargs={"code": translation.get_language()}))
        ],
        "meetings:feed-atom": lambda site: [Page(reverse("meetings:feed-atom"))],
        "meetings:alerts-subscribe": lambda site: [
            Page(reverse("meetings:alerts-subscribe")),
            Page(reverse("meetings:alerts-subscribe") + "?venue=hall"),
        ],
        "meetings:alerts-sent": lambda site: [Page(reverse("meetings:alerts-sent"))],
        "meetings:alerts-confirm": alert_pages("meetings:alerts-confirm"),
        "meetings:alerts-unsubscribe": alert_pages("meetings:alerts-unsubscribe"),
        "meetings:partners": lambda site: [Page(reverse("meetings:partners"))],
        "meetings:embed-meetings": lambda site: [
            Page(reverse("meetings:embed-meetings")),
            Page(reverse("meetings:embed-meetings") + "?venue=venue:hall"),
            Page(reverse("meetings:embed-meetings") + "?series=sessions"),
            Page(reverse("meetings:embed-meetings") + "?q=%5Bno+match%5D"),
        ],
    }
)
# Addresses no URL name covers.
OTHER_PAGES = [lambda site: Page("/" + translation.get_language() + "/nowhere/", status=404)]


def public_url_names():
    names = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                    walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return set(names)


def test_every_public_url_is_checked_for_english():
    unchecked = public_url_names() - set(PAGES) - NOT_PAGES
    assert unchecked == set(), "add these URL names to PAGES (or NOT_PAGES) in this file"


def fetch(client, page, staff):
    if page.staff:
        client.force_login(staff)
    response = client.get(page.path)
    if page.staff:
        client.logout()
    assert response.status_code == page.status, page.path
    content_type = response.get("Content-Type", "")
    return visible_texts(response.content.decode(), content_type, translation.get_language())


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_has_no_english_interface_text(client, site, code, name):
    with translation.override(code):
        pages = PAGES[name](site)
        leaks = {
            page.path: english_leaks(fetch(client, page, site["staff"]), code) for page in pages
        }
    assert {path: found for path, found in leaks.items() if found} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_other_pages_have_no_english_interface_text(client, site, code):
    with translation.override(code):
        pages = [build(site) for build in OTHER_PAGES]
        leaks = {
            page.path: english_leaks(fetch(client, page, site["staff"]), code) for page in pages
        }
    assert {path: found for path, found in leaks.items() if found} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_empty_site_pages_have_no_english_interface_text(client, code):
    with translation.override(code):
        pages = [
            Page(reverse("meetings:meeting-list")),
            Page(reverse("meetings:meeting-list-past")),
        ]
        leaks = {page.path: english_leaks(fetch(client, page, None), code) for page in pages}
    assert {path: found for path, found in leaks.items() if found} == {}


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_listing_second_page_has_no_english_interface_text(client, code):
    venue = VenueFactory(**localized(name="Hall"))
    MeetingFactory.create_batch(21, venue=venue, **localized(title="Session", summary="Hi."))
    with translation.override(code):
        url = reverse("meetings:meeting-list")
        texts = fetch(client, Page(url + "?page=2"), None) + fetch(client, Page(url), None)
    assert english_leaks(texts, code) == []


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_server_error_page_has_no_english_interface_text(code):
    with translation.override(code):
        body = loader.render_to_string("500.html")
    assert english_leaks(visible_texts(body, "text/html", code), code) == []


# E-mails: every templates/emails/*.txt and *.html, rendered with each context below.

EMAIL_DIR = PROJECT_DIR / "templates" / "emails"
EMAIL_TEMPLATES = sorted(
    f"emails/{path.name}" for path in EMAIL_DIR.glob("*") if path.suffix in (".txt", ".html")
)


def email_contexts():
    """Contexts e-mails are rendered with: extend this when templates need more variables.

    One context per kind of message people get (confirmed, waitlisted, meeting cancelled…),
    so that each branch of the templates is rendered at least once.
    """
    venue = VenueFactory(**localized(name="Hall", directions_notes="Bus 12."))
    meeting = MeetingFactory(venue=venue, capacity=10, **localized(title="Session", summary="Hi."))
    confirmed = RsvpFactory(meeting=meeting, party_size=2, email="ana@example.org")
    waitlisted = RsvpFactory(meeting=meeting, status=Rsvp.Status.WAITLISTED, party_size=1)
    cancelled = MeetingFactory(
        venue=venue, **localized(title="Session", cancellation_note="Moved.")
    )
    cancelled.cancel()
    cancelled_rsvp = RsvpFactory(meeting=cancelled)
    base = {"site_url": settings.SITE_URL, "SITE_URL": settings.SITE_URL}
    manage = {"manage_url": settings.SITE_URL + "/rsvp/manage/token/"}
    # Alerts of new meetings: what the subscriber chose and the meetings, in the active
    # language when the template is rendered (as meetings/alerts.py writes them).
    what = lazy(lambda: alerts.describe(AlertChoice(held_in="vi")), str)()
    title = lazy(lambda: meeting.title, str)()
    alert = {
        "what": what,
        "confirm_url": settings.SITE_URL + "/alerts/confirm/token/",
        "confirm_days": 7,
        "unsubscribe_url": settings.SITE_URL + "/alerts/stop/token/",
        "listing_url": settings.SITE_URL + "/meetings/",
        "meetings": [{"title": title, "date": "", "time": "", "venue": "", "url": "/m/"}],
    }
    return [
        {**base, **manage, **alert, "meeting": meeting, "rsvp": confirmed},
        {**base, **manage, **alert, "meeting": meeting, "rsvp": waitlisted},
        {**base, **manage, **alert, "meeting": cancelled, "rsvp": cancelled_rsvp},
        {**base, **manage, **alert, "meeting": meeting, "rsvp": confirmed}
        | {"what": [what], "confirm_days": 1, "meetings": []},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
@pytest.mark.parametrize(
    "template_name",
    EMAIL_TEMPLATES
    or [pytest.param(None, marks=pytest.mark.skip(reason="no templates in templates/emails/ yet"))],
)
def test_email_has_no_english_interface_text(code, template_name):
    contexts = email_contexts()
    content_type = "text/html" if template_name.endswith(".html") else "text/plain"
    with translation.override(code):
        texts = [
            text
            for context in contexts
            for text in visible_texts(
                loader.render_to_string(template_name, context), content_type, code
            )
        ]
    assert english_leaks(texts, code) == []
