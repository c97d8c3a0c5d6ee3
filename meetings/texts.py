"""The text message of each notice, in the RSVP's language, as short as the language allows.

Every kind has a few wordings, from the fullest to the leanest (the title, then the place,
drop out); `compose` keeps the fullest that fits in one SMS segment, else the fullest that
fits in two, else the leanest. Spanish and English go out in the GSM-7 alphabet (accents
that it lacks are dropped: "reunión" → "reunion"), so 160 characters make one segment;
Vietnamese needs UCS-2 (70 per segment, 134 in two), so its wordings are terse.
`meetings.segments` counts; tests/meetings/test_texts.py checks every kind in every language.

The first text a number gets (the confirmation) says that STOP ends them; the provider and
our webhook (meetings.sms_views) honour STOP, START and HELP.
"""

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, ngettext

from meetings import segments
from meetings.formatting import short_date, short_time
from meetings.tokens import manage_url

if TYPE_CHECKING:
    from meetings.models import Rsvp

# A text never costs more than this many segments when the leanest wording can help it.
MAX_SEGMENTS = 2


def compose(kind: str, rsvp: "Rsvp", *, token: str | None = None, **context: Any) -> str:
    """The text of notice `kind` (an OutgoingEmail.Kind value) for `rsvp`, in its language."""
    with translation.override(rsvp.language):
        facts = _facts(rsvp, token=token, **context)
        wordings = WORDINGS[kind](facts)
        return fit(wordings, rsvp.language)


def fit(wordings: Sequence[str], language: str) -> str:
    """The fullest wording in one segment, else the fullest in MAX_SEGMENTS, else the leanest.
    The leanest wording (which may leave out the time or place) is only ever chosen to stay
    within MAX_SEGMENTS, never to save the second segment."""
    candidates = [segments.fit_alphabet(_tidy(text), language) for text in wordings]
    for limit, choices in ((1, candidates[:-1] or candidates), (MAX_SEGMENTS, candidates)):
        for text in choices:
            if segments.count(text).count <= limit:
                return text
    return candidates[-1]


def _tidy(text):
    """One space between words, and one full stop where a time that ends in one ("p.m.")
    meets the sentence's own."""
    return re.sub(r"(?<!\.)\.\.(?!\.)", ".", " ".join(text.split()))


def _facts(rsvp, *, token=None, **context):
    meeting = rsvp.meeting
    starts = meeting.local_starts_at
    link = manage_url(token) if token else ""
    return {
        "rsvp": rsvp,
        "who": gettext("Police outreach"),
        "title": meeting.title,
        "place": meeting.venue.name,
        "when": f"{short_date(starts)} {short_time(starts)}",
        "date": short_date(starts),
        "link": link,
        # The private page opens on "Can't come any more?" (its cancel button) with this.
        "cant_come": f"{link}?cant-come" if link else "",
        "feedback": f"{link}#feedback" if link else "",
        "meeting_link": settings.SITE_URL + meeting.get_absolute_url(),
        "seats": rsvp.party_size,
        "waitlist_place": rsvp.waitlist_place,
        **context,
    }


def _confirmation(f):
    stop = gettext("Reply STOP to end texts.")
    if f["rsvp"].is_confirmed:
        lead = short_lead = ngettext(
            "you are confirmed (%(seats)d seat)", "you are confirmed (%(seats)d seats)", f["seats"]
        ) % {"seats": f["seats"]}
    else:
        place = {"place": f["waitlist_place"]}
        lead = gettext("the meeting is full: you are number %(place)d on the waitlist") % place
        short_lead = gettext("waitlist number %(place)d") % place
    full = gettext("%(who)s: %(lead)s for %(title)s, %(when)s, %(place)s. Your RSVP: %(link)s")
    short = gettext("%(who)s: %(lead)s, %(when)s. Your RSVP: %(link)s")
    leanest = gettext("%(lead)s, %(date)s. %(link)s")
    return [
        f"{full % {**f, 'lead': lead}} {stop}",
        f"{short % {**f, 'lead': lead}} {stop}",
        f"{leanest % {**f, 'lead': short_lead[:1].upper() + short_lead[1:]}} {stop}",
    ]


