"""Staff find meetings, series and venues that still need a Spanish or Vietnamese translation."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

TRANSLATED = {
    "title_es": "Reunión",
    "title_vi": "Buổi họp",
    "summary_es": "Hola.",
    "summary_vi": "Chào.",
}


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.org", "unused")
    client.force_login(user)
    return client


def listed(staff_client, model, **query):
    response = staff_client.get(reverse(f"admin:meetings_{model}_changelist"), query)
    assert response.status_code == 200
    return sorted(obj.slug for obj in response.context["cl"].result_list)


@pytest.mark.django_db
def test_missing_spanish_lists_meetings_without_a_spanish_summary(staff_client):
    MeetingFactory(slug="translated", **TRANSLATED)
    MeetingFactory(slug="no-spanish-summary", **{**TRANSLATED, "summary_es": ""})

    assert listed(staff_client, "meeting", missing_translation="es") == ["no-spanish-summary"]


@pytest.mark.django_db
def test_missing_vietnamese_lists_meetings_without_a_vietnamese_description(staff_client):
    MeetingFactory(slug="translated", description="Come.", description_vi="Xin mời.", **TRANSLATED)
    MeetingFactory(slug="no-vietnamese-description", description="Come.", **TRANSLATED)

    assert listed(staff_client, "meeting", missing_translation="vi") == [
        "no-vietnamese-description"
    ]


@pytest.mark.django_db
def test_missing_translation_ignores_text_that_is_empty_in_english(staff_client):
    MeetingFactory(slug="no-description-at-all", description="", **TRANSLATED)

    assert listed(staff_client, "meeting", missing_translation="es") == []


@pytest.mark.django_db
def test_missing_translation_filter_offers_each_translated_language(staff_client):
    response = staff_client.get(reverse("admin:meetings_meeting_changelist"))

    spec = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "missing_translation"
    )
    assert [code for code, _name in spec.lookup_choices] == [
        code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
    ]


@pytest.mark.django_db
def test_unknown_missing_translation_choice_lists_everything(staff_client):
    MeetingFactory(slug="translated", **TRANSLATED)

    assert listed(staff_client, "meeting", missing_translation="xx") == ["translated"]


@pytest.mark.django_db
def test_missing_translation_lists_venues_without_vietnamese_notes(staff_client):
    VenueFactory(slug="translated", name_es="Salón", name_vi="Hội trường")
    VenueFactory(
        slug="no-vietnamese-notes",
        name_es="Salón",
        name_vi="Hội trường",
        directions_notes="Bus 12.",
        directions_notes_es="Autobús 12.",
    )

    assert listed(staff_client, "venue", missing_translation="vi") == ["no-vietnamese-notes"]


@pytest.mark.django_db
def test_missing_translation_lists_series_without_a_spanish_title(staff_client):
    MeetingSeriesFactory(slug="translated", title_es="Sesiones", title_vi="Các buổi")
    MeetingSeriesFactory(slug="no-spanish-title", title_vi="Các buổi")

    assert listed(staff_client, "meetingseries", missing_translation="es") == ["no-spanish-title"]
