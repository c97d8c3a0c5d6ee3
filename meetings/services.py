"""Rules that span models: RSVP capacity, the waitlist, and telling people about changes.

Every function here that touches seats locks the meeting row first (`select_for_update`
inside `transaction.atomic`), then counts the confirmed seats from the RSVP rows under that
lock, and only then confirms, waitlists or promotes. Requests for one meeting take turns;
requests for different meetings never wait for each other. Mail is queued in the same
transaction (meetings.emails) and sent by the worker after it commits, so a failing mail
server never undoes or slows an RSVP.

The waitlist rule, "first fit in arrival order":
    When seats free up (a cancellation, a smaller party, staff raising the capacity), the
    waitlist is walked in arrival order and every party that fits in the seats still free is
    confirmed. A party too big for the seats that freed keeps its place at the front of the
    line and is confirmed as soon as enough seats are free; smaller parties behind it that do
    fit are confirmed meanwhile. We chose this over strict order (a big party at the head
    blocking everyone behind it) because an empty seat helps nobody: with parties of up to
    ten, strict order could leave seats empty on the night while people who would fit wait
    at home. A new RSVP is confirmed when it fits in the free seats, which is the same rule
    applied to the newest arrival.
    Confirmed seats are never taken back: if staff lower the capacity below the seats already
    confirmed, nobody is moved to the waitlist; new RSVPs wait until enough seats free up.
"""

import copy
import datetime as dt
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

from meetings import emails, scheduling
from meetings.models import (
    RSVP_ANSWER_FIELDS,
    DoorAction,
    FeedbackAnswer,
    Meeting,
    MeetingSeats,
    OutgoingEmail,
    Rsvp,
    RsvpLink,
)
from meetings.tokens import hash_submission_key, hash_token, make_token, token_for_submission


class RsvpOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    # The same form was sent before (a double click): nothing changed this time.
    ALREADY_SENT = "already_sent"


@dataclass(frozen=True)
class RsvpResult:
    rsvp: Rsvp
    # The private manage token, for whoever sent the form.
    token: str
    outcome: RsvpOutcome
    # For staff only (never shown on the public page): the email address already has
    # another RSVP to this meeting.
    shares_email: bool = False


class RsvpError(Exception):
    """A change the rules refuse. `message` is translated for the person; `code` names the rule."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class MeetingChange(enum.StrEnum):
    TIME = "time"
    VENUE = "venue"
    CANCELLED = "cancelled"
    REINSTATED = "reinstated"


@dataclass(frozen=True)
class MeetingSaved:
    changes: set[MeetingChange]
    # How many RSVPs are emailed about the changes (after commit).
    told: int
    # The waitlisted parties the change let in.
    promoted: list[Rsvp]
    # The later meetings of its series moved with it (services.move_meeting).
    moved_later: list[Meeting] = field(default_factory=list)


# Public ----------------------------------------------------------------------------------


def create_rsvp(
    *,
    meeting: Meeting,
    party_size: int,
    language: str,
    first_name: str = "",
    email: str = "",
    phone: str = "",
    needs_interpretation: str = "",
    needs_wheelchair_access: bool = False,
    needs_childcare: bool = False,
    note: str = "",
    submission_key: uuid.UUID | None = None,
    staff: bool = False,
) -> RsvpResult:
    """Confirm or waitlist a party: every call makes a new RSVP with a link of its own.

    An email address already used at this meeting changes nothing about the earlier RSVP
    (whoever typed it may not own it): the new RSVP's email says the address has two, and
    staff see the pair flagged. The answer is the same as for a fresh address.
    `submission_key` is the form's one-time key: the same key sent again within
    RSVP_REPLAY_SECONDS of the RSVP it made returns that RSVP, unchanged (outcome
    ALREADY_SENT); later, RsvpError "form_already_sent". The manage token of an RSVP made
    from a form is derived from that key (see `token_for_submission`), so the repeat shows
    the same link. `staff=True` (a phone call, demo data) skips the public RSVP window and
    the replay limit; cancelled meetings refuse RSVPs either way. Raises RsvpError when the
    meeting takes no RSVPs.
    """
    email = email.strip()
    with transaction.atomic():
        meeting = _lock_for_rsvp(meeting)
        if submission_key is not None:
            earlier = Rsvp.objects.filter(
                submission_key_hash=hash_submission_key(submission_key)
            ).first()
            if earlier is not None:
                return _already_sent(earlier, submission_key, staff=staff)
        check_open(meeting, staff=staff)
        shares_email = (
            bool(email) and Rsvp.objects.filter(meeting=meeting, email__iexact=email).exists()
        )
        token = make_token() if submission_key is None else token_for_submission(submission_key)
        fits = _fits(meeting, party_size)
        rsvp = Rsvp.objects.create(
            meeting=meeting,
            email=email,
            phone=phone,
            token_hash=hash_token(token),
            submission_key_hash=(
                None if submission_key is None else hash_submission_key(submission_key)
            ),
            status=Rsvp.Status.CONFIRMED if fits else Rsvp.Status.WAITLISTED,
            party_size=party_size,
            language=language,
            first_name=first_name,
            needs_interpretation=needs_interpretation,
            needs_wheelchair_access=needs_wheelchair_access,
            needs_childcare=needs_childcare,
            note=note,
        )
        emails.rsvp_confirmation(rsvp, token=token, same_email=shares_email)
        outcome = RsvpOutcome.CONFIRMED if fits else RsvpOutcome.WAITLISTED
        return RsvpResult(rsvp, token, outcome, shares_email=shares_email)


def _already_sent(earlier, submission_key, *, staff):
    """The answer to a form sent again: its RSVP's link while a double click is likely."""
    replay_window = dt.timedelta(seconds=settings.RSVP_REPLAY_SECONDS)
    if not staff and timezone.now() - earlier.created_at > replay_window:
        # Whoever sends an old form again (a shared computer's back button, a copy of the
        # page) may not be the person who RSVPed: no link, the form again.
        raise RsvpError(
            _(
                "This form was already sent. Your private link is in your confirmation email "
                "or on the page you saw then. To RSVP again, check your answers and send the "
                "form again."
            ),
            code="form_already_sent",
        )
    return RsvpResult(earlier, token_for_submission(submission_key), RsvpOutcome.ALREADY_SENT)


