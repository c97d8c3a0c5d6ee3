"""'Tell me about new meetings' as a resident does it: on a phone, in Spanish, without
JavaScript (and once with it), from a venue's page to the confirmation link, the daily
digest the scheduler sends, and the one-click way out."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles


@pytest.mark.parametrize("profile", profiles("es-phone-nojs", "es-phone-js"))
def test_subscribe_confirm_get_the_digest_and_stop(web, app, mailbox, profile):
    seed.meeting(app, capacity=10, name="alerts-venue")
    visitor = web.visitor(profile)
    page, t = visitor.page, visitor.t
    email = f"alertas-{uuid.uuid4().hex[:8]}@example.org"

    # From the venue's page to the subscribe page, the venue already chosen.
    visitor.goto("/venues/e2e-hall/")
    page.get_by_role("link", name=t("Get alerts of new meetings")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Tell me about new meetings"))
    about = page.get_by_label(t("Which new meetings?"))
    expect(about).to_have_value("venue:e2e-hall")
    visitor.check("subscribe page")

    # A mistake first: nothing to write to.
    page.get_by_role("button", name=t("Send me alerts")).click()
    expect(
        page.get_by_text(t("Please enter an email address, a mobile number, or both."))
    ).to_be_visible()
    visitor.check("subscribe page with an error")

    page.get_by_label(t("Email (optional)")).fill(email)
    page.get_by_role("button", name=t("Send me alerts")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your email or phone"))
    visitor.check("check your email page")

    # The confirmation, in Spanish, with a link that changes nothing until the button.
    confirmation = mailbox.wait_for(email)
    assert confirmation.subject == t("Please confirm your alert of new meetings")
    assert confirmation.parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    visitor.goto(confirmation.link_to("/alerts/confirm/"))
    visitor.check("confirm page")
    page.get_by_role("button", name=t("Yes, send me alerts")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your alert is on"))
    visitor.check("alert on page")

    # A meeting published at the venue afterwards: the scheduler's pass sends the digest once.
    slug, title = seed.meeting(app, capacity=10, name="alerts-new")
    app.manage("send_reminders")
    app.manage("send_reminders")
    digest = mailbox.wait_for(email, count=2)
    assert digest.subject == t(
        "%(count)s new police community meeting",
        "%(count)s new police community meetings",
        1,
        count=1,
    )
    assert title["es"] in digest.text
    # (A long header is folded onto a second line: read back with a leading space.)
    assert str(digest.parsed["List-Unsubscribe"]).strip() == f"<{digest.link_to('/alerts/stop/')}>"

    # The meeting's link in the digest opens the meeting, in Spanish.
    visitor.goto(digest.link_to(f"/es/meetings/{slug}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title["es"])

    # The way out: the link in the message, one button.
    visitor.goto(digest.link_to("/alerts/stop/"))
    visitor.check("stop page")
    page.get_by_role("button", name=t("Stop all my alerts")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your alerts are stopped"))
    visitor.check("stopped page")

    # The address is gone: the confirmation link finds nothing any more.
    visitor.goto(confirmation.link_to("/alerts/confirm/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("This link does not work"))
    count = app.manage(
        "shell",
        "-c",
        "from meetings.models import AlertSubscriber as S; "
        f"print(S.objects.filter(address={email!r}).count())",
    )
    assert count.split()[-1] == "0"
