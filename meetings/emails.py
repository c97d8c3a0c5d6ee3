"""Every message the site sends: one function per kind, rendered in the recipient's language.

Each function takes the RSVPs to tell (those without an email address are skipped) and queues
one message per RSVP: OutgoingEmail rows plus a task carrying only their ids, all written in
the caller's transaction. A rolled-back change therefore mails nobody, and no request ever
talks to the mail server. A message with a private link is written at once (the link exists
only then); the others are written by the worker when it sends them. The worker (`manage.py db_worker`) runs
`send_queued_email`, which hands the message to the server once (`deliver`) and erases the
address and text afterwards. Templates: emails/<kind>_subject.txt, _body.txt and _body.html.

Once, not twice: a row is claimed by moving it from "queued" to "sending" in one UPDATE, so a
second worker or a repeated task finds nothing to send. It is marked "sent" as soon as the
server accepts it. A failure before the server was handed the whole message is retried with
a growing delay for EMAIL_RETRY_HOURS; a failure after (no answer to the end of the message)
is not retried, since the message may have arrived: it is marked failed, for staff to see.
A worker killed between the server's "accepted" and the "sent" mark leaves the row in
"sending", where it stays (the admin shows it) rather than risk a second copy.
"""

import contextlib
import datetime as dt
import logging
import re
import smtplib
from collections.abc import Iterable
from email.utils import formataddr, make_msgid, parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tasks import task

from meetings import sms_backend, texts
from meetings.ical import meeting_calendar_bytes
from meetings.models import OutgoingEmail, Rsvp, SmsOptOut
from meetings.phones import opt_out_hash
from meetings.tokens import manage_url

if TYPE_CHECKING:
    from meetings.models import Rsvp

logger = logging.getLogger(__name__)

Kind = OutgoingEmail.Kind
Status = OutgoingEmail.Status
Channel = OutgoingEmail.Channel


def rsvp_confirmation(rsvp: "Rsvp", *, token: str, same_email: bool = False) -> None:
    """'You are confirmed' or 'you are on the waitlist', with the private link.

    `same_email`: the address already has another RSVP to this meeting, which stays as it
    was; the message says so (both RSVPs are kept, each with its own link).
    """
    _queue(Kind.RSVP_CONFIRMATION, [rsvp], token=token, same_email=same_email)


def rsvp_promoted(rsvps: Iterable["Rsvp"]) -> None:
    """'A seat freed up: you are confirmed', to each party promoted from the waitlist."""
    _queue(Kind.RSVP_PROMOTED, rsvps)


def meeting_changed(rsvps: Iterable["Rsvp"], *, changes: Iterable[str]) -> None:
    """Staff moved, rescheduled, cancelled or reinstated the meeting: `changes` says which
    (MeetingChange values); the updated calendar file is attached."""
    _queue(Kind.MEETING_CHANGED, rsvps, changes=sorted(changes))


def rsvp_reminder(rsvp: "Rsvp", *, token: str) -> None:
    """A reminder before the meeting: when and where, the way there, a private link (a new
    one, `token`, made for this email) and a one-click way to say "I can't come"."""
    _queue(Kind.RSVP_REMINDER, [rsvp], token=token)


def feedback_request(rsvp: "Rsvp", *, token: str) -> None:
    """After the meeting: three optional anonymous questions, behind a new private link."""
    _queue(Kind.FEEDBACK_REQUEST, [rsvp], token=token)


def staff_message(
    rsvps: Iterable["Rsvp"], *, template: str, **fields: object
) -> list[OutgoingEmail]:
    """A short message from staff about the meeting (`template`, one of
    texts.STAFF_TEMPLATES, with its `fields`), in each party's language, by email and text."""
    return _queue(Kind.STAFF_MESSAGE, rsvps, template=template, **fields)


