"""Settings: connection from environment variables, overridden by
``.streamlit/secrets.toml``; business rules (fees, PG lists, thresholds,
refund reasons) from ``vbank-desk.toml``.

With no keys anywhere, vbank-desk talks to the local sandbox with the
sandbox's documented keys. Real keys without a URL switch to the live API.
Secrets are ``SecretStr``: they never show in a repr, a log line or a page.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field, SecretStr, field_validator

from lib.domain.i18n import _

ROOT = Path(__file__).resolve().parents[2]


SANDBOX_URL = "http://127.0.0.1:8787"


LIVE_URL = "https://api.iamport.kr"


SANDBOX_KEY, SANDBOX_SECRET = "sandbox_key", "sandbox_secret"


# PortOne V2 (#34): the local V2 sandbox (`python -m sandbox --api v2`) and the live API.
V2_SANDBOX_URL = "http://127.0.0.1:8788"
V2_LIVE_URL = "https://api.portone.io"
V2_SANDBOX_SECRET, V2_SANDBOX_STORE = "sandbox_v2_secret", "store-sandbox"


class FeeRule(BaseModel):
    issuance_fee: int = 300       # per virtual account issued, kept by the PG
    remittance_fee: int = 300     # per refund remittance, charged by the PG
    # The fees are quoted "VAT 별도" (KG Inicis' 300 won is, inicis-vbank-refund-fees.md): 10% VAT is charged on
    # top, fee/10 rounded, as PortOne's 거래대사 computes it when the PG gives none (pg-reconciliation.md).
    vat_on_fees: bool = True


class JournalAccount(BaseModel):
    code: str
    name: str


class JournalRules(BaseModel):
    """회계 전표 export (lib/reports/journal.py): the accounting software's import template — its columns in order
    (header → field: date, entry_no, line, side, account_code, account_name, debit, credit, counterparty, memo, pg) —,
    the account for each role, and the counterparty (거래처) per PG (default: the PG's trade name)."""
    columns: dict[str, str] = Field(default_factory=lambda: {
        "전표일자": "date", "전표번호": "entry_no", "차대구분": "side", "계정코드": "account_code",
        "계정과목": "account_name", "차변금액": "debit", "대변금액": "credit", "거래처": "counterparty",
        "적요": "memo"})
    accounts: dict[str, JournalAccount] = Field(default_factory=lambda: {
        "receivable": JournalAccount(code="120", name="미수금"),        # what the PG owes (외상매출금 / 미수금)
        "sales": JournalAccount(code="401", name="상품매출"),
        "sales_returns": JournalAccount(code="401", name="상품매출"),    # refunds reduce sales (or 매출환입 402)
        "vat_output": JournalAccount(code="255", name="부가세예수금"),
        "fees": JournalAccount(code="831", name="지급수수료"),
        "vat_input": JournalAccount(code="135", name="부가세대급금"),
        "bank": JournalAccount(code="103", name="보통예금")})
    counterparty: dict[str, str] = Field(default_factory=dict)        # PG code → 거래처 name (or its code)
    split_sales_vat: bool = True      # 매출 as 공급가액 + 부가세예수금 (1/11); false: the whole amount to sales
    debit_word: str = "차변"
    credit_word: str = "대변"

    @field_validator("accounts", mode="after")
    @classmethod
    def _every_role(cls, v: dict[str, JournalAccount]) -> dict[str, JournalAccount]:
        """A template that names some accounts keeps the defaults for the others."""
        return {**cls.model_fields["accounts"].get_default(call_default_factory=True), **v}


class Rules(BaseModel):
    """Business configuration (vbank-desk.toml); defaults match the PortOne documents."""

    vbank_update_pgs: list[str] = Field(default_factory=lambda: [
        "html5_inicis", "inicis", "kcp", "tosspayments", "uplus", "nice", "nice_v2",
        "kicc", "settle", "smartro", "smartro_v2"])
    update_amount_ceiling: int | None = 10_000_000
    update_max_horizon_days: int | None = 60
    fees_default: FeeRule = Field(default_factory=FeeRule)
    fees: dict[str, FeeRule] = Field(default_factory=dict)
    # Reason code → the text sent to the PG (it shows in the PG console and the customer's refund notice), with the
    # operator's note after it: "고객 요청 — 배송 지연". In Korean whatever the screen language; change it here.
    refund_reasons: dict[str, str] = Field(default_factory=lambda: {
        "CUSTOMER_REQUEST": "고객 요청",
        "OUT_OF_STOCK": "품절",
        "DUPLICATE_PAYMENT": "중복 결제",
        "OVERPAYMENT": "초과 입금",
        "ORDER_CHANGE": "주문 변경",
        "DELIVERY_DELAY": "배송 지연",
        "OTHER": "기타"})
    refund_typed_confirm_above: int = 500_000
    # A change of a pending account must be typed to confirm when it cuts the amount below this share of what
    # it was (50,000 → 1), or moves the due date by more than this many days.
    update_typed_confirm_below_share: float = 0.5
    update_typed_confirm_due_days: int = 14
    bulk_extend_max_rows: int = 200
    # Four-eyes: refunds above this amount and bulk due-date changes above this count need an approver.
    refund_approval_above: int = 1_000_000
    # The limit counts what the payment was refunded before (split refunds add up); and a second, rolling
    # limit per operator: refunds sent without approval by one person in the last N hours.
    refund_operator_window_limit: int | None = 3_000_000
    refund_operator_window_hours: int = 24
    bulk_approval_above_count: int = 20
    approval_expiry_hours: int = 24
    # Roles by email: {role: [emails]}; "*" matches everyone. Local mode uses local_roles.
    roles: dict[str, list[str]] = Field(default_factory=dict)
    local_roles: list[str] = Field(default_factory=lambda: ["viewer", "operator", "approver", "admin"])
    # Settlement cycle: a PG pays a transaction day's net out D+N business days later (weekends and Korean public
    # holidays skipped), and names itself in the bank statement's 적요 with one of these words.
    settlement_days_default: int = 2
    settlement_days: dict[str, int] = Field(default_factory=dict)
    pg_senders: dict[str, list[str]] = Field(default_factory=lambda: {
        "html5_inicis": ["KG이니시스", "이니시스", "INICIS", "케이지이니시스"],
        "inicis": ["KG이니시스", "이니시스", "INICIS", "케이지이니시스"],
        "kcp": ["NHN KCP", "엔에이치엔케이씨피", "KCP"], "tosspayments": ["토스페이먼츠", "TOSS"],
        "uplus": ["LG유플러스", "유플러스", "UPLUS"], "nice": ["나이스페이먼츠", "나이스페이", "NICEPAY", "NICE PAY"],
        "nice_v2": ["나이스페이먼츠", "나이스페이", "NICEPAY", "NICE PAY"], "kicc": ["KICC", "한국정보통신"],
        "settle": ["헥토파이낸셜", "세틀뱅크", "SETTLE"], "smartro": ["스마트로", "SMARTRO"],
        "smartro_v2": ["스마트로", "SMARTRO"], "danal_tpay": ["다날", "DANAL"], "daou": ["키움페이", "다우", "KIWOOM"],
        "welcome": ["웰컴페이먼츠", "WELCOME"]})
    # An in-flight write lock older than this (or whose app process is gone) is judged abandoned. Longer than
    # any one send can take (connect + read timeouts), so a live send is never taken over.
    lock_lease_seconds: int = 300
    journal: JournalRules = Field(default_factory=JournalRules)      # 회계 전표 export: template, accounts, 거래처

    def fee_rule(self, pg_provider: str | None) -> FeeRule:
        return self.fees.get(pg_provider or "", self.fees_default)


class Settings(BaseModel):
    api_url: str = SANDBOX_URL
    imp_key: SecretStr = SecretStr(SANDBOX_KEY)
    imp_secret: SecretStr = SecretStr(SANDBOX_SECRET)
    tier: str | None = None
    connect_timeout: float = 3.05
    read_timeout: float = 20.0
    concurrency: int = 8
    cache_ttl: int = 60
    refresh_seconds: int = Field(30, ge=5, le=3600)   # deposits re-read this often (VBANK_REFRESH_SECONDS)
    table_rows: int = Field(2000, ge=10, le=100_000)   # rows a result table shows at most (VBANK_TABLE_ROWS)
    audit_db_url: str = f"sqlite:///{ROOT / 'data' / 'audit.sqlite3'}"
    audit_hmac_key: SecretStr | None = None      # signs the audit chain and its head (AUDIT_HMAC_KEY)
    operator: str = "local-operator"
    identity_mode: str = "local"                 # local | header | oidc | accounts
    identity_header: str = "X-Forwarded-Email"
    proxy_secret: SecretStr | None = None        # header mode: the proxy proves itself with this
    proxy_secret_header: str = "X-Vbank-Proxy-Secret"
    rules: Rules = Field(default_factory=Rules)
    # The payments mirror (#33): a Delta Lake table (a local folder, or an object-store URI several instances share),
    # kept fresh every ``sync_seconds`` by the watcher or, with none running, by one app instance at a time.
    mirror_uri: str = str(ROOT / "data" / "mirror")
    sync_seconds: int = Field(60, ge=5, le=3600)
    sync_in_app: bool = True                     # each app process runs a syncer (the lease lets one write at a time)
    # PortOne V2 (#34): a merchant on V2 beside (or instead of) V1. Off unless a URL or a secret is given.
    v2_api_url: str | None = None
    v2_api_secret: SecretStr | None = None
    v2_store_id: str | None = None
    v2_webhook_secret: SecretStr | None = None

    @property
    def v2_enabled(self) -> bool:
        return bool(self.v2_api_url)

    @property
    def is_sandbox(self) -> bool:
        # A loopback *address* (127.0.0.0/8, ::1) or "localhost", never a name that merely starts with "127."
        # (https://127.attacker.example is a remote host).
        import ipaddress
        host = urlparse(self.api_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def mode_label(self) -> str:
        return _("Sandbox (local)") if self.is_sandbox else _("Live I'mport API")

    @property
    def where_label(self) -> str:
        """Where a write goes, for the confirm sentences ("… in {where}")."""
        return _("the sandbox") if self.is_sandbox else _("the live I'mport API")


_ENV = {
    "IAMPORT_API_URL": "api_url", "IAMPORT_IMP_KEY": "imp_key", "IAMPORT_IMP_SECRET": "imp_secret",
    "IAMPORT_TIER": "tier", "IAMPORT_CONNECT_TIMEOUT": "connect_timeout",
    "IAMPORT_READ_TIMEOUT": "read_timeout", "IAMPORT_CONCURRENCY": "concurrency",
    "VBANK_CACHE_TTL": "cache_ttl", "VBANK_REFRESH_SECONDS": "refresh_seconds", "VBANK_TABLE_ROWS": "table_rows", "AUDIT_DB_URL": "audit_db_url", "AUDIT_HMAC_KEY": "audit_hmac_key", "VBANK_OPERATOR": "operator",
    "VBANK_IDENTITY_MODE": "identity_mode", "VBANK_IDENTITY_HEADER": "identity_header",
    "VBANK_PROXY_SECRET": "proxy_secret", "VBANK_PROXY_SECRET_HEADER": "proxy_secret_header",
    "VBANK_MIRROR": "mirror_uri", "VBANK_SYNC_SECONDS": "sync_seconds", "VBANK_SYNC_IN_APP": "sync_in_app",
    "PORTONE_V2_API_URL": "v2_api_url", "PORTONE_V2_API_SECRET": "v2_api_secret",
    "PORTONE_V2_STORE_ID": "v2_store_id", "PORTONE_V2_WEBHOOK_SECRET": "v2_webhook_secret",
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}


def load_settings(env: dict[str, str] | None = None, secrets_file: Path | None = None,
                  rules_file: Path | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    for var, field in _ENV.items():
        if env.get(var):
            values[field] = env[var]
    secrets_path = secrets_file or Path(env.get("VBANK_SECRETS_FILE") or ROOT / ".streamlit" / "secrets.toml")
    secrets = _read_toml(secrets_path)
    flat = dict(secrets)
    flat.update({k.upper(): v for k, v in (secrets.get("iamport") or {}).items()})
    for var, field in _ENV.items():
        for key in (var, var.removeprefix("IAMPORT_")):
            if key in flat and flat[key] not in (None, ""):
                values[field] = flat[key]
    has_keys = "imp_key" in values or "imp_secret" in values
    if has_keys and "api_url" not in values:
        values["api_url"] = LIVE_URL
    if values.get("v2_api_secret") and not values.get("v2_api_url"):
        values["v2_api_url"] = V2_LIVE_URL
    rules_path = rules_file or Path(env.get("VBANK_RULES_FILE") or ROOT / "vbank-desk.toml")
    values["rules"] = Rules.model_validate(_read_toml(rules_path))
    s = Settings.model_validate(values)
    s.api_url = s.api_url.rstrip("/")
    if urlparse(s.api_url).username is not None or urlparse(s.api_url).password is not None:
        raise ValueError("IAMPORT_API_URL must not carry a user name or password (user:password@host): the API "
                         "takes its keys from IAMPORT_IMP_KEY / IAMPORT_IMP_SECRET.")
    if s.v2_api_url:
        s.v2_api_url = s.v2_api_url.rstrip("/")
        v2_local = (urlparse(s.v2_api_url).hostname or "") in ("localhost", "127.0.0.1", "::1")
        if s.v2_api_secret is None:
            if not v2_local:
                raise ValueError("PORTONE_V2_API_URL points at a remote API but no PORTONE_V2_API_SECRET is set.")
            s.v2_api_secret = SecretStr(V2_SANDBOX_SECRET)
            s.v2_store_id = s.v2_store_id or V2_SANDBOX_STORE
    if s.identity_mode not in ("local", "header", "oidc", "accounts"):
        raise ValueError(f"VBANK_IDENTITY_MODE must be local, header, oidc or accounts (not {s.identity_mode!r}).")
    if not s.is_sandbox and s.imp_key.get_secret_value() == SANDBOX_KEY:
        raise ValueError("IAMPORT_API_URL points at a remote API but no IAMPORT_IMP_KEY / IAMPORT_IMP_SECRET "
                         "are set (environment or .streamlit/secrets.toml).")
    return s


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
