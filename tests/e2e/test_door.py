"""The door volunteer's phone at the check-in page: one tap from login to tonight's door
list, thumb-sized controls, a check-in nobody can miss, and a door that keeps working with
no signal: taps queued on the phone, sent by themselves when the signal returns, counted
once even from two doors, with conflicts shown. The server's database is read to check."""

import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles
from tests.e2e.test_campaign import log_in

_STATE = """
import json
from meetings.models import DoorAction, Rsvp
rows = Rsvp.objects.filter(meeting__slug={slug!r}).order_by("pk")
print(json.dumps({{
    "in": sorted(r.first_name for r in rows if r.checked_in_at and not r.is_walk_in),
    "walk_ins": [r.party_size for r in rows if r.is_walk_in],
    "taps": sorted(a.outcome for a in DoorAction.objects.filter(meeting__slug={slug!r})),
}}))
"""


def server_state(app, slug):
    """What the database holds for the meeting: who is in, the walk-ins, the taps applied."""
    output = app.manage("shell", "-c", _STATE.format(slug=slug))
    return json.loads(output.strip().splitlines()[-1])


def tonight(app, tag, capacity, names):
    slug, title = seed.meeting(app, capacity=capacity, name=f"door-{tag}", days=0)
    for name in names:
        seed.rsvp(app, slug, first_name=f"{name}{tag}")
    return slug, title


def open_door_list(visitor, title):
    """From the admin's home page, one tap to the meeting's door list."""
    page, t = visitor.page, visitor.t
    page.goto("/admin/")
    link = page.get_by_role("link", name=t("Check-in: %(meeting)s", meeting=title))
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", name=t("So far"))).to_be_visible()


def total(page, name):
    return page.locator(f'#door-totals [data-total="{name}"]')


