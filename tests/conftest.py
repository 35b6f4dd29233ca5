import os
import time

import pytest

# The suite's assertions read the English texts (the message ids); the Korean screens have their own tests
# (tests/test_i18n.py, tests/pages/test_korean_pages.py, tests/e2e/test_korean_e2e.py). The product's default is Korean.
os.environ["VBANK_LANG"] = "en"

from tests.helpers import Sandbox, settings_for  # noqa: E402


@pytest.fixture
def korean():
    """Korean texts and formats for this test (this thread), as the product shows by default."""
    from lib.domain import i18n
    i18n.set_lang("ko")
    yield
    i18n._current.set(None)


@pytest.fixture(scope="session")
def sandbox():
    sb = Sandbox()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def sandbox_v2():
    """The PortOne V2 sandbox (``python -m sandbox --api v2``) as a process of its own (tests/v2/harness.py)."""
    from tests.v2.harness import SandboxV2
    sb = SandboxV2()
    yield sb
    sb.stop()


@pytest.fixture
def fresh(sandbox):
    """The shared sandbox, reset to its seed with no faults (for tests that write)."""
    sandbox.reset()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture
def settings(sandbox):
    return settings_for(sandbox)


@pytest.fixture
def client(settings):
    from lib.iamport.client import IamportClient
    return IamportClient(settings)


@pytest.fixture(scope="session")
def postgres():
    from tests.pg import Postgres
    pg = Postgres()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """An empty app database at the newest revision, made once: each test starts from a copy of it."""
    from lib.db.appdb import AppDb
    path = tmp_path_factory.mktemp("template") / "app.sqlite3"
    AppDb(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def db(tmp_path, migrated_db):
    """The app database (every store, a signed audit log) in a file of this test's own."""
    import shutil

    from lib.db.appdb import AppDb
    shutil.copyfile(migrated_db, tmp_path / "audit.sqlite3")
    d = AppDb(f"sqlite:///{tmp_path / 'audit.sqlite3'}", hmac_key=b"test-audit-key")
    yield d
    d.dispose()


@pytest.fixture
def audit(db):
    """The signed audit store of this test's own app database (``db``)."""
    return db.audit


@pytest.fixture
def rules(settings):
    return settings.rules


# ------------------------------------------------------------------ builders shared by the service tests
def paid_payment(sandbox, client, pg: str = "kcp", min_amount: int = 10_000, where=None):
    """A paid virtual account of this PG with nothing refunded yet, read through lib's client."""
    cond = where or (lambda x: x["cancel_amount"] == 0 and x["amount"] >= min_amount)
    return client.get_payment(sandbox.pick(status="paid", pg=pg, where=cond)["imp_uid"])


def ready_payment(sandbox, client, pg: str = "settle", open_for: int = 3600):
    """A virtual account of this PG still waiting for its deposit, due at least ``open_for`` seconds from now."""
    return client.get_payment(sandbox.pick(status="ready", pg=pg, where=lambda x: x["vbank_date"] > time.time()
                                           + open_for)["imp_uid"])


def refund_request(p, amount: int | None = None, **kw):
    """A valid refund of ``p`` (the whole refundable balance unless ``amount``) to a Shinhan-style account."""
    from lib.domain import banks
    from lib.domain.rules import RefundRequest
    base = dict(imp_uid=p.imp_uid, amount=p.refundable if amount is None else amount, reason_code="CUSTOMER_REQUEST",
                note="test", refund_bank=banks.refund_banks(p.pg_provider)[0].code,
                refund_account="110-123-456789")
    base.update(kw)
    if "refund_holder" not in base:          # the name the bank has for the account (the holder check passes)
        base["refund_holder"] = bank_holder(p.pg_provider, base["refund_bank"], base["refund_account"])
    return RefundRequest(**base)


def bank_holder(pg_provider: str, bank_code: str, account: str) -> str:
    """The account holder's name the sandbox's bank answers for this account (GET /vbanks/holder)."""
    from lib.domain import banks
    from sandbox.store import holder_for
    bank = banks.bank_by_code(pg_provider, bank_code)
    if bank is None or not bank.kftc:
        return "홍길동"
    return holder_for(bank.kftc, "".join(c for c in account if c.isdigit()))
