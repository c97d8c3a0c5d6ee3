"""The public read API (/api/v1/), read as a partner's script would: the OpenAPI document is
checked by an OpenAPI validator, and every answer against that document (openapi-core)."""

import datetime as dt
import json
import zoneinfo

import pytest
from django.utils import timezone
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_spec_validator import validate

from meetings.models import Meeting
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def spec(client):
    document = client.get("/api/v1/openapi.json").json()
    return OpenAPI.from_dict(document)


def get(client, spec, url, *, valid_request=True, **headers):
    """GET `url`; the request (unless meant to be invalid) and the answer must both match
    the OpenAPI document."""
    response = client.get(url, **headers)
    openapi_request = DjangoOpenAPIRequest(response.wsgi_request)
    if valid_request:
        spec.validate_request(openapi_request)
    if response.status_code != 304:
        spec.validate_response(openapi_request, DjangoOpenAPIResponse(response))
    return response


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)  # raises on any violation of the OpenAPI 3 schema
    assert set(document["paths"]) == {
        "/api/v1/meetings",
        "/api/v1/meetings/{slug}",
        "/api/v1/venues",
        "/api/v1/series",
    }


def test_meeting_carries_every_field_a_partner_needs(client, spec):
    series = MeetingSeriesFactory(title="Coffee with a cop", title_es="Café con la policía")
    venue = VenueFactory(
        slug="st-mary", name="St. Mary", area="Oak Cliff", latitude=32.7, longitude=-96.8
    )
    starts = dt.datetime(2031, 3, 4, 18, 0, tzinfo=CHICAGO)
    MeetingFactory(
        slug="town-hall",
        title="Town hall",
        title_es="Reunión comunitaria",
        venue=venue,
        series=series,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        language="es",
        interpretation_languages=["en", "vi"],
        capacity=40,
    )
    response = get(client, spec, "/api/v1/meetings?lang=es")
    assert response.status_code == 200
    assert response["Content-Language"] == "es"
    [meeting] = response.json()["items"]
    assert meeting["title"] == "Reunión comunitaria"
    assert meeting["starts_at"] == "2031-03-04T18:00:00-06:00"
    assert meeting["ends_at"] == "2031-03-04T20:00:00-06:00"
    assert meeting["time_zone"] == "America/Chicago"
    assert meeting["status"] == "scheduled"
    assert meeting["previous_starts_at"] is None
    assert meeting["language"] == {"code": "es", "name": "español"}
    assert [lang["code"] for lang in meeting["interpretation"]] == ["en", "vi"]
    assert meeting["place"]["name"] == "St. Mary"
    assert meeting["place"]["area"] == "Oak Cliff"
    assert meeting["place"]["latitude"] == 32.7
    assert meeting["series"] == {"slug": series.slug, "title": "Café con la policía"}
    assert meeting["capacity"] == 40
    assert meeting["seats_left"] == 40
    assert meeting["takes_rsvps"] is True
    site = "https://outreach.example.org"
    assert meeting["page_urls"] == {
        code: f"{site}/{code}/meetings/town-hall/" for code in ("en", "es", "vi")
    }
    assert meeting["ics_urls"]["vi"] == f"{site}/vi/meetings/town-hall.ics"
    assert meeting["feed_urls"]["es"] == f"{site}/es/feeds/series/{series.slug}.ics"


def test_text_follows_accept_language_and_lang_wins(client, spec):
    MeetingFactory(title="Town hall", title_vi="Họp cộng đồng")
    by_header = get(client, spec, "/api/v1/meetings", HTTP_ACCEPT_LANGUAGE="vi,en;q=0.5")
    assert by_header.json()["items"][0]["title"] == "Họp cộng đồng"
    assert "Accept-Language" in by_header["Vary"]
    by_parameter = get(client, spec, "/api/v1/meetings?lang=en", HTTP_ACCEPT_LANGUAGE="vi")
    assert by_parameter.json()["items"][0]["title"] == "Town hall"


