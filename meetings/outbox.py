"""The outbox: messages written in the transaction of the change they are about, then sent
once by the worker (`manage.py db_worker`), retried, or given up on.

Channel-neutral. A row (`OutgoingEmail`) is handed to its channel's sender, named in
settings.OUTBOX_SENDERS ("email": `meetings.emails.send`; "sms" and "whatsapp":
`meetings.sms.send`). A sender is a callable
taking the row; it returns once the message is handed over and raises `SendFailed` (or any
other exception) when it is not. Everything else lives here, for every channel alike:

- `put(rows)` writes the rows and one task naming them, in the caller's transaction: a
  rolled-back change sends nothing, and no request talks to a mail server.
- Once, not twice: `deliver` claims a row by moving it from "queued" to "sending" in one
  UPDATE, so a second worker or a repeated task finds nothing to send. It is marked "sent" as
  soon as the sender returns, and its personal fields are erased.
- A failure the sender says may be retried is tried again after EMAIL_RETRY_FIRST_SECONDS,
  then twice as long each time (at most EMAIL_RETRY_MAX_SECONDS apart) for EMAIL_RETRY_HOURS;
  then, or at once for a failure that must not be retried (the address was refused for
  good), it is marked failed, for staff to see. A failure after the hand-over (below: the
  message may have arrived) is never retried by itself: the row becomes "unknown".
- When the server cannot be reached at all, the rest of the batch waits as long as the row
  that failed instead of each costing a timeout now.
- Hand-over: a sender calls `handing_over(row)` just before the message itself goes to the
  server or carrier (for email, the SMTP DATA phase). It stamps `handed_over_at`, and refuses
  (`NoLongerOurs`) when the row was withdrawn (its RSVP cancelled) or taken back meanwhile.
  Before that point nothing can have arrived; after it, the message may have.
- A killed worker (SIGKILL, out of memory, a hard deploy) leaves its row in "sending".
  `recover(now)` (run by the scheduler, `manage.py send_reminders`, every few minutes) looks
  at rows in "sending" longer than OUTBOX_STALE_SECONDS: one never handed over goes back to
  "queued" and is sent again, once; one handed over but never acknowledged becomes "unknown"
  (it may have arrived), which staff see in the admin outbox with a one-click `resend`. The
  same pass queues a task again for queued rows whose task died with its worker, and closes
  the django-tasks rows such a worker left RUNNING.
"""

import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from meetings.models import OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

# A channel's sender: hands the row's message over, or raises (see SendFailed).
Sender = Callable[[OutgoingEmail], None]

# What a sent message keeps: nothing personal (its kind, language, dates and attempts stay).
ERASED_WHEN_SENT = OutgoingEmail.ERASED
# What a message given up on keeps: the address, for staff who may reach the person another
# way; the text (with its private link) goes.
ERASED_WHEN_FAILED = {name: "" for name in OutgoingEmail.PERSONAL_FIELDS if name != "recipient"}


class Delivery(enum.StrEnum):
    """What `deliver` did with a row."""

    SENT = "sent"
    # Not sent this time; tried again later (its task is queued).
    QUEUED = "queued"
    # Like QUEUED, and the server could not be reached at all: the rest of the batch waits.
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    # Handed over, never acknowledged: it may have arrived; staff may resend it.
    UNKNOWN = "unknown"
    # No longer needed when its turn came (outbox.NotNeeded): withdrawn, not failed.
    WITHDRAWN = "withdrawn"
    # Not claimed: sent or given up on already, taken by another worker, or not due yet.
    SKIPPED = "skipped"


