"""RSVP, change, cancel, and the waitlist, as residents do them in a browser."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles

# Each flow in English and Spanish, the RSVP flow also in Vietnamese; each at both sizes and
# with JavaScript on and off somewhere in the set.
RSVP_PROFILES = profiles(
    "en-phone-js",
    "en-desktop-nojs",
    "es-phone-nojs",
    "es-desktop-js",
    "vi-phone-js",
    "vi-desktop-nojs",
)
WAITLIST_PROFILES = profiles("en-desktop-js", "es-phone-nojs")


def address(name):
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def seats_left(visitor, count):
    return visitor.t("%(seats)s seat left", "%(seats)s seats left", count, seats=count)


def confirmed(visitor, count):
    return visitor.t(
        "You are confirmed: %(seats)s seat is kept for you.",
        "You are confirmed: %(seats)s seats are kept for you.",
        count,
        seats=count,
    )


def press(visitor, locator):
    """A tap on a phone, a click on a desktop."""
    if visitor.profile.device == "phone":
        locator.tap()
    else:
        locator.click()


def send_rsvp(visitor, *, party_size, email, name="Ana", button="Send my RSVP"):
    page, t = visitor.page, visitor.t
    page.get_by_label(t("How many people are coming, including you and any children?")).fill(
        str(party_size)
    )
    page.get_by_label(t("First name or nickname (optional)")).fill(name)
    page.get_by_label(t("Email (optional)")).fill(email)
    press(visitor, page.get_by_role("button", name=t(button)))


@pytest.mark.parametrize("profile", RSVP_PROFILES)
def test_rsvp_change_and_cancel(web, app, mailbox, profile):
    slug, title = seed.meeting(app, capacity=10, name="rsvp")
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    email = address("rsvp")

    visitor.goto(f"/meetings/{slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(title[visitor.language])
    visitor.eventually_shows(seats_left(visitor, 10))
    visitor.check("meeting page")

    # A mistake first: the form comes back with the answer marked.
    send_rsvp(visitor, party_size=3, email="not an address")
    expect(page.get_by_text(t("Please check the answers marked below."))).to_be_visible()
    visitor.check("meeting page, RSVP form with an error")

    page.get_by_label(t("Do you need an interpreter? (optional)")).select_option("es")
    page.get_by_label(
        t("Someone in my group uses a wheelchair or needs step-free access (optional)")
    ).check()
    send_rsvp(visitor, party_size=3, email=email)

    # The confirmation page is the private page, with a thank-you.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your RSVP"))
    expect(page.get_by_text(t("Thank you. Your RSVP is saved."))).to_be_visible()
    expect(page.get_by_text(confirmed(visitor, 3))).to_be_visible()
    visitor.expect("#" not in page.url, "the private link people bookmark has a fragment")
    private_url = page.url.partition("#")[0]
    visitor.check("confirmation page")

    message = mailbox.wait_for(email)
    assert title[visitor.language] in message.subject
    assert message.subject.startswith(t("You are confirmed"))
    link = message.link_to("/rsvp/")
    assert link == private_url

    visitor.goto(f"/meetings/{slug}/")
    visitor.eventually_shows(seats_left(visitor, 7))

    # The link from the email, followed in the browser.
    page.goto(link)
    expect(page.get_by_text(confirmed(visitor, 3))).to_be_visible()
    expect(
        page.get_by_role("definition").filter(has_text=t("Wheelchair or step-free access"))
    ).to_have_count(1)
    visitor.check("private page")

    page.get_by_label(t("How many people are coming, including you and any children?")).fill("2")
    page.get_by_label(
        t("Someone in my group uses a wheelchair or needs step-free access (optional)")
    ).uncheck()
    page.get_by_label(t("We would like childcare during the meeting (optional)")).check()
    press(visitor, page.get_by_role("button", name=t("Save my changes")))

    expect(page.get_by_text(t("Your changes are saved."))).to_be_visible()
    expect(page.get_by_text(confirmed(visitor, 2))).to_be_visible()
    needs = page.get_by_role("definition")
    expect(needs.filter(has_text=t("Childcare"))).to_have_count(1)
    expect(needs.filter(has_text=t("Wheelchair or step-free access"))).to_have_count(0)
    visitor.check("private page after a change")

    # The change is confirmed by email, and the event in the calendar follows it.
    changed = mailbox.wait_for(email, count=2)
    assert changed.subject.startswith(t("Your RSVP is changed"))
    assert changed.parsed["Content-Language"] == visitor.language
    first_event, changed_event = message.invitation("REQUEST"), changed.invitation("REQUEST")
    assert changed_event["UID"] == first_event["UID"]
    assert int(changed_event["SEQUENCE"]) > int(first_event["SEQUENCE"])

    visitor.goto(f"/meetings/{slug}/")
    visitor.eventually_shows(seats_left(visitor, 8))

    # "Cancel my RSVP" asks once: a mis-tap frees no seat, and "Keep my RSVP" goes back.
    page.goto(link)
    press(visitor, page.get_by_role("link", name=t("Cancel my RSVP")))
    expect(page.get_by_role("button", name=t("Yes, cancel my RSVP"))).to_be_in_viewport()
    visitor.check("private page, asked to confirm the cancel")
    press(visitor, page.get_by_role("link", name=t("Keep my RSVP")))
    expect(page.get_by_text(confirmed(visitor, 2))).to_be_visible()
    expect(page.get_by_role("button", name=t("Yes, cancel my RSVP"))).to_have_count(0)
    visitor.goto(f"/meetings/{slug}/")
    visitor.eventually_shows(seats_left(visitor, 8))

    page.goto(link)
    press(visitor, page.get_by_role("link", name=t("Cancel my RSVP")))
    press(visitor, page.get_by_role("button", name=t("Yes, cancel my RSVP")))
    expect(
        page.get_by_text(t("Your RSVP is cancelled. Thank you for letting us know."))
    ).to_be_visible()
    expect(page.get_by_text(t("You cancelled this RSVP."))).to_be_visible()
    visitor.check("private page after a cancel")

    # A last email takes the event out of the calendar.
    cancelled = mailbox.wait_for(email, count=3)
    assert cancelled.subject.startswith(t("Your RSVP is cancelled"))
    removed = cancelled.invitation("CANCEL")
    assert removed["UID"] == first_event["UID"]
    assert int(removed["SEQUENCE"]) > int(changed_event["SEQUENCE"])
    assert str(removed["STATUS"]) == "CANCELLED"

    visitor.goto(f"/meetings/{slug}/")
    visitor.eventually_shows(seats_left(visitor, 10))


@pytest.mark.parametrize("profile", WAITLIST_PROFILES)
def test_waitlist_moves_up_when_a_party_cancels(web, app, mailbox, profile):
    slug, title = seed.meeting(app, capacity=2, name="waitlist")
    first = web.visitor(profile)
    # The second party uses the other kind of device, in the same language.
    other = type(profile)(
        profile.language, "desktop" if profile.device == "phone" else "phone", not profile.js
    )
    second = web.visitor(other)
    t = first.t
    first_email, second_email = address("first"), address("second")

    first.goto(f"/meetings/{slug}/")
    send_rsvp(first, party_size=2, email=first_email)
    expect(first.page.get_by_text(confirmed(first, 2))).to_be_visible()
    first_link = first.page.url

    # Now full: the page and its form say "Join the waitlist".
    second.goto(f"/meetings/{slug}/")
    second.eventually_shows(t("Full: join the waitlist."))
    waitlist_button = second.page.get_by_role("button", name=t("Join the waitlist"))
    second.expect(
        waitlist_button.count() == 1,
        "a full meeting's form says “Send my RSVP”, not “Join the waitlist”",
    )
    second.check("full meeting page")
    button = "Join the waitlist" if waitlist_button.count() else "Send my RSVP"
    send_rsvp(second, party_size=1, email=second_email, name="Bao", button=button)
    waiting = t("The meeting is full. You are on the waitlist, number %(place)s in line.", place=1)
    expect(second.page.get_by_text(waiting)).to_be_visible()
    second.check("private page, waitlisted")
    waitlisted = mailbox.wait_for(second_email)
    assert waitlisted.subject.startswith(t("You are on the waitlist"))
    # Nothing in the calendar says they are going.
    assert waitlisted.calendar_parts() == []

    # The first party cancels: its seats go to the waitlist.
    first.page.goto(first_link)
    press(first, first.page.get_by_role("link", name=t("Cancel my RSVP")))
    press(first, first.page.get_by_role("button", name=t("Yes, cancel my RSVP")))
    expect(first.page.get_by_text(t("You cancelled this RSVP."))).to_be_visible()

    promoted = mailbox.wait_for(second_email, count=2)
    assert promoted.subject == f"{t('A seat freed up: you are confirmed')}: {title[first.language]}"
    assert re.search(re.escape(title[first.language]), promoted.text)

    assert str(promoted.invitation("REQUEST")["STATUS"]) == "CONFIRMED"

    # Its private link (from the first email) agrees.
    second.page.goto(waitlisted.link_to("/rsvp/"))
    expect(second.page.get_by_text(confirmed(second, 1))).to_be_visible()
    second.check("private page, confirmed from the waitlist")
    # So does the new link the promotion email carries.
    new_link = promoted.link_to("/rsvp/")
    assert new_link != waitlisted.link_to("/rsvp/")
    second.page.goto(new_link)
    expect(second.page.get_by_text(confirmed(second, 1))).to_be_visible()


@pytest.mark.parametrize("profile", profiles("vi-phone-js", "es-desktop-nojs"))
def test_private_page_after_the_meeting_holds_no_seat(web, app, profile):
    """Opened from the follow-up email after the meeting, the private page thanks the
    person; it no longer says seats are kept or offers to add the event to a calendar."""
    slug, _title = seed.meeting(app, capacity=10, name="ended")
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    visitor.goto(f"/meetings/{slug}/")
    send_rsvp(visitor, party_size=2, email=address("ended"))
    expect(page.get_by_text(confirmed(visitor, 2))).to_be_visible()

    app.manage(
        "shell",
        "-c",
        "import datetime as dt; from django.utils import timezone; "
        "from meetings.models import Meeting; "
        "start = timezone.now() - dt.timedelta(hours=3); "
        f"Meeting.objects.filter(slug={slug!r}).update("
        "starts_at=start, ends_at=start + dt.timedelta(hours=1))",
    )
    page.reload()
    expect(page.get_by_text(t("This meeting has ended. Thank you for your RSVP."))).to_be_visible()
    expect(page.get_by_text(confirmed(visitor, 2))).to_have_count(0)
    expect(page.get_by_role("link", name=t("Add to my calendar (.ics file)"))).to_have_count(0)
    visitor.check("private page after the meeting")
