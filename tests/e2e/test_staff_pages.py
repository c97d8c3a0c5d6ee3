"""Staff pages as each role meets them: the admin keeps the staff member's own language
whatever public page they looked at, read-only pages show no internal field or dead button,
and the reports count what happened."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles
from tests.e2e.test_campaign import log_in


def meeting_id(visitor, title):
    """The admin id of a meeting, by opening it from the admin's meeting list."""
    page = visitor.page
    page.goto(f"/admin/meetings/meeting/?q={title}")
    page.get_by_role("link", name=title).first.click()
    return re.search(r"/meeting/(\d+)/", page.url).group(1)


@pytest.mark.parametrize("profile", profiles("en-desktop-js"))
def test_staff_keep_their_own_language_after_public_pages_and_flyers(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    slug, title = seed.meeting(app, capacity=20, name=f"lang{tag}")
    seed.rsvp(app, slug, first_name="Ana")
    username, password = seed.role_user(app, "Outreach coordinators", f"coord-lang-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    number = meeting_id(staff, title["en"])

    # The coordinator checks the Vietnamese listing and prints the Spanish flyer.
    page.goto("/vi/meetings/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.goto(f"/es/meetings/{slug}/flyer/")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # Back in the admin: still English, and so is the export.
    page.goto("/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Meetings, venues and RSVPs"))
    export = page.request.get(f"/admin/meetings/meeting/{number}/export-rsvps/")
    assert export.status == 200
    header, row = export.text().lstrip("\ufeff").splitlines()[:2]
    assert header.startswith("Party size,Language"), header
    assert "Spanish" in row and "Confirmed" in row, row
