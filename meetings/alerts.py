"""Alerts of new meetings, with no account: subscribe, confirm, the daily digest, unsubscribe.

A resident asks to hear of new meetings held in a language, in an area of the city, at a
venue, or of a series, by email, by text message, or both. What is kept: the address as typed
(or the number in E.164), the language to write in, the choice, and two dates (confirmed,
last digest). Nothing else: no name, no client address.

- Double opt-in: a choice is pending until confirmed, by the link in the email
  (`confirm_token`, signed, valid ALERTS_CONFIRM_DAYS days) or by replying YES to the text
  (`confirm_by_text`, for the inbound-text webhook). Pending choices older than that are
  deleted by the scheduler's pass (`purge_unconfirmed`).
- The digest (`send_digests`, from `manage.py send_reminders`): at most one message a day
  per address, listing the upcoming meetings published since the last one (or since the
  choice was confirmed). Claimed by one conditional UPDATE per address, in the transaction
  that queues the message: two schedulers running at once send it once.
- Unsubscribe (`unsubscribe`): one click on the link every message carries (and, for email,
  the RFC 8058 List-Unsubscribe headers) deletes the subscriber and its choices, and erases
  the outbox copies of its messages (AlertSubscriber.objects.forget). A STOP does the same
  for a number (sms.record_opt_out), whether it comes as a reply or as the provider's refusal.
- Staff see `counts()` only.

Email goes through the outbox (OutgoingEmail) and its worker. Texts go through the function
named by ALERTS_TEXT_SENDER (by default `meetings.sms.queue_text`, the outbox's text channel),
called as f(number, language=…, text=…, kind=…) in the caller's transaction; while it is empty
no text is sent (README, "Alerts of new meetings"). The inbound-text webhook
(meetings.sms_views) hands a YES to `confirm_by_text` first (lifting an earlier STOP: a YES
asked for is an opt-in); a STOP ends the number's subscription in sms.record_opt_out.
"""

import datetime as dt
import logging
import re
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from meetings import outbox
from meetings.formatting import language_name, long_date, time_range
from meetings.models import AlertChoice, AlertSubscriber, Meeting, OutgoingEmail

logger = logging.getLogger(__name__)

Channel = AlertSubscriber.Channel
ALERT_KINDS = AlertSubscriber.MESSAGE_KINDS
# A second request for the same pending choice this soon sends nothing new (the form cannot
# be used to flood someone's inbox).
RESEND_AFTER = dt.timedelta(hours=1)
UNSUBSCRIBED = "The resident unsubscribed from alerts."
DIGEST_EVERY = dt.timedelta(days=1)
# How many meetings a text lists before "and N more" with the listing's link.
TEXT_MEETINGS = 3
# What a reply must say to confirm, in any of the site's languages (case and accents aside).
YES_WORDS = {"yes", "y", "si", "sí", "có", "co", "đồng ý", "dong y", "ok"}

_CONFIRM_SALT = "meetings.alerts.confirm"
_UNSUBSCRIBE_SALT = "meetings.alerts.unsubscribe"


# Links ----------------------------------------------------------------------------------------


def confirm_token(choice: AlertChoice) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(str(choice.pk))


def unsubscribe_token(subscriber: AlertSubscriber) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(str(subscriber.pk))


def _read(token, signer, **kwargs):
    try:
        return int(signer.unsign(token, **kwargs))
    except (signing.BadSignature, ValueError):
        return None


def choice_for_token(token: str) -> AlertChoice | None:
    """The choice a confirmation link is for, or None (wrong, expired, or since deleted)."""
    pk = _read(
        token,
        signing.TimestampSigner(salt=_CONFIRM_SALT),
        max_age=dt.timedelta(days=settings.ALERTS_CONFIRM_DAYS),
    )
    if pk is None:
        return None
    return AlertChoice.objects.select_related("subscriber", "venue", "series").filter(pk=pk).first()


