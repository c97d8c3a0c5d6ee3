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
import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from meetings.ical import meeting_calendar_bytes
from meetings.models import Meeting, Rsvp
from meetings.tokens import hash_token, make_token, token_for_submission

logger = logging.getLogger(__name__)


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
        meeting = _lock(meeting.pk)
        if submission_key is not None:
            earlier = Rsvp.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                token = token_for_submission(submission_key)
                shown = token if earlier.token_hash == hash_token(token) else None
                return RsvpResult(earlier, shown, RsvpOutcome.ALREADY_SENT)
        check_open(meeting, staff=staff)

        existing = None
        if email:
            existing = Rsvp.objects.filter(meeting=meeting, email__iexact=email).first()
        if existing is not None:
            # Whoever typed this address may not be its owner: the new link goes only to the
            # address, never on the page, and the old link stops working.
            token = make_token()
            # A name or note left blank this time keeps the one given before.
            details["first_name"] = first_name or existing.first_name
            details["note"] = note or existing.note
            _apply_changes(meeting, existing, details, rejoin=existing.is_cancelled)
            existing.token_hash = hash_token(token)
            existing.submission_key = submission_key
            existing.save(update_fields=["token_hash", "submission_key", "updated_at"])
            _promote(meeting)
            _mail_after_commit("rsvp_confirmation", existing, token=token, updated=True)
            return RsvpResult(existing, None, RsvpOutcome.UPDATED)

        token = make_token() if submission_key is None else token_for_submission(submission_key)
        fits = _fits(meeting, party_size)
        rsvp = Rsvp.objects.create(
            meeting=meeting,
            email=email,
            token_hash=hash_token(token),
            submission_key=submission_key,
            status=Rsvp.Status.CONFIRMED if fits else Rsvp.Status.WAITLISTED,
            **details,
        )
        _mail_after_commit("rsvp_confirmation", rsvp, token=token)
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


def cancel_meeting(*, meeting: Meeting, note: str | None = None) -> int:
    """Cancel the meeting and tell everyone with an RSVP and an email, once.

    Returns how many emails were queued.
    """
    with transaction.atomic():
        before = copy.copy(meeting)
        meeting.cancel(note)
        return notify_meeting_changed(meeting=meeting, before=before)


def notify_meeting_changed(*, meeting: Meeting, before: Meeting) -> int:
    """Tell RSVPs with an email that staff moved, rescheduled, cancelled or reinstated a meeting.

    `before` is the meeting as it was before the save; call once per save, after it. One email
    per RSVP per call, in the RSVP's language, with the updated .ics attached (STATUS:CANCELLED
    for a cancelled meeting). Drafts and meetings that had ended already tell nobody.
    Returns how many emails were queued; they are sent after the transaction commits.
    """
    changes = meeting_changes(before, meeting)
    if not changes or before.is_draft or meeting.is_draft or (before.is_past and meeting.is_past):
        return 0
    rsvps = list(
        meeting.rsvps.active().exclude(email="").select_related("meeting__venue").order_by("pk")
    )
    for rsvp in rsvps:
        # The RSVP's own copy of the meeting is the saved one, not a stale read.
        rsvp.meeting = meeting
    transaction.on_commit(lambda: _send_quietly("meeting_changed", rsvps, changes=sorted(changes)))
    return len(rsvps)


def meeting_changes(before: Meeting, after: Meeting) -> set[MeetingChange]:
    """What an attendee must hear about between two versions of a meeting."""
    if after.is_cancelled and not before.is_cancelled:
        return {MeetingChange.CANCELLED}
    changes = set()
    if before.is_cancelled and after.is_published:
        changes.add(MeetingChange.REINSTATED)
    if (before.starts_at, before.ends_at) != (after.starts_at, after.ends_at):
        changes.add(MeetingChange.TIME)
    if before.venue_id != after.venue_id:
        changes.add(MeetingChange.VENUE)
    return changes


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


def manage_url(token: str) -> str:
    """The absolute private link, in the active language."""
    return settings.SITE_URL + reverse("meetings:rsvp-manage", kwargs={"token": token})


# Under the lock ----------------------------------------------------------------------------


def _lock(meeting_pk) -> Meeting:
    """The meeting row, locked until the transaction ends (only it: not its venue)."""
    return (
        Meeting.objects.select_for_update(of=("self",)).select_related("venue").get(pk=meeting_pk)
    )


def _confirmed_seats(meeting) -> int:
    # A statement of its own, after the lock was taken: under READ COMMITTED it sees every
    # RSVP committed by whoever held the lock before us. (Counting in the same statement as
    # FOR UPDATE would use the snapshot from before the wait, and overbook.)
    return (
        Meeting.objects.with_seat_counts()
        .values_list("confirmed_seats", flat=True)
        .get(pk=meeting.pk)
    )


def _free_seats(meeting) -> int | None:
    """Seats not yet confirmed (never below 0), or None for a meeting without a limit."""
    if meeting.capacity is None:
        return None
    return max(meeting.capacity - _confirmed_seats(meeting), 0)


def _fits(meeting, party_size) -> bool:
    free = _free_seats(meeting)
    return free is None or party_size <= free


def _apply_changes(meeting, rsvp, details, *, rejoin=False):
    """Write new details onto an RSVP under the lock, checking seats for added people.

    `rejoin`: a cancelled RSVP coming back joins like a new arrival, at the end of the line.
    """
    if rejoin:
        rsvp.status = (
            Rsvp.Status.CONFIRMED
            if _fits(meeting, details["party_size"])
            else Rsvp.Status.WAITLISTED
        )
        rsvp.created_at = timezone.now()
    elif rsvp.is_confirmed and details["party_size"] > rsvp.party_size:
        added = details["party_size"] - rsvp.party_size
        free = _free_seats(meeting)
        if free is not None and added > free:
            raise RsvpError(
                ngettext(
                    "Only %(free)d more seat is free, so we could not add %(added)d people. "
                    "Your RSVP is unchanged.",
                    "Only %(free)d more seats are free, so we could not add %(added)d people. "
                    "Your RSVP is unchanged.",
                    free,
                )
                % {"free": free, "added": added},
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
    with_email = [rsvp for rsvp in promoted if rsvp.email]
    if with_email:
        transaction.on_commit(lambda: _send_quietly("rsvp_promoted", with_email))
    return promoted


# Mail ---------------------------------------------------------------------------------------


def _mail_after_commit(kind, rsvp, **context):
    if rsvp.email:
        transaction.on_commit(lambda: _send_quietly(kind, [rsvp], **context))


def _send_quietly(kind, rsvps, **context):
    """Send one email per RSVP over one connection; log failures without any address."""
    try:
        messages = [_render_email(kind, rsvp, **context) for rsvp in rsvps]
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as error:  # noqa: BLE001 - whatever the mail server does, the RSVPs stand
        logger.warning(
            "Could not send %s email for RSVP(s) %s: %s",
            kind,
            ",".join(str(rsvp.pk) for rsvp in rsvps),
            type(error).__name__,
        )


def _render_email(kind, rsvp, *, token=None, **extra):
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
    message = EmailMultiAlternatives(subject, text, to=[rsvp.email])
    message.attach_alternative(html, "text/html")
    message.attach("meeting.ics", calendar, "text/calendar")
    return message