def _with_link(f, leads):
    """Each of `leads` followed by the text's link: the private one made for it, else (a text
    queued without one, before links were made for changes) the meeting's page."""
    link = f["link"] or f["meeting_link"]
    return [f"{lead} {link}" for lead in leads]


def _promoted(f):
    return _with_link(
        f,
        [
            gettext(
                "%(who)s: a seat freed up, you are confirmed for %(title)s, %(when)s, %(place)s."
            )
            % f,
            gettext("%(who)s: a seat freed up, you are confirmed for %(when)s, %(place)s.") % f,
            gettext("%(who)s: a seat freed up, you are confirmed for %(when)s.") % f,
            gettext("Seat confirmed, %(when)s.") % f,
        ],
    )


def _changed(f):
    changes = f.get("changes", [])
    if "cancelled" in changes:
        leads = [
            gettext("%(who)s: sorry, %(title)s on %(date)s is cancelled.") % f,
            gettext("%(who)s: sorry, the meeting on %(date)s is cancelled.") % f,
            gettext("Meeting on %(date)s cancelled.") % f,
        ]
    elif "venue" in changes:
        # A new place: no wording leaves it out.
        leads = [
            gettext("%(who)s: %(title)s has changed. Now: %(when)s, %(place)s.") % f,
            gettext("%(who)s: your meeting has changed. Now: %(when)s, %(place)s.") % f,
            gettext("Meeting moved: %(when)s, %(place)s.") % f,
        ]
    elif "time" in changes:
        leads = [
            gettext("%(who)s: %(title)s has changed. Now: %(when)s, %(place)s.") % f,
            gettext("%(who)s: your meeting has changed. Now: %(when)s, %(place)s.") % f,
            gettext("%(who)s: your meeting is now %(when)s.") % f,
            gettext("Meeting moved: %(when)s.") % f,
        ]
    else:
        leads = [
            gettext("%(who)s: good news, %(title)s is going ahead: %(when)s, %(place)s.") % f,
            gettext("%(who)s: good news, your meeting is going ahead: %(when)s.") % f,
            gettext("Meeting on %(date)s is going ahead.") % f,
        ]
    return _with_link(f, leads)


def _rsvp_changed(f):
    people = ngettext("%(count)d person", "%(count)d people", f["seats"]) % {"count": f["seats"]}
    f = {**f, "people": people}
    return [
        gettext("%(who)s: your RSVP for %(title)s, %(when)s has changed: %(people)s.") % f,
        gettext("%(who)s: your RSVP for %(when)s has changed: %(people)s.") % f,
        gettext("Your RSVP for %(date)s has changed: %(people)s.") % f,
    ]


def _rsvp_cancelled(f):
    if f.get("by_staff"):
        return [
            gettext("%(who)s: the organizers cancelled your RSVP for %(title)s, %(when)s.") % f,
            gettext("%(who)s: the organizers cancelled your RSVP for %(when)s.") % f,
        ]
    return [
        gettext("%(who)s: your RSVP for %(title)s, %(when)s is cancelled.") % f,
        gettext("%(who)s: your RSVP for %(when)s is cancelled.") % f,
    ]


