"""Issue 30 §2 in a real browser: while I'mport hangs, a person opening the home page sees it at once — the list the
desk already has, marked with its age — and one sentence saying I'mport is not answering (before: the deposits strip
ran first and waited for I'mport, behind one lock, 3 tries × the read timeout per session: minutes of a blank page)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import browser_page, open_app

pytestmark = pytest.mark.browser


@pytest.fixture
def outage_app(e2e_sandbox, tmp_path):
    """Deposits re-read every 5 s, the list kept 5 s; a read gives up after 5 s per attempt."""
    from tests.e2e.helpers import App
    app = App(e2e_sandbox, tmp_path, VBANK_REFRESH_SECONDS="5", VBANK_CACHE_TTL="5", IAMPORT_READ_TIMEOUT="5")
    yield app
    app.stop()


def test_the_home_page_opens_during_an_outage_and_says_so(page, browser, outage_app, e2e_sandbox):
    open_app(page, outage_app, "/")                      # the desk has read the list and the deposits
    expect(page.locator("[data-testid=stDataFrame]")).to_be_visible()
    e2e_sandbox.fault(path_prefix="/payments/status/", after="timeout", hang_s=40)   # I'mport's listing hangs
    try:
        e2e_sandbox.clear_requests()
        deadline = time.time() + 30                      # wait for the state: the deposit read is hanging now
        while not e2e_sandbox.requests_seen("/payments/status/paid") and time.time() < deadline:
            page.wait_for_timeout(200)
        assert e2e_sandbox.requests_seen("/payments/status/paid"), "the deposit feed never read again"

        ctx, other = browser_page(browser, width=1500, height=1000, locale="en-US")   # a second person opens /
        try:
            other.goto(outage_app.url + "/")
            # the list the desk has, within a few seconds, while the reads still hang (the list's own reload is
            # waited for 4 s at most once it is older than its 5 s)
            expect(other.locator("[data-testid=stDataFrame]")).to_be_visible(timeout=9_000)
            expect(other.get_by_text(re.compile(r"^Last refreshed"))).to_be_visible(timeout=1_000)
            # once the read has given up: one sentence, with since-when and the age of what is shown
            expect(other.get_by_text(re.compile(r"^I'mport is not answering \(since .* KST: .*\)\. What you see was "
                                                r"read at .* KST"))).to_be_visible(timeout=45_000)
            expect(other.locator("[data-testid=stDataFrame]")).to_be_visible()
        finally:
            ctx.close()
    finally:
        e2e_sandbox.clear_faults()
