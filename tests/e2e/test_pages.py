"""Every public page a resident can reach, at both sizes: what it shows and what axe says."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from meetings.management.commands.load_demo import FULL_MEETING, SERIES, VENUES
from tests.e2e import seed
from tests.e2e.browser import PHONE, profiles
from tests.e2e.test_listing import DEMO, FIRST
from tests.e2e.test_rsvp import address, send_rsvp

DOCS = Path(__file__).resolve().parents[2] / "docs"
FULL = DEMO[FULL_MEETING]  # load_demo fills it
DEMO_SERIES_TITLE = {code: SERIES[f"title_{code}"] for code in ("en", "es", "vi")}
_VENUE = next(venue for venue in VENUES if venue["slug"] == FIRST["venue"])
DEMO_VENUE_NAME = {code: _VENUE[f"name_{code}"] for code in ("en", "es", "vi")}
SCREEN_HEIGHT = PHONE["viewport"]["height"]


def on_first_screen(locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN_HEIGHT


@pytest.mark.parametrize("profile", profiles("en-desktop-js", "es-phone-nojs", "vi-desktop-nojs"))
def test_public_pages(web, app, profile):
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    lang = visitor.language

    visitor.goto(f"/meetings/{FIRST['slug']}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(FIRST[f"title_{lang}"])
    visitor.check("meeting page")

    page.get_by_role("link", name=DEMO_SERIES_TITLE[lang]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_SERIES_TITLE[lang])
    visitor.check("series page")

    visitor.goto(f"/meetings/{FIRST['slug']}/")
    page.get_by_role("main").get_by_role(
        "link", name=DEMO_VENUE_NAME[lang], exact=True
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_VENUE_NAME[lang])
    visitor.check("venue page")

    visitor.goto(f"/meetings/{FULL['slug']}/")
    expect(page.get_by_text(t("Full: join the waitlist.")).first).to_be_visible()
    visitor.expect(
        page.get_by_role("button", name=t("Join the waitlist")).count() == 1,
        "a full meeting's form says “Send my RSVP”, not “Join the waitlist”",
    )
    visitor.check("full meeting page")

    visitor.goto("/meetings/past/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Past meetings"))
    visitor.check("past meetings")

    visitor.goto("/privacy/")
    visitor.check("privacy page")

    response = visitor.goto("/meetings/no-such-meeting/")
    assert response.status == 404
    visitor.check("404 page")


@pytest.mark.parametrize("profile", profiles("en-phone-js", "es-phone-nojs"))
def test_phone_first_screen(web, app, profile):
    """A link shared on WhatsApp opens on a phone: the first screen says what, when and where,
    and how to RSVP. The Spanish run refreshes the README's screenshots."""
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    lang = visitor.language

    visitor.goto("/meetings/")
    card = page.get_by_role("main").get_by_role("heading", level=3).first
    visitor.expect(
        on_first_screen(card), "listing: the first meeting card is below the first screen"
    )
    if lang == "es":
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=DOCS / "screenshot-phone-listing-es.png")

    visitor.goto(f"/meetings/{FIRST['slug']}/")
    for what, locator in [
        ("title", page.get_by_role("heading", level=1)),
        ("day and time", page.get_by_role("main").locator("time").first),
        (
            "place",
            page.get_by_role("main")
            .get_by_role("link", name=DEMO_VENUE_NAME[lang], exact=True)
            .first,
        ),
    ]:
        visitor.expect(
            on_first_screen(locator), f"meeting page: the {what} is below the first screen"
        )
    # The two promises, for a resident arriving from a shared link without seeing the listing.
    for promise in (
        "No one will ask about your immigration status.",
        "You can call 911 whatever your immigration status.",
    ):
        said = page.get_by_role("main").get_by_text(t(promise))
        visitor.expect(
            said.count() == 1 and on_first_screen(said),
            f"meeting page: “{t(promise)}” is not on the first screen",
        )
    party_size = page.get_by_label(t("How many people are coming, including you and any children?"))
    rsvp_link = page.get_by_role("main").locator('a[href="#rsvp"]').first
    visitor.expect(
        on_first_screen(party_size) or (rsvp_link.count() and on_first_screen(rsvp_link)),
        "meeting page: neither an RSVP button nor the form's first field is on the first screen",
    )
    if lang == "es":
        page.screenshot(path=DOCS / "screenshot-phone-meeting-es.png")
    if rsvp_link.count():
        rsvp_link.tap()
        expect(party_size).to_be_in_viewport()


