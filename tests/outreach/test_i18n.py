"""Choosing a language: switching keeps the page and its filters, `<html lang>` and hreflang are
right, untranslated content says so, and settings.LANGUAGES is the only list of languages."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from meetings.admin import MeetingAdmin, MeetingAdminForm, MeetingMissingTranslationFilter
from meetings.forms import MeetingFilterForm
from meetings.models import Meeting, Rsvp
from meetings.templatetags.meeting_tags import language_links
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

PROJECT_DIR = Path(settings.BASE_DIR)
CODES = [code for code, _name in settings.LANGUAGES]


class HeadLinks(HTMLParser):
    """`<html lang>`, the switcher's links and the hreflang alternates of a page."""

    def __init__(self):
        super().__init__()
        self.html_lang = None
        self.alternates = {}
        self.switcher = {}
        self.in_switcher = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "link" and attrs.get("rel") == "alternate" and "hreflang" in attrs:
            self.alternates[attrs["hreflang"]] = attrs["href"]
        elif tag == "nav" and "language-switcher" in (attrs.get("class") or ""):
            self.in_switcher = True
        elif tag == "a" and self.in_switcher:
            self.switcher[attrs["hreflang"]] = attrs["href"]

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_switcher = False


def head_links(response):
    parser = HeadLinks()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def content():
    venue = VenueFactory(slug="hall", area="Oak Cliff", name_es="Salón", name_vi="Hội trường")
    series = MeetingSeriesFactory(slug="sessions", title_es="Sesiones", title_vi="Các buổi")
    meeting = MeetingFactory(slug="session", venue=venue, series=series, language="es")
    return {"venue": venue, "series": series, "meeting": meeting}


def url(name, code, query="", **kwargs):
    with translation.override(code):
        return reverse(name, kwargs=kwargs or None) + query


# Every kind of page a reader may switch on, with filters where the page has them.
SWITCHABLE_PAGES = [
    ("meetings:meeting-list", "?q=ses&language=es&venue=area%3AOak+Cliff&date_from=2025-02-12", {}),
    ("meetings:meeting-list-past", "?language=vi&date_to=2025-02-20&page=1", {}),
    ("meetings:meeting-detail", "", {"slug": "session"}),
    ("meetings:venue-detail", "", {"slug": "hall"}),
    ("meetings:series-detail", "", {"slug": "sessions"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "query", "kwargs"), SWITCHABLE_PAGES)
@pytest.mark.parametrize(("start", "target"), [("es", "vi"), ("vi", "en"), ("en", "es")])
def test_switching_language_lands_on_the_same_page_with_its_filters(
    client, content, name, query, kwargs, start, target
):
    page = client.get(url(name, start, query, **kwargs))

    switched = client.get(head_links(page).switcher[target])

    assert (switched.status_code, switched.wsgi_request.get_full_path()) == (
        200,
        url(name, target, query, **kwargs),
    )


@pytest.mark.django_db
def test_switching_language_keeps_the_filter_form_values(client, content):
    query = "?q=ses&language=es&venue=area%3AOak+Cliff&date_from=2025-02-12"
    page = client.get(url("meetings:meeting-list", "es", query))

    switched = client.get(head_links(page).switcher["vi"])

    form = switched.context["filter_form"]
    assert {name: form[name].value() for name in ("q", "language", "venue", "date_from")} == {
        "q": "ses",
        "language": "es",
        "venue": "area:Oak Cliff",
        "date_from": "2025-02-12",
    }


@pytest.mark.django_db
def test_switching_language_on_a_missing_page_stays_on_the_not_found_page(client):
    page = client.get("/es/nowhere/")

    switched = client.get(head_links(page).switcher["vi"])

    assert (switched.status_code, switched.wsgi_request.path, head_links(switched).html_lang) == (
        404,
        "/vi/nowhere/",
        "vi",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "query", "kwargs"), SWITCHABLE_PAGES)
@pytest.mark.parametrize("code", CODES)
def test_html_lang_is_the_url_language(client, content, name, query, kwargs, code):
    response = client.get(url(name, code, query, **kwargs))

    assert head_links(response).html_lang == code


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "query", "kwargs"), SWITCHABLE_PAGES)
def test_hreflang_alternates_point_to_this_page_in_every_language(
    client, content, name, query, kwargs
):
    response = client.get(url(name, "vi", query, **kwargs))

    assert head_links(response).alternates == {
        code: settings.SITE_URL + url(name, code, query, **kwargs) for code in CODES
    }


