"""Requests no page here can use get a 4xx before they reach a view, never a 500."""

import pytest
from django.test import Client

from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def test_a_50_mb_form_post_is_refused_from_its_length(client):
    meeting = MeetingFactory()

    response = client.generic(
        "POST",
        f"/es/meetings/{meeting.slug}/rsvp/",
        b"party_size=1",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert '<html lang="es">' in response.content.decode()


def test_a_utf16_form_post_is_a_bad_request_not_a_server_error():
    meeting = MeetingFactory()
    client = Client(enforce_csrf_checks=True)
    client.get(meeting.get_absolute_url())
    token = client.cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&party_size=1&language=en".encode("utf-16")

    response = client.generic(
        "POST",
        f"/en/meetings/{meeting.slug}/rsvp/",
        body,
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "query", ["language=e%00n", "q=a%00b", "status%00=confirmed", "meeting__id__exact=1%00"]
)
def test_a_nul_byte_in_an_admin_list_filter_is_a_bad_request(admin_client, query):
    response = admin_client.get(f"/admin/meetings/rsvp/?{query}")

    assert response.status_code == 400


def test_public_listing_still_shows_the_page_for_a_nul_byte(client):
    response = client.get("/en/meetings/?q=a%00b")

    assert response.status_code == 200


def test_forwarded_proto_and_host_count_only_from_our_proxies(client, settings):
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.5"]
    headers = {"HTTP_X_FORWARDED_PROTO": "https"}

    direct = client.get("/healthz", REMOTE_ADDR="203.0.113.9", **headers)
    from_proxy = client.get("/en/privacy/", REMOTE_ADDR="10.0.0.5", **headers)
    forged = client.get("/en/privacy/", REMOTE_ADDR="203.0.113.9", **headers)

    assert direct.status_code == 200
    assert from_proxy.status_code == 200  # the proxy says https: no redirect
    assert forged.status_code == 301  # a client saying so itself is still on plain http


# --- The same security headers on every response ----------------------------------------

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
    "Referrer-Policy",
    "X-Content-Type-Options",
)


def test_every_kind_of_response_carries_the_same_security_headers(settings, admin_user):
    """Pages, feeds, errors, the 400 and 413 answered before any view, and static files."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    meeting = MeetingFactory()
    client = Client()
    staff = Client()
    staff.force_login(admin_user)
    form = "application/x-www-form-urlencoded"
    responses = {
        "listing": client.get("/en/meetings/"),
        "meeting page": client.get(meeting.get_absolute_url()),
        "feed": client.get("/en/feeds/meetings.ics"),
        "healthz": client.get("/healthz"),
        "404": client.get("/en/meetings/no-such-meeting/"),
        "admin login": client.get("/admin/login/"),
        "400 utf-16": client.generic(
            "POST",
            f"/en/meetings/{meeting.slug}/rsvp/",
            "a=b".encode("utf-16"),
            content_type=f"{form}; charset=utf-16",
        ),
        "413": client.generic(
            "POST",
            f"/en/meetings/{meeting.slug}/rsvp/",
            b"a=b",
            content_type=form,
            CONTENT_LENGTH=str(50 * 1024 * 1024),
        ),
        "400 admin NUL": staff.get("/admin/meetings/rsvp/?q=a%00b"),
        "static file": client.get("/static/css/site.css"),
    }

    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "listing": 200,
        "meeting page": 200,
        "feed": 200,
        "healthz": 200,
        "404": 404,
        "admin login": 200,
        "400 utf-16": 400,
        "413": 413,
        "400 admin NUL": 400,
        "static file": 200,
    }
    first = {name: responses["listing"].headers[name] for name in SECURITY_HEADERS}
    assert "camera=()" in first["Permissions-Policy"]
    assert "frame-ancestors 'none'" in first["Content-Security-Policy"]
    for name, response in responses.items():
        response.close()  # whitenoise's file
        seen = {header: response.headers.get(header) for header in SECURITY_HEADERS}
        assert seen == first, name