def update_rsvp(
    *,
    rsvp: Rsvp,
    party_size: int,
    language: str,
    first_name: str = "",
    needs_interpretation: str = "",
    needs_wheelchair_access: bool = False,
    needs_childcare: bool = False,
    note: str = "",
) -> Rsvp:
    """Change party size or needs through the private link; returns the updated RSVP.

    Adding people to a confirmed RSVP needs that many free seats, otherwise RsvpError
    (code "not_enough_seats") and nothing changes. A waitlisted RSVP keeps its place in line.
    Fewer people free seats, which promote the waitlist.
    """
    # The answers, by the names declared once beside the model (the arguments above).
    arguments = locals()
    details = {name: arguments[name] for name in RSVP_ANSWER_FIELDS}
    with transaction.atomic():
        meeting = _lock(rsvp.meeting_id)
        rsvp = Rsvp.objects.get(pk=rsvp.pk)
        rsvp.meeting = meeting
        if not rsvp.can_be_changed:
            if rsvp.is_cancelled:
                raise RsvpError(_("This RSVP was cancelled."), code="rsvp_cancelled")
            check_open(meeting)  # raises, saying why
        before = {name: getattr(rsvp, name) for name in details}
        _apply_changes(meeting, rsvp, details)
        if before != details and (rsvp.email or rsvp.phone):
            # The person hears what changed, and their calendar's event is replaced.
            _raise_calendar_sequence(rsvp)
            emails.rsvp_changed(rsvp, before=before)
        _promote(meeting)
    return rsvp


# What a change notice reports (and a staff edit in the admin may touch).
NOTICE_FIELDS = (
    "party_size",
    "language",
    "first_name",
    "needs_interpretation",
    "needs_wheelchair_access",
    "needs_childcare",
    "note",
)


def tell_rsvp_changed(*, rsvp: Rsvp, before: dict[str, Any]) -> bool:
    """Staff edited an RSVP's details (the admin form): the person hears what changed, with
    the updated invitation, as after their own change. `before`: NOTICE_FIELDS as they were.
    Returns whether a notice was queued (nothing changed, or no email or phone: none)."""
    with transaction.atomic():
        rsvp = Rsvp.objects.select_related("meeting__venue").get(pk=rsvp.pk)
        if rsvp.is_cancelled or not (rsvp.email or rsvp.phone):
            return False
        before = {name: before[name] for name in NOTICE_FIELDS}
        if before == {name: getattr(rsvp, name) for name in NOTICE_FIELDS}:
            return False
        _raise_calendar_sequence(rsvp)
        emails.rsvp_changed(rsvp, before=before)
    return True