@pytest.mark.django_db
def test_switcher_marks_the_current_language(client, content):
    response = client.get(url("meetings:meeting-list", "es"))

    assert re.findall(r'<a [^>]*aria-current="true"[^>]*hreflang="(\w+)"', response.text) == ["es"]


# Content without a translation: the English shows, and the page says so.

NOTICE = re.compile(r'<p class="translation-missing">(.*?)</p>', re.S)


def notices(response):
    return [" ".join(text.split()) for text in NOTICE.findall(response.text)]


@pytest.mark.django_db
def test_meeting_description_without_spanish_says_so_in_spanish(client):
    meeting = MeetingFactory(
        title_es="Reunión", summary_es="Hola.", description="Bring your questions."
    )

    response = client.get(url("meetings:meeting-detail", "es", slug=meeting.slug))

    assert notices(response) == ["Esta descripción solo está disponible en inglés."]


@pytest.mark.django_db
def test_untranslated_text_is_marked_as_english(client):
    meeting = MeetingFactory(
        title_vi="Buổi họp", summary_vi="Xin chào.", description="Bring your questions."
    )

    response = client.get(url("meetings:meeting-detail", "vi", slug=meeting.slug))

    assert '<div lang="en"><p>Bring your questions.</p></div>' in response.text


@pytest.mark.django_db
def test_meeting_without_any_vietnamese_says_so_in_vietnamese(client):
    meeting = MeetingFactory(title="Listening session", summary="Hello.", description="Come.")

    response = client.get(url("meetings:meeting-detail", "vi", slug=meeting.slug))

    assert notices(response) == [
        "Tiêu đề và phần tóm tắt này hiện chỉ có bằng tiếng Anh.",
        "Phần mô tả này hiện chỉ có bằng tiếng Anh.",
    ]


@pytest.mark.django_db
def test_translated_meeting_has_no_notice(client):
    meeting = MeetingFactory(
        title_es="Reunión", summary_es="Hola.", description="Come.", description_es="Venga."
    )

    response = client.get(url("meetings:meeting-detail", "es", slug=meeting.slug))

    assert notices(response) == []


@pytest.mark.django_db
def test_english_readers_never_see_the_notice(client):
    meeting = MeetingFactory(description="Come.")

    response = client.get(url("meetings:meeting-detail", "en", slug=meeting.slug))

    assert notices(response) == []


@pytest.mark.django_db
def test_venue_notes_without_spanish_say_so(client):
    venue = VenueFactory(
        name_es="Salón",
        accessibility_notes="Ramp at the door.",
        accessibility_notes_es="Rampa en la puerta.",
        directions_notes="Bus 12.",
    )

    response = client.get(url("meetings:venue-detail", "es", slug=venue.slug))

    assert notices(response) == ["Estas notas solo están disponibles en inglés."]


@pytest.mark.django_db
def test_venue_name_without_vietnamese_says_so(client):
    venue = VenueFactory(name="Community Hall")

    response = client.get(url("meetings:venue-detail", "vi", slug=venue.slug))

    assert notices(response) == ["Tên này hiện chỉ có bằng tiếng Anh."]


@pytest.mark.django_db
def test_series_description_without_spanish_says_so(client):
    series = MeetingSeriesFactory(title_es="Sesiones", description="With the chief.")

    response = client.get(url("meetings:series-detail", "es", slug=series.slug))

    assert notices(response) == ["Esta descripción solo está disponible en inglés."]


@pytest.mark.django_db
def test_cancellation_note_without_spanish_says_so(client):
    meeting = MeetingFactory(title_es="Reunión", summary_es="Hola.")
    meeting.cancel(note="Moved to next week.")

    response = client.get(url("meetings:meeting-detail", "es", slug=meeting.slug))

    assert notices(response) == ["Esta nota solo está disponible en inglés."]


# A fourth language: settings.LANGUAGES is the only list.

