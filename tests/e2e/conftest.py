"""End-to-end tests: Debian's Chromium, driven by Playwright, against the site served as in
production (the Dockerfile's server command, DEBUG off, whitenoise, a fresh database, a real SMTP server).

Where the browser (or axe-core) cannot be had, every test here skips with one reason;
OUTREACH_E2E_REQUIRED=1 (CI sets it) turns that skip into a failure.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.e2e.browser import AXE_JS, Web

# Playwright's sync API keeps an asyncio event loop running in the main thread for the rest of
# the session, and Django then refuses every database call of the tests that run after the
# browser tests in the same pytest run ("You cannot call this from an async context"). The app
# under test runs in its own processes; only the test process's own database calls are
# concerned. Django's documented escape hatch for exactly this (Playwright, notebooks):
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OUTREACH_E2E_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium phones home at start, and on machines
# that refuse outside connections it then fails to start pages at all.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_DIR = Path(__file__).resolve().parent
_SKIPPED = pytest.StashKey[str]()


def _missing():
    """Why the end-to-end tests cannot run here, or None."""
    try:
        import aiosmtpd  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed (make install)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; make test does it as root)"
    if not AXE_JS.is_file():
        return "axe-core is not installed (make npm-deps)"
    return None


def pytest_collection_modifyitems(config, items):
    e2e = [item for item in items if E2E_DIR in Path(item.fspath).parents]
    # Last: once Playwright's session has started, Django refuses database access in the
    # test process ("SynchronousOnlyOperation"), and the other tests need it.
    items[:] = [item for item in items if item not in e2e] + e2e
    reason = _missing() if e2e else None
    if not reason:
        return
    if os.environ.get("OUTREACH_E2E_REQUIRED") == "1":
        raise pytest.UsageError(f"end-to-end tests required (OUTREACH_E2E_REQUIRED=1): {reason}")
    config.stash[_SKIPPED] = f"{len(e2e)} end-to-end tests skipped: {reason}"
    skip = pytest.mark.skip(reason=f"end-to-end tests skipped: {reason}")
    for item in e2e:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, config):
    if line := config.stash.get(_SKIPPED, None):
        terminalreporter.write_line(line, yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    from playwright.sync_api import expect

    # Two shared cores run the server, the browser and the tests: give pages time.
    expect.set_options(timeout=10_000)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def mailbox():
    from tests.e2e.mailbox import Mailbox

    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def twilio_api():
    """A local server speaking Twilio's Messages API: the app's worker sends texts to it
    (SMS_URL), and the tests read them, report deliveries and reply STOP from here."""
    from tests.fake_twilio import FakeTwilio

    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def e2e_tmp():
    path = tempfile.mkdtemp(prefix="outreach-e2e-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def e2e_database(e2e_tmp):
    from tests.e2e.server import Database

    database = Database.create(e2e_tmp)
    yield database
    database.drop()


@pytest.fixture(scope="session")
def app(e2e_database, mailbox, twilio_api):
    """The site, served as in production, with the demo campaign loaded."""
    from tests.e2e.server import AppServer

    server = AppServer(
        database_url=e2e_database.url, smtp_port=mailbox.port, sms_url=twilio_api.sms_url()
    )
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def limited_app(app):
    """A second server on the same database whose RSVP rate limit is one post (one worker,
    so its in-memory count is the only one)."""
    from tests.e2e.server import AppServer

    server = AppServer(
        database_url=app.database_url,
        smtp_port=app.smtp_port,
        sms_url=app.sms_url,
        workers=1,
        extra_env={"RSVP_RATE_LIMIT": "1/600"},
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(browser, app, mailbox):
    web = Web(browser, app.url, mailbox)
    yield web
    web.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test fails if its browsers saw a problem on any page, even where its flow went on."""
    web = item.funcargs.get("web")
    try:
        result = yield
    finally:
        problems = list(dict.fromkeys(web.problems)) if web is not None else []
        listing = "\n".join(f"  - {problem}" for problem in problems)
        if problems:
            item.add_report_section("call", "browser problems", listing)
    if problems:
        raise AssertionError(f"the browser saw {len(problems)} problem(s):\n{listing}")
    return result