def subscriber_id_for_token(token: str) -> int | None:
    """The subscriber an unsubscribe link names (it may be gone already), or None if the link
    is not one of ours."""
    return _read(token, signing.Signer(salt=_UNSUBSCRIBE_SALT))


def _absolute(view_name, language, **kwargs):
    with translation.override(language):
        return settings.SITE_URL + reverse(view_name, kwargs=kwargs)


def confirm_url(choice, language):
    return _absolute("meetings:alerts-confirm", language, token=confirm_token(choice))


def unsubscribe_url(subscriber):
    return _absolute(
        "meetings:alerts-unsubscribe", subscriber.language, token=unsubscribe_token(subscriber)
    )


# What a choice is, in words ---------------------------------------------------------------------


def describe(choice: AlertChoice) -> str:
    """'new meetings held in Spanish' / 'reuniones nuevas en la zona de Oak Cliff'…, in the active
    language."""
    if choice.held_in:
        return gettext("new meetings held in %(language)s") % {
            "language": language_name(choice.held_in)
        }
    if choice.area:
        return gettext("new meetings in %(area)s") % {"area": choice.area}
    if choice.venue is not None:
        return gettext("new meetings at %(venue)s") % {"venue": choice.venue.name}
    assert choice.series is not None  # noqa: S101 - the check constraint: exactly one choice
    return gettext("new meetings of the series %(series)s") % {"series": choice.series.title}


def matches(choice: AlertChoice, meeting: Meeting) -> bool:
    """Whether `meeting` (with its venue) is one `choice` is about."""
    if choice.held_in:
        return choice.held_in == meeting.language or choice.held_in in (
            meeting.interpretation_languages or []
        )
    if choice.area:
        return choice.area.casefold() == meeting.venue.area.strip().casefold()
    if choice.venue_id:
        return choice.venue_id == meeting.venue_id
    return choice.series_id == meeting.series_id


# Subscribing and confirming -------------------------------------------------------------------


def subscribe(*, choice: dict, email: str = "", phone: str = "", language: str) -> None:
    """Keep a pending choice for the email address and/or the number (E.164), and ask each
    to confirm. Says nothing about what was there before: an address already confirmed for
    this choice gets nothing new, one asked less than an hour ago neither, and the caller
    shows the same page in every case."""
    for channel, address in ((Channel.EMAIL, email), (Channel.TEXT, phone)):
        if address:
            _subscribe_one(channel, address, choice=choice, language=language)


def _subscribe_one(channel, address, *, choice, language):
    now = timezone.now()
    with transaction.atomic():
        subscriber = _subscriber(channel, address, language)
        pending = subscriber.choices.filter(**choice).first()
        if pending is not None and (
            pending.confirmed_at is not None or now - pending.created_at < RESEND_AFTER
        ):
            return
        if pending is None:
            pending = AlertChoice.objects.create(subscriber=subscriber, **choice)
        else:
            # Asked again: the week to confirm starts over.
            AlertChoice.objects.filter(pk=pending.pk).update(created_at=now)
        if channel == Channel.EMAIL:
            _queue_confirmation_email(subscriber, pending, language)
            return
        with translation.override(subscriber.language):
            text = gettext(
                "Police Community Outreach: reply YES to get a text about %(what)s. "
                "If you did not ask, ignore this message."
            ) % {"what": describe(pending)}
        _send_text(subscriber, text, kind=OutgoingEmail.Kind.ALERT_CONFIRMATION)


def _subscriber(channel, address, language):
    """The subscriber row for this address, made if new (two requests at once make one)."""
    found = AlertSubscriber.objects.filter(channel=channel, address__iexact=address).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AlertSubscriber.objects.create(
                channel=channel, address=address, language=language
            )
    except IntegrityError:
        return AlertSubscriber.objects.get(channel=channel, address__iexact=address)