FOUR_LANGUAGES = [*settings.LANGUAGES, ("fr", "French")]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_filter_form_offers_a_new_language():
    form = MeetingFilterForm(venues=[])

    assert [code for code, _label in form.fields["language"].choices] == ["", *CODES, "fr"]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_meeting_language_choices_include_a_new_language():
    field = Meeting._meta.get_field("language")

    assert [code for code, _label in field.formfield().choices if code] == [*CODES, "fr"]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_rsvp_language_choices_include_a_new_language():
    field = Rsvp._meta.get_field("language")

    assert [code for code, _label in field.formfield().choices if code] == [*CODES, "fr"]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_admin_interpretation_choices_include_a_new_language():
    form = MeetingAdminForm()

    assert [code for code, _label in form.fields["interpretation_languages"].choices] == [
        *CODES,
        "fr",
    ]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_admin_missing_translation_filter_offers_a_new_language():
    request = RequestFactory().get("/admin/meetings/meeting/")
    model_admin = MeetingAdmin(Meeting, admin_site)

    choices = MeetingMissingTranslationFilter(request, {}, Meeting, model_admin).lookup_choices

    assert [code for code, _name in choices] == [
        *(code for code in CODES if code != settings.LANGUAGE_CODE),
        "fr",
    ]


@override_settings(LANGUAGES=FOUR_LANGUAGES)
def test_language_switcher_offers_a_new_language():
    request = RequestFactory().get("/en/meetings/?q=x")
    with translation.override("en"):
        links = language_links({"request": request})

    assert [(link["code"], link["name"], link["url"]) for link in links][-1] == (
        "fr",
        "Français",
        "/fr/meetings/?q=x",
    )


# Files that may name languages one by one: the settings (where the list lives), the
# migrations (generated per language) and the demo and benchmark data (written in today's languages).
MAY_NAME_LANGUAGES = {
    "outreach/settings.py",
    "meetings/management/commands/load_demo.py",
    "meetings/management/commands/benchmark_feeds.py",
}
SOURCE_DIRS = ["meetings", "outreach", "templates"]


def source_files(*suffixes):
    for folder in SOURCE_DIRS:
        for path in sorted((PROJECT_DIR / folder).rglob("*")):
            relative = path.relative_to(PROJECT_DIR).as_posix()
            if (
                path.suffix in suffixes
                and "/migrations/" not in relative
                and relative not in MAY_NAME_LANGUAGES
            ):
                yield relative, path


def hard_coded_languages_in_python(source):
    """Lines naming a translated language's code, or listing two or more of our codes."""
    other_codes = set(CODES) - {settings.LANGUAGE_CODE}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in other_codes:
            found.append(node.lineno)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            elements = node.keys if isinstance(node, ast.Dict) else node.elts
            codes = [
                element.value
                for element in elements
                if isinstance(element, ast.Constant) and element.value in CODES
            ]
            if len(codes) >= 2:
                found.append(node.lineno)
    return sorted(set(found))


def hard_coded_languages_in_template(source):
    """Lines with a translated language's code as a quoted string or a URL prefix."""
    codes = "|".join(re.escape(code) for code in CODES if code != settings.LANGUAGE_CODE)
    pattern = re.compile(rf"""["'/]({codes})["'/]""")
    return [number for number, line in enumerate(source.splitlines(), 1) if pattern.search(line)]


def test_python_code_takes_languages_from_settings():
    found = {
        relative: lines
        for relative, path in source_files(".py")
        if (lines := hard_coded_languages_in_python(path.read_text()))
    }

    assert found == {}, "use settings.LANGUAGES (or LANGUAGE_CODE) instead of these codes"


def test_templates_take_languages_from_settings():
    found = {
        relative: lines
        for relative, path in source_files(".html", ".txt")
        if (lines := hard_coded_languages_in_template(path.read_text()))
    }

    assert found == {}, "use the language_links tag or settings.LANGUAGES instead"


def test_hard_coded_language_check_finds_a_list_of_codes():
    source = 'LANGS = ("en", "es")\nif code == "vi":\n    pass\n'

    assert hard_coded_languages_in_python(source) == [1, 2]


def test_hard_coded_language_check_finds_a_template_test():
    source = '<p>\n{% if LANGUAGE_CODE == "es" %}<a href="/vi/meetings/">{% endif %}\n'

    assert hard_coded_languages_in_template(source) == [2]
