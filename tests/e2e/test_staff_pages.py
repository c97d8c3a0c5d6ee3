"""Staff pages as each role meets them: the admin keeps the staff member's own language
whatever public page they looked at, read-only pages show no internal field or dead button,
and the reports count what happened."""

import datetime as dt
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import AXE_TAGS, profiles
from tests.e2e.test_campaign import field, log_in


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


_HELD_AND_AHEAD = """
import datetime as dt, hashlib
from django.utils import timezone
from meetings.models import Meeting, MeetingSeries, Rsvp, Venue
tag = {tag!r}
series = MeetingSeries.objects.create(slug=f"held-{{tag}}", title_en=f"Held {{tag}}",
    title_es=f"Celebradas {{tag}}", title_vi=f"Đã họp {{tag}}")
venue = Venue.objects.get(slug="e2e-hall")
now = timezone.now().replace(microsecond=0)
for name, starts in (("held", now - dt.timedelta(days=3)), ("ahead", now + dt.timedelta(days=9))):
    meeting = Meeting.objects.create(
        slug=f"{{name}}-{{tag}}", series=series, venue=venue, starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1), title_en=f"{{name}} {{tag}}",
        title_es=f"{{name}} {{tag}}", title_vi=f"{{name}} {{tag}}", language="en", capacity=20,
        status=Meeting.Status.PUBLISHED, published_at=now - dt.timedelta(days=10))
    for number, came in ((1, True), (2, False)):
        Rsvp.objects.create(meeting=meeting, party_size=2, language="en",
            status=Rsvp.Status.CONFIRMED, checked_in_at=starts if came and name == "held" else None,
            token_hash=hashlib.sha256(f"{{tag}}-{{name}}-{{number}}".encode()).hexdigest())
print(series.pk)
"""


def cells(row):
    return [text.strip() for text in row.locator("td").all_inner_texts()]