def offline_storage(page):
    return page.evaluate(
        """async () => ({
          stored: Object.keys(localStorage).filter((k) => k.startsWith("outreach-door")),
          caches: (await caches.keys()).filter((k) => k.startsWith("outreach-door")),
          workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )


@pytest.mark.parametrize("profile", profiles("es-phone-js"))
def test_volunteer_keeps_checking_in_without_signal(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = tonight(app, tag, capacity=4, names=["José", "María"])
    username, password = seed.role_user(app, "Door volunteers", f"door-{tag}")
    volunteer = web.visitor(profile)
    page, t = volunteer.page, volunteer.t
    log_in(volunteer, username, password)
    volunteer.check("admin home page with tonight's door list, phone")
    open_door_list(volunteer, title[volunteer.language])
    volunteer.check("check-in page, phone")

    # Thumb-sized: the search box, the status select, the walk-in checkboxes, the header.
    targets = [
        page.get_by_label(t("First name")),
        page.get_by_label(t("Status")),
        page.get_by_role("checkbox", name=t("Wheelchair or step-free access")),
        page.get_by_role("checkbox", name=t("Childcare")),
        *page.locator("#user-tools").get_by_role("link").all(),
        *page.locator("#user-tools").get_by_role("button").all(),
    ]
    for target in targets:
        box = target.bounding_box()
        assert (box["width"] >= 44, box["height"] >= 44) == (True, True), target

    # Online: José is checked in, the message names him, the row says so unmistakably.
    page.get_by_role("button", name=t("Check in %(name)s", name=f"José{tag}")).click()
    expect(
        page.get_by_text(
            t(
                "Checked in: %(name)s, %(count)d person.",
                "Checked in: %(name)s, %(count)d people.",
                2,
                name=f"José{tag}",
                count=2,
            )
        )
    ).to_be_visible()
    undo = page.get_by_role("button", name=t("Undo check-in of %(name)s", name=f"José{tag}"))
    check_in = page.get_by_role("button", name=t("Check in %(name)s", name=f"María{tag}"))
    expect(undo).to_be_visible()
    badge = page.get_by_text(t("✓ Arrived")).filter(visible=True)
    expect(badge).to_be_visible()
    # A solid dark green badge (white on it: 7.9:1); "Undo" outlined on white, unlike the
    # filled "Check in". (Assertions that retry: the list refreshes itself after a send.)
    expect(badge).to_have_css("background-color", "rgb(27, 94, 32)")
    expect(undo).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(undo).to_have_css("border-top-width", "2px")
    expect(check_in).not_to_have_css("background-color", "rgb(255, 255, 255)")
    volunteer.check("check-in page, José checked in")

    # No signal: María's check-in and a walk-in of 3 wait on the phone, on screen.
    volunteer.context.set_offline(True)
    check_in.dblclick()  # a double tap is one tap
    waiting = page.get_by_text(t("Waiting to send"), exact=True).filter(visible=True)
    expect(waiting.first).to_be_visible()
    page.get_by_label(t("How many people?")).fill("3")
    page.get_by_role("button", name=t("Add walk-in")).dblclick()
    expect(waiting).to_have_count(2)
    expect(
        page.get_by_text(
            t(
                "No connection. Taps are kept on this phone and sent by themselves when the signal returns."
            ),
            exact=False,
        )
    ).to_be_visible()
    expect(total(page, "arrived")).to_have_text("7")
    expect(total(page, "walk_ins")).to_have_text("3")
    # 7 people for 4 seats: said at once, offline too, and never refused.
    over = t(
        "Over capacity: %(arrived)d person is in for %(capacity)d seats. Tell the coordinator.",
        "Over capacity: %(arrived)d people are in for %(capacity)d seats. Tell the coordinator.",
        7,
        arrived=7,
        capacity=4,
    )
    expect(page.get_by_text(over)).to_be_visible()
    volunteer.check("check-in page, offline with taps waiting")
    # The page opens again without signal, with the taps still waiting.
    page.reload()
    expect(page.get_by_role("heading", name=t("So far"))).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    expect(waiting).to_have_count(2)
    expect(total(page, "arrived")).to_have_text("7")
    assert server_state(app, slug) == {"in": [f"José{tag}"], "walk_ins": [], "taps": ["checked_in"]}

    # The signal returns: everything is sent by itself, once.
    volunteer.context.set_offline(False)
    expect(page.get_by_text(t("Everything is sent."))).to_be_visible()
    expect(waiting).to_have_count(0)
    assert server_state(app, slug) == {
        "in": [f"José{tag}", f"María{tag}"],
        "walk_ins": [3],
        "taps": ["checked_in", "checked_in", "walk_in"],
    }
    expect(page.get_by_text(over)).to_be_visible()
    volunteer.check("check-in page, all sent, over capacity")

    # Logging out leaves nothing of the door on the phone.
    assert offline_storage(page)["stored"] == [f"outreach-door:{page.url.split('/')[-3]}"]
    page.get_by_role("button", name=t("Log out")).click()
    expect(page.get_by_role("link", name=t("Log in again"))).to_be_visible()
    assert offline_storage(page) == {"stored": [], "caches": [], "workers": 0}


@pytest.mark.parametrize("profile", profiles("es-phone-js"))
def test_two_doors_offline_count_a_party_once_and_the_second_is_told(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = tonight(app, tag, capacity=30, names=["Lan", "Ana"])
    doors = []
    for number in (1, 2):
        username, password = seed.role_user(app, "Door volunteers", f"door{number}-{tag}")
        door = web.visitor(profile)
        log_in(door, username, password)
        open_door_list(door, title[door.language])
        doors.append(door)
    first, second = doors
    t = first.t
    lan = t("Check in %(name)s", name=f"Lan{tag}")

    # Both doors lose the signal, and both check Lan's party in; one also a walk-in.
    for door in doors:
        door.context.set_offline(True)
        door.page.get_by_role("button", name=lan).click()
        expect(
            door.page.get_by_text(t("Waiting to send"), exact=True).filter(visible=True).first
        ).to_be_visible()
    second.page.get_by_label(t("How many people?")).fill("2")
    second.page.get_by_role("button", name=t("Add walk-in")).click()

    first.context.set_offline(False)
    expect(first.page.get_by_text(t("Everything is sent."))).to_be_visible()
    second.context.set_offline(False)
    expect(second.page.get_by_text(t("Everything is sent."))).to_be_visible()

    conflict = t(
        "%(name)s was already checked in (at another door, or by an earlier tap): counted once.",
        name=f"Lan{tag}",
    )
    expect(second.page.get_by_text(conflict).first).to_be_visible()
    second.check("check-in page, a conflict shown")
    assert server_state(app, slug) == {
        "in": [f"Lan{tag}"],
        "walk_ins": [2],
        "taps": ["already_in", "checked_in", "walk_in"],
    }
    # Lan's 2 and the walk-in's 2, once each, on both doors once they have refreshed.
    expect(total(second.page, "arrived")).to_have_text("4")
    first.page.reload()
    expect(total(first.page, "arrived")).to_have_text("4")


@pytest.mark.parametrize("profile", profiles("vi-phone-nojs"))
def test_door_without_javascript_is_plain_forms_applied_once(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = tonight(app, tag, capacity=2, names=["Binh"])
    username, password = seed.role_user(app, "Door volunteers", f"door-nojs-{tag}")
    volunteer = web.visitor(profile)
    page, t = volunteer.page, volunteer.t
    log_in(volunteer, username, password)
    open_door_list(volunteer, title[volunteer.language])

    page.get_by_role("button", name=t("Check in %(name)s", name=f"Binh{tag}")).click()
    expect(
        page.get_by_text(
            t(
                "Checked in: %(name)s, %(count)d person.",
                "Checked in: %(name)s, %(count)d people.",
                2,
                name=f"Binh{tag}",
                count=2,
            )
        )
    ).to_be_visible()
    # The walk-in form sent twice (a double tap on a slow link): one walk-in.
    form = page.locator("form").filter(has=page.get_by_role("button", name=t("Add walk-in")))
    fields = {
        name: form.locator(f'input[name="{name}"]').get_attribute("value")
        for name in ("csrfmiddlewaretoken", "key")
    }
    data = {**fields, "walk_in": "1", "party_size": "3", "language": "vi"}
    for _ in range(2):
        page.request.post(page.url, form=data, max_redirects=0)
    page.reload()
    over = t(
        "Over capacity: %(arrived)d person is in for %(capacity)d seats. Tell the coordinator.",
        "Over capacity: %(arrived)d people are in for %(capacity)d seats. Tell the coordinator.",
        5,
        arrived=5,
        capacity=2,
    )
    expect(page.get_by_text(over).first).to_be_visible()
    volunteer.check("check-in page without JavaScript, over capacity")
    assert server_state(app, slug) == {
        "in": [f"Binh{tag}"],
        "walk_ins": [3],
        "taps": ["checked_in", "walk_in"],
    }