def cancel_rsvp(*, rsvp: Rsvp, staff: bool = False) -> Rsvp:
    """Cancel an RSVP, erase its name, email, phone number and note (after queueing a last
    message and text to them), and promote the waitlist into the seats it frees. Cancelling
    twice is a no-op.

    The public may cancel until the meeting starts (RsvpError "meeting_started" after);
    staff at any time.
    """
    with transaction.atomic():
        meeting = _lock(rsvp.meeting_id)
        rsvp = Rsvp.objects.get(pk=rsvp.pk)
        rsvp.meeting = meeting
        if rsvp.is_cancelled:
            return rsvp
        if not staff and not rsvp.can_be_cancelled:
            raise RsvpError(
                _("This meeting has already started, so its RSVPs can no longer change."),
                code="meeting_started",
            )
        address, phone, was_confirmed = rsvp.email, rsvp.phone, rsvp.is_confirmed
        # Whoever cancels no longer needs to be reached: their details go at once.
        rsvp.status = Rsvp.Status.CANCELLED
        rsvp.first_name = rsvp.email = rsvp.phone = rsvp.note = ""
        rsvp.calendar_sequence += 1
        rsvp.save(
            update_fields=[
                "status",
                "first_name",
                "email",
                "phone",
                "note",
                "calendar_sequence",
                "updated_at",
            ]
        )
        # The address goes from the outbox too, whatever each message's status: nothing
        # more is sent about this RSVP but the last message, which removes the event from
        # their calendar (its address is erased once it is sent).
        OutgoingEmail.objects.filter(rsvp=rsvp).withdraw(
            "The RSVP was cancelled before it was sent."
        )
        if address or phone:
            emails.rsvp_cancelled(
                rsvp, address=address, phone=phone, by_staff=staff, was_confirmed=was_confirmed
            )
        _promote(meeting)
    return rsvp


def promote_waitlist(*, meeting: Meeting) -> list[Rsvp]:
    """Confirm waitlisted parties that fit in the free seats (first fit in arrival order).

    Call after anything that may free seats outside this module, such as staff raising the
    capacity. Returns the promoted RSVPs; each one with an email is told after commit.
    """
    with transaction.atomic():
        return _promote(_lock(meeting.pk))


def save_meeting(*, meeting: Meeting) -> MeetingSaved:
    """Save staff's changes to a meeting, and tell whoever must know: the one path for a
    changed meeting (the admin's form and actions, demo data).

    The model stamps `published_at` and raises `sequence` for calendar apps; here, RSVPs
    with an email hear of a new time or place, a cancellation or a reinstatement (after
    commit), and the waitlist is promoted into any seats the change freed.
    """
    return _save(meeting, meeting.save)


def move_meeting(*, meeting: Meeting, with_later: bool) -> MeetingSaved:
    """Save staff's changes to a meeting and, `with_later`, move the later meetings of its
    series the same way: the whole "this and all later meetings" rule.

    Later meetings move only when this one's time or venue changed (`calendar_moves`). They
    are those of `scheduling.later_in_series`: after this meeting's start before and after
    the change, cancelled ones left alone. Each gets this meeting's venue, local start time
    and length on its own day (`scheduling.moved_like`) and is saved as any changed meeting
    is (`save_meeting`: its RSVPs with an email told, its waitlist promoted). The result sums
    all of them: `told` and `promoted` count every meeting moved, `moved_later` lists the
    later ones. One transaction: all move, or none.
    """
    with transaction.atomic():
        before = meeting.loaded_calendar_state
        later: list[Meeting] = []
        if with_later and before is not None and calendar_moves(meeting, before=before):
            later = list(scheduling.later_in_series(meeting, after=before["starts_at"]))
        saved = save_meeting(meeting=meeting)
        told, promoted = saved.told, list(saved.promoted)
        for other in later:
            other_saved = save_meeting(meeting=scheduling.moved_like(other, model=meeting))
            told += other_saved.told
            promoted += other_saved.promoted
    return MeetingSaved(changes=saved.changes, told=told, promoted=promoted, moved_later=later)


def publish_meeting(*, meeting: Meeting) -> MeetingSaved:
    """Publish a draft (its RSVPs hear nothing: a draft never promised them anything)."""
    return _save(meeting, meeting.publish)