def test_status_moved_and_cancelled(client, spec):
    meeting = MeetingFactory(slug="moved")
    first_start = meeting.starts_at
    meeting = Meeting.objects.get(pk=meeting.pk)
    meeting.starts_at += dt.timedelta(days=1)
    meeting.ends_at += dt.timedelta(days=1)
    meeting.save()
    cancelled = MeetingFactory(slug="off", status=Meeting.Status.CANCELLED)
    cancelled.cancellation_note = "Storm"
    cancelled.save()
    moved = get(client, spec, "/api/v1/meetings/moved").json()
    assert moved["status"] == "moved"
    assert dt.datetime.fromisoformat(moved["previous_starts_at"]) == first_start
    off = get(client, spec, "/api/v1/meetings/off").json()
    assert off["status"] == "cancelled"
    assert off["cancellation_note"] == "Storm"


def test_drafts_never_show_and_unknown_is_a_translated_404(client, spec):
    MeetingFactory(slug="draft", status=Meeting.Status.DRAFT)
    assert get(client, spec, "/api/v1/meetings").json()["items"] == []
    response = get(client, spec, "/api/v1/meetings/draft?lang=es")
    assert response.status_code == 404
    assert response.json()["detail"] == "No encontramos ninguna reunión en esta dirección."


def test_no_personal_data_ever(client, spec):
    meeting = MeetingFactory(capacity=10)
    RsvpFactory(
        meeting=meeting, party_size=3, first_name="Rosa", email="rosa@example.com", note="diabetic"
    )
    body = b"".join(
        get(client, spec, url).content
        for url in ("/api/v1/meetings", f"/api/v1/meetings/{meeting.slug}", "/api/v1/venues")
    )
    for secret in (b"Rosa", b"rosa@example.com", b"diabetic"):
        assert secret not in body
    assert json.loads(get(client, spec, "/api/v1/meetings").content)["items"][0]["seats_left"] == 7


