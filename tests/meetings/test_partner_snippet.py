"""Staff: the embed code, link and QR code a coordinator sends a partner."""

import html

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import MeetingSeriesFactory, VenueFactory

pytestmark = pytest.mark.django_db

URL = "/admin/meetings/venue/partner-snippet/"


@pytest.fixture
def login_as(client, django_user_model):
    def login(role):
        user = django_user_model.objects.create_user(f"user-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def test_coordinator_gets_iframe_link_and_qr_for_a_venue_in_spanish(login_as):
    client = login_as("Outreach coordinators")
    VenueFactory(slug="san-jose", name="Iglesia San José")
    response = client.get(URL, {"shows": "venue:san-jose", "page_language": "es"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    embed = "https://outreach.example.org/es/embed/meetings/?venue=venue:san-jose"
    assert f'<iframe src="{embed}" title="Reuniones comunitarias de la policía"' in page
    assert "https://outreach.example.org/es/venues/san-jose/" in page
    assert '<svg role="img"' in page
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("shows", "embed_query", "link"),
    [
        ("series:coffee", "?series=coffee", "/vi/series/coffee/"),
        ("language:vi", "?language=vi", "/vi/meetings/?language=vi"),
        ("all", "", "/vi/meetings/"),
    ],
)
def test_series_language_or_everything(login_as, shows, embed_query, link):
    client = login_as("Outreach coordinators")
    MeetingSeriesFactory(slug="coffee")
    page = html.unescape(client.get(URL, {"shows": shows, "page_language": "vi"}).content.decode())
    assert f'https://outreach.example.org/vi/embed/meetings/{embed_query}"' in page
    assert f"https://outreach.example.org{link}" in page


def test_unknown_choice_is_a_form_error_not_a_500(login_as):
    client = login_as("Outreach coordinators")
    response = client.get(URL, {"shows": "venue:nowhere", "page_language": "xx"})
    assert response.status_code == 200
    assert b"<iframe" not in response.content


@pytest.mark.parametrize("role", ["Door volunteers", "Viewers"])
def test_only_coordinators(login_as, role):
    assert login_as(role).get(URL).status_code == 403


def test_linked_from_venue_and_series_screens(login_as):
    client = login_as("Outreach coordinators")
    venue = VenueFactory(slug="hall")
    series = MeetingSeriesFactory(slug="coffee")
    venue_page = client.get(reverse("admin:meetings_venue_change", args=[venue.pk]))
    assert f"{URL}?shows=venue:hall" in venue_page.content.decode()
    series_page = client.get(reverse("admin:meetings_meetingseries_change", args=[series.pk]))
    assert f"{URL}?shows=series:coffee" in series_page.content.decode()