def cancel_meeting(*, meeting: Meeting, note: str | None = None) -> MeetingSaved:
    """Cancel the meeting and tell everyone with an RSVP and an email, once."""
    return _save(meeting, lambda: meeting.cancel(note))


def meeting_changes(meeting: Meeting, *, before: dict | None) -> set[MeetingChange]:
    """What an attendee must hear about between `before` and the meeting as it is now.

    `before` is the snapshot the model keeps of the fields calendars show, taken before the
    change (`meeting.loaded_calendar_state`); None, for a meeting never saved, tells nothing.
    """
    if before is None:
        return set()
    was_draft = before["status"] == Meeting.Status.DRAFT
    was_past = before["ends_at"] is not None and before["ends_at"] < timezone.now()
    # Drafts, and meetings that had ended already and still have, tell nobody.
    if was_draft or meeting.is_draft or (was_past and meeting.is_past):
        return set()
    was_cancelled = before["status"] == Meeting.Status.CANCELLED
    if meeting.is_cancelled and not was_cancelled:
        return {MeetingChange.CANCELLED}
    changes = calendar_moves(meeting, before=before)
    if was_cancelled and meeting.is_published:
        changes.add(MeetingChange.REINSTATED)
    return changes


def calendar_moves(meeting: Meeting, *, before: dict) -> set[MeetingChange]:
    """TIME and/or VENUE: whether the meeting's time or place differs from `before` (the
    snapshot `meeting.loaded_calendar_state`), whoever is or is not to be told."""
    moves = set()
    if (before["starts_at"], before["ends_at"]) != (meeting.starts_at, meeting.ends_at):
        moves.add(MeetingChange.TIME)
    if before["venue_id"] != meeting.venue_id:
        moves.add(MeetingChange.VENUE)
    return moves


def _save(meeting: Meeting, save: Callable[[], object]) -> MeetingSaved:
    """Run `save` (which changes and saves the meeting) under the lock, then tell and promote."""
    with transaction.atomic():
        if meeting.pk is None:
            save()
            return MeetingSaved(changes=set(), told=0, promoted=[])
        # The row lock first: RSVPs wait while the meeting changes under them.
        _lock(meeting.pk)
        before = meeting.loaded_calendar_state
        save()
        changes = meeting_changes(meeting, before=before)
        told = []
        if changes:
            told = list(meeting.rsvps.active().reachable().order_by("pk"))
            for rsvp in told:
                # The RSVP's own copy of the meeting is the saved one, not a stale read.
                rsvp.meeting = meeting
            # A text carries a private link of its own (RsvpLink), so it is written now; the
            # email is written by the worker (it carries the calendar update instead).
            texted = [rsvp for rsvp in told if rsvp.phone] if settings.SMS_ENABLED else []
            emails.meeting_changed(told, changes=changes, text_tokens=RsvpLink.make(texted))
        # More seats (or none to count) may let waitlisted parties in.
        promoted = _promote(meeting)
    return MeetingSaved(changes=changes, told=len(told), promoted=promoted)


def message_rsvps(*, meeting: Meeting, template: str, **fields: Any) -> dict[str, int]:
    """Staff's short message (texts.STAFF_TEMPLATES) to everyone confirmed or waitlisted for
    the meeting, by email and by text, each in its party's language, through the outbox.
    Returns how many of each were queued: {"email": n, "sms": m}."""
    with transaction.atomic():
        rsvps = list(meeting.rsvps.active().reachable().order_by("pk"))
        for rsvp in rsvps:
            rsvp.meeting = meeting
        rows = emails.staff_message(rsvps, template=template, **fields)
    counts = dict.fromkeys(OutgoingEmail.Channel.values, 0)
    for row in rows:
        counts[row.channel] += 1
    return counts


def check_open(meeting: Meeting, *, staff: bool = False) -> None:
    """Raise RsvpError, saying why, unless the meeting takes new RSVPs (from staff, with `staff`)."""
    if meeting.is_cancelled:
        raise RsvpError(_("This meeting is cancelled."), code="meeting_cancelled")
    if staff:
        return
    if not meeting.is_taking_rsvps:
        if meeting.is_past:
            message = _("This meeting has ended.")
        elif not meeting.is_published:
            message = _("This meeting is not open for RSVPs.")
        else:
            message = _("RSVPs for this meeting are closed.")
        raise RsvpError(message, code="rsvps_closed")


# Under the lock ----------------------------------------------------------------------------


