"""Every message the site sends by email: one function per kind, rendered in the
recipient's language; each also texts the RSVPs with a phone number (meetings/sms.py).

Each function takes the RSVPs to tell (those without an email address get no mail) and puts
one message per RSVP and channel in the outbox (`outbox.put`): rows plus a task carrying only their ids,
written in the caller's transaction. A message with a private link is written at once (the
link exists only then); the others are written by `send` when the worker sends them, from
the meeting as it is then. Templates: emails/<kind>_subject.txt, _body.txt and _body.html.

Claiming, retrying and giving up are the outbox's (meetings/outbox.py); talking to the mail
server is meetings/mail_backend.py's. `send` is the email channel's sender the outbox calls.

Calendars: a party with a seat gets the meeting as an invitation (iTIP, meetings/ical.py) in
a multipart/alternative beside the text and HTML, with `method=` on the part, and the same
file attached under a name in their language. REQUEST adds it or, with a higher SEQUENCE,
updates it in place (a move, a change of the RSVP, a promotion); CANCEL removes it (the
meeting or the RSVP is cancelled). A waitlisted party gets none: their calendar never says
they are going. Reminders and the questions afterwards carry none either. Every message says
its language (Content-Language) and sends replies to EMAIL_NO_REPLY_ADDRESS, which discards
them (calendar apps mail "Accepted" to the organizer).
"""

import re
from collections.abc import Iterable
from email.header import Header
from email.message import Message as MimeMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, pgettext

from meetings import mail_backend, outbox, sms, texts
from meetings.formatting import language_name
from meetings.ical import Method, invitation_bytes
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


def rsvp_promoted(rsvp: Rsvp, *, token: str) -> None:
    """'A seat freed up: you are confirmed', to a party promoted from the waitlist, with a
    new private link (`token`, made for this email, as reminders do) and the invitation."""
    _queue(Kind.RSVP_PROMOTED, [rsvp], token=token)


def rsvp_changed(rsvp: Rsvp, *, before: dict) -> None:
    """The party changed its RSVP (`before`: the fields as they were): what changed, and the
    updated invitation for a party with a seat."""
    _queue(Kind.RSVP_CHANGED, [rsvp], render_now=True, before=before)


def rsvp_cancelled(
    rsvp: Rsvp, *, address: str, phone: str = "", by_staff: bool, was_confirmed: bool
) -> None:
    """The RSVP is cancelled (by the party or by staff): a last message to `address` and a
    last text to `phone` (the RSVP's own are erased by now); the email removes the event from
    a calendar that had it."""
    _queue(
        Kind.RSVP_CANCELLED,
        [rsvp],
        render_now=True,
        address=address,
        phone=phone,
        by_staff=by_staff,
        was_confirmed=was_confirmed,
    )


def meeting_changed(
    rsvps: Iterable[Rsvp], *, changes: Iterable[str], text_tokens: dict[int, str] | None = None
) -> None:
    """Staff moved, rescheduled, cancelled or reinstated the meeting: `changes` says which
    (MeetingChange values); the updated calendar file is attached to the email, and a text
    carries the private link in `text_tokens` ({rsvp pk: token}, made for it)."""
    _queue(Kind.MEETING_CHANGED, rsvps, text_tokens=text_tokens, changes=sorted(changes))


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


def attachment_name() -> str:
    """The calendar file's name in the active language."""
    # Translators: the name of the calendar file attached to emails: letters, digits and
    # hyphens only (no accents or spaces), ending in .ics.
    return pgettext("file name", "meeting.ics")


# Queueing, in the caller's transaction ------------------------------------------------------


def _queue(
    kind,
    rsvps,
    *,
    token=None,
    text_tokens=None,
    render_now=False,
    address=None,
    phone="",
    **context,
):
    """One outbox row per RSVP with an email, one per RSVP with a phone number (a text,
    `sms.rows_for`), and one task naming the rows (`outbox.put`).

    A message with a private link (`token`) is written now: the token exists only here; so
    is one that says what changed (`render_now`: the RSVP changes again, or is erased, right
    after). Any other is written by the worker when it sends it, from the RSVP, its meeting as
    it is then, and `context` (plain values, no personal data), so a change that tells two
    hundred people costs the request two inserts (texts with a link of their own,
    `text_tokens`, are written now). `address` and `phone` replace the RSVP's own (erased on a
    cancellation before the message is queued).
    """
    rsvps = list(rsvps)
    text_rows = sms.rows_for(
        kind,
        rsvps,
        token=token,
        tokens=text_tokens,
        render_now=render_now,
        phone=phone,
        **context,
    )
    rsvps = [rsvp for rsvp in rsvps if address or rsvp.email]
    domain = urlsplit(settings.SITE_URL).hostname
    rows = []
    for rsvp in rsvps:
        recipient = address or rsvp.email
        written = (
            _render(kind, rsvp, recipient=recipient, token=token, **context)
            if token or render_now
            else {}
        )
        rows.append(
            OutgoingEmail(
                kind=kind,
                language=rsvp.language,
                rsvp=rsvp,
                recipient=recipient,
                message_id=make_msgid(domain=domain),
                # Plain and impersonal: what was before a change (a name, a note) and the
                # address are only in the written message, erased with it.
                context={key: value for key, value in context.items() if key != "before"},
                **written,
            )
        )
    return outbox.put(rows + text_rows)


