"""A partner's web page on another origin frames the Spanish embed of one venue (issue 18).

The partner is a second HTTP server on another port (another origin) serving a plain HTML
page with the iframe code the staff page gives. In Chromium, on a phone and a desktop, with
JavaScript on and off: the listing shows inside the frame at 320 px, its links open our
meeting page in a new tab, axe finds nothing on the partner's page or the embed, no console
or CSP error, nothing loaded from a third origin, and no cookie set by either origin.
"""

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.utils.text import capfirst
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.browser import profiles
from tests.e2e.server import free_port

VENUE = "e2e-hall"  # the venue tests/e2e/seed.py puts its meetings in
PARTNER_PAGE = """<!DOCTYPE html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Parroquia San José: reuniones</title>
  <link rel="icon" href="data:,">
</head>
<body>
  <main>
    <h1>Parroquia San José</h1>
    <p>Reuniones con la policía en nuestro salón:</p>
    {iframe}
  </main>
</body>
</html>
"""


class PartnerSite:
    """Another origin (127.0.0.1 on a port of its own) serving one page that frames ours."""

    def __init__(self, body):
        self.body = body.encode()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.body)))
                self.end_headers()
                self.wfile.write(site.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def venue_meeting(app):
    # Tomorrow, ahead of the meetings other tests seed weeks ahead at the same venue: the
    # embed shows the soonest ten, and a whole run seeds more than ten there.
    slug, title = seed.meeting(app, capacity=12, name="partner", days=1)
    return slug, title


@pytest.fixture(scope="module")
def partner(app, venue_meeting):
    embed = f"{app.url}/es/embed/meetings/?venue=venue:{VENUE}"
    # The code staff copy from the admin (meetings/staff_views.partner_snippet), at the
    # narrowest width a partner's column may have.
    iframe = (
        f'<iframe src="{html.escape(embed)}" title="Reuniones comunitarias de la policía" '
        'width="320" height="900" loading="lazy"></iframe>'
    )
    with PartnerSite(PARTNER_PAGE.format(iframe=iframe)) as site:
        site.embed = embed
        yield site


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize(
    "profile", profiles("es-phone-js", "es-phone-nojs", "es-desktop-js", "es-desktop-nojs")
)
def test_partner_page_frames_the_spanish_embed_of_one_venue(
    web, app, partner, venue_meeting, profile
):
    slug, title = venue_meeting
    assert _origin(partner.url) != _origin(app.url)
    visitor = web.visitor(profile, base_url=partner.url, other_origins=[app.url])
    page, t = visitor.page, visitor.t

    embed_requests = []  # (url) of everything the framed listing loads
    embed_responses = []
    page.on(
        "request",
        lambda request: (
            embed_requests.append(request.url) if request.frame.url.startswith(app.url) else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            embed_responses.append(response)
            if response.url.startswith(partner.embed.split("?")[0])
            else None
        ),
    )

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Parroquia San José")
    frame = page.frame_locator("iframe")
    new_tab_note = t("(opens in a new tab)")
    meeting_link = frame.get_by_role("link", name=f"{title['es']} {new_tab_note}", exact=True)
    expect(meeting_link).to_be_visible()
    expect(frame.get_by_role("heading", level=1)).to_have_text(t("Police community meetings"))
    # One venue: the demo campaign's meetings elsewhere are not in it.
    for card in frame.locator(".embed-meeting .where").all():
        expect(card).to_contain_text("Salón de prueba")
    expect(
        frame.get_by_text(t("%(seats)s seat left", "%(seats)s seats left", 12, seats=12)).first
    ).to_be_visible()

    page_url = f"{app.url}/es/meetings/{slug}/"
    expect(meeting_link).to_have_attribute("href", page_url)
    expect(meeting_link).to_have_attribute("target", "_blank")
    expect(meeting_link).to_have_attribute("rel", "noopener")
    card = frame.locator(".embed-meeting", has=meeting_link)
    rsvp = card.get_by_role("link", name="Reservar")
    expect(rsvp).to_be_visible()
    expect(rsvp).to_have_attribute("href", page_url + "#rsvp")
    expect(rsvp).to_have_attribute("target", "_blank")

    # 320 px wide: nothing wider than the frame (no sideways scrolling in the partner's column).
    frame_box = page.locator("iframe").bounding_box()
    # 320 px inside the browser's default 2 px iframe border.
    assert frame_box is not None and round(frame_box["width"]) == 324
    rsvp_box = rsvp.bounding_box()
    assert rsvp_box is not None
    assert rsvp_box["x"] + rsvp_box["width"] <= frame_box["x"] + frame_box["width"]
    if profile.js:
        widths = page.frames[1].evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths

    visitor.check("partner page framing the embed")

    # The framed listing: served with frame-ancestors open and no cookie, loading only from us.
    assert embed_responses, "the embed was not loaded"
    for response in embed_responses:
        headers = response.all_headers()
        assert "set-cookie" not in headers
        assert "frame-ancestors *" in headers["content-security-policy"]
        assert "x-frame-options" not in headers
    assert embed_requests
    assert all(_origin(url) == _origin(app.url) for url in embed_requests), embed_requests
    assert visitor.context.cookies() == []

    # "Reservar" opens our meeting page, at its form, in a new tab.
    with visitor.context.expect_page() as new_tab:
        rsvp.click()
    meeting_page = new_tab.value
    meeting_page.wait_for_load_state()
    assert meeting_page.url == page_url + "#rsvp"
    expect(meeting_page.get_by_role("heading", level=1)).to_have_text(title["es"])
    assert page.url == partner.url + "/"  # the partner's page stays where it was
    meeting_page.close()

    # The embed on its own, as axe sees it.
    page.goto(partner.embed)
    expect(
        page.get_by_role("link", name=f"{title['es']} {new_tab_note}", exact=True)
    ).to_be_visible()
    visitor.check("embed on its own")


@pytest.mark.parametrize("profile", profiles("es-desktop-js", "es-phone-nojs"))
def test_coordinator_makes_the_code_a_partner_pastes(web, app, venue_meeting, profile):
    """From the admin's venue list to a partner's page: the coordinator's iframe code, pasted
    as it is into a page on another origin, shows that venue's meetings."""
    slug, title = venue_meeting
    username, password = seed.role_user(app, "Outreach coordinators", f"coordinator-{profile}")
    with PartnerSite("") as partner:
        staff = web.visitor(profile, base_url=app.url, other_origins=[partner.url])
        page, t = staff.page, staff.t
        page.goto("/admin/meetings/venue/")
        page.get_by_label(capfirst(t("username"))).fill(username)
        page.get_by_label(t("Password")).fill(password)
        page.get_by_role("button", name=t("Log in")).click()
        page.get_by_role("link", name=t("Embed code for partners")).click()
        page.get_by_label(t("Meetings")).select_option(label="Salón de prueba")
        page.get_by_label(t("Language of the page")).select_option("es")
        page.get_by_role("button", name=t("Make the code")).click()
        code = page.get_by_label(t("Paste it into the page where the list should appear:"))
        snippet = code.input_value()
        assert f'src="{app.url}/es/embed/meetings/?venue=venue:{VENUE}"' in snippet
        expect(page.get_by_role("link", name=f"{app.url}/es/venues/{VENUE}/")).to_be_visible()
        expect(
            page.get_by_role("img", name=t("QR code of this page on the website"))
        ).to_be_visible()
        staff.check("embed code for partners")

        partner.body = PARTNER_PAGE.format(iframe=snippet).encode()
        page.goto(partner.url + "/")
        frame = page.frame_locator("iframe")
        expect(
            frame.get_by_role("link", name=f"{title['es']} {t('(opens in a new tab)')}", exact=True)
        ).to_be_visible()
        expect(frame.get_by_role("link", name="Reservar").first).to_be_visible()
        staff.check("partner page with the coordinator's code")
