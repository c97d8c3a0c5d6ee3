import re

import pytest
from django.urls import reverse
from django.utils import translation

from meetings.models import Meeting
from tests.factories import MeetingFactory, MeetingSeriesFactory

pytestmark = pytest.mark.django_db


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs)


def test_meeting_flyer_sets_the_page_language_beside_english(client):
    meeting = MeetingFactory(title="Town hall", title_es="Reunión vecinal")

    response = client.get(url("meetings:meeting-flyer", "es", slug=meeting.slug))

    content = response.content.decode()
    assert response.status_code == 200
    assert '<section class="flyer-column" lang="es">' in content
    assert '<section class="flyer-column" lang="en">' in content
    assert content.index("Reunión vecinal") < content.index("Town hall")
    assert "Nadie le va a preguntar por su situación migratoria." in content
    assert "No one will ask about your immigration status." in content
    assert "Puede llamar al 911 sin importar su situación migratoria." in content


def test_flyer_qr_codes_point_at_the_page_in_each_language(client):
    meeting = MeetingFactory()

    content = client.get(
        url("meetings:meeting-flyer", "vi", slug=meeting.slug), {"also": "es"}
    ).content.decode()

    urls = re.findall(r'<span class="flyer-url">([^<]+)</span>', content)
    assert urls == [
        f"https://outreach.example.org/vi/meetings/{meeting.slug}/",
        f"https://outreach.example.org/es/meetings/{meeting.slug}/",
    ]
    assert content.count('<svg role="img"') == 2


def test_flyer_in_one_language_only(client):
    meeting = MeetingFactory()

    content = client.get(
        url("meetings:meeting-flyer", slug=meeting.slug), {"also": "none"}
    ).content.decode()

    assert content.count('class="flyer-column"') == 1


def test_flyer_ignores_an_unknown_second_language(client):
    meeting = MeetingFactory()

    response = client.get(url("meetings:meeting-flyer", slug=meeting.slug), {"also": "xx\x00"})

    assert response.status_code == 200
    assert '<section class="flyer-column" lang="es">' in response.content.decode()


def test_flyer_of_a_draft_is_for_staff_only(client, admin_client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)

    assert client.get(url("meetings:meeting-flyer", slug=meeting.slug)).status_code == 404
    assert admin_client.get(url("meetings:meeting-flyer", slug=meeting.slug)).status_code == 200


def test_series_flyer_lists_its_upcoming_dates(client):
    series = MeetingSeriesFactory(title="Sessions with the chief")
    first = MeetingFactory(series=series, title="First")
    MeetingFactory(series=series, status=Meeting.Status.DRAFT)

    content = client.get(url("meetings:series-flyer", slug=series.slug)).content.decode()

    assert "Sessions with the chief" in content
    assert content.count("<li><strong>") == 2  # one date, in English and in Spanish
    assert first.venue.name in content


def test_admin_links_to_the_flyers(admin_client):
    meeting = MeetingFactory(series=MeetingSeriesFactory())

    meeting_page = admin_client.get(f"/admin/meetings/meeting/{meeting.pk}/change/")
    series_page = admin_client.get(f"/admin/meetings/meetingseries/{meeting.series.pk}/change/")

    assert url("meetings:meeting-flyer", slug=meeting.slug) in meeting_page.content.decode()
    assert url("meetings:series-flyer", slug=meeting.series.slug) in series_page.content.decode()
