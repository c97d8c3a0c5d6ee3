"""The embeddable listing (/<lang>/embed/meetings/) and the partners' page, as a partner's
site and the browser framing it see them (headers, links, cookies). The real framing on
another origin is tests/e2e/test_partners.py."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

pytestmark = pytest.mark.django_db


def csp(response):
    return dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    )


def test_embed_may_be_framed_by_any_site_by_default(client):
    response = client.get("/es/embed/meetings/")
    assert response.status_code == 200
    assert csp(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response
    # Nothing else is loosened.
    assert csp(response)["default-src"] == "'self'"
    assert csp(response)["script-src"] == "'self'"


def test_frame_ancestors_come_from_the_setting(client, settings):
    settings.EMBED_FRAME_ANCESTORS = ["https://church.example", "https://consulate.example"]
    response = client.get("/es/embed/meetings/")
    assert csp(response)["frame-ancestors"] == "https://church.example https://consulate.example"


@pytest.mark.parametrize("path", ["/es/meetings/", "/es/partners/", "/api/v1/venues"])
def test_every_other_page_still_refuses_frames(client, path):
    response = client.get(path)
    assert csp(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_embed_sets_no_cookie_even_twice(client):
    MeetingFactory(capacity=10)
    first = client.get("/es/embed/meetings/")
    second = client.get("/es/embed/meetings/")  # from the cache
    assert not first.cookies and not second.cookies
    assert "Set-Cookie" not in first and "Set-Cookie" not in second


def test_embed_shows_one_venue_in_spanish_with_links_in_new_tabs(client):
    church = VenueFactory(slug="san-jose", name="Iglesia San José")
    MeetingFactory(slug="here", venue=church, title="Town hall", title_es="Reunión", capacity=20)
    MeetingFactory(slug="elsewhere", title="Elsewhere")
    response = client.get("/es/embed/meetings/?venue=venue:san-jose")
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "Reunión" in html and "Elsewhere" not in html
    page = "https://outreach.example.org/es/meetings/here/"
    assert f'href="{page}" target="_blank" rel="noopener"' in html
    assert f'href="{page}#rsvp" target="_blank" rel="noopener">Reservar' in html
    assert "Quedan 20 espacios" in html
    # No site chrome, no script, no form.
    assert "site-header" not in html and "<script" not in html and "<form" not in html
    # Everything it loads is ours.
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "https://outreach.example.org/")), url


def test_embed_by_series_and_language(client):
    series = MeetingSeriesFactory(slug="coffee", title="Coffee")
    MeetingFactory(title="In the series", series=series)
    MeetingFactory(title="Vietnamese", language="vi")
    html = client.get("/en/embed/meetings/?series=coffee").content.decode()
    assert "In the series" in html and "Vietnamese" not in html
    html = client.get("/en/embed/meetings/?language=vi").content.decode()
    assert "Vietnamese" in html and "In the series" not in html
    html = client.get("/en/embed/meetings/?series=unknown").content.decode()
    assert "In the series" not in html and "No meetings are scheduled" in html


def test_embed_shows_no_past_meetings_and_no_rsvp_button_when_closed(client):
    past = timezone.now() - dt.timedelta(days=2)
    MeetingFactory(title="Over", starts_at=past, ends_at=past + dt.timedelta(hours=1))
    MeetingFactory(title="Drop in", rsvp_enabled=False)
    html = client.get("/en/embed/meetings/").content.decode()
    assert "Over" not in html
    assert "Drop in" in html and 'class="button"' not in html


def test_embed_bad_filters_never_fail(client):
    response = client.get("/es/embed/meetings/?date_from=nonsense&venue=%00&language=xx")
    assert response.status_code == 200
    response = client.get("/es/embed/meetings/?series=%00&q=%00")
    assert response.status_code == 200


def test_embed_is_read_only(client):
    assert client.post("/es/embed/meetings/").status_code == 405


def test_embed_query_count(client, django_assert_num_queries):
    for _number in range(5):
        MeetingFactory(capacity=10, series=MeetingSeriesFactory())
    with django_assert_num_queries(2):  # the venues (for the filter), the meetings
        client.get("/es/embed/meetings/")
    with django_assert_num_queries(0):
        client.get("/es/embed/meetings/")


def test_partners_page_documents_api_and_embed_in_spanish(client, settings):
    settings.API_RATE_LIMIT = (120, 60)
    html = client.get("/es/partners/").content.decode()
    assert "/api/v1/openapi.json" in html
    assert "https://outreach.example.org/es/embed/meetings/?language=es" in html
    assert "120" in html
    assert 'class="site-header"' in html  # the site's own page, with its chrome
    assert 'lang="es"' in html
