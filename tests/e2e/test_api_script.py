"""scripts/check_api.py against the site served as in production (the demo campaign loaded):
the OpenAPI document is valid, every answer matches it, every field partners rely on is
there. And a browser script on a partner's origin may read the API (CORS)."""

import importlib.util
from pathlib import Path

from tests.e2e import seed
from tests.e2e.test_partners import PARTNER_PAGE, PartnerSite

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_api", ROOT / "scripts" / "check_api.py")
check_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_api)


def test_api_reads_clean_with_the_partners_checker(app, capsys):
    seed.meeting(app, capacity=5, name="api")
    assert check_api.main(["check_api.py", app.url]) == 0, capsys.readouterr().out
    output = capsys.readouterr().out
    assert "document valid" in output


def test_broken_answers_are_reported(app):
    """The checker fails on a field the document promises and an answer lacks."""
    checker = check_api.Checker(app.url)
    checker.meeting({"slug": "x", "status": "maybe", "starts_at": "2030-01-01T10:00:00"}, "fake")
    assert any("missing" in problem for problem in checker.problems)
    assert any("no UTC offset" in problem for problem in checker.problems)
    assert any("status" in problem for problem in checker.problems)


def test_a_partner_page_script_reads_the_api(browser, app):
    page_html = PARTNER_PAGE.format(iframe="<p id=out>…</p>")
    with PartnerSite(page_html) as partner:
        context = browser.new_context()
        page = context.new_page()
        page.goto(partner.url + "/")
        titles = page.evaluate(
            """async (api) => {
                const answer = await fetch(api + "/api/v1/meetings?limit=3", {
                    headers: {"Accept-Language": "es"},
                });
                const page = await answer.json();
                return [answer.status, answer.headers.get("ETag"), page.items.map((m) => m.title)];
            }""",
            app.url,
        )
        context.close()
    status, etag, names = titles
    assert status == 200
    assert etag  # exposed to the partner's script (Access-Control-Expose-Headers)
    assert len(names) == 3
