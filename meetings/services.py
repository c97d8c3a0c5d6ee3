"""Rules that span models: RSVP capacity, the waitlist, and telling people about changes.

Every function here that touches seats locks the meeting row first (`select_for_update`
inside `transaction.atomic`), then counts the confirmed seats from the RSVP rows under that
lock, and only then confirms, waitlists or promotes. Requests for one meeting take turns;
requests for different meetings never wait for each other. Mail is sent only after the
transaction commits, and a failing mail server never undoes an RSVP.

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
import enum
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from meetings import emails
from meetings.models import Meeting, Rsvp
from meetings.tokens import hash_token, make_token, token_for_submission


class RsvpOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    # The email matched an earlier RSVP to the same meeting, which was updated instead.
    UPDATED = "updated"
    # The same form was sent before (a double click): nothing changed this time.
    ALREADY_SENT = "already_sent"


@dataclass(frozen=True)
class RsvpResult:
    rsvp: Rsvp
    # The private manage token, when whoever sent the form may see it; None when the
    # link went only to the RSVP's email address (an update of an earlier RSVP).
    token: str | None
    outcome: RsvpOutcome


class RsvpError(Exception):
    """A change the rules refuse. `message` is translated for the person; `code` names the rule."""

    def __init__(self, message, *, code):
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


# Public ----------------------------------------------------------------------------------


def create_rsvp(
    *,
    meeting: Meeting,
    party_size: int,
    language: str,
    first_name: str = "",
    email: str = "",
    needs_interpretation: str = "",
    needs_wheelchair_access: bool = False,
    needs_childcare: bool = False,
    note: str = "",
    submission_key: uuid.UUID | None = None,
    staff: bool = False,
) -> RsvpResult:
    """Confirm or waitlist a party, or update the earlier RSVP with the same email.

    `submission_key` is the form's one-time key: the same key sent again returns the RSVP it
    made, unchanged (outcome ALREADY_SENT). The manage token of an RSVP made from a form is
    derived from that key (see `_token_for_submission`), so the repeat shows the same link.
    `staff=True` (a phone call, demo data) skips the public RSVP window; cancelled meetings
    refuse RSVPs either way. Raises RsvpError when the meeting takes no RSVPs or, for an
    update that adds people, when the seats are not there.
    """
    email = email.strip()
    details = {
        "party_size": party_size,
        "language": language,
        "first_name": first_name,
        "needs_interpretation": needs_interpretation,
        "needs_wheelchair_access": needs_wheelchair_access,
        "needs_childcare": needs_childcare,
        "note": note,
    }
    with transaction.atomic():
        meeting = _lock_for_rsvp(meeting)
        counted = _count_under_lock(meeting, submission_key=submission_key, email=email)
        if counted["earlier"] is not None:
            earlier = Rsvp.objects.get(pk=counted["earlier"])
            token = token_for_submission(submission_key)
            shown = token if earlier.token_hash == hash_token(token) else None
            return RsvpResult(earlier, shown, RsvpOutcome.ALREADY_SENT)
        check_open(meeting, staff=staff)

        if counted["existing"] is not None:
            existing = Rsvp.objects.get(pk=counted["existing"])
            # Whoever typed this address may not be its owner: the new link goes only to the
            # address, never on the page, and the old link stops working.
            token = make_token()
            # A name or note left blank this time keeps the one given before.
            details["first_name"] = first_name or existing.first_name
            details["note"] = note or existing.note
            _apply_changes(meeting, existing, details)
            existing.token_hash = hash_token(token)
            existing.submission_key = submission_key
            existing.save(update_fields=["token_hash", "submission_key", "updated_at"])
            _promote(meeting)
            emails.rsvp_confirmation(existing, token=token, updated=True)
            return RsvpResult(existing, None, RsvpOutcome.UPDATED)

        token = make_token() if submission_key is None else token_for_submission(submission_key)
        free = _free_seats(meeting, confirmed=counted["confirmed_seats"])
        fits = free is None or party_size <= free
        rsvp = Rsvp.objects.create(
            meeting=meeting,
            email=email,
            token_hash=hash_token(token),
            submission_key=submission_key,
            status=Rsvp.Status.CONFIRMED if fits else Rsvp.Status.WAITLISTED,
            **details,
        )
        emails.rsvp_confirmation(rsvp, token=token)
        outcome = RsvpOutcome.CONFIRMED if fits else RsvpOutcome.WAITLISTED
        return RsvpResult(rsvp, token, outcome)


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
    details = {
        "party_size": party_size,
        "language": language,
        "first_name": first_name,
        "needs_interpretation": needs_interpretation,
        "needs_wheelchair_access": needs_wheelchair_access,
        "needs_childcare": needs_childcare,
        "note": note,
    }
    with transaction.atomic():
        meeting = _lock(rsvp.meeting_id)
        rsvp = Rsvp.objects.get(pk=rsvp.pk)
        rsvp.meeting = meeting
        if not rsvp.can_be_changed:
            if rsvp.is_cancelled:
                raise RsvpError(_("This RSVP was cancelled."), code="rsvp_cancelled")
            check_open(meeting)  # raises, saying why
        _apply_changes(meeting, rsvp, details)
        _promote(meeting)
    return rsvp


def cancel_rsvp(*, rsvp: Rsvp, staff: bool = False) -> Rsvp:
    """Cancel an RSVP, erase its name, email and note, and promote the waitlist into the
    seats it frees. Cancelling twice is a no-op.

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
        # Whoever cancels no longer needs to be reached: their details go at once.
        rsvp.status = Rsvp.Status.CANCELLED
        rsvp.first_name = rsvp.email = rsvp.note = ""
        rsvp.save(update_fields=["status", "first_name", "email", "note", "updated_at"])
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
    changes = set()
    if was_cancelled and meeting.is_published:
        changes.add(MeetingChange.REINSTATED)
    if (before["starts_at"], before["ends_at"]) != (meeting.starts_at, meeting.ends_at):
        changes.add(MeetingChange.TIME)
    if before["venue_id"] != meeting.venue_id:
        changes.add(MeetingChange.VENUE)
    return changes