def _lock(meeting_pk: int) -> Meeting:
    """The meeting row, locked until the transaction ends (only it: not its venue)."""
    return (
        Meeting.objects.select_for_update(of=("self",)).select_related("venue").get(pk=meeting_pk)
    )


# What the RSVP rules read from the meeting row: read again under the lock.
RULE_FIELDS = ("status", "capacity", "rsvp_enabled", "rsvp_closes_at", "starts_at", "ends_at")


def _lock_for_rsvp(meeting: Meeting) -> Meeting:
    """Lock the meeting row and return a copy of `meeting` with the fields the RSVP rules read
    as they are now. Only those: the rest (title, venue) the caller read moments ago, maybe
    from the cache, is what its page and email show; a change to them reaches people through
    `save_meeting` anyway. One short statement instead of the whole translated row and venue."""
    # The plain manager: modeltranslation's would rewrite a query that reads no text.
    current = Meeting._base_manager.select_for_update().values(*RULE_FIELDS).get(pk=meeting.pk)
    meeting = copy.copy(meeting)
    for name, value in current.items():
        setattr(meeting, name, value)
    return meeting


def _confirmed_seats(meeting: Meeting) -> int:
    # A statement of its own, after the lock was taken: under READ COMMITTED it sees every
    # RSVP committed by whoever held the lock before us. (Counting in the same statement as
    # FOR UPDATE would use the snapshot from before the wait, and overbook.) One row, kept by
    # the RSVP table's triggers (models.MeetingSeats), so the time under the lock stays the
    # same however many RSVPs the meeting has.
    seats = MeetingSeats.objects.filter(meeting_id=meeting.pk).values_list("seats", flat=True)
    return seats.first() or 0


def _free_seats(meeting: Meeting) -> int | None:
    """Seats not yet confirmed (never below 0), or None for a meeting without a limit."""
    if meeting.capacity is None:
        return None
    return max(meeting.capacity - _confirmed_seats(meeting), 0)


def _fits(meeting: Meeting, party_size: int) -> bool:
    free = _free_seats(meeting)
    return free is None or party_size <= free


def _apply_changes(meeting: Meeting, rsvp: Rsvp, details: dict[str, Any]) -> None:
    """Write new details onto an RSVP under the lock, checking seats for added people."""
    if rsvp.is_confirmed and details["party_size"] > rsvp.party_size:
        added = details["party_size"] - rsvp.party_size
        free = _free_seats(meeting)
        if free is not None and added > free:
            raise RsvpError(
                " ".join(
                    [
                        ngettext(
                            "Only %(free)d more seat is free.",
                            "Only %(free)d more seats are free.",
                            free,
                        )
                        % {"free": free},
                        ngettext(
                            "We could not add %(added)d person, so your RSVP is unchanged.",
                            "We could not add %(added)d people, so your RSVP is unchanged.",
                            added,
                        )
                        % {"added": added},
                    ]
                ),
                code="not_enough_seats",
            )
    for name, value in details.items():
        setattr(rsvp, name, value)
    rsvp.save()


def _promote(meeting: Meeting) -> list[Rsvp]:
    # Too late to tell anyone once the meeting has started; drafts and cancelled meetings
    # have no seats to give.
    if not meeting.is_published or meeting.starts_at <= timezone.now():
        return []
    free = _free_seats(meeting)
    promoted = []
    for rsvp in Rsvp.objects.filter(meeting=meeting).waitlisted():
        if free is not None:
            if free == 0:
                break
            if rsvp.party_size > free:
                continue  # keeps its place at the front; see the module docstring
            free -= rsvp.party_size
        rsvp.status = Rsvp.Status.CONFIRMED
        rsvp.meeting = meeting
        rsvp.save(update_fields=["status", "updated_at"])
        if rsvp.email or rsvp.phone:
            # A new private link for the promotion's email and text, as reminders carry (the
            # first one cannot be rebuilt).
            emails.rsvp_promoted(rsvp, token=RsvpLink.make([rsvp])[rsvp.pk])
        promoted.append(rsvp)
    return promoted


