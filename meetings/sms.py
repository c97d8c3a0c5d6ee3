"""The text message channel of the outbox: which RSVPs get a text, and the sender the outbox
worker calls for a text (settings.OUTBOX_SENDERS["sms"]).

Texts ride the same outbox as mail (meetings/outbox.py): rows written in the change's
transaction, one task naming them, claimed once, retried and given up on alike. Here:

- `rows_for(kind, rsvps, …)`: one row per RSVP with a phone number that has not texted STOP
  (emails._queue adds them to its own, so a change puts mail and texts in one task);
- `queue_text(number, …)`: a text about no RSVP (alerts of new meetings use it);
- `send(row)`: writes the text if it was not written when queued, checks the opt-out list
  again, hands it to the provider (meetings/sms_backend.py) and keeps the provider's id for
  its delivery reports; the provider's answers become outbox.SendFailed;
- `record_opt_out(number)`: a STOP (by reply, or Twilio's 21610) as a keyed hash.

The moment a text is handed over is the POST to the provider: `sms_backend` calls its
`handing_over` hook once the provider is reached, just before the request goes; `send` passes
`outbox.handing_over(row)` as that hook, which stamps `handed_over_at` (so `outbox.recover`
settles a text a killed worker left in "sending" as it settles mail) and stops a row
withdrawn meanwhile. A failure before it (no connection) is retried; one after it (no answer)
may hide a sent text: the row becomes "unknown", never sent again by itself (staff may resend).
"""

from collections.abc import Iterable
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from meetings import outbox, segments, sms_backend, texts
from meetings.models import AlertSubscriber, OutgoingEmail, Rsvp, SmsOptOut
from meetings.phones import opt_out_hash

if TYPE_CHECKING:
    from meetings.models import Rsvp as RsvpType

Channel = OutgoingEmail.Channel
Status = OutgoingEmail.Status

STOPPED = "The number texted STOP before it was sent."


def rows_for(
    kind: str,
    rsvps: Iterable["RsvpType"],
    *,
    token: str | None = None,
    tokens: dict[int, str] | None = None,
    render_now: bool = False,
    phone: str = "",
    **context: Any,
) -> list[OutgoingEmail]:
    """Unsaved outbox rows: a text per RSVP with a phone number not on the opt-out list.
    A text with a private link (`token`, or the RSVP's own in `tokens`: {pk: token}), or
    about a change of the RSVP itself
    (`render_now`: it changes again, or is erased, right after), is written now; any other
    when it is sent. `phone` replaces the RSVP's own number (erased by a cancellation before
    its last text is queued). What was `before` a change stays out of the row's context."""
    if not settings.SMS_ENABLED:
        return []
    numbered = [(rsvp, phone or rsvp.phone) for rsvp in rsvps]
    numbered = [(rsvp, number) for rsvp, number in numbered if number]
    stopped = opted_out({number for _rsvp, number in numbered})
    stored = {key: value for key, value in context.items() if key != "before"}
    rows = []
    for rsvp, number in numbered:
        if number in stopped:
            continue
        link = (tokens or {}).get(rsvp.pk, token)
        rows.append(
            OutgoingEmail(
                kind=kind,
                channel=Channel.SMS,
                language=rsvp.language,
                rsvp=rsvp,
                recipient=number,
                message_id=_message_id(),
                context=stored,
                text=(
                    texts.compose(kind, rsvp, token=link, **context) if link or render_now else ""
                ),
            )
        )
    return rows


def queue_text(number: str, *, language: str, text: str, kind: str) -> OutgoingEmail | None:
    """Queue one text to `number` (E.164) in the caller's transaction, for a message about no
    RSVP (e.g. an alert of new meetings). `text` goes as it is, in GSM-7 where the language
    allows (segments.fit_alphabet); keep it short (texts.fit picks among wordings). None when
    texts are off or the number texted STOP."""
    if not settings.SMS_ENABLED or opted_out({number}):
        return None
    row = OutgoingEmail(
        kind=kind,
        channel=Channel.SMS,
        language=language,
        recipient=number,
        message_id=_message_id(),
        text=segments.fit_alphabet(text, language),
    )
    outbox.put([row])
    return row


def opted_out(numbers: set[str]) -> set[str]:
    """Those of `numbers` that texted STOP (one query; the list keeps only hashes)."""
    if not numbers:
        return set()
    by_hash = {opt_out_hash(number): number for number in numbers}
    found = SmsOptOut.objects.filter(number_hash__in=by_hash).values_list("number_hash", flat=True)
    return {by_hash[hashed] for hashed in found}


def record_opt_out(number: str) -> bool:
    """Remember that `number` texted STOP (as a keyed hash), withdraw what is still queued
    for it, and end its alerts of new meetings (the subscription is deleted, its texts'
    copies erased). True when it was not on the list yet."""
    with transaction.atomic():
        _row, created = SmsOptOut.objects.get_or_create(number_hash=opt_out_hash(number))
        OutgoingEmail.objects.filter(recipient=number, status=Status.QUEUED).exclude(
            channel=Channel.EMAIL
        ).withdraw(STOPPED)
        AlertSubscriber.objects.filter(channel=AlertSubscriber.Channel.TEXT, address=number).forget(
            STOPPED
        )
    return created


def record_opt_in(number: str) -> bool:
    """`number` texted START (or YES, which Twilio also takes as a START): texts may go to
    it again. True when it was on the opt-out list."""
    deleted, _by_model = SmsOptOut.objects.filter(number_hash=opt_out_hash(number)).delete()
    return bool(deleted)


def send(row: OutgoingEmail) -> None:
    """The outbox's sender for texts: hand the text of `row` to the provider (SMS_URL)."""
    if opted_out({row.recipient}):
        raise outbox.NotNeeded(STOPPED)
    if row.text:
        body = row.text
    elif row.rsvp_id is None:
        raise outbox.SendFailed("The RSVP is gone: nothing to write.", retry=False)
    else:
        rsvp = Rsvp.objects.select_related("meeting__venue").get(pk=row.rsvp_id)
        body = texts.compose(row.kind, rsvp, **row.context)
    try:
        sent = sms_backend.get_sender().send(
            to=row.recipient,
            body=body,
            channel=row.channel,
            status_callback=settings.SITE_URL + reverse("sms-status"),
            handing_over=lambda: outbox.handing_over(row),
        )
    except sms_backend.SmsError as error:
        if getattr(error, "code", None) == sms_backend.UNSUBSCRIBED_RECIPIENT:
            # The provider knows of a STOP we never heard (sent to it before, or elsewhere).
            record_opt_out(row.recipient)
        raise outbox.SendFailed(
            error.describe()[:200],
            retry=error.retry,
            unreachable=isinstance(error, sms_backend.Unreachable),
            retry_after=getattr(error, "retry_after", None),
            may_have_arrived=isinstance(error, sms_backend.MayHaveArrived),
        ) from None
    # Its delivery reports name it by the provider's id.
    OutgoingEmail.objects.filter(pk=row.pk).update(provider_id=sent.provider_id)


def _message_id() -> str:
    # Unique per row (the outbox's key for a message), as for mail.
    return make_msgid(domain=urlsplit(settings.SITE_URL).hostname)