def _save(meeting: Meeting, save) -> MeetingSaved:
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
            told = list(meeting.rsvps.active().exclude(email="").order_by("pk"))
            for rsvp in told:
                # The RSVP's own copy of the meeting is the saved one, not a stale read.
                rsvp.meeting = meeting
            emails.meeting_changed(told, changes=changes)
        # More seats (or none to count) may let waitlisted parties in.
        promoted = _promote(meeting)
    return MeetingSaved(changes=changes, told=len(told), promoted=promoted)


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


def _lock(meeting_pk) -> Meeting:
    """The meeting row, locked until the transaction ends (only it: not its venue)."""
    return (
        Meeting.objects.select_for_update(of=("self",)).select_related("venue").get(pk=meeting_pk)
    )


# What the RSVP rules read from the meeting row: read again under the lock.
RULE_FIELDS = ("status", "capacity", "rsvp_enabled", "rsvp_closes_at", "starts_at", "ends_at")


def _lock_for_rsvp(meeting) -> Meeting:
    """Lock the meeting row, and return a copy of `meeting` with the fields the rules read
    as they are now. Only those: a new RSVP needs no more, and the rest (title, venue) the
    caller read moments ago is what its page and email show."""
    # The plain manager: the translating one would rewrite a query that reads no text.
    current = Meeting._base_manager.select_for_update().values(*RULE_FIELDS).get(pk=meeting.pk)
    meeting = copy.copy(meeting)
    for name, value in current.items():
        setattr(meeting, name, value)
    return meeting


def _confirmed_seats(meeting) -> int:
    # A statement of its own, after the lock was taken: under READ COMMITTED it sees every
    # RSVP committed by whoever held the lock before us. (Counting in the same statement as
    # FOR UPDATE would use the snapshot from before the wait, and overbook.)
    return (
        Meeting.objects.with_seat_counts()
        .values_list("confirmed_seats", flat=True)
        .get(pk=meeting.pk)
    )


def _count_under_lock(meeting, *, submission_key, email) -> dict:
    """What a new RSVP needs to know, in one statement after the lock (see above):
    `confirmed_seats`, and the ids of the RSVP this form made before (`earlier`) and of this
    meeting's RSVP with this email (`existing`), each None when there is none.

    Written out in SQL: it runs on every RSVP, and building it through the ORM cost more
    than running it. It reads the same rows `Meeting.objects.with_seat_counts()` counts.
    """
    table = Rsvp._meta.db_table
    key = Rsvp._meta.get_field("submission_key").get_db_prep_value(submission_key, connection)
    # Three look-ups, each on its own index: (meeting, status), the unique form key, and
    # the meeting's RSVPs (only when there is an email to look for).
    sql = (
        f"SELECT (SELECT COALESCE(SUM(party_size), 0) FROM {table}"  # noqa: S608
        "         WHERE meeting_id = %s AND status = %s),"
        f" (SELECT id FROM {table} WHERE submission_key = %s),"
        f" (SELECT MIN(id) FROM {table} WHERE meeting_id = %s AND UPPER(email) = UPPER(%s))"
    )
    parameters = [meeting.pk, Rsvp.Status.CONFIRMED.value, key, meeting.pk, email or None]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        confirmed_seats, earlier, existing = cursor.fetchone()
    return {"confirmed_seats": confirmed_seats, "earlier": earlier, "existing": existing}


def _free_seats(meeting, *, confirmed=None) -> int | None:
    """Seats not yet confirmed (never below 0), or None for a meeting without a limit.

    `confirmed`: the seats already counted under the lock, if they were.
    """
    if meeting.capacity is None:
        return None
    if confirmed is None:
        confirmed = _confirmed_seats(meeting)
    return max(meeting.capacity - confirmed, 0)


def _apply_changes(meeting, rsvp, details):
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


def _promote(meeting) -> list[Rsvp]:
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
        rsvp.save(update_fields=["status", "updated_at"])
        rsvp.meeting = meeting
        promoted.append(rsvp)
    emails.rsvp_promoted(promoted)
    return promoted
