"""The template tags: language links, notices for untranslated text, lists on pages."""

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation

from meetings.templatetags.meeting_tags import content_language, language_links, shows_fallback
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# The first demo session: Wednesday 12 February 2025, 6:00 to 7:30 p.m. in Dallas.
STARTS = dt.datetime(2025, 2, 12, 18, 0, tzinfo=CHICAGO)
ENDS = dt.datetime(2025, 2, 12, 19, 30, tzinfo=CHICAGO)
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


# Which language a translated text shows in.


def test_shows_fallback_when_the_readers_translation_is_empty():
    meeting = MeetingFactory.build(description_en="Bring your questions.", description_es="")

    with translation.override("es"):
        assert shows_fallback(meeting, "description") is True


def test_shows_fallback_is_false_when_translated():
    meeting = MeetingFactory.build(description_en="Bring questions.", description_vi="Xin mời.")

    with translation.override("vi"):
        assert shows_fallback(meeting, "description") is False


def test_shows_fallback_is_false_for_english_readers():
    meeting = MeetingFactory.build(description_en="Bring your questions.")

    with translation.override("en"):
        assert shows_fallback(meeting, "description") is False


def test_shows_fallback_is_false_when_there_is_no_text_at_all():
    meeting = MeetingFactory.build(description_en="", description_es=None)

    with translation.override("es"):
        assert shows_fallback(meeting, "description") is False


def test_content_language_names_the_language_shown():
    series = MeetingSeriesFactory.build(title_en="Sessions", title_es="Sesiones", title_vi=None)

    with translation.override("vi"):
        shown = [content_language(series, "title")]
    with translation.override("es"):
        shown.append(content_language(series, "title"))

    assert shown == ["en", "es"]


def test_shows_fallback_works_for_venue_notes():
    venue = VenueFactory.build(directions_notes_en="Bus 12.", directions_notes_vi="")

    with translation.override("vi"):
        assert shows_fallback(venue, "directions_notes") is True


# Links to this page in the other languages.


def links_for(path, code):
    request = RequestFactory().get(path)
    with translation.override(code):
        return {link["code"]: link["url"] for link in language_links({"request": request})}


@pytest.mark.django_db
def test_language_links_keep_path_and_query_string():
    links = links_for("/es/meetings/?language=vi&venue=area%3AOak+Cliff&page=2", "es")

    assert links == {
        code: f"/{code}/meetings/?language=vi&venue=area%3AOak+Cliff&page=2"
        for code, _name in settings.LANGUAGES
    }


def test_language_links_on_a_missing_page_swap_the_prefix():
    links = links_for("/vi/no-such-page/", "vi")

    assert links == {code: f"/{code}/no-such-page/" for code, _name in settings.LANGUAGES}


def test_language_links_name_each_language_in_itself():
    request = RequestFactory().get("/es/meetings/")
    with translation.override("es"):
        names = {link["code"]: link["name"] for link in language_links({"request": request})}

    assert {code: names[code] for code in ("en", "es", "vi")} == {
        "en": "English",
        "es": "Español",
        "vi": "Tiếng Việt",
    }


@pytest.mark.django_db
def test_meeting_page_lists_interpretation_languages_with_a_spanish_y(client):
    meeting = MeetingFactory(language="en", interpretation_languages=["es", "vi"])

    with translation.override("es"):
        response = client.get(meeting.get_absolute_url())

    assert "Con interpretación en español y vietnamita" in response.content.decode()


@pytest.mark.parametrize("path", ["//evil.example/x", "/\\evil.example/x", "///evil.example/x"])
def test_language_links_of_a_path_like_another_site_stay_on_this_site(path):
    request = RequestFactory().get("/")
    request.path = request.path_info = path

    with translation.override("es"):
        links = language_links({"request": request})

    for link in links:
        assert link["url"].startswith("/")
        assert not link["url"].startswith(("//", "/\\"))


@pytest.mark.django_db
def test_not_found_page_for_a_double_slash_path_links_only_to_this_site(client):
    response = client.get("/", PATH_INFO="//evil.example/x")

    assert response.status_code == 404
    assert 'href="//' not in response.content.decode()
    assert "evil.example/x" in response.content.decode()  # as a path here, /es/evil.example/x