def sender_address() -> str:
    """DEFAULT_FROM_EMAIL's address under the site's name in the active language."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((gettext("Police Community Outreach"), address))


# Queueing, in the caller's transaction ------------------------------------------------------


def _queue(kind, rsvps, *, token=None, **context):
    """One outbox row per RSVP with an email, one per RSVP with a phone number (a text),
    and one task naming the rows, in one go.

    A message with a private link (`token`) is written now: the token exists only here. Any
    other is written by the worker when it sends it, from the RSVP, its meeting as it is
    then, and `context` (plain values, no personal data), so a change that tells two hundred
    people costs the request two inserts. A number that texted STOP gets no row.
    """
    rsvps = list(rsvps)
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
        if rsvp.email
    ]
    phones = [rsvp for rsvp in rsvps if rsvp.phone] if settings.SMS_ENABLED else []
    stopped = opted_out({rsvp.phone for rsvp in phones})
    rows += [
        OutgoingEmail(
            kind=kind,
            channel=Channel.SMS,
            language=rsvp.language,
            rsvp=rsvp,
            recipient=rsvp.phone,
            message_id=make_msgid(domain=domain),
            context=context,
            text=texts.compose(kind, rsvp, token=token, **context) if token else "",
        )
        for rsvp in phones
        if rsvp.phone not in stopped
    ]
    _enqueue(rows)
    return rows


def queue_text(number: str, *, language: str, text: str, kind: str) -> OutgoingEmail | None:
    """Queue one text to `number` (E.164) in the caller's transaction: for messages about no
    RSVP (e.g. alerts of new meetings). `text` is sent as it is; keep it short
    (meetings.texts.fit, meetings.segments). None when the number texted STOP."""
    if not settings.SMS_ENABLED or opted_out({number}):
        return None
    row = OutgoingEmail(
        kind=kind,
        channel=Channel.SMS,
        language=language,
        recipient=number,
        message_id=make_msgid(domain=urlsplit(settings.SITE_URL).hostname),
        text=texts.segments.fit_alphabet(text, language),
    )
    _enqueue([row])
    return row


def opted_out(numbers: set[str]) -> set[str]:
    """Those of `numbers` that texted STOP (one query; the list keeps only hashes)."""
    if not numbers:
        return set()
    by_hash = {opt_out_hash(number): number for number in numbers}
    found = SmsOptOut.objects.filter(number_hash__in=by_hash).values_list("number_hash", flat=True)
    return {by_hash[hashed] for hashed in found}


def _enqueue(rows):
    if not rows:
        return
    with transaction.atomic():
        created = OutgoingEmail.objects.bulk_create(rows)
        # The task carries the rows' ids and nothing else: no address, no name, no link.
        send_queued_email.enqueue([email.pk for email in created])


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


# Sending, in the worker ----------------------------------------------------------------------


@task()
def send_queued_email(email_ids: list[int]) -> None:
    """The worker's task: send queued OutgoingEmails (mail and texts), one by one (see
    `deliver`).

    When a channel's server cannot be reached, the rest of that channel wait as long as the
    message that failed instead of each costing EMAIL_TIMEOUT (or SMS_TIMEOUT) now.
    """
    channels = dict(OutgoingEmail.objects.filter(pk__in=email_ids).values_list("pk", "channel"))
    unreachable: dict[str, int] = {}  # channel -> the message that found it unreachable
    waiting: dict[str, list[int]] = {}
    for email_id in email_ids:
        channel = channels.get(email_id, Channel.EMAIL)
        if channel in unreachable:
            waiting.setdefault(channel, []).append(email_id)
        elif deliver(email_id) == UNREACHABLE:
            unreachable[channel] = email_id
    for channel, like in unreachable.items():
        _postpone(waiting.get(channel, []), like=like)


def _postpone(email_ids, *, like):
    retry_at = OutgoingEmail.objects.values_list("next_attempt_at", flat=True).get(pk=like)
    if not email_ids or retry_at is None:
        return
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk__in=email_ids, status=Status.QUEUED).exclude(
            next_attempt_at__gt=retry_at
        ).update(next_attempt_at=retry_at, last_error="Not tried: the server was unreachable.")
        send_queued_email.using(run_after=retry_at).enqueue(list(email_ids))


# What `deliver` returns when the server could not be reached (the message waits, queued).
UNREACHABLE = "unreachable"


class MessageMayHaveArrived(Exception):
    """The server was handed the whole message but never said whether it took it."""


def deliver(email_id: int) -> str:
    """Send the queued message `email_id` once; returns its status afterwards.

    Never raises for a mail server's failure (a task's error would be stored with its
    traceback, which may quote an address): the row records what happened instead.
    """
    now = timezone.now()
    # The claim: only one worker moves the row from "queued" to "sending".
    claimed = (
        OutgoingEmail.objects.filter(pk=email_id, status=Status.QUEUED)
        .exclude(next_attempt_at__gt=now)
        .update(status=Status.SENDING, attempts=F("attempts") + 1)
    )
    if not claimed:
        # Sent, given up on, being sent by another worker, or not due yet (its own retry
        # task is queued for later).
        return "skipped"
    email = OutgoingEmail.objects.get(pk=email_id)
    if email.channel != Channel.EMAIL and opted_out({email.recipient}):
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.WITHDRAWN,
            next_attempt_at=None,
            last_error="The number texted STOP before it was sent.",
            **_ERASED,
        )
        return Status.WITHDRAWN
    try:
        provider_id = _send(email) if email.channel == Channel.EMAIL else _send_text(email)
    except Exception as error:  # noqa: BLE001 - whatever the server did, the row records it
        return _record_failure(email, error, now=now)
    # Sent: nothing personal stays behind.
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
        provider_id=provider_id or "",
        **_ERASED,
    )
    return Status.SENT


_ERASED = {"recipient": "", "subject": "", "text": "", "html": "", "calendar": ""}


def _send(email):
    if email.text:
        content = {name: getattr(email, name) for name in ("subject", "text", "html", "calendar")}
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
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        if connection.send_messages([message]) != 1:
            raise smtplib.SMTPException("the backend sent nothing")
    except Exception:
        smtp_connection = getattr(connection, "connection", None)
        if getattr(smtp_connection, "message_handed_over", False):
            raise MessageMayHaveArrived from None
        raise
    finally:
        # A server that hangs up on QUIT changes nothing about the message.
        with contextlib.suppress(Exception):
            connection.close()


def _send_text(email):
    """Hand a text to the SMS provider (SMS_URL); returns the provider's id for it."""
    if email.text:
        body = email.text
    else:
        rsvp = Rsvp.objects.select_related("meeting__venue").get(pk=email.rsvp_id)
        body = texts.compose(email.kind, rsvp, **email.context)
    sent = sms_backend.get_sender().send(
        to=email.recipient,
        body=body,
        channel=email.channel,
        status_callback=settings.SITE_URL + reverse("sms-status"),
    )
    return sent.provider_id


