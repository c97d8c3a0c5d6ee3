"""What every end-to-end test checks on every page it visits, and the people who visit.

A `Visitor` is one person with one browser (a context): a language, a phone or a desktop,
JavaScript on or off. `visitor.check("meeting page")` runs axe-core (WCAG 2.1 A and AA) on the
page as it is now; all along, the visitor's browser records every request that leaves the
site's origin, every console error (Content-Security-Policy violations included) and every
uncaught script error. A test fails at its end if any page had any of those problems.
"""

import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.utils import translation
from playwright.sync_api import expect

AXE_JS = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
DEVICES = {"phone": PHONE, "desktop": DESKTOP}
LOCALES = {"en": "en-US", "es": "es-US", "vi": "vi-VN"}

# The browser reports a page that answers 4xx (our 404, 429, a form sent back with errors)
# as a console error; that is the page's status, not a problem with the page.
PAGE_STATUS_MESSAGE = re.compile(r"^Failed to load resource: the server responded with a status")

# Listens for CSP violations the page itself sees (Chromium also logs them to the console).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

AXE_RUN = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    // No stylesheet preloading: axe would copy the page's CSS into inline <style> elements,
    // which the site's Content-Security-Policy rightly refuses (and reports).
    preload: false,
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    count: v.nodes.length,
    targets: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
  }));
}
"""

# Every id that aria-describedby, aria-labelledby or a label's `for` names must exist: axe lets
# a partly broken aria-describedby pass, yet a screen reader then skips the error message.
BROKEN_REFERENCES = """
() => {
  const broken = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`${el.tagName.toLowerCase()}#${el.id} ${attr} names a missing id "${id}"`);
      }
    }
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) broken.push(`label for a missing id "${label.htmlFor}"`);
  }
  return broken;
}
"""


@dataclass(frozen=True)
class Profile:
    language: str
    device: str
    js: bool

    def __str__(self):
        return f"{self.language}-{self.device}-{'js' if self.js else 'nojs'}"


def profiles(*specs):
    """Test parameters from "es-phone-js"-style names."""
    import pytest

    result = []
    for spec in specs:
        language, device, js = spec.split("-")
        result.append(pytest.param(Profile(language, device, js == "js"), id=spec))
    return result


def t(language, message, plural=None, n=None, **values):
    """The text a person reads on the page: our own catalog, in the page's language."""
    with translation.override(language):
        if plural is None:
            text = translation.gettext(message)
        else:
            text = translation.ngettext(message, plural, n)
    return text % values if values else text


class Web:
    """All the visitors of one test, and the problems their browsers saw."""

    def __init__(self, browser, base_url, mailbox):
        self.browser = browser
        self.base_url = base_url
        self.mailbox = mailbox
        self.problems = []
        self.checked = []
        self.contexts = []

    def visitor(self, profile, *, other_origins=(), **context_args):
        """`other_origins`: origins besides base_url's the visitor may load from (a partner
        site framing ours)."""
        options = {
            **DEVICES[profile.device],
            "java_script_enabled": profile.js,
            "locale": LOCALES[profile.language],
            "timezone_id": "America/Chicago",
            "base_url": self.base_url,
            **context_args,
        }
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return Visitor(self, context, profile, options["base_url"], other_origins)

    def close(self):
        for context in self.contexts:
            context.close()


class Visitor:
    def __init__(self, web, context, profile, base_url, other_origins=()):
        self.web = web
        self.context = context
        self.profile = profile
        self.language = profile.language
        self.base_url = base_url
        self.origin = _origin(base_url)
        self.origins = {self.origin, *(_origin(url) for url in other_origins)}
        self.documents = set()
        self._inspector = None
        context.add_init_script(CSP_LISTENER)
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self._problem(f"script error: {error.error}"))
        self.page = context.new_page()

    def t(self, message, plural=None, n=None, **values):
        return t(self.language, message, plural, n, **values)

    def goto(self, path):
        return self.page.goto(path if path.startswith("http") else f"/{self.language}{path}")

    def eventually_shows(self, text, *, within=None):
        """Reload until `text` shows, within the README's freshness rule for seat counts
        (SEATS_FRESH_SECONDS, plus a margin): pages are cached, seats catch up in seconds."""
        from django.conf import settings

        deadline = time.monotonic() + (within or settings.SEATS_FRESH_SECONDS + 4)
        locator = self.page.get_by_text(text).first
        while not locator.is_visible() and time.monotonic() < deadline:
            self.page.wait_for_timeout(500)
            self.page.reload()
        expect(locator).to_be_visible(timeout=1000)

    def check(self, state, *, tags=AXE_TAGS):
        """axe-core on the page as it is: no WCAG 2.1 A/AA violation (or of other `tags`)."""
        page = self.page if self.profile.js else self._inspector_copy()
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(AXE_JS.read_text())
        for violation in page.evaluate(AXE_RUN, list(tags)):
            self._problem(
                f"axe {violation['id']} ({violation['impact']}, {violation['count']} nodes) on "
                f"{state}: {violation['help']}; e.g. {violation['targets']}"
            )
        for broken in page.evaluate(BROKEN_REFERENCES):
            self._problem(f"on {state}: {broken}")
        self.web.checked.append((str(self.profile), state, page.url))

    def _inspector_copy(self):
        """axe-core needs scripts to run (its promises never settle in a page without them):
        for a visitor without JavaScript, the same document, at the same address and size,
        in a page of its own that runs scripts."""
        if self._inspector is None:
            options = {**DEVICES[self.profile.device], "base_url": self.base_url}
            context = self.web.browser.new_context(**options)
            self.web.contexts.append(context)
            self._inspector = context.new_page()
        html, url = self.page.content(), self.page.url.partition("#")[0]
        inspector = self._inspector
        inspector.unroute_all()
        inspector.route(
            lambda address: address.partition("#")[0] == url,
            lambda route: route.fulfill(body=html, content_type="text/html"),
        )
        inspector.goto(url)
        return inspector

    def expect(self, condition, text):
        """A check that lets the flow go on: a failure is reported with the page problems."""
        if not condition:
            self._problem(text)

    def _problem(self, text):
        self.web.problems.append(f"[{self.profile}] {text} — at {self.page.url}")

    def _on_request(self, request):
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        if _origin(url) not in self.origins:
            self._problem(f"request left the site: {request.method} {url}")

    def _on_response(self, response):
        if response.request.resource_type == "document":
            self.documents.add(response.url.partition("#")[0])

    def _on_console(self, message):
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if PAGE_STATUS_MESSAGE.match(message.text) and source.partition("#")[0] in self.documents:
            return
        self._problem(f"console error: {message.text} ({source})")


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