def test_filters_as_the_listing(client, spec):
    oak = VenueFactory(slug="oak", area="Oak Cliff")
    other = VenueFactory(slug="elsewhere", area="Downtown")
    series = MeetingSeriesFactory(slug="coffee")
    soon = timezone.now() + dt.timedelta(days=2)
    MeetingFactory(
        slug="a", venue=oak, language="es", starts_at=soon, ends_at=soon + dt.timedelta(hours=1)
    )
    MeetingFactory(
        slug="b",
        venue=other,
        series=series,
        interpretation_languages=["vi"],
        title="Policía y vecinos",
    )
    MeetingFactory(
        slug="old",
        venue=oak,
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3, hours=-1),
    )

    def slugs(query):
        response = get(client, spec, "/api/v1/meetings?" + query)
        assert response.status_code == 200, response.content
        return [item["slug"] for item in response.json()["items"]]

    assert slugs("") == ["a", "b"]
    assert slugs("when=past") == ["old"]
    assert slugs("language=es") == ["a"]
    assert slugs("language=vi") == ["b"]
    assert slugs("area=Oak+Cliff") == ["a"]
    assert slugs("venue=elsewhere") == ["b"]
    assert slugs("series=coffee") == ["b"]
    assert slugs("q=policia") == ["b"]
    day = timezone.localdate(soon).isoformat()
    assert slugs(f"date_from={day}&date_to={day}") == ["a"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("date_from=tomorrow", "date_from"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("when=someday", "when"),
        ("language=xx", "language"),
        ("cursor=nonsense", "cursor"),
        ("date_from=2031-02-02&date_to=2031-01-01", "date_to"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_bad_parameters_get_a_translated_400(client, spec, query, parameter):
    response = get(client, spec, "/api/v1/meetings?lang=es&" + query, valid_request=False)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Algunos parámetros no son válidos."
    assert [problem["parameter"] for problem in body["errors"]] == [parameter]


def test_cursor_pagination_walks_every_meeting_once(client, spec):
    start = timezone.now() + dt.timedelta(days=1)
    for number in range(5):
        # Two at the same time: the cursor must still tell them apart.
        at = start + dt.timedelta(hours=number // 2)
        MeetingFactory(slug=f"m{number}", starts_at=at, ends_at=at + dt.timedelta(hours=1))
    seen = []
    url = "/api/v1/meetings?limit=2"
    while url:
        page = get(client, spec, url).json()
        seen += [item["slug"] for item in page["items"]]
        url = page["next_url"] and page["next_url"].removeprefix("https://outreach.example.org")
    assert seen == ["m0", "m1", "m2", "m3", "m4"]


def test_etag_gives_304_and_cache_headers(client, spec):
    MeetingFactory(capacity=5)
    first = get(client, spec, "/api/v1/meetings")
    assert first["ETag"]
    assert "public" in first["Cache-Control"]
    again = get(client, spec, "/api/v1/meetings", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_seats_left_are_as_fresh_as_the_pages(client, spec, settings, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    meeting = MeetingFactory(capacity=5)
    url = f"/api/v1/meetings/{meeting.slug}"
    assert get(client, spec, url).json()["seats_left"] == 5
    RsvpFactory(meeting=meeting, party_size=2)
    assert get(client, spec, url).json()["seats_left"] == 5  # kept a few seconds, as the page
    time_machine.shift(settings.SEATS_FRESH_SECONDS + 1)
    assert get(client, spec, url).json()["seats_left"] == 3


def test_listing_costs_one_query_and_none_when_cached(client, spec, django_assert_num_queries):
    series = MeetingSeriesFactory()
    for _number in range(6):
        MeetingFactory(series=series, capacity=10, interpretation_languages=["es"])
    with django_assert_num_queries(1):
        assert len(client.get("/api/v1/meetings").json()["items"]) == 6
    with django_assert_num_queries(0):
        client.get("/api/v1/meetings")
    with django_assert_num_queries(1):
        client.get("/api/v1/venues")
    with django_assert_num_queries(1):
        client.get("/api/v1/series")


def test_venues_and_series(client, spec):
    VenueFactory(slug="st-mary", name="St. Mary", name_es="Santa María")
    MeetingSeriesFactory(slug="coffee", title="Coffee", title_es="Café")
    venues = get(client, spec, "/api/v1/venues?lang=es").json()["items"]
    assert [venue["name"] for venue in venues] == ["Santa María"]
    assert venues[0]["feed_urls"]["es"].endswith("/es/feeds/venues/st-mary.ics")
    series = get(client, spec, "/api/v1/series?lang=es").json()["items"]
    assert series[0]["title"] == "Café"
    assert series[0]["page_urls"]["vi"].endswith("/vi/series/coffee/")


def test_cors_open_for_reading(client, spec):
    response = get(client, spec, "/api/v1/venues", HTTP_ORIGIN="https://church.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/v1/meetings",
        headers={"Origin": "https://church.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert client.post("/api/v1/meetings").status_code == 405
    assert not response.cookies


def test_rate_limit_per_client_keeps_no_address(client, spec, settings):
    settings.API_RATE_LIMIT = (3, 60)
    for _number in range(3):
        assert get(client, spec, "/api/v1/series", REMOTE_ADDR="203.0.113.9").status_code == 200
    refused = get(client, spec, "/api/v1/series?lang=es", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert get(client, spec, "/api/v1/series", REMOTE_ADDR="203.0.113.10").status_code == 200
    from django.core.cache import cache

    keys = list(getattr(cache, "_cache", {}))
    assert keys and not any("203.0.113" in str(key) for key in keys)


def test_api_root_leads_to_the_page_that_documents_it(client):
    response = client.get("/api/v1/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302
    assert response["Location"] == "/es/partners/#api"
    page = client.get("/es/partners/")
    assert page.status_code == 200
    assert "openapi.json" in page.content.decode()


def test_database_down_is_a_translated_503_in_json(client, spec):
    from django.db import OperationalError, connection

    def down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server")

    with connection.execute_wrapper(down):
        response = get(client, spec, "/api/v1/meetings?lang=vi")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json()["detail"].startswith("Dịch vụ")


def test_unknown_address_is_json_and_head_works(client):
    response = client.get("/api/v1/meetings/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "openapi.json" in response.json()["detail"]
    MeetingFactory()
    head = client.head("/api/v1/meetings")
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == client.get("/api/v1/meetings")["ETag"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/meetings?q=a%00b",
        "/api/v1/meetings?venue=%00",
        "/api/v1/meetings?series=x%00",
        "/api/v1/meetings/x%00y",
    ],
)
def test_nul_bytes_are_a_400_not_a_database_error(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["detail"]