def record_opt_out(number: str) -> bool:
    """Remember that `number` texted STOP (as a keyed hash) and withdraw what is still queued
    for it. True when it was not on the list yet."""
    with transaction.atomic():
        _row, created = SmsOptOut.objects.get_or_create(number_hash=opt_out_hash(number))
        OutgoingEmail.objects.filter(recipient=number, status=Status.QUEUED).exclude(
            channel=Channel.EMAIL
        ).withdraw("The number texted STOP before it was sent.")
    return created


def _record_failure(email, error, *, now):
    """Retry later, or give up for good; log the kind, id and error class, never an address."""
    reason = _describe(error)
    age = now - email.created_at
    permanent = (
        isinstance(error, MessageMayHaveArrived)
        or _refused_for_good(error)
        or (isinstance(error, sms_backend.SmsError) and not error.retry)
    )
    if getattr(error, "code", None) == sms_backend.UNSUBSCRIBED_RECIPIENT:
        # The provider knows of a STOP we never heard (sent to it directly, or before us).
        record_opt_out(email.recipient)
    if permanent or age >= dt.timedelta(hours=settings.EMAIL_RETRY_HOURS):
        # The address stays, for staff who may see it to reach the person another way;
        # the text (with its private link) goes.
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.FAILED,
            next_attempt_at=None,
            last_error=reason,
            subject="",
            text="",
            html="",
            calendar="",
        )
        logger.error(
            "Gave up on outgoing email %s (%s) after %d attempt(s): %s",
            email.pk,
            email.kind,
            email.attempts,
            reason,
        )
        return Status.FAILED
    delay = min(
        settings.EMAIL_RETRY_FIRST_SECONDS * 2 ** (email.attempts - 1),
        settings.EMAIL_RETRY_MAX_SECONDS,
    )
    if getattr(error, "retry_after", None):
        # The provider said when (a 429's Retry-After): not sooner.
        delay = max(delay, error.retry_after)
    retry_at = timezone.now() + dt.timedelta(seconds=delay)
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.QUEUED, next_attempt_at=retry_at, last_error=reason
        )
        send_queued_email.using(run_after=retry_at).enqueue([email.pk])
    logger.warning(
        "Outgoing email %s (%s) not sent, attempt %d: %s; trying again in %d s",
        email.pk,
        email.kind,
        email.attempts,
        reason,
        delay,
    )
    if isinstance(error, UNREACHABLE_ERRORS + (sms_backend.Unreachable,)):
        return UNREACHABLE
    return Status.QUEUED


# No connection, no greeting, or a connection lost before the message went over.
UNREACHABLE_ERRORS = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


def _describe(error):
    """The error's class and SMTP code: never its text, which may quote an address."""
    if isinstance(error, MessageMayHaveArrived):
        return "No answer after the whole message was sent: it may have arrived."
    if isinstance(error, sms_backend.SmsError):
        return error.describe()[:200]
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in error.recipients.values()})
        code = ",".join(str(code) for code in codes)
    name = type(error).__name__
    return f"{name} {code}" if code else name


def _refused_for_good(error):
    """The server refused the address with a permanent (5xx) answer: retrying will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    return False


class _HandOverTracking:
    """Notes when the whole message (up to the final ".") went to the server, so a timeout
    after that point is told apart from one before it."""

    message_handed_over = False

    def send(self, s):
        super().send(s)  # type: ignore[misc]  # a mixin for smtplib.SMTP and SMTP_SSL
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_handed_over = True


class _SMTP(_HandOverTracking, smtplib.SMTP):
    pass


class _SMTP_SSL(_HandOverTracking, smtplib.SMTP_SSL):
    pass


class SmtpBackend(smtp.EmailBackend):
    """Django's SMTP backend, on connections that note when a message was handed over."""

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP
