"""Staff in the admin: a venue and a meeting in three languages, a phone-in RSVP, check-in,
moving the meeting and cancelling it, with the emails residents get."""

import datetime as dt
import re
import uuid

import pytest
from django.utils.text import capfirst
from playwright.sync_api import expect

from meetings.models import Meeting
from tests.e2e import seed
from tests.e2e.browser import profiles

LANGUAGES = ("en", "es", "vi")


def label(visitor, verbose_name):
    return capfirst(visitor.t(verbose_name))


def fill_translated(visitor, field, values):
    """One field in each language. The translation widget shows one language at a time behind
    tabs (role "tab", controlling each language's panel) and gives the three inputs the same
    label, so they are found by their tab and id (with JavaScript off all three show)."""
    page = visitor.page
    for code, value in values.items():
        tab = page.locator(f'[role="tab"][aria-controls="tab_id_{field}_{code}"]')
        if tab.count():
            tab.click()
        page.locator(f"#id_{field}_{code}").fill(value)


def fill_when(visitor, field, day, time=None):
    """The admin's split date and time inputs, by their names ("Starts at: date")."""
    name = label(visitor, Meeting._meta.get_field(field).verbose_name)
    visitor.page.get_by_label(f"{name}: {visitor.t('date')}", exact=True).fill(day.isoformat())
    if time:
        visitor.page.get_by_label(f"{name}: {visitor.t('time')}", exact=True).fill(time)


def run_action(visitor, row_name, action):
    page, t = visitor.page, visitor.t
    page.get_by_role("checkbox", name=re.compile(re.escape(row_name))).first.check()
    page.get_by_label(t("Action:")).select_option(label=action)
    page.get_by_role("button", name=t("Go")).click()


@pytest.mark.parametrize("profile", profiles("en-desktop-js", "es-phone-js"))
def test_staff_publish_take_a_call_check_in_move_and_cancel(web, app, mailbox, profile):
    username, password = seed.staff_user(app)
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    tag = uuid.uuid4().hex[:6]
    venue = {"en": f"Hall {tag}", "es": f"Salón {tag}", "vi": f"Hội trường {tag}"}
    title = {"en": f"Staff meeting {tag}", "es": f"Reunión {tag}", "vi": f"Cuộc họp {tag}"}
    caller = f"caller-{tag}@example.org"

    page.goto("/admin/")
    page.get_by_label(label(staff, "username")).fill(username)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # A venue.
    page.goto("/admin/meetings/venue/add/")
    fill_translated(staff, "name", venue)
    page.get_by_label(label(staff, "slug")).fill(f"hall-{tag}")
    page.get_by_label(label(staff, "street address")).fill("5 Example Road")
    page.get_by_label(label(staff, "area of the city")).fill(f"Area {tag}")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("link", name=venue[staff.language]).first).to_be_visible()

    # A meeting in three languages, then published.
    page.goto("/admin/meetings/meeting/add/")
    staff.check("admin: add a meeting")
    fill_translated(staff, "title", title)
    page.get_by_label(label(staff, "slug")).fill(f"staff-meeting-{tag}")
    day = dt.date.today() + dt.timedelta(days=30)
    fill_when(staff, "starts_at", day, "18:30")
    fill_when(staff, "ends_at", day, "20:00")
    page.get_by_role("combobox", name=label(staff, "venue"), exact=True).click()
    page.keyboard.type(tag)  # the open venue search has the focus
    page.get_by_role("option", name=venue[staff.language]).click()
    page.get_by_label(label(staff, "capacity")).fill("5")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("link", name=title[staff.language]).first).to_be_visible()

    run_action(staff, title[staff.language], t("Publish selected meetings"))
    expect(
        page.get_by_text(
            t("Published %(count)d meeting.", "Published %(count)d meetings.", 1, count=1)
        )
    ).to_be_visible()
    resident = web.visitor(profile)
    resident.goto(f"/meetings/staff-meeting-{tag}/")
    expect(resident.page.get_by_role("heading", level=1)).to_have_text(title[staff.language])
    resident.check("meeting page, just published")

    # A phone-in RSVP.
    page.get_by_role("link", name=title[staff.language]).first.click()
    page.get_by_role("link", name=t("Add a phone-in RSVP")).click()
    # The number of people is the form's one number box (its label is being reworded for staff).
    page.get_by_role("main").get_by_role("spinbutton").fill("2")
    page.get_by_label(t("Email (optional)")).fill(caller)
    staff.check("admin: phone-in RSVP form")
    page.get_by_role("button", name=t("Add RSVP")).click()
    expect(
        page.get_by_text(
            re.compile(
                re.escape(
                    t("Confirmed: %(seats)d seat.", "Confirmed: %(seats)d seats.", 2, seats=2)
                )
            )
        )
    ).to_be_visible()
    # The caller's private link, shown this once, to read out or print.
    expect(page.locator(".private-link")).to_contain_text("/rsvp/")
    staff.check("admin: phone-in RSVP taken")
    confirmation = mailbox.wait_for(caller)
    assert confirmation.subject.startswith(t("You are confirmed"))
    added = confirmation.invitation("REQUEST")

    # Check-in at the door, on the check-in page.
    page.get_by_role("link", name=t("Back to the meeting")).click()
    page.get_by_role("link", name=t("Check-in at the door")).click()
    staff.check("admin: check-in page")
    page.get_by_role("button", name=t("Check in %(name)s", name=t("this party"))).click()
    checked_in = t(
        "Checked in: %(name)s, %(count)d person.",
        "Checked in: %(name)s, %(count)d people.",
        2,
        name=t("this party"),
        count=2,
    )
    expect(page.get_by_text(checked_in)).to_be_visible()
    expect(
        page.get_by_role("button", name=t("Undo check-in of %(name)s", name=t("this party")))
    ).to_be_visible()

    # Moved a day later: the caller is told.
    page.goto("/admin/meetings/meeting/")
    page.get_by_role("link", name=title[staff.language]).first.click()
    later = day + dt.timedelta(days=1)
    fill_when(staff, "starts_at", later)
    fill_when(staff, "ends_at", later)
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(
        page.get_by_text(
            t(
                "Emailing %(told)d RSVP about the change.",
                "Emailing %(told)d RSVPs about the change.",
                1,
                told=1,
            )
        )
    ).to_be_visible()
    changed = mailbox.wait_for(caller, count=2)
    assert changed.subject.startswith(t("Changed")), changed.subject
    # The event in the caller's calendar moves: same UID, higher SEQUENCE, the new day.
    moved = changed.invitation("REQUEST")
    assert moved["UID"] == added["UID"]
    assert int(moved["SEQUENCE"]) > int(added["SEQUENCE"])
    assert moved["DTSTART"].dt.date() == later

    # Cancelled: the caller is told.
    run_action(staff, title[staff.language], t("Cancel selected meetings"))
    cancelled = mailbox.wait_for(caller, count=3)
    assert cancelled.subject.startswith(t("Cancelled")), cancelled.subject
    # ... and then disappears.
    removed = cancelled.invitation("CANCEL")
    assert removed["UID"] == added["UID"]
    assert int(removed["SEQUENCE"]) > int(moved["SEQUENCE"])
    resident.goto(f"/meetings/staff-meeting-{tag}/")
    expect(resident.page.get_by_text(t("This meeting is cancelled.")).first).to_be_visible()
    resident.check("cancelled meeting page")