class DoorOutcome(enum.StrEnum):
    CHECKED_IN = "checked_in"
    UNDONE = "undone"
    WALK_IN = "walk_in"
    # Conflicts: the tap found the party otherwise than the phone showed it (another door, or
    # the party itself, got there first). Nothing changed; the door is told.
    ALREADY_IN = "already_in"
    NOT_IN = "not_in"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class DoorResult:
    rsvp: Rsvp
    outcome: DoorOutcome
    # The same key was applied before: this sending changed nothing and reports the first.
    repeated: bool
    # People checked in beyond the meeting's capacity, after this tap (0 within it).
    over_capacity: int

    @property
    def is_conflict(self) -> bool:
        return self.outcome in {DoorOutcome.ALREADY_IN, DoorOutcome.NOT_IN, DoorOutcome.CANCELLED}


def over_capacity(meeting: Meeting) -> int:
    """People checked in beyond the meeting's capacity (0 within it or without a limit)."""
    if meeting.capacity is None:
        return 0
    arrived = Rsvp.objects.filter(meeting=meeting, checked_in_at__isnull=False).aggregate(
        people=Sum("party_size", default=0)
    )["people"]
    return max(arrived - meeting.capacity, 0)


def _door_repeat(meeting: Meeting, key: uuid.UUID) -> DoorResult | None:
    """The result of an earlier sending of `key`, or None the first time. Called under the
    meeting's lock, so two sendings of one key take turns and the second finds the first."""
    earlier = DoorAction.objects.filter(key=key).select_related("rsvp").first()
    if earlier is None:
        return None
    if earlier.meeting_id != meeting.pk:
        raise RsvpError(gettext("This tap belongs to another meeting."), code="key_reused")
    return DoorResult(
        rsvp=earlier.rsvp,
        outcome=DoorOutcome(earlier.outcome),
        repeated=True,
        over_capacity=over_capacity(meeting),
    )


def check_in_at_door(
    *, meeting: Meeting, key: uuid.UUID, rsvp_id: int, undo: bool = False
) -> DoorResult:
    """Check a party in (or undo its check-in), once per `key` whatever the number of sendings.

    Never refused for lack of seats (a person at the door is never turned away here): a
    waitlisted party may be checked in, and `over_capacity` says by how much the room is
    over. A party found otherwise than the phone showed it (checked in or out by another
    door meanwhile, or cancelled) is left as it is and reported as a conflict. Raises
    Rsvp.DoesNotExist when the RSVP is not one of this meeting's.
    """
    with transaction.atomic():
        meeting = _lock_for_rsvp(meeting)
        if (repeat := _door_repeat(meeting, key)) is not None:
            return repeat
        rsvp = Rsvp.objects.get(meeting=meeting, pk=rsvp_id)
        if undo:
            outcome = DoorOutcome.UNDONE if rsvp.undo_check_in() else DoorOutcome.NOT_IN
        elif rsvp.is_cancelled:
            outcome = DoorOutcome.CANCELLED
        else:
            outcome = DoorOutcome.CHECKED_IN if rsvp.check_in() else DoorOutcome.ALREADY_IN
        DoorAction.objects.create(
            key=key,
            meeting=meeting,
            rsvp=rsvp,
            kind=DoorAction.Kind.UNDO if undo else DoorAction.Kind.CHECK_IN,
            outcome=outcome,
        )
        return DoorResult(
            rsvp=rsvp, outcome=outcome, repeated=False, over_capacity=over_capacity(meeting)
        )


def _raise_calendar_sequence(rsvp: Rsvp) -> None:
    """The RSVP's event in the person's calendar changes: the next invitation outranks the last."""
    rsvp.calendar_sequence += 1
    Rsvp.objects.filter(pk=rsvp.pk).update(calendar_sequence=F("calendar_sequence") + 1)


def add_walk_in(
    *,
    meeting: Meeting,
    key: uuid.UUID,
    party_size: int,
    language: str,
    needs_interpretation: str = "",
    needs_wheelchair_access: bool = False,
    needs_childcare: bool = False,
) -> DoorResult:
    """A party that came to the door without an RSVP: no name needed, checked in at once,
    once per `key`. The seat rules of any RSVP decide its status (confirmed while a seat is
    free, otherwise waitlisted, so the seats count stays true), but it is never turned
    away: past capacity it is checked in all the same and `over_capacity` says so."""
    with transaction.atomic():
        meeting = _lock_for_rsvp(meeting)
        if (repeat := _door_repeat(meeting, key)) is not None:
            return repeat
        result = create_rsvp(
            meeting=meeting,
            party_size=party_size,
            language=language,
            needs_interpretation=needs_interpretation,
            needs_wheelchair_access=needs_wheelchair_access,
            needs_childcare=needs_childcare,
            staff=True,
        )
        rsvp = result.rsvp
        rsvp.is_walk_in = True
        rsvp.checked_in_at = timezone.now()
        rsvp.save(update_fields=["is_walk_in", "checked_in_at", "updated_at"])
        DoorAction.objects.create(
            key=key,
            meeting=meeting,
            rsvp=rsvp,
            kind=DoorAction.Kind.WALK_IN,
            outcome=DoorOutcome.WALK_IN,
        )
        return DoorResult(
            rsvp=rsvp,
            outcome=DoorOutcome.WALK_IN,
            repeated=False,
            over_capacity=over_capacity(meeting),
        )