def confirm(choice: AlertChoice, *, language: str) -> None:
    """The confirmation link was followed: the choice is on, and the subscriber is written
    to in `language` (the link's) from now on."""
    now = timezone.now()
    AlertChoice.objects.filter(pk=choice.pk, confirmed_at__isnull=True).update(confirmed_at=now)
    AlertSubscriber.objects.filter(pk=choice.subscriber_id).update(language=language)


def pending_by_text(number: str, body: str) -> QuerySet[AlertChoice]:
    """The pending choices (asked in the last ALERTS_CONFIRM_DAYS days) that a reply `body`
    from `number` (E.164) confirms: all of the number's when it says YES, else none."""
    word = re.sub(r"[\s.!¡]+", " ", body).strip().casefold()
    if word not in YES_WORDS:
        return AlertChoice.objects.none()
    since = timezone.now() - dt.timedelta(days=settings.ALERTS_CONFIRM_DAYS)
    return AlertChoice.objects.filter(
        subscriber__channel=Channel.TEXT,
        subscriber__address=number,
        confirmed_at__isnull=True,
        created_at__gte=since,
    )


def confirm_by_text(number: str, body: str) -> bool:
    """For the inbound-text webhook: `number` (E.164) replied `body`. A YES confirms the
    number's pending choices (`pending_by_text`) and gets a short reply with the way to stop.
    True if it confirmed something (the webhook then does nothing else with the reply).
    The webhook lifts a STOP the number sent before first: a YES asked for is an opt-in."""
    confirmed = pending_by_text(number, body).update(confirmed_at=timezone.now())
    if not confirmed:
        return False
    subscriber = AlertSubscriber.objects.get(channel=Channel.TEXT, address=number)
    with translation.override(subscriber.language):
        text = gettext(
            "Police Community Outreach: you will get a text when new meetings are posted, "
            "at most one a day. To stop: %(link)s or reply STOP."
        ) % {"link": unsubscribe_url(subscriber)}
    _send_text(subscriber, text, kind=OutgoingEmail.Kind.ALERT_CONFIRMATION)
    return True


# Unsubscribing and forgetting -----------------------------------------------------------------


def unsubscribe(subscriber_id: int) -> bool:
    """Delete the subscriber and its choices, and erase the address from every outbox copy
    of its messages. False if it was gone already. (A STOP reply, or a text the provider
    refuses because the number texted STOP, ends a text subscription the same way, in
    sms.record_opt_out.)"""
    with transaction.atomic():
        found = AlertSubscriber.objects.select_for_update().filter(pk=subscriber_id)
        return found.forget(UNSUBSCRIBED) > 0


def purge_unconfirmed(now: dt.datetime | None = None) -> int:
    """Delete choices never confirmed within ALERTS_CONFIRM_DAYS days, and subscribers left
    with none (their outbox copies erased too). Returns how many subscribers went."""
    now = now or timezone.now()
    expired = now - dt.timedelta(days=settings.ALERTS_CONFIRM_DAYS)
    AlertChoice.objects.filter(confirmed_at__isnull=True, created_at__lt=expired).delete()
    with transaction.atomic():
        left_with_none = AlertSubscriber.objects.filter(
            choices__isnull=True, created_at__lt=expired
        ).select_for_update(of=("self",))
        return left_with_none.forget("The subscription was never confirmed.")


# The digest -----------------------------------------------------------------------------------


