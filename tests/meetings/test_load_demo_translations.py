"""The demo campaign reads in every language, and loading it twice changes nothing."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from modeltranslation.translator import translator

from meetings.models import Meeting, MeetingSeries, Rsvp, Venue


def load_demo():
    out = StringIO()
    call_command("load_demo", "--as-recorded", stdout=out)
    return out.getvalue()


def untranslated(model):
    """(slug, field_xx) for every text written in English but empty in another language."""
    fields = translator.get_options_for_model(model).fields
    missing = []
    for obj in model.objects.all():
        for field in fields:
            if not getattr(obj, f"{field}_{settings.LANGUAGE_CODE}"):
                continue
            missing += [
                (obj.slug, f"{field}_{code}")
                for code, _name in settings.LANGUAGES
                if not getattr(obj, f"{field}_{code}")
            ]
    return missing


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Venue, MeetingSeries, Meeting])
def test_demo_text_is_written_in_every_language(model):
    load_demo()

    assert untranslated(model) == []


@pytest.mark.django_db
def test_demo_second_run_changes_nothing():
    load_demo()
    before = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Venue, MeetingSeries, Meeting, Rsvp)
    }

    output = load_demo()

    after = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Venue, MeetingSeries, Meeting, Rsvp)
    }
    assert ("0 rows created or updated" in output, after) == (True, before)
