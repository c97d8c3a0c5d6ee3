"""Subscribing: the feed links on the pages answer with an iCalendar file."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import profiles
from tests.e2e.test_listing import FIRST


def assert_calendar(visitor, url):
    """What a calendar app gets from the address (webcal:// is http(s):// for the app)."""
    if url.startswith("webcal://"):
        url = visitor.origin.partition("://")[0] + "://" + url.removeprefix("webcal://")
    assert url.startswith(visitor.origin), f"feed link to another site: {url}"
    response = visitor.context.request.get(url)
    assert response.status == 200, f"{url} answered {response.status}"
    assert response.headers["content-type"].startswith("text/calendar"), response.headers
    assert response.text().startswith("BEGIN:VCALENDAR")


@pytest.mark.parametrize("profile", profiles("en-desktop-js", "es-phone-nojs"))
def test_feed_links_answer_text_calendar(web, app, profile):
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t

    visitor.goto("/meetings/")
    subscribe = page.get_by_role("region", name=t("Subscribe in your calendar"))
    webcal = subscribe.get_by_role("link", name=t("Subscribe"), exact=True).get_attribute("href")
    assert webcal.startswith("webcal://")
    assert_calendar(visitor, webcal)
    address = subscribe.get_by_label(t("Or copy this calendar address into your app:"))
    assert_calendar(visitor, address.input_value())

    # On a meeting page the choices are folded away; its feed is the series'.
    visitor.goto(f"/meetings/{FIRST['slug']}/")
    subscribe = page.get_by_role("region", name=t("Subscribe in your calendar"))
    subscribe.get_by_text(t("Show the ways to subscribe")).click()
    link = subscribe.get_by_role("link", name=t("Subscribe"), exact=True)
    expect(link).to_be_visible()
    assert_calendar(visitor, link.get_attribute("href"))
    assert_calendar(
        visitor,
        subscribe.get_by_label(t("Or copy this calendar address into your app:")).input_value(),
    )
    # And the meeting's own file.
    ics = page.get_by_role("link", name=t("Calendar file (.ics)"))
    assert_calendar(
        visitor, page.url.split("/" + visitor.language + "/")[0] + ics.get_attribute("href")
    )