def send_digests(now: dt.datetime | None = None) -> int:
    """Queue one message per address that has new meetings to hear of and got none in the
    last day. Returns how many were queued. Safe to run from two schedulers at once."""
    now = now or timezone.now()
    purge_unconfirmed(now)
    # An alert message given up on keeps no address: staff never see it, and the next
    # digest tries again anyway.
    OutgoingEmail.objects.filter(kind__in=ALERT_KINDS, status=OutgoingEmail.Status.FAILED).exclude(
        recipient=""
    ).update(recipient="")
    cutoff = now - DIGEST_EVERY
    due = list(
        AlertSubscriber.objects.filter(choices__confirmed_at__isnull=False)
        .filter(Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=cutoff))
        .distinct()
        .order_by("pk")
    )
    if not due:
        return 0
    choices: dict[int, list[AlertChoice]] = {}
    for choice in AlertChoice.objects.filter(
        subscriber__in=due, confirmed_at__isnull=False
    ).select_related("venue", "series"):
        choices.setdefault(choice.subscriber_id, []).append(choice)
    earliest = min(
        _since(choice, subscriber)
        for subscriber in due
        for choice in choices.get(subscriber.pk, [])
    )
    # Every meeting any of them may hear of, in one query: upcoming, published (not
    # cancelled), and first published since the oldest "since" among them.
    recent = list(
        Meeting.objects.filter(
            status=Meeting.Status.PUBLISHED,
            published_at__gt=earliest,
            published_at__lte=now,
            starts_at__gte=now,
        )
        .select_related("venue", "series")
        .order_by("starts_at", "pk")
    )
    if not recent:
        return 0
    sender = text_sender()
    queued = 0
    for subscriber in due:
        if subscriber.channel == Channel.TEXT and sender is None:
            continue
        meetings = [
            meeting
            for meeting in recent
            if meeting.published_at is not None
            and any(
                matches(choice, meeting) and meeting.published_at > _since(choice, subscriber)
                for choice in choices.get(subscriber.pk, [])
            )
        ]
        if meetings and _send_digest(subscriber, choices[subscriber.pk], meetings, now, cutoff):
            queued += 1
    return queued


def _since(choice: AlertChoice, subscriber: AlertSubscriber) -> dt.datetime:
    """What a confirmed choice hears of: meetings first published after this."""
    assert choice.confirmed_at is not None  # noqa: S101 - only confirmed choices are read
    if subscriber.last_digest_at is None:
        return choice.confirmed_at
    return max(choice.confirmed_at, subscriber.last_digest_at)


def _send_digest(subscriber, choices, meetings, now, cutoff):
    with transaction.atomic():
        # The claim: only one scheduler moves the date past the cutoff.
        claimed = (
            AlertSubscriber.objects.filter(pk=subscriber.pk)
            .filter(Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=cutoff))
            .update(last_digest_at=now)
        )
        if not claimed:
            return False
        if subscriber.channel == Channel.EMAIL:
            _queue_digest_email(subscriber, choices, meetings)
        else:
            _send_text(
                subscriber,
                _digest_text(subscriber, meetings),
                kind=OutgoingEmail.Kind.ALERT_DIGEST,
            )
    return True


def _meeting_lines(meetings, language):
    with translation.override(language):
        return [
            {
                "title": meeting.title,
                "date": long_date(meeting.local_starts_at),
                "time": time_range(meeting.local_starts_at, meeting.local_ends_at),
                "venue": meeting.venue.name,
                "url": settings.SITE_URL + meeting.get_absolute_url(),
            }
            for meeting in meetings
        ]


def _digest_text(subscriber, meetings):
    lines = _meeting_lines(meetings[:TEXT_MEETINGS], subscriber.language)
    with translation.override(subscriber.language):
        parts = [gettext("Police Community Outreach, new meetings:")]
        parts += [f"{line['title']}, {line['date']} {line['time']} {line['url']}" for line in lines]
        if len(meetings) > TEXT_MEETINGS:
            parts.append(
                gettext("And %(count)d more: %(link)s")
                % {
                    "count": len(meetings) - TEXT_MEETINGS,
                    "link": settings.SITE_URL + reverse("meetings:meeting-list"),
                }
            )
        parts.append(gettext("To stop: %(link)s") % {"link": unsubscribe_url(subscriber)})
    return "\n".join(parts)


# Queueing messages ----------------------------------------------------------------------------


