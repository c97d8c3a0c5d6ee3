"""The language of the pages a reader views is remembered for their next visit to `/`."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import MeetingFactory

COOKIE = settings.LANGUAGE_COOKIE_NAME


def listing(code):
    with translation.override(code):
        return reverse("meetings:meeting-list")


@pytest.mark.django_db
def test_viewing_a_page_remembers_its_language(client):
    response = client.get(listing("vi"))

    assert response.cookies[COOKIE].value == "vi"


@pytest.mark.django_db
def test_language_cookie_lasts_a_year_site_wide(client):
    cookie = client.get(listing("es")).cookies[COOKIE]

    assert (cookie["max-age"], cookie["path"], cookie["samesite"]) == (
        settings.LANGUAGE_COOKIE_AGE,
        "/",
        "Lax",
    )


@pytest.mark.django_db
def test_language_cookie_is_not_sent_again_when_unchanged(client):
    client.cookies[COOKIE] = "es"

    response = client.get(listing("es"))

    assert response.status_code == 200
    assert '<html lang="es"' in response.content.decode()
    assert COOKIE not in response.cookies


@pytest.mark.django_db
def test_switching_language_replaces_the_cookie(client):
    client.cookies[COOKIE] = "es"

    response = client.get(listing("en"))

    assert response.cookies[COOKIE].value == "en"


@pytest.mark.django_db
def test_missing_page_does_not_change_the_language(client):
    with translation.override("vi"):
        url = reverse("meetings:meeting-detail", kwargs={"slug": "no-such-meeting"})

    response = client.get(url)

    assert (response.status_code, COOKIE in response.cookies) == (404, False)


@pytest.mark.django_db
def test_root_redirect_does_not_set_the_cookie(client):
    response = client.get("/", headers={"accept-language": "vi"})

    assert (response.status_code, response["Location"]) == (302, "/vi/meetings/")
    assert COOKIE not in response.cookies


@pytest.mark.django_db
def test_reader_coming_back_to_root_gets_the_last_language(client):
    meeting = MeetingFactory()
    with translation.override("vi"):
        client.get(meeting.get_absolute_url())

    response = client.get("/", headers={"accept-language": "es"})

    assert response["Location"] == listing("vi")


@pytest.mark.django_db
def test_root_follows_accept_language_without_a_cookie(client):
    response = client.get("/", headers={"accept-language": "es-US,es;q=0.9,en;q=0.5"})

    assert response["Location"] == listing("es")


@pytest.mark.django_db
def test_root_falls_back_to_english(client):
    response = client.get("/", headers={"accept-language": "de"})

    assert response["Location"] == listing("en")
