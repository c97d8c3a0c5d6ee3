"""Every message the site sends: one function per kind, rendered in the recipient's language.

Each function takes the RSVPs to tell (those without an email address are skipped) and sends
after the caller's transaction commits, so a rolled-back change mails nobody. A failing mail
server is logged, without any address, and never undoes what the message is about.
Templates: emails/<kind>_subject.txt, _body.txt and _body.html.
"""

import logging
import re
from collections.abc import Iterable
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from meetings.ical import meeting_calendar_bytes
from meetings.tokens import manage_url

if TYPE_CHECKING:
    from meetings.models import Rsvp

logger = logging.getLogger(__name__)


def rsvp_confirmation(rsvp: "Rsvp", *, token: str | None, updated: bool = False) -> None:
    """'You are confirmed' or 'you are on the waitlist', with the private link.

    `updated`: the email matched an earlier RSVP, which these answers replaced.
    """
    _send_after_commit("rsvp_confirmation", [rsvp], token=token, updated=updated)


def rsvp_promoted(rsvps: Iterable["Rsvp"]) -> None:
    """'A seat freed up: you are confirmed', to each party promoted from the waitlist."""
    _send_after_commit("rsvp_promoted", rsvps)


def meeting_changed(rsvps: Iterable["Rsvp"], *, changes: Iterable[str]) -> None:
    """Staff moved, rescheduled, cancelled or reinstated the meeting: `changes` says which
    (MeetingChange values); the updated calendar file is attached."""
    _send_after_commit("meeting_changed", rsvps, changes=sorted(changes))


def _send_after_commit(kind, rsvps, **context):
    rsvps = [rsvp for rsvp in rsvps if rsvp.email]
    if rsvps:
        transaction.on_commit(lambda: _send_quietly(kind, rsvps, **context))


def _send_quietly(kind, rsvps, **context):
    """Send one email per RSVP over one connection; log failures without any address."""
    try:
        messages = [_render(kind, rsvp, **context) for rsvp in rsvps]
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as error:  # noqa: BLE001 - whatever the mail server does, the RSVPs stand
        logger.warning(
            "Could not send %s email for RSVP(s) %s: %s",
            kind,
            ",".join(str(rsvp.pk) for rsvp in rsvps),
            type(error).__name__,
        )


def sender_address() -> str:
    """DEFAULT_FROM_EMAIL's address under the site's name in the active language."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((gettext("Police Community Outreach"), address))


def _render(kind, rsvp, *, token=None, **extra):
    meeting = rsvp.meeting
    with translation.override(rsvp.language):
        context = {
            "rsvp": rsvp,
            "meeting": meeting,
            "meeting_url": settings.SITE_URL + meeting.get_absolute_url(),
            "manage_url": manage_url(token) if token else "",
            "waitlist_place": rsvp.waitlist_place,
            "SITE_URL": settings.SITE_URL,
            **extra,
        }
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
        # Template tags on lines of their own leave blank lines behind: one blank line at most.
        text = re.sub(r"\n{3,}", "\n\n", render_to_string(f"emails/{kind}_body.txt", context))
        html = render_to_string(f"emails/{kind}_body.html", context)
        calendar = meeting_calendar_bytes(meeting)
        sender = sender_address()
    message = EmailMultiAlternatives(subject, text, from_email=sender, to=[rsvp.email])
    message.attach_alternative(html, "text/html")
    message.attach("meeting.ics", calendar, "text/calendar")
    return message