def _invitation_method(kind, rsvp, extra):
    """REQUEST, CANCEL or None: what the message does to the RSVP's event in a calendar."""
    if kind == Kind.RSVP_CANCELLED:
        return Method.CANCEL if extra.get("was_confirmed") else None
    if kind in (Kind.RSVP_REMINDER, Kind.FEEDBACK_REQUEST) or not rsvp.is_confirmed:
        return None
    return Method.CANCEL if rsvp.meeting.is_cancelled else Method.REQUEST


def _render(kind, rsvp, *, recipient, token=None, **extra):
    meeting = rsvp.meeting
    with translation.override(rsvp.language):
        method = _invitation_method(kind, rsvp, extra)
        context = {
            "rsvp": rsvp,
            "meeting": meeting,
            "meeting_url": settings.SITE_URL + meeting.get_absolute_url(),
            "manage_url": manage_url(token) if token else "",
            # The private page with the cancel button in view: opening it changes nothing.
            "cant_come_url": f"{manage_url(token)}?cant-come=1#cancel" if token else "",
            "feedback_url": f"{manage_url(token)}#feedback" if token else "",
            "waitlist_place": rsvp.waitlist_place,
            "invitation": str(method or ""),
            "attachment_name": attachment_name(),
            "SITE_URL": settings.SITE_URL,
            **extra,
        }
        if kind == Kind.RSVP_CHANGED:
            context["changed_lines"] = changed_lines(rsvp, extra["before"])
        if kind == Kind.STAFF_MESSAGE:
            context["message"] = texts.staff_message_text(**extra)
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
        # Template tags on lines of their own leave blank lines behind: one blank line at most.
        text = re.sub(r"\n{3,}", "\n\n", render_to_string(f"emails/{kind}_body.txt", context))
        html = render_to_string(f"emails/{kind}_body.html", context)
        calendar = (
            invitation_bytes(rsvp, method=method, attendee=recipient).decode() if method else ""
        )
    return {"subject": subject, "text": text, "html": html, "calendar": calendar}


def changed_lines(rsvp: Rsvp, before: dict) -> list[str]:
    """'People: 3 (before: 2)', one line per detail the change touched, in the active language."""
    now = {name: getattr(rsvp, name) for name in before}
    lines = []
    line = gettext("%(detail)s: %(now)s (before: %(before)s)")

    def add(detail, new, old):
        lines.append(line % {"detail": detail, "now": new, "before": old})

    if now["party_size"] != before["party_size"]:
        add(gettext("People"), now["party_size"], before["party_size"])
    if now["first_name"] != before["first_name"]:
        add(
            gettext("Name"),
            now["first_name"] or gettext("(none)"),
            before["first_name"] or gettext("(none)"),
        )
    if now["language"] != before["language"]:
        add(gettext("Language"), language_name(now["language"]), language_name(before["language"]))
    if _needs(now) != _needs(before):
        add(gettext("Needs"), _needs(now), _needs(before))
    if now["note"] != before["note"]:
        lines.append(gettext("Your note changed."))
    return lines


def _needs(details):
    needs = []
    if details["needs_interpretation"]:
        needs.append(
            gettext("Interpretation into %(language)s")
            % {"language": language_name(details["needs_interpretation"])}
        )
    if details["needs_wheelchair_access"]:
        needs.append(gettext("Wheelchair or step-free access"))
    if details["needs_childcare"]:
        needs.append(gettext("Childcare"))
    return ", ".join(needs) or gettext("None")


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
        content = _render(email.kind, rsvp, recipient=email.recipient, **email.context)
    with translation.override(email.language):
        sender = sender_address()
        filename = attachment_name()
    message = Message(
        content["subject"],
        content["text"],
        from_email=sender,
        to=[email.recipient],
        reply_to=[settings.EMAIL_NO_REPLY_ADDRESS],
        # Extra headers a message asked for when queued (alerts: List-Unsubscribe, RFC 8058).
        headers={
            "Message-ID": email.message_id,
            "Content-Language": email.language,
            **email.context.get("headers", {}),
        },
        calendar=content["calendar"],
    )
    message.attach_alternative(content["html"], "text/html")
    if content["calendar"]:
        message.attach(filename, content["calendar"].encode(), "application/ics")
    mail_backend.hand_over(message, handing_over=lambda: outbox.handing_over(email))


_METHOD = re.compile(r"^METHOD:(\w+)\r?$", re.MULTILINE)


class Message(EmailMultiAlternatives):
    """Text, HTML and (when `calendar` is given) the invitation, as calendar apps want it: the
    text/calendar part last in the multipart/alternative, not base64, with the METHOD of its
    content as `method=` (Outlook refuses a mismatch; Gmail ignores a part without it). The
    subject is folded after its first encoded word, never before it: mail programs showed
    a fold right after "Subject:" as a leading space."""

    def __init__(self, *args: Any, calendar: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calendar = calendar

    def message(self, **kwargs):
        msg = super().message(**kwargs)
        if self.calendar:
            part = SafeMIMEText(
                self.calendar, "calendar", self.encoding or settings.DEFAULT_CHARSET
            )
            found = _METHOD.search(self.calendar)
            # Unquoted, as calendar apps write it (method=REQUEST).
            part.set_param("method", found.group(1) if found else "PUBLISH", requote=False)
            alternative = (
                msg if msg.get_content_type() == "multipart/alternative" else msg.get_payload(0)
            )
            alternative.attach(part)
        subject = str(self.subject)
        if not subject.isascii():
            del msg["Subject"]
            # Past Django's one-line check: the fold Header writes is a valid header.
            MimeMessage.__setitem__(
                msg, "Subject", Header(subject, "utf-8", header_name="Subject").encode()
            )
        return msg
