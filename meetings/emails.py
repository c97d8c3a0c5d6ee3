"""Every message the site sends by email: one function per kind, rendered in the
recipient's language; each also texts the RSVPs with a phone number (meetings/sms.py).

Each function takes the RSVPs to tell (those without an email address get no mail) and puts
one message per RSVP and channel in the outbox (`outbox.put`): rows plus a task carrying only their ids,
written in the caller's transaction. A message with a private link is written at once (the
link exists only then); the others are written by `send` when the worker sends them, from
the meeting as it is then. Templates: emails/<kind>_subject.txt, _body.txt and _body.html.

Claiming, retrying and giving up are the outbox's (meetings/outbox.py); talking to the mail
server is meetings/mail_backend.py's. `send` is the email channel's sender the outbox calls.
"""

import re
from collections.abc import Iterable
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from meetings import mail_backend, outbox, sms, texts
from meetings.ical import meeting_calendar_bytes
from meetings.models import OutgoingEmail, Rsvp
from meetings.outbox import send_queued_email  # noqa: F401 - tasks queued before the split name it here
from meetings.tokens import manage_url

Kind = OutgoingEmail.Kind


def rsvp_confirmation(rsvp: Rsvp, *, token: str, same_email: bool = False) -> None:
    """'You are confirmed' or 'you are on the waitlist', with the private link.

    `same_email`: the address already has another RSVP to this meeting, which stays as it
    was; the message says so (both RSVPs are kept, each with its own link).
    """
    _queue(Kind.RSVP_CONFIRMATION, [rsvp], token=token, same_email=same_email)


def rsvp_promoted(rsvps: Iterable[Rsvp]) -> None:
    """'A seat freed up: you are confirmed', to each party promoted from the waitlist."""
    _queue(Kind.RSVP_PROMOTED, rsvps)


def meeting_changed(rsvps: Iterable[Rsvp], *, changes: Iterable[str]) -> None:
    """Staff moved, rescheduled, cancelled or reinstated the meeting: `changes` says which
    (MeetingChange values); the updated calendar file is attached."""
    _queue(Kind.MEETING_CHANGED, rsvps, changes=sorted(changes))


def rsvp_reminder(rsvp: Rsvp, *, token: str) -> None:
    """A reminder before the meeting: when and where, the way there, a private link (a new
    one, `token`, made for this email) and a one-click way to say "I can't come"."""
    _queue(Kind.RSVP_REMINDER, [rsvp], token=token)


def feedback_request(rsvp: Rsvp, *, token: str) -> None:
    """After the meeting: three optional anonymous questions, behind a new private link."""
    _queue(Kind.FEEDBACK_REQUEST, [rsvp], token=token)


def staff_message(rsvps: Iterable[Rsvp], *, template: str, **fields: object) -> list[OutgoingEmail]:
    """A short message from staff about the meeting (`template`, one of
    texts.STAFF_TEMPLATES, with its `fields`), in each party's language, by email and text."""
    return _queue(Kind.STAFF_MESSAGE, rsvps, template=template, **fields)


def sender_address() -> str:
    """DEFAULT_FROM_EMAIL's address under the site's name in the active language."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((gettext("Police Community Outreach"), address))


# Queueing, in the caller's transaction ------------------------------------------------------


def _queue(kind, rsvps, *, token=None, **context):
    """One outbox row per RSVP with an email, one per RSVP with a phone number (a text,
    `sms.rows_for`), and one task naming the rows (`outbox.put`).

    A message with a private link (`token`) is written now: the token exists only here. Any
    other is written by the worker when it sends it, from the RSVP, its meeting as it is
    then, and `context` (plain values, no personal data), so a change that tells two hundred
    people costs the request two inserts.
    """
    rsvps = list(rsvps)
    text_rows = sms.rows_for(kind, rsvps, token=token, **context)
    rsvps = [rsvp for rsvp in rsvps if rsvp.email]
    domain = urlsplit(settings.SITE_URL).hostname
    rows = [
        OutgoingEmail(
            kind=kind,
            language=rsvp.language,
            rsvp=rsvp,
            recipient=rsvp.email,
            message_id=make_msgid(domain=domain),
            context=context,
            **(_render(kind, rsvp, token=token, **context) if token else {}),
        )
        for rsvp in rsvps
    ]
    return outbox.put(rows + text_rows)


def _render(kind, rsvp, *, token=None, **extra):
    meeting = rsvp.meeting
    with translation.override(rsvp.language):
        context = {
            "rsvp": rsvp,
            "meeting": meeting,
            "meeting_url": settings.SITE_URL + meeting.get_absolute_url(),
            "manage_url": manage_url(token) if token else "",
            # The private page with the cancel button in view: opening it changes nothing.
            "cant_come_url": f"{manage_url(token)}?cant-come=1#cancel" if token else "",
            "feedback_url": f"{manage_url(token)}#feedback" if token else "",
            "waitlist_place": rsvp.waitlist_place,
            "SITE_URL": settings.SITE_URL,
            **extra,
        }
        if kind == Kind.STAFF_MESSAGE:
            context["message"] = texts.staff_message_text(**extra)
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
        # Template tags on lines of their own leave blank lines behind: one blank line at most.
        text = re.sub(r"\n{3,}", "\n\n", render_to_string(f"emails/{kind}_body.txt", context))
        html = render_to_string(f"emails/{kind}_body.html", context)
        calendar = meeting_calendar_bytes(meeting).decode()
    return {"subject": subject, "text": text, "html": html, "calendar": calendar}


# Sending: the email channel's sender, called by the outbox worker ---------------------------


def send(email: OutgoingEmail) -> None:
    """Write the message of outbox row `email` (now, if it was not written when queued) and
    hand it to the mail server (`mail_backend.hand_over`, which raises outbox.SendFailed)."""
    if email.text:
        content = {name: getattr(email, name) for name in ("subject", "text", "html", "calendar")}
    elif email.rsvp_id is None:
        # Purged before it was written (the purge withdraws such rows; this is a safety net).
        raise outbox.SendFailed("The RSVP is gone: nothing to write.", retry=False)
    else:
        rsvp = Rsvp.objects.select_related("meeting__venue").get(pk=email.rsvp_id)
        content = _render(email.kind, rsvp, **email.context)
    with translation.override(email.language):
        sender = sender_address()
    message = EmailMultiAlternatives(
        content["subject"],
        content["text"],
        from_email=sender,
        to=[email.recipient],
        headers={"Message-ID": email.message_id},
    )
    message.attach_alternative(content["html"], "text/html")
    message.attach("meeting.ics", content["calendar"].encode(), "text/calendar")
    mail_backend.hand_over(message)
