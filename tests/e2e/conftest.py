"""Browser tests: the real app (streamlit run) and the real sandbox on free loopback ports,
driven by Playwright in Debian's headless Chromium (/usr/bin/chromium)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, Sandbox, free_port, wait_http

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
READY = "[data-testid=stApp][data-test-script-state=notRunning]"


class App:
    def __init__(self, sandbox: Sandbox, tmp: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit_url = f"sqlite:///{tmp / 'audit.sqlite3'}"
        self.audit_url = env.pop("AUDIT_DB_URL", self.audit_url)
        e = dict(os.environ, IAMPORT_API_URL=sandbox.url, AUDIT_DB_URL=self.audit_url,
                 VBANK_SECRETS_FILE=str(tmp / "none.toml"), VBANK_OPERATOR="e2e@example.com", **env)
        self.log = open(tmp / "app.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=e, stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(self.url + "/_stcore/health", self.proc, timeout=90)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def e2e_sandbox():
    sb = Sandbox(payments=1500, seed=21)
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def e2e_app(e2e_sandbox):
    tmp = Path(tempfile.mkdtemp(prefix="vbank-e2e-"))
    app = App(e2e_sandbox, tmp)
    yield app
    app.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect
    expect.set_options(timeout=20_000)          # a loaded CI machine can take seconds to rerun a page
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, e2e_app, e2e_sandbox, tmp_path):
    e2e_sandbox.reset()
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True, locale="en-US",
                              timezone_id="Asia/Seoul")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    if os.environ.get("E2E_SCREENSHOTS"):
        pg.screenshot(path=str(Path(os.environ["E2E_SCREENSHOTS"]) / f"{os.getpid()}-{id(pg)}.png"), full_page=True)
    ctx.close()


def open_app(page, app: App, path: str = "/", refresh: bool = True):
    """Go to a page and wait until its script has finished."""
    page.goto(app.url + path)
    page.wait_for_selector(READY)
    if refresh and path.split("?")[0] == "/":
        page.get_by_role("button", name="Refresh").click()
        settle(page)
    return page


def settle(page):
    """Wait until no script run is in progress. Assertions after it use Playwright's
    ``expect`` (which retries until its timeout), so a run that starts a moment later is still awaited."""
    page.wait_for_selector(READY)


def metric_value(page, label: str) -> str:
    m = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True))
    return m.locator("[data-testid=stMetricValue]").inner_text().strip()


def fill_refund_account(page, *, holder="홍길동", bank="Shinhan Bank (신한은행) — code BK88", account="110-555-123456"):
    """Refund wizard step 3 -> step 4."""
    from playwright.sync_api import expect
    expect(page.get_by_text("Step 3 of 6 — Refund account")).to_be_visible()
    page.get_by_label("Account holder name").fill(holder)
    page.get_by_label("Customer's bank").click()
    page.get_by_role("option", name=bank).click()
    page.get_by_role("textbox", name="Account number (digits, hyphens allowed)").fill(account)
    page.get_by_role("button", name="Next").first.click()
    settle(page)
    expect(page.get_by_text("Step 4 of 6 — Fee impact")).to_be_visible()


def confirm_in_dialog(page, opener: str, confirm: str) -> None:
    """Open the confirmation dialog and double-click its confirm button (the app must send once)."""
    from playwright.sync_api import expect
    page.get_by_role("button", name=opener).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=confirm).dblclick()
    settle(page)


def audit_csv_via_link(page) -> str:
    """Follow "See it in the audit log", expect the sent + outcome pair, and return the exported CSV."""
    from playwright.sync_api import expect
    page.get_by_role("link", name="See it in the audit log").click()
    settle(page)
    expect(page.get_by_text("2 records")).to_be_visible()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    return open(dl.value.path(), encoding="utf-8-sig").read()