@pytest.mark.parametrize("profile", profiles("es-phone-js"))
def test_too_many_rsvps_get_the_wait_page(web, limited_app, profile):
    """A server allowing one new RSVP per client: changing and cancelling one's own RSVP
    never counts (at a church's Wi-Fi the whole room is one client), the second new RSVP
    gets the friendly 429 page.
    (One test only: the count is per client, and every test is the same client.)"""
    slug, _title = seed.meeting(limited_app, capacity=50, name="limit")
    visitor = web.visitor(profile, base_url=limited_app.url)
    page, t = visitor.page, visitor.t
    visitor.goto(f"/meetings/{slug}/")
    send_rsvp(visitor, party_size=1, email=address("limit"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your RSVP"))

    page.get_by_label(t("How many people are coming, including you and any children?")).fill("2")
    page.get_by_role("button", name=t("Save my changes")).tap()
    expect(page.get_by_text(t("Your changes are saved."))).to_be_visible()
    page.get_by_label(t("How many people are coming, including you and any children?")).fill("3")
    page.get_by_role("button", name=t("Save my changes")).tap()
    expect(page.get_by_text(t("Your changes are saved."))).to_be_visible()
    page.get_by_role("link", name=t("Cancel my RSVP")).tap()
    page.get_by_role("button", name=t("Yes, cancel my RSVP")).tap()
    expect(page.get_by_text(t("You cancelled this RSVP."))).to_be_visible()

    visitor.goto(f"/meetings/{slug}/")
    with page.expect_response(lambda response: "/rsvp/" in response.url) as sent:
        send_rsvp(visitor, party_size=1, email=address("limit2"))
    assert sent.value.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Please wait a few minutes"))
    visitor.check("429 page")


def cookies(visitor):
    return {cookie["name"]: cookie for cookie in visitor.context.cookies()}


@pytest.mark.parametrize("profile", profiles("es-phone-nojs", "vi-desktop-js"))
def test_cookies_are_few_short_and_told(web, app, profile):
    """On a shared family phone a police site's cookie is a trace: the language cookie lasts
    the browser session unless the person picks a language (then 30 days), pages without a
    form set no CSRF cookie, and the privacy notice says all of it."""
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t

    visitor.goto("/meetings/")
    visitor.goto("/privacy/")
    jar = cookies(visitor)
    assert jar["django_language"]["value"] == visitor.language
    assert jar["django_language"]["expires"] == -1, "the language cookie outlives the session"
    assert "csrftoken" not in jar, "a page without a form set a CSRF cookie"

    # What the notice says about them.
    section = page.get_by_role("region", name=t("Cookies"))
    expect(section).to_contain_text("django_language")
    expect(section).to_contain_text("csrftoken")
    visitor.check("privacy notice")

    # The meeting page has the RSVP form: a CSRF cookie, for the session only.
    visitor.goto(f"/meetings/{FIRST['slug']}/")
    assert cookies(visitor)["csrftoken"]["expires"] == -1, "the CSRF cookie outlives the session"

    # Picking a language with the switcher keeps that choice for 30 days at most.
    other = "en" if visitor.language != "en" else "es"
    page.get_by_role("navigation", name=t("Language")).locator(f'a[hreflang="{other}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", other)
    chosen = cookies(visitor)["django_language"]
    assert chosen["value"] == other
    days = (chosen["expires"] - time.time()) / 86400
    assert 29 < days <= 30, f"the chosen language is kept {days:.1f} days"


# The page area of each paper size, in CSS pixels (96 per inch), inside flyer.css's margins.
PAPER = {"Letter": (8.5, 11), "A4": (8.27, 11.69)}
FLYER_MARGIN_IN = 0.45


def pdf_pages(page, paper):
    pdf = page.pdf(format=paper)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("profile", profiles("es-desktop-js", "vi-desktop-nojs"))
def test_flyer_fills_the_page_for_a_notice_board(web, app, profile):
    """Printed, the two-language flyer fills one page of Letter and of A4, with a title, the
    key facts and QR codes big enough to read and scan from two metres."""
    visitor = web.visitor(profile)
    page = visitor.page
    visitor.goto(f"/meetings/{FIRST['slug']}/flyer/?also=en")
    visitor.check("meeting flyer")
    page.emulate_media(media="print")
    for paper, (width, height) in PAPER.items():
        area = {
            "width": round((width - 2 * FLYER_MARGIN_IN) * 96),
            "height": round((height - 2 * FLYER_MARGIN_IN) * 96),
        }
        page.set_viewport_size(area)
        flyer = page.locator("main.flyer").bounding_box()
        assert flyer["height"] >= 0.9 * area["height"], (
            f"{paper}: the flyer uses {flyer['height'] / area['height']:.0%} of the page"
        )
        assert pdf_pages(page, paper) == 1, f"{paper}: more than one page"
        for column in page.locator("section.flyer-column").all():
            qr = column.locator(".flyer-qr svg").bounding_box()
            assert qr["width"] >= 2.5 * 96, f"{paper}: QR code {qr['width'] / 96:.2f} in wide"
            title = column.locator("h1").evaluate("h => parseFloat(getComputedStyle(h).fontSize)")
            assert title >= 36, f"{paper}: title {title * 0.75:.0f} pt"  # 27 pt
            facts = column.locator(".flyer-facts dd").first.evaluate(
                "dd => parseFloat(getComputedStyle(dd).fontSize)"
            )
            assert facts >= 21, f"{paper}: key facts {facts * 0.75:.0f} pt"  # 16 pt


_AT_LOCAL = (
    "import datetime as dt, zoneinfo; from meetings.models import Meeting; "
    "m = Meeting.objects.get(slug={slug!r}); zone = zoneinfo.ZoneInfo('America/Chicago'); "
    "day = m.starts_at.astimezone(zone).date(); "
    "Meeting.objects.filter(pk=m.pk).update("
    "starts_at=dt.datetime.combine(day, dt.time({start}), tzinfo=zone), "
    "ends_at=dt.datetime.combine(day, dt.time({end}), tzinfo=zone))"
)


@pytest.mark.parametrize("profile", profiles("vi-phone-nojs"))
def test_vietnamese_times_and_dates_read_as_vietnamese_print_does(web, app, profile):
    """Noon is "trưa" and evening "tối" (not "12:00 chiều", "8:00 chiều"); dates say
    "ngày … tháng … năm …"."""
    slug, _title = seed.meeting(app, capacity=5, name="clock")
    visitor = web.visitor(profile)
    page = visitor.page
    app.manage("shell", "-c", _AT_LOCAL.format(slug=slug, start="11", end="12"))
    visitor.goto(f"/meetings/{slug}/")
    expect(page.locator(".key-facts")).to_contain_text("11:00 sáng – 12:00 trưa")
    expect(page.locator(".key-facts")).to_contain_text(re.compile(r"ngày \d+ tháng \d+ năm \d{4}"))
    app.manage("shell", "-c", _AT_LOCAL.format(slug=slug, start="18, 30", end="20"))
    visitor.eventually_shows("6:30 tối – 8:00 tối")
    visitor.check("meeting page, Vietnamese evening")


@pytest.mark.parametrize("profile", profiles("es-phone-nojs", "vi-desktop-js"))
def test_a_made_up_filter_gets_our_own_plain_message(web, app, profile):
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    response = visitor.goto("/meetings/?language=xx&venue=zz")
    assert response.status < 500
    main = page.get_by_role("main")
    expect(main.get_by_text(t("Please choose one of the languages in the list."))).to_be_visible()
    expect(main.get_by_text(t("Please choose an area or venue from the list."))).to_be_visible()
    visitor.check("listing, made-up filters")
