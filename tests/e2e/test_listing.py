"""Finding a meeting on the listing with each filter, and keeping the filters in another language."""

import datetime as dt
import re
import zoneinfo
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from meetings.management.commands.load_demo import MEETINGS, coming_wednesday
from tests.e2e.browser import Profile, profiles

LISTING_PROFILES = profiles("en-phone-js", "en-desktop-nojs", "es-phone-nojs", "es-desktop-js")
DEMO = {meeting["slug"]: meeting for meeting in MEETINGS}
OAK_CLIFF = DEMO["oak-cliff-saturday-session"]
VICKERY = DEMO["vickery-meadow-safety-questions"]
TOWN_HALL = DEMO["northwest-dallas-town-hall"]  # interpretation into Vietnamese
FIRST = DEMO["community-conversation-familia-bethel"]  # the first day of the campaign


def first_day():
    """The demo campaign's first day, as load_demo computed it (the coming Wednesday)."""
    return coming_wednesday(dt.datetime.now(zoneinfo.ZoneInfo("America/Chicago")).date())


def title(visitor, meeting):
    return meeting[f"title_{visitor.language}"]


def meeting_link(visitor, meeting):
    return visitor.page.get_by_role("link", name=title(visitor, meeting), exact=True)


def filters(visitor):
    """The filter form, opened first if it is folded away (as on a phone)."""
    page, t = visitor.page, visitor.t
    form = page.get_by_role("search", name=t("Find a meeting"))
    if not form.get_by_label(t("Search")).is_visible():
        page.get_by_role("main").locator("details:has(form) > summary").first.click()
    expect(form.get_by_label(t("Search"))).to_be_visible()
    return form


def show(visitor, form):
    form.get_by_role("button", name=visitor.t("Show meetings")).click()


# The option each select shows, against the room the select gives it (its width less padding
# and the arrow), measured in the select's own font.
CUT_OFF_OPTIONS = """
(form) => {
  const canvas = document.createElement("canvas").getContext("2d");
  const cut = [];
  for (const select of form.querySelectorAll("select")) {
    const style = getComputedStyle(select);
    canvas.font = style.font;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    const shown = select.options[select.selectedIndex];
    if (shown && canvas.measureText(shown.text).width > room) cut.push(shown.text);
  }
  return cut;
}
"""


def whole_option_texts(visitor, form):
    cut = form.evaluate(CUT_OFF_OPTIONS)
    visitor.expect(not cut, f"the filter bar cuts these option texts short: {cut}")


def only_set_filters_in_url(visitor, *names):
    query = dict(parse_qsl(urlsplit(visitor.page.url).query, keep_blank_values=True))
    visitor.expect(
        sorted(query) == sorted(names),
        f"the filter URL should carry only {sorted(names)}, not {sorted(query)}",
    )