def _reminder(f):
    if f["rsvp"].is_confirmed:
        leads = [
            gettext("%(who)s reminder: %(title)s, %(when)s, %(place)s.") % f,
            gettext("Reminder: %(when)s, %(place)s.") % f,
            gettext("Reminder: %(when)s.") % f,
            gettext("Reminder: %(date)s.") % f,
        ]
    else:
        leads = [
            gettext(
                "%(who)s reminder: you are number %(waitlist_place)d on the waitlist for %(when)s."
            )
            % f,
            gettext("Reminder: waitlist number %(waitlist_place)d, %(when)s.") % f,
            gettext("Reminder: waitlist number %(waitlist_place)d, %(date)s.") % f,
        ]
    cant = gettext("Can't come? Free your seat: %(cant_come)s") % f
    # The leanest: the shortest lead with the shortest way to say it.
    short_cant = gettext("Can't come? %(cant_come)s") % f
    return [f"{lead} {cant}" for lead in leads] + [f"{leads[-1]} {short_cant}"]


def _feedback(f):
    return [
        gettext("%(who)s: thank you for coming. 3 quick anonymous questions: %(feedback)s") % f,
        gettext("Thank you for coming! 3 anonymous questions: %(feedback)s") % f,
    ]


# What staff can send to a meeting's RSVPs: each a sentence translated in every language,
# with the fields it needs; "custom" is staff's own words in each language.
STAFF_TEMPLATES = {
    "doors_late": ["minutes"],
    "starts_late": ["minutes"],
    "room": ["room"],
    "custom": ["custom"],
}


def staff_message_text(*, template: str, **fields: Any) -> str:
    """A staff message in the active language."""
    if template == "doors_late":
        return ngettext(
            "Today the doors open %(minutes)d minute late. Sorry for the wait!",
            "Today the doors open %(minutes)d minutes late. Sorry for the wait!",
            fields["minutes"],
        ) % {"minutes": fields["minutes"]}
    if template == "starts_late":
        return ngettext(
            "Today the meeting starts %(minutes)d minute late. Sorry for the wait!",
            "Today the meeting starts %(minutes)d minutes late. Sorry for the wait!",
            fields["minutes"],
        ) % {"minutes": fields["minutes"]}
    if template == "room":
        return gettext("The meeting is in a different room today: %(room)s.") % {
            "room": fields["room"]
        }
    custom = fields.get("custom") or {}
    return custom.get(translation.get_language()) or custom.get(settings.LANGUAGE_CODE, "")


def _staff_message(f):
    template = f["template"]
    message = staff_message_text(
        template=template, **{name: f[name] for name in STAFF_TEMPLATES[template]}
    )
    return [
        gettext("%(who)s, %(title)s: %(message)s") % {**f, "message": message},
        gettext("%(who)s: %(message)s") % {**f, "message": message},
        message,
    ]


WORDINGS: dict[str, Callable[[dict], list[str]]] = {
    "rsvp_confirmation": _confirmation,
    "rsvp_promoted": _promoted,
    "meeting_changed": _changed,
    "rsvp_changed": _rsvp_changed,
    "rsvp_cancelled": _rsvp_cancelled,
    "rsvp_reminder": _reminder,
    "feedback_request": _feedback,
    "staff_message": _staff_message,
}


def help_reply(language: str) -> str:
    """The answer to HELP: who we are, how to reach the department, how to stop."""
    with translation.override(language):
        contact = " ".join(
            part for part in (settings.DEPARTMENT_PHONE, settings.DEPARTMENT_EMAIL) if part
        )
        text = gettext(
            "%(who)s: meeting reminders for your RSVPs. Contact: %(contact)s. "
            "Reply STOP to end texts."
        ) % {"who": gettext("Police outreach"), "contact": contact or settings.SITE_URL}
        return segments.fit_alphabet(text, language)


def stopped_reply(language: str) -> str:
    with translation.override(language):
        text = gettext(
            "%(who)s: you will get no more texts from us. Reply START to have them again."
        )
        return segments.fit_alphabet(text % {"who": gettext("Police outreach")}, language)


def started_reply(language: str) -> str:
    with translation.override(language):
        text = gettext("%(who)s: texts are on again for your RSVPs. Reply STOP to end them.")
        return segments.fit_alphabet(text % {"who": gettext("Police outreach")}, language)
