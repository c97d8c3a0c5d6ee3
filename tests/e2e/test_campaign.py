"""Staff running a campaign in a real browser: dates generated for a series, published together,
a two-language flyer that prints on one page, a duplicated meeting, and a door volunteer
checking people in on a phone without ever seeing an email address."""

import datetime as dt
import re
import uuid

import pytest
from django.utils.text import capfirst
from playwright.sync_api import expect

from meetings.qrcodes import qr_svg
from tests.e2e import seed
from tests.e2e.browser import profiles


def log_in(visitor, username, password):
    page, t = visitor.page, visitor.t
    page.goto("/admin/")
    page.get_by_label(capfirst(t("username"))).fill(username)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def field(page, text):
    """A form field by its label, as the admin writes it ("Label:")."""
    return page.get_by_label(re.compile(rf"^{re.escape(text)}:?$"))


def pdf_pages(page, paper):
    pdf = page.pdf(format=paper)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("profile", profiles("es-desktop-js"))
def test_coordinator_generates_publishes_prints_and_duplicates(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = seed.series(app, tag=tag)
    username, password = seed.role_user(app, "Outreach coordinators", f"coordinator-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)

    # Five Wednesdays from a weekly pattern, previewed, then created as drafts.
    page.goto("/admin/meetings/meetingseries/")
    page.get_by_role("link", name=title[staff.language]).click()
    page.get_by_role("link", name=t("Generate dates")).click()
    first = dt.date.today() + dt.timedelta(days=60)
    page.get_by_label(t("Every week")).check()
    page.get_by_role("group", name=t("On")).get_by_label(capfirst(t("Wednesday"))).check()
    field(page, t("From")).fill(first.isoformat())
    field(page, t("Number of dates")).fill("5")
    field(page, t("Starts at")).fill("18:30")
    field(page, t("Ends at")).fill("20:00")
    field(page, t("Venue")).select_option(index=1)
    field(page, t("Held in")).select_option("es")
    page.get_by_role("button", name=t("Preview the dates")).click()
    expect(page.locator("ol.planned-dates > li")).to_have_count(5)
    staff.check("admin: generated dates previewed")
    page.get_by_role(
        "button",
        name=t("Create %(count)s draft meeting", "Create %(count)s draft meetings", 5, count=5),
    ).click()
    expect(
        page.get_by_text(
            t(
                "Created %(count)d draft meeting. Check it, then publish the drafts.",
                "Created %(count)d draft meetings. Check them, then publish the drafts.",
                5,
                count=5,
            )
        )
    ).to_be_visible()

    # Published together: the series page shows the five dates.
    page.get_by_role("button", name=t("Publish all drafts of this series")).click()
    expect(
        page.get_by_text(
            t("Published %(count)d meeting.", "Published %(count)d meetings.", 5, count=5)
        )
    ).to_be_visible()
    resident = web.visitor(profile)
    resident.goto(f"/series/{slug}/")
    expect(resident.page.get_by_role("heading", level=3)).to_have_count(5)

    # The Spanish and English flyer: one page on Letter and on A4, its QR code to the series
    # page in Spanish.
    flyer = web.visitor(profile)
    flyer.goto(f"/series/{slug}/flyer/?also=en")
    flyer.check("series flyer, Spanish and English")
    expect(flyer.page.locator("section.flyer-column")).to_have_count(2)
    assert pdf_pages(flyer.page, "Letter") == 1
    assert pdf_pages(flyer.page, "A4") == 1
    expected = f"{app.url}/es/series/{slug}/"
    shown = (
        flyer.page.locator("section.flyer-column")
        .first.locator("svg")
        .evaluate("svg => svg.outerHTML")
    )
    # segno draws the same symbol for the same address: the code holds exactly that address.
    assert re.search(r'd="([^"]+)"', shown).group(1) == re.search(
        r'd="([^"]+)"', qr_svg(expected, label="")
    ).group(1)

    # Duplicate one of the meetings to another date: a draft copy.
    page.goto(f"/admin/meetings/meeting/?series__slug__exact={slug}")
    page.goto("/admin/meetings/meeting/?q=" + tag)
    page.get_by_role("link", name=re.compile(re.escape(title[staff.language]))).first.click()
    page.get_by_role("link", name=t("Duplicate")).click()
    page.get_by_label(t("New date")).fill((first + dt.timedelta(days=200)).isoformat())
    page.get_by_role("button", name=t("Create the copy")).click()
    expect(page.get_by_text(t("Draft copy created: check it, then publish it."))).to_be_visible()


@pytest.mark.parametrize("profile", profiles("es-phone-js"))
def test_door_volunteer_checks_people_in_on_a_phone(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = seed.meeting(app, capacity=20, name=f"door-{tag}")
    seed.rsvp(app, slug, first_name=f"José{tag}", email=f"jose-{tag}@example.org")
    username, password = seed.role_user(app, "Door volunteers", f"volunteer-{tag}")
    volunteer = web.visitor(profile)
    page, t = volunteer.page, volunteer.t
    log_in(volunteer, username, password)

    page.goto("/admin/meetings/meeting/")
    page.get_by_role("link", name=title[volunteer.language]).first.click()
    page.get_by_role("link", name=t("Check-in at the door")).click()
    page.get_by_label(t("First name")).fill(f"jose{tag}")
    page.get_by_role("button", name=t("Find")).click()
    volunteer.check("check-in page, a phone")
    page.get_by_role("button", name=t("Check in %(name)s", name=f"José{tag}")).click()

    expect(
        page.get_by_role("button", name=t("Undo check-in of %(name)s", name=f"José{tag}"))
    ).to_be_visible()
    assert "@example.org" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Nothing that shows an address is open to a volunteer.
    for path in ["/admin/meetings/rsvp/", "/admin/meetings/outgoingemail/"]:
        response = page.goto(path)
        assert response.status == 403, path