@pytest.mark.parametrize("profile", LISTING_PROFILES)
def test_each_filter_finds_its_meetings(web, app, profile):
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    visitor.goto("/meetings/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Upcoming meetings"))
    if profile.device == "phone":
        card = page.get_by_role("main").get_by_role("heading", level=3).first
        box = card.bounding_box()
        visitor.expect(
            box is not None and box["y"] + box["height"] <= 844,
            f"the first meeting card is not on the phone's first screen (it starts at y={box and box['y']})",
        )
    visitor.check("listing")

    # Text.
    form = filters(visitor)
    if profile.device == "desktop":
        whole_option_texts(visitor, form)
    form.get_by_label(t("Search")).fill("Oak Cliff")
    show(visitor, form)
    expect(meeting_link(visitor, OAK_CLIFF)).to_be_visible()
    expect(meeting_link(visitor, VICKERY)).to_have_count(0)
    only_set_filters_in_url(visitor, "q")
    visitor.check("listing filtered by text")

    # Language: meetings held in it or interpreted into it.
    form = filters(visitor)
    form.get_by_label(t("Search")).fill("")
    form.get_by_label(t("Language"), exact=True).select_option("vi")
    show(visitor, form)
    expect(meeting_link(visitor, TOWN_HALL)).to_be_visible()
    expect(meeting_link(visitor, OAK_CLIFF)).to_have_count(0)
    only_set_filters_in_url(visitor, "language")

    # Area, then venue.
    form = filters(visitor)
    form.get_by_label(t("Language"), exact=True).select_option("")
    form.get_by_label(t("Area or venue")).select_option("area:Oak Cliff")
    show(visitor, form)
    expect(meeting_link(visitor, OAK_CLIFF)).to_be_visible()
    expect(meeting_link(visitor, VICKERY)).to_have_count(0)
    form = filters(visitor)
    form.get_by_label(t("Area or venue")).select_option(f"venue:{VICKERY['venue']}")
    show(visitor, form)
    expect(meeting_link(visitor, VICKERY)).to_be_visible()
    expect(meeting_link(visitor, OAK_CLIFF)).to_have_count(0)

    # Dates: the first day of the campaign only.
    day = first_day()
    form = filters(visitor)
    form.get_by_label(t("Area or venue")).select_option("")
    form.get_by_label(t("From"), exact=True).fill(day.isoformat())
    form.get_by_label(t("Until"), exact=True).fill(day.isoformat())
    show(visitor, form)
    expect(meeting_link(visitor, FIRST)).to_be_visible()
    expect(meeting_link(visitor, OAK_CLIFF)).to_have_count(0)
    only_set_filters_in_url(visitor, "date_from", "date_to")

    # An end before the start: the page says so beside the field.
    form = filters(visitor)
    form.get_by_label(t("From"), exact=True).fill((day + dt.timedelta(days=3)).isoformat())
    show(visitor, form)
    expect(page.get_by_text(t("The end date is before the start date."))).to_be_visible()
    visitor.check("listing, filters with an error")


@pytest.mark.parametrize("profile", profiles("en-desktop-js", "es-phone-nojs"))
def test_switching_language_keeps_the_filters(web, app, profile):
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    visitor.goto("/meetings/")
    form = filters(visitor)
    form.get_by_label(t("Search")).fill("Oak")
    form.get_by_label(t("Area or venue")).select_option("area:Oak Cliff")
    show(visitor, form)
    expect(meeting_link(visitor, OAK_CLIFF)).to_be_visible()

    other = "es" if visitor.language == "en" else "en"
    names = {"en": "English", "es": "Español"}
    page.get_by_role("navigation", name=t("Language")).get_by_role(
        "link", name=names[other]
    ).click()
    visitor.language = other
    expect(page).to_have_url(re.compile(f"/{other}/meetings/"))
    form = filters(visitor)
    expect(form.get_by_label(visitor.t("Search"))).to_have_value("Oak")
    expect(form.get_by_label(visitor.t("Area or venue"))).to_have_value("area:Oak Cliff")
    expect(meeting_link(visitor, OAK_CLIFF)).to_be_visible()
    expect(meeting_link(visitor, VICKERY)).to_have_count(0)
    visitor.check("listing filtered, after switching language")


@pytest.mark.parametrize(
    ("profile", "typed", "finds"),
    [
        (Profile("es", "desktop", True), "policia", "community-conversation-familia-bethel"),
        (Profile("vi", "phone", False), "canh sat", "community-conversation-familia-bethel"),
        (Profile("en", "desktop", False), "OAK CLIFF", "oak-cliff-saturday-session"),
    ],
    ids=["es-policia", "vi-canh-sat", "en-OAK-CLIFF"],
)
def test_search_ignores_accents_and_case(web, app, profile, typed, finds):
    visitor = web.visitor(profile)
    visitor.goto("/meetings/")
    form = filters(visitor)
    form.get_by_label(visitor.t("Search")).fill(typed)
    show(visitor, form)
    expect(meeting_link(visitor, DEMO[finds])).to_be_visible()