class SendFailed(Exception):
    """A sender's failure, in terms the outbox acts on.

    `reason` is what staff see (OutgoingEmail.last_error) and what the log says: an error
    class or a server code, never an address or the message's text. `retry=False`: trying
    again cannot help or could deliver twice. `unreachable`: no connection to the server at all.
    """

    def __init__(
        self,
        reason: str,
        *,
        retry: bool = True,
        unreachable: bool = False,
        may_have_arrived: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        # A message that may have arrived is never retried by itself: it becomes "unknown".
        self.retry = retry and not may_have_arrived
        self.unreachable = unreachable
        self.may_have_arrived = may_have_arrived
        # The server said when to come back (a 429's Retry-After, in seconds): not sooner.
        self.retry_after = retry_after


class NoLongerOurs(Exception):
    """Raised by `handing_over` when the row is no longer this worker's to send: withdrawn
    (its RSVP cancelled or purged) or taken back by `recover`. Nothing was handed over."""


class NotNeeded(SendFailed):
    """Nothing to send any more (e.g. the number texted STOP since it was queued): the row is
    withdrawn, as `OutgoingEmail.objects.withdraw` does, not counted as failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retry=False)


def put(rows: Sequence[OutgoingEmail]) -> list[OutgoingEmail]:
    """Write the outbox rows and one task naming them, in one go, in the caller's transaction."""
    if not rows:
        return []
    with transaction.atomic():
        created = OutgoingEmail.objects.bulk_create(rows)
        # The task carries the rows' ids and nothing else: no address, no name, no link.
        send_queued_email.enqueue([row.pk for row in created])
    return created


@task()
def send_queued_email(email_ids: list[int]) -> None:
    """The worker's task: deliver the outbox rows `email_ids`, one by one, each through its
    channel's sender. (The name is kept from when mail was the only channel: queued tasks
    name it.)"""
    send_all(email_ids, send=send_by_channel)


def send_by_channel(row: OutgoingEmail) -> None:
    """The sender settings.OUTBOX_SENDERS names for the row's channel (email, sms…)."""
    sender: Sender = import_string(settings.OUTBOX_SENDERS[row.channel])
    sender(row)


def send_all(row_ids: Iterable[int], *, send: Sender) -> None:
    """Deliver each row with `send`; when a channel's server cannot be reached, postpone the
    rest of that channel's rows (the other channels go on)."""
    row_ids = list(row_ids)
    channels = dict(OutgoingEmail.objects.filter(pk__in=row_ids).values_list("pk", "channel"))
    unreachable: dict[str, int] = {}  # channel -> the row that found its server down
    waiting: dict[str, list[int]] = {}
    for row_id in row_ids:
        channel = channels.get(row_id, OutgoingEmail.Channel.EMAIL)
        if channel in unreachable:
            waiting.setdefault(channel, []).append(row_id)
        elif deliver(row_id, send=send) == Delivery.UNREACHABLE:
            unreachable[channel] = row_id
    for channel, like in unreachable.items():
        _postpone(waiting.get(channel, []), like=like)


def _postpone(row_ids: list[int], *, like: int) -> None:
    retry_at = OutgoingEmail.objects.values_list("next_attempt_at", flat=True).get(pk=like)
    if not row_ids or retry_at is None:
        return
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk__in=row_ids, status=Status.QUEUED).exclude(
            next_attempt_at__gt=retry_at
        ).update(next_attempt_at=retry_at, last_error="Not tried: the server was unreachable.")
        send_queued_email.using(run_after=retry_at).enqueue(list(row_ids))


def claim(row_id: int, *, now: dt.datetime) -> OutgoingEmail | None:
    """The row, moved from "queued" to "sending" by this caller alone; None when it is not
    queued (sent, given up on, taken by another worker) or not due before `now`."""
    claimed = (
        OutgoingEmail.objects.filter(pk=row_id, status=Status.QUEUED)
        .exclude(next_attempt_at__gt=now)
        .update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            handed_over_at=None,
        )
    )
    return OutgoingEmail.objects.get(pk=row_id) if claimed else None


def _ours(row: OutgoingEmail) -> QuerySet[OutgoingEmail]:
    """The row as long as it is still this claim's: no one withdrew it or took it back."""
    return OutgoingEmail.objects.filter(pk=row.pk, claimed_at=row.claimed_at)