def give_feedback(
    *,
    rsvp: Rsvp,
    felt_welcome: int | None = None,
    questions_answered: int | None = None,
    would_call_police: int | None = None,
    comment: str = "",
) -> FeedbackAnswer:
    """Store a party's anonymous answers about a meeting that has ended: once per private link.

    The answer keeps no link to the RSVP; the RSVP only records that it answered, without
    touching its `updated_at`, so nothing dates the answer either.
    """
    with transaction.atomic():
        locked = Rsvp.objects.select_for_update().select_related("meeting").get(pk=rsvp.pk)
        if not locked.can_give_feedback:
            raise RsvpError(
                gettext("Thank you: the answers for this RSVP were already sent.")
                if locked.feedback_given
                else gettext("Questions about this meeting open once it has ended."),
                code="feedback_closed",
            )
        answer = FeedbackAnswer.objects.create(
            meeting_id=locked.meeting_id,
            felt_welcome=felt_welcome,
            questions_answered=questions_answered,
            would_call_police=would_call_police,
            comment=comment,
        )
        Rsvp.objects.filter(pk=locked.pk).update(feedback_given=True)
    rsvp.feedback_given = True
    return answer


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue the reminder of every RSVP with an email to a meeting starting within
    REMINDER_HOURS_BEFORE hours (confirmed parties, and waitlisted ones with their place).

    Each RSVP is claimed with one conditional UPDATE, in the transaction that queues its
    email: two runs at once, or one after another, remind each party exactly once. The link
    in the reminder is a new private link made for it (the first one cannot be rebuilt).
    Returns how many reminders were queued.
    """
    now = now or timezone.now()
    due = Rsvp.objects.filter(
        meeting__status=Meeting.Status.PUBLISHED,
        meeting__send_reminder=True,
        meeting__starts_at__gt=now,
        meeting__starts_at__lte=now + dt.timedelta(hours=settings.REMINDER_HOURS_BEFORE),
        status__in=[Rsvp.Status.CONFIRMED, Rsvp.Status.WAITLISTED],
        reminded_at__isnull=True,
        personal_data_erased_at__isnull=True,
    ).reachable()
    return _claim_and_send(due, "reminded_at", emails.rsvp_reminder, now=now)


def ask_for_feedback(*, now: dt.datetime | None = None) -> int:
    """Queue, once, the follow-up with the anonymous questions to every RSVP with an email
    of a meeting that ended FEEDBACK_REQUEST_HOURS_AFTER hours ago (within a week), unless
    its link already answered. Returns how many were queued."""
    now = now or timezone.now()
    ended_before = now - dt.timedelta(hours=settings.FEEDBACK_REQUEST_HOURS_AFTER)
    due = Rsvp.objects.filter(
        meeting__status=Meeting.Status.PUBLISHED,
        meeting__ends_at__lte=ended_before,
        meeting__ends_at__gt=ended_before - dt.timedelta(days=7),
        status=Rsvp.Status.CONFIRMED,
        feedback_asked_at__isnull=True,
        feedback_given=False,
        personal_data_erased_at__isnull=True,
    ).reachable()
    return _claim_and_send(due, "feedback_asked_at", emails.feedback_request, now=now)


def _claim_and_send(rsvps, stamp, send, *, now):
    sent = 0
    for rsvp in rsvps.select_related("meeting__venue").order_by("pk"):
        with transaction.atomic():
            claimed = Rsvp.objects.filter(pk=rsvp.pk, **{f"{stamp}__isnull": True}).update(
                **{stamp: now}
            )
            if claimed:
                # A link of its own for this message (RsvpLink): older ones keep working.
                send(rsvp, token=RsvpLink.make([rsvp])[rsvp.pk])
                sent += 1
    return sent
