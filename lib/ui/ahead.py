"""Data for 오늘의 요약, 입금 예정 and 회계 전표: the virtual accounts of the last months (one shared, cached listing, like
the other lists: lib/ui/loaders.py), and the bank statements matched so far (kept in the app database by
lib/services/watcher.py, read by the watcher for late payouts)."""

from __future__ import annotations

import time
from datetime import datetime

from lib.domain import payment_table
from lib.domain.clock import now_kst
from lib.domain.digest import Digest
from lib.domain.i18n import N_
from lib.reports.ahead import for_watcher
from lib.services import watcher
from lib.ui import loaders, session


def vbank_payments() -> tuple[list[dict], datetime]:
    """Every virtual account started in the watcher's look-back (120 days), as the watcher reads it: one read for
    everyone per cache period, dropped by any write."""
    def load(progress: loaders.Progress) -> list[dict]:
        t = int(time.time())
        return loaders._no_api(loaders.listing(  # noqa: SLF001
            "all", t - watcher.LOOKBACK_DAYS * 86400, t, fields=payment_table.ALL, pay_method="vbank",
            progress=progress, with_api=True)).to_pylist()

    return loaders._cached(("vbank_all", now_kst().date().isoformat()), N_("virtual accounts"), load)  # noqa: SLF001


def today() -> tuple[Digest, list[dict], datetime]:
    """오늘의 요약 with the payouts ahead, from the shared listing (the app database's counts read on each run), and
    when that listing was read."""
    payments, fetched = vbank_payments()
    d = watcher.digest_from(payments, session.db(), time.time(), ahead=for_watcher(session.settings().rules))
    return d, payments, fetched


def stored_statement() -> str | None:
    return watcher.stored_statement(session.db())


def remember_statement(text: str) -> None:
    watcher.remember_statement(session.db(), text)