def _queue_email(kind, subscriber, context):
    """An outbox row written now (its links exist only here) and the worker's task, in the
    caller's transaction (`outbox.put`). The List-Unsubscribe headers (RFC 8058) travel in
    its context; `emails.send` adds them to the message."""
    language = subscriber.language
    unsubscribe = unsubscribe_url(subscriber)
    with translation.override(language):
        context = {**context, "unsubscribe_url": unsubscribe, "SITE_URL": settings.SITE_URL}
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
        text = re.sub(r"\n{3,}", "\n\n", render_to_string(f"emails/{kind}_body.txt", context))
        html = render_to_string(f"emails/{kind}_body.html", context)
    row = OutgoingEmail(
        kind=kind,
        language=language,
        recipient=subscriber.address,
        message_id=make_msgid(domain=urlsplit(settings.SITE_URL).hostname),
        subject=subject,
        text=text,
        html=html,
        context={
            "headers": {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        },
    )
    outbox.put([row])


def _queue_confirmation_email(subscriber, choice, language):
    with translation.override(language):
        what = describe(choice)
    _queue_email(
        OutgoingEmail.Kind.ALERT_CONFIRMATION,
        subscriber,
        {
            "what": what,
            "confirm_url": confirm_url(choice, language),
            "confirm_days": settings.ALERTS_CONFIRM_DAYS,
            "language": subscriber.language,
        },
    )


def _queue_digest_email(subscriber, choices, meetings):
    with translation.override(subscriber.language):
        what = [describe(choice) for choice in choices]
    _queue_email(
        OutgoingEmail.Kind.ALERT_DIGEST,
        subscriber,
        {
            "meetings": _meeting_lines(meetings, subscriber.language),
            "what": what,
            "listing_url": _absolute("meetings:meeting-list", subscriber.language),
            "language": subscriber.language,
        },
    )


def text_sender():
    """The function that queues a text (ALERTS_TEXT_SENDER), or None while there is none."""
    if not settings.ALERTS_TEXT_SENDER:
        return None
    return import_string(settings.ALERTS_TEXT_SENDER)


def _send_text(subscriber, text, *, kind):
    """Hand the text to the text sender, called as f(number, language=…, text=…, kind=…) (it
    queues an outbox row in the caller's transaction); False (and a log line without the
    number) when there is none yet."""
    sender = text_sender()
    if sender is None:
        logger.warning(
            "Alert text to subscriber %s not sent: no ALERTS_TEXT_SENDER.", subscriber.pk
        )
        return False
    sender(subscriber.address, language=subscriber.language, text=text, kind=kind)
    return True


# Staff: counts, never a list ------------------------------------------------------------------


def counts() -> dict:
    """How many addresses hear of new meetings, per channel, language, area, venue and series.
    Confirmed subscriptions only, plus one total of those still waiting for confirmation."""
    confirmed = AlertChoice.objects.filter(confirmed_at__isnull=False).order_by()

    def per(field, label_field=None):
        rows = (
            confirmed.exclude(**{f"{field}__isnull": True})
            .exclude(**({field: ""} if label_field is None else {}))
            .values(label_field or field)
            .annotate(total=Count("subscriber", distinct=True))
            .order_by(label_field or field)
        )
        return [(row[label_field or field], row["total"]) for row in rows]

    subscribers = (
        AlertSubscriber.objects.filter(choices__confirmed_at__isnull=False)
        .order_by()
        .values("channel")
        .annotate(total=Count("pk", distinct=True))
    )
    by_channel = {row["channel"]: row["total"] for row in subscribers}
    return {
        "channels": [(label, by_channel.get(value, 0)) for value, label in Channel.choices],
        "languages": [(language_name(code), total) for code, total in per("held_in")],
        "areas": per("area"),
        "venues": per("venue", "venue__name"),
        "series": per("series", "series__title"),
        "pending": AlertSubscriber.objects.exclude(choices__confirmed_at__isnull=False).count(),
    }
