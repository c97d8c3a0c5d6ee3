"""The health check, and the 503 page residents get while the database cannot be reached."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from meetings.views import MeetingListView

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return Client(raise_request_exception=False)


def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert (response.status_code, response.content) == (200, b"ok")


def test_healthz_says_unavailable_when_the_database_does_not(client):
    with mock.patch("outreach.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")

    assert (response.status_code, response.content) == (503, b"unavailable")


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_down_gives_a_503_in_the_pages_language(resident, error):
    with mock.patch.object(MeetingListView, "get_queryset", side_effect=error("down")):
        response = resident.get("/es/meetings/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "El sitio no está disponible por un momento" in page


def test_other_errors_still_get_the_500_page(resident):
    with mock.patch.object(MeetingListView, "get_queryset", side_effect=ValueError("bug")):
        response = resident.get("/vi/meetings/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert '<html lang="vi">' in response.content.decode()
