"""A real browser: headless Chromium opens the sandbox's student page, clicks the program flag,
goes through the OIDC flow cross-site (sandbox on 127.0.0.1, tool on localhost), and lands on
the rendered plan. Skipped when Debian's chromium is not installed (`.ci/run` installs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sg_pipelines_tests.web.lti_support import sandbox_and_tool

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def test_a_staff_member_clicks_a_flag_and_reads_the_plan(browser, sandbox, tmp_path):
    with sandbox_and_tool(sandbox, tmp_path) as setup:
        page = browser.new_page()
        page.goto(setup.student_page)
        assert page.locator("h1").inner_text() == setup.student_name

        with page.expect_navigation(url=f"{setup.tool_url}/view/**", timeout=15_000):
            page.click("text=Special Education")

        assert page.locator("h1").inner_text() == (
            "Individualized Education Program (annual review)"
        )
        text = page.locator("main").inner_text()
        assert setup.student_name in text
        assert "Decodes multisyllabic words with support." in text
        assert "Write a five-sentence paragraph." in text
        assert "speech therapy" in text
        assert "October 1, 2025" in text
        page.screenshot(path=str(tmp_path / "plan-view.png"), full_page=True)
        assert (tmp_path / "plan-view.png").stat().st_size > 0

        # the browser kept the per-launch state cookie only until the launch used it
        cookies = page.context.cookies(setup.tool_url)
        assert not [c for c in cookies if c["name"].startswith("lti_state_")]
        page.close()