@pytest.mark.parametrize("profile", profiles("en-desktop-js", "es-phone-nojs"))
def test_reports_count_no_shows_only_for_meetings_that_happened(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    seed.meeting(app, capacity=5, name=f"venue{tag}")  # makes sure the test venue exists
    series_id = app.manage("shell", "-c", _HELD_AND_AHEAD.format(tag=tag)).strip().splitlines()[-1]
    username, password = seed.role_user(app, "Outreach coordinators", f"coord-report-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)

    page.goto(f"/admin/meetings/meetingseries/{series_id}/series-report/")
    # The chart's numbers, as a table a screen reader can read.
    table = page.get_by_role("table", name=t("Expected and arrived, per meeting"))
    expect(table).to_be_visible()
    held = table.get_by_role("row").filter(has_text=f"held {tag}")
    ahead = table.get_by_role("row").filter(has_text=f"ahead {tag}")
    total = table.get_by_role("row").filter(has_text=t("Total"))
    # Columns: RSVPs (parties), RSVPs (people), expected, arrived, walk-ins, over capacity
    # (people), cancellations, no-shows (parties).
    assert cells(held) == ["2", "4", "4", "2", "0", "0", "0", "1"]
    assert cells(ahead) == ["2", "4", "4", "0", "0", "0", "0", "—"]
    assert cells(total) == ["4", "8", "8", "2", "0", "0", "0", "1"]
    staff.check("series report")

    ahead.get_by_role("link").click()
    expect(
        page.get_by_text(t("The meeting has not ended yet: these are the figures so far."))
    ).to_be_visible()
    assert cells(page.get_by_role("row").filter(has_text=re.compile(r"\d")).first)[-1] == "—"
    staff.check("meeting report, meeting ahead")

    export = page.request.get(f"/admin/meetings/meetingseries/{series_id}/export-series-counts/")
    lines = export.text().lstrip("\ufeff").splitlines()
    by_title = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    # no-shows (parties), then waitlisted and over capacity
    assert by_title[f"held {tag}"][-3] == "1"
    assert by_title[f"ahead {tag}"][-3] == ""
    assert by_title[t("Total")][-3] == "1"


@pytest.mark.parametrize("profile", profiles("es-phone-nojs", "vi-desktop-js"))
@pytest.mark.parametrize("role", ["Viewers", "Door volunteers"])
def test_read_only_meeting_page_shows_no_internal_field_or_dead_button(web, app, profile, role):
    tag = uuid.uuid4().hex[:6]
    slug, title = seed.meeting(app, capacity=20, name=f"ro{tag}")
    app.manage(
        "shell",
        "-c",
        "from meetings.models import Meeting; "
        f"Meeting.objects.filter(slug={slug!r}).update(interpretation_languages=['es', 'vi'])",
    )
    seed.rsvp(app, slug, first_name="Zoraida")
    username, password = seed.role_user(app, role, f"ro-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)
    page.goto(f"/admin/meetings/meeting/?q={tag}")
    page.get_by_role("link", name=title[staff.language]).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    content = page.get_by_role("main").inner_text()

    # No helper field of the change form ("Apply to later: None"), no raw stored value.
    assert "apply" not in content.lower() and "None" not in content
    assert t("Also move the later meetings of this series") not in content
    assert '["' not in content
    # The interpretation languages, in words of the page's language.
    label = re.compile(rf"^{re.escape(t('Interpretation into'))}:?$")
    expect(page.get_by_text(label)).to_be_visible()
    assert f"{t('Spanish')}, {t('Vietnamese')}" in content
    # No button that answers 403.
    expect(page.get_by_role("link", name=t("History"))).to_have_count(0)
    staff.check(f"read-only meeting page ({role})")

    # Both roles may read "How it went" (README's role table): counts, never a name.
    page.get_by_role("link", name=t("How it went")).click()
    expect(page.get_by_role("table").first).to_contain_text(t("Expected"))
    assert "Zoraida" not in page.get_by_role("main").inner_text()
    staff.check(f"meeting report ({role})")


@pytest.mark.parametrize(
    ("profile", "role", "listing"),
    [
        (profiles("es-phone-js")[0].values[0], "Door volunteers", "/admin/meetings/meeting/"),
        (profiles("en-desktop-js")[0].values[0], "Outreach coordinators", "/admin/meetings/rsvp/"),
        (
            profiles("en-desktop-js")[0].values[0],
            "Outreach coordinators",
            "/admin/meetings/meeting/",
        ),
    ],
)
def test_admin_filter_links_are_big_enough_to_tap(web, app, profile, role, listing):
    """WCAG 2.2's target size (24 px) on the admin lists' filter links, by axe."""
    username, password = seed.role_user(app, role, f"filters-{uuid.uuid4().hex[:6]}")
    staff = web.visitor(profile)
    log_in(staff, username, password)
    staff.page.goto(listing)
    expect(staff.page.locator("#changelist-filter")).to_be_attached()
    staff.check(f"admin list {listing}", tags=[*AXE_TAGS, "wcag22aa"])


@pytest.mark.parametrize("profile", profiles("en-desktop-nojs", "es-desktop-js"))
def test_generate_dates_can_skip_a_day_the_venue_is_booked(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    booked_slug, _title = seed.meeting(app, capacity=5, name=f"booked{tag}")
    # seed.meeting: 23:00 UTC (17:00 in Dallas), 40 + its number days from today.
    days = 40 + int(booked_slug.rsplit("-", 1)[1])
    booked = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).date()
    free = booked + dt.timedelta(days=1)
    slug, series_title = seed.series(app, tag=tag)
    username, password = seed.role_user(app, "Outreach coordinators", f"coord-gen-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)

    page.goto(f"/admin/meetings/meetingseries/?q={tag}")
    page.get_by_role("link", name=series_title[staff.language]).click()
    page.get_by_role("link", name=t("Generate dates")).click()
    page.get_by_label(t("On the dates listed below")).check()
    field(page, t("From")).fill(booked.isoformat())
    field(page, t("Dates")).fill(f"{booked.isoformat()}\n{free.isoformat()}")
    field(page, t("Starts at")).fill("18:30")
    field(page, t("Ends at")).fill("20:00")
    field(page, t("Venue")).select_option(
        label={"en": "Test Hall", "es": "Salón de prueba"}[staff.language]
    )
    field(page, t("Held in")).select_option("en")
    page.get_by_role("button", name=t("Preview the dates")).click()
    expect(page.get_by_text(t("the venue is already booked that day"))).to_be_visible()

    # The booked day has its own "skip this date"; the free day has none.
    skip = page.get_by_role("checkbox", name=t("Skip this date"))
    expect(skip).to_have_count(1)
    skip.check()
    staff.check("admin: generated dates previewed, a booked day")
    # The button still counts both dates (the page has not been sent since the tick).
    page.get_by_role(
        "button",
        name=t("Create %(count)s draft meeting", "Create %(count)s draft meetings", 2, count=2),
    ).click()
    expect(
        page.get_by_text(
            t(
                "Created %(count)d draft meeting. Check it, then publish the drafts.",
                "Created %(count)d draft meetings. Check them, then publish the drafts.",
                1,
                count=1,
            )
        )
    ).to_be_visible()
    page.goto(f"/admin/meetings/meeting/?q={tag}")
    rows = page.locator("#result_list")
    expect(rows.get_by_role("link", name=series_title[staff.language])).to_have_count(1)


@pytest.mark.parametrize("profile", profiles("es-desktop-js"))
def test_phone_in_form_speaks_to_staff_about_the_caller(web, app, profile):
    tag = uuid.uuid4().hex[:6]
    _slug, title = seed.meeting(app, capacity=5, name=f"call{tag}")
    username, password = seed.role_user(app, "Outreach coordinators", f"coord-call-{tag}")
    staff = web.visitor(profile)
    page, t = staff.page, staff.t
    log_in(staff, username, password)
    number = meeting_id(staff, title[staff.language])
    page.goto(f"/admin/meetings/meeting/{number}/add-rsvp/")
    main = page.get_by_role("main")
    expect(
        main.get_by_text(
            t(
                "Only to send the caller a confirmation and tell them if the meeting changes. "
                "Without an email, read the private link out to the caller on the next page."
            )
        )
    ).to_be_visible()
    expect(
        main.get_by_text(t("So we can make sure the entrance and the room work for them."))
    ).to_be_visible()
    staff.check("admin: phone-in RSVP form")
