"""A resident who gives only a mobile number, on a Spanish or a Vietnamese page: the texts
they get on the provider's API (a local server speaking Twilio's, which records them) — the
confirmation with a working private link, the reminder with its one-tap "I can't come", the
notice when staff move the meeting in the admin — each exactly once, and nothing after they
reply STOP. The app runs as in production: the Dockerfile's server and a real db_worker."""

import datetime as dt
import itertools
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles
from tests.e2e.test_admin import fill_when, label
from tests.e2e.test_rsvp import confirmed, press

LINK = re.compile(r"https?://\S+")
# What each text says, in the RSVP's language (Spanish in the GSM-7 alphabet).
SAYS = {
    "es": {
        "confirmation": "tiene 2 espacios confirmados",
        "reminder": "Recordatorio",
        # The fullest wording that fits one segment: "su reunion ahora es…", "…cambio. Ahora:…".
        "changed": re.compile(r"(?i)ahora|cambio"),
    },
    "vi": {"confirmation": "giữ 2 chỗ", "reminder": "Nhắc", "changed": re.compile("đổi")},
}
_numbers = itertools.count(10)


def staff_moves_meeting_a_day_later(web, app, title, day):
    username, password = seed.staff_user(app)
    staff = web.visitor(profiles("en-desktop-js")[0].values[0])
    page, t = staff.page, staff.t
    page.goto("/admin/")
    page.get_by_label(label(staff, "username")).fill(username)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Log in")).click()
    page.goto(f"/admin/meetings/meeting/?q={title}")
    page.get_by_role("link", name=title, exact=True).click()
    later = day + dt.timedelta(days=1)
    fill_when(staff, "starts_at", later)
    fill_when(staff, "ends_at", later)
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(t("Emailing"))
    return later


def open_link(web, profile, link):
    """A link from a text, opened on a fresh phone (no cookie from the RSVP)."""
    reader = web.visitor(profile)
    reader.page.goto(link)
    return reader


@pytest.mark.parametrize("profile", profiles("es-phone-nojs", "vi-phone-js"))
def test_a_phone_only_rsvp_gets_each_text_once_and_none_after_stop(web, app, twilio_api, profile):
    # Starts in 20 hours: inside the reminder window (REMINDER_HOURS_BEFORE, 24).
    slug, title = seed.meeting(app, capacity=10, name="texts", hours=20)
    number = f"+12145550{next(_numbers):03d}"
    resident = web.visitor(profile)
    page, t = resident.page, resident.t

    # The RSVP, with a phone number and nothing else.
    resident.goto(f"/meetings/{slug}/")
    page.get_by_label(t("How many people are coming, including you and any children?")).fill("2")
    phone = page.get_by_label(t("Mobile phone for a text message reminder (optional)"))
    expect(phone).to_have_attribute("type", "tel")
    expect(
        page.get_by_text(
            t(
                "We text your confirmation, a reminder the day before and any change to the meeting, nothing else. Reply STOP to end the texts. Message and data rates may apply."
            )
        )
    ).to_be_visible()
    phone.fill(f"(214) 555-0{number[-3:]}")
    resident.check("meeting page, phone number filled in")
    press(resident, page.get_by_role("button", name=t("Send my RSVP")))
    expect(page.get_by_text(confirmed(resident, 2))).to_be_visible()
    private_page = page.url

    # 1. The confirmation, in the page's language, with the private link that works.
    confirmation = twilio_api.wait_for(number)
    stop = t("Reply STOP to end texts.").replace("á", "a")
    assert stop in confirmation.body, confirmation.body
    says = SAYS[resident.language]
    assert says["confirmation"] in confirmation.body, confirmation.body
    assert confirmation.from_ == "+15005550006"
    (link,) = LINK.findall(confirmation.body)
    assert link == private_page
    reader = open_link(web, profile, link)
    expect(reader.page.get_by_text(confirmed(reader, 2))).to_be_visible()
    reader.check("private page opened from the text")

    # 2. The reminder, once however often the scheduler runs, with the one-tap "I can't come".
    app.manage("send_reminders")
    app.manage("send_reminders")
    reminder = twilio_api.wait_for(number, count=2)
    assert says["reminder"] in reminder.body, reminder.body
    (cant_come,) = LINK.findall(reminder.body)
    assert "?cant-come" in cant_come
    reader = open_link(web, profile, cant_come)
    expect(
        reader.page.get_by_role("heading", name=reader.t("Can't come any more?"))
    ).to_be_visible()
    reader.check("private page from the reminder, can't come")

    # 3. Staff move the meeting a day later in the admin: the change notice.
    day = dt.date.fromisoformat(
        app.manage(
            "shell",
            "-c",
            f"from meetings.models import Meeting; print(Meeting.objects.get(slug={slug!r}).local_starts_at.date())",
        ).split()[-1]
    )
    staff_moves_meeting_a_day_later(web, app, title["en"], day)
    changed = twilio_api.wait_for(number, count=3)
    assert says["changed"].search(changed.body), changed.body
    # With a private link of its own (the earlier ones keep working) to the RSVP, still held.
    (changed_link,) = LINK.findall(changed.body)
    assert changed_link not in (link, cant_come.split("?")[0])
    reader = open_link(web, profile, changed_link)
    expect(reader.page.get_by_text(confirmed(reader, 2))).to_be_visible()
    reader.check("private page opened from the change text")

    # 4. The resident replies STOP; staff move the meeting again: no more texts to them.
    status, _reply = twilio_api.reply(f"{app.url}/sms/inbound/", from_=number, body="STOP")
    assert status == 200
    # A neighbour with a phone, RSVPed now: once their notice of the next move has arrived,
    # the worker has handled that move for everyone.
    neighbour = f"+12145551{next(_numbers):03d}"
    seed.rsvp(app, slug, first_name="Vecino", phone=neighbour)
    twilio_api.wait_for(neighbour)
    staff_moves_meeting_a_day_later(web, app, title["en"], day + dt.timedelta(days=1))
    twilio_api.wait_for(neighbour, count=2)
    app.manage("send_reminders")

    received = [message.body for message in twilio_api.to(number)]
    assert received == [confirmation.body, reminder.body, changed.body]
    # Delivery reports reach the outbox.
    for message in twilio_api.to(number):
        assert twilio_api.deliver(message, "delivered")[0] == 204
