"""Browser test fixtures: the real app (streamlit run) and the real sandbox on free loopback ports, driven by
Playwright in Debian's headless Chromium (/usr/bin/chromium). Helpers are in tests/e2e/helpers.py."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from devtools.processes import CHROMIUM, LAUNCH_ARGS, READY, App, Sandbox  # noqa: F401
from tests.e2e.helpers import (  # noqa: F401
    audit_csv_via_link,
    browser_page,
    confirm_in_dialog,
    fill_refund_account,
    metric_value,
    open_app,
    settle,
)


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
    ctx, pg = browser_page(browser, width=1500, height=1000, locale="en-US")
    yield pg
    if os.environ.get("E2E_SCREENSHOTS"):
        pg.screenshot(path=str(Path(os.environ["E2E_SCREENSHOTS"]) / f"{os.getpid()}-{id(pg)}.png"), full_page=True)
    ctx.close()