def handing_over(row: OutgoingEmail) -> None:
    """A sender's last call before the message itself goes to the server or carrier: records
    the moment (committed at once: the worker may die the next second), or raises
    NoLongerOurs when the row was withdrawn or taken back meanwhile."""
    marked = _ours(row).filter(status=Status.SENDING).update(handed_over_at=timezone.now())
    if not marked:
        raise NoLongerOurs(row.pk)


def deliver(row_id: int, *, send: Sender) -> Delivery:
    """Send the queued row `row_id` once with `send`; returns what happened.

    Never raises for a sender's failure (a task's error would be stored with its traceback,
    which may quote an address): the row records what happened instead.
    """
    now = timezone.now()
    row = claim(row_id, now=now)
    if row is None:
        return Delivery.SKIPPED
    try:
        send(row)
    except NoLongerOurs:
        # Withdrawn or taken back before anything was handed over: whoever did it decided.
        return Delivery.SKIPPED
    except Exception as error:  # noqa: BLE001 - whatever the channel did, the row records it
        failure = error if isinstance(error, SendFailed) else SendFailed(type(error).__name__)
        return _record_failure(row, failure, now=now)
    # Sent: true even if the row was withdrawn or marked "unknown" while the server answered.
    _ours(row).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
        **ERASED_WHEN_SENT,
    )
    return Delivery.SENT


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed try: 1 minute, 2, 4… at most an hour."""
    seconds = settings.EMAIL_RETRY_FIRST_SECONDS * 2 ** (attempts - 1)
    return dt.timedelta(seconds=min(seconds, settings.EMAIL_RETRY_MAX_SECONDS))


def _record_failure(row: OutgoingEmail, failure: SendFailed, *, now: dt.datetime) -> Delivery:
    """Retry later, or give up for good; log the kind, id and reason, never an address."""
    # Only while the row is still this claim's and in "sending": a row withdrawn meanwhile
    # stays withdrawn (and erased), one taken back by `recover` is someone else's now.
    mine = _ours(row).filter(status=Status.SENDING)
    if failure.may_have_arrived:
        # Kept whole (until sent again, cancelled or purged) so staff can resend it.
        mine.update(status=Status.UNKNOWN, next_attempt_at=None, last_error=failure.reason)
        logger.error(
            "Outgoing email %s (%s) handed over without an answer: it may have arrived (%s)",
            row.pk,
            row.kind,
            failure.reason,
        )
        return Delivery.UNKNOWN
    age = now - row.created_at
    if isinstance(failure, NotNeeded):
        mine.update(
            status=Status.WITHDRAWN,
            next_attempt_at=None,
            last_error=failure.reason,
            **ERASED_WHEN_SENT,
        )
        return Delivery.WITHDRAWN
    if not failure.retry or age >= dt.timedelta(hours=settings.EMAIL_RETRY_HOURS):
        mine.update(
            status=Status.FAILED,
            next_attempt_at=None,
            last_error=failure.reason,
            **ERASED_WHEN_FAILED,
        )
        logger.error(
            "Gave up on outgoing email %s (%s) after %d attempt(s): %s",
            row.pk,
            row.kind,
            row.attempts,
            failure.reason,
        )
        return Delivery.FAILED
    delay = retry_delay(row.attempts)
    if failure.retry_after:
        delay = max(delay, dt.timedelta(seconds=failure.retry_after))
    retry_at = timezone.now() + delay
    with transaction.atomic():
        if mine.update(status=Status.QUEUED, next_attempt_at=retry_at, last_error=failure.reason):
            send_queued_email.using(run_after=retry_at).enqueue([row.pk])
    logger.warning(
        "Outgoing email %s (%s) not sent, attempt %d: %s; trying again in %d s",
        row.pk,
        row.kind,
        row.attempts,
        failure.reason,
        delay.total_seconds(),
    )
    return Delivery.UNREACHABLE if failure.unreachable else Delivery.QUEUED


# After a killed worker, and staff's resend ----------------------------------------------------

TAKEN_BACK = "The worker stopped before handing it over; queued again."
NO_ANSWER = "Handed over, but the worker stopped before the server answered: it may have arrived."
RESENT = "Sent again by staff."


@dataclass(frozen=True)
class Recovered:
    """What one `recover` pass did."""

    requeued: int  # in "sending", never handed over: queued again
    unknown: int  # in "sending", handed over, never acknowledged: marked "unknown"
    orphans: int  # queued, with no live task (it died with a worker): a task queued again
    tasks: int  # django-tasks rows left RUNNING by a dead worker: closed as failed


def recover(*, now: dt.datetime | None = None) -> Recovered:
    """Settle what dead workers left behind (safe to run often, and on two machines at once).

    A row in "sending" for longer than OUTBOX_STALE_SECONDS has lost its worker (a send takes
    at most a few EMAIL_TIMEOUTs, far less than the limit; and a worker that is merely slow
    finds the row taken back at `handing_over` and stops). Each UPDATE below is conditional,
    so a row is settled once.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    abandoned = OutgoingEmail.objects.filter(status=Status.SENDING).filter(
        Q(claimed_at__lt=stale) | Q(claimed_at__isnull=True, created_at__lt=stale)
    )
    with transaction.atomic():
        requeued_ids = list(
            abandoned.filter(handed_over_at__isnull=True).values_list("pk", flat=True)
        )
        requeued = OutgoingEmail.objects.filter(
            pk__in=requeued_ids, status=Status.SENDING, handed_over_at__isnull=True
        ).update(status=Status.QUEUED, next_attempt_at=None, last_error=TAKEN_BACK)
        unknown = abandoned.filter(handed_over_at__isnull=False).update(
            status=Status.UNKNOWN, next_attempt_at=None, last_error=NO_ANSWER
        )
        # Queued rows long past due: their task died with a worker (or never ran). Not while
        # due tasks still wait: then the worker is only behind (or down), and a task for the
        # same rows on every pass would pile up.
        behind = (
            DBTaskResult.objects.ready().filter(task_path=send_queued_email.module_path).exists()
        )
        orphan_ids = (
            []
            if behind
            else list(
                OutgoingEmail.objects.filter(status=Status.QUEUED, created_at__lt=stale)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=stale))
                .exclude(pk__in=requeued_ids)
                .values_list("pk", flat=True)
            )
        )
        if requeued_ids or orphan_ids:
            send_queued_email.enqueue([*requeued_ids, *orphan_ids])
        tasks = close_dead_tasks(now=now)
    if requeued or unknown or orphan_ids or tasks:
        logger.warning(
            "Outbox recovery: %d queued again, %d unknown, %d re-queued, %d dead task(s) closed",
            requeued,
            unknown,
            len(orphan_ids),
            tasks,
        )
    return Recovered(requeued=requeued, unknown=unknown, orphans=len(orphan_ids), tasks=tasks)


def close_dead_tasks(*, now: dt.datetime | None = None) -> int:
    """django-tasks rows RUNNING for longer than OUTBOX_STALE_SECONDS: their worker is gone
    (a live one would have finished or been interrupted). Marked failed, with their arguments
    blanked (ours are row ids; anyone else's might be personal). Returns how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=stale
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        args_kwargs={"args": [], "kwargs": {}},
        exception_class_path="meetings.outbox.WorkerGone",
        traceback="",
    )


def resend(row_id: int) -> bool:
    """Staff's "send again" for a message in "unknown": queued again with its Message-ID (a
    mail program that has the first copy files the second as the same message). False when
    the row is not in "unknown" or its address was erased."""
    with transaction.atomic():
        queued = (
            OutgoingEmail.objects.filter(pk=row_id, status=Status.UNKNOWN)
            .addressed()
            .update(
                status=Status.QUEUED, next_attempt_at=None, handed_over_at=None, last_error=RESENT
            )
        )
        if queued:
            send_queued_email.enqueue([row_id])
    return bool(queued)
