"""Email subjects are plain text: a title with "&" or "<" reads as typed."""

import pytest
from django.core import mail
from django.template.loader import render_to_string

from meetings.services import create_rsvp
from tests.factories import MeetingFactory


@pytest.mark.parametrize("name", ["rsvp_confirmation", "rsvp_promoted", "meeting_changed"])
def test_subject_templates_do_not_escape_html(name):
    meeting = MeetingFactory.build(title_en="Q&A <with> the chief's team")

    subject = render_to_string(
        f"emails/{name}_subject.txt", {"meeting": meeting, "changes": ["time"]}
    )

    assert subject.strip().endswith(": Q&A <with> the chief's team")


@pytest.mark.django_db
def test_confirmation_subject_shows_an_ampersand_as_typed(send_queued_mail):
    meeting = MeetingFactory(title_en="Q&A with the chief")

    create_rsvp(meeting=meeting, party_size=1, language="en", email="ana@example.org")
    send_queued_mail()

    assert mail.outbox[0].subject == "You are confirmed: Q&A with the chief"
