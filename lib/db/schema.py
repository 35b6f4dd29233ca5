"""Every table of the app database, in one ``MetaData``: what Alembic's migrations (lib/db/migrations) bring a
database to, and what the stores read and write. A change here needs a migration (tests/db/test_appdb.py checks that
a migrated database and this schema agree)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Boolean, CheckConstraint, Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

from lib.domain.kinds import STORED_WRITE_STATES, Outcome, WriteKind

metadata = MetaData()


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK constraint's SQL: ``column`` holds one of ``values`` (codes from lib/domain/kinds.py)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


OUTCOME_CHECK = one_of("outcome", list(Outcome))
WRITE_STATE_CHECK = one_of("state", STORED_WRITE_STATES)
WRITE_KIND_CHECK = one_of("kind", list(WriteKind))


audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),            # UNIX seconds (UTC)
    Column("operator", String(200), nullable=False, index=True),
    Column("action", String(40), nullable=False, index=True),
    Column("imp_uid", String(64), index=True),
    Column("merchant_uid", String(80)),
    Column("outcome", String(20), nullable=False, index=True),  # lib/domain/kinds.Outcome
    Column("request", Text),                                   # JSON, masked
    Column("api_code", Integer),
    Column("api_message", Text),
    Column("correlation_id", String(40), nullable=False, index=True),
    Column("detail", Text),                                    # JSON: before/after, notes
    Column("prev_hash", String(64), nullable=False),           # the chain: hash of the record before
    Column("hash", String(64), nullable=False),                # sha256 over this record and prev_hash
    Column("mac", String(64)),                                 # HMAC(key, id|hash) when a key is set
    CheckConstraint(OUTCOME_CHECK, name="ck_audit_log_outcome"),
)


writes = Table(
    "writes", metadata,                                        # one row per money write that claimed its send
    Column("correlation_id", String(40), primary_key=True),    # = its audit records' correlation_id
    Column("action_key", String(120), nullable=False, unique=True),   # the page's send-once id (idempotency key)
    Column("kind", String(20), nullable=False),                # lib/domain/kinds.WriteKind
    Column("imp_uid", String(64), nullable=False, index=True),
    Column("amount", Integer),                                 # what the request asked (refund, new amount)
    Column("operator", String(200), nullable=False, index=True),
    Column("approval_id", String(32)),                         # the four-eyes request it carried out
    Column("state", String(12), nullable=False, index=True),   # sent | succeeded | failed | unknown
    Column("sent_at", Float, nullable=False, index=True),      # UNIX seconds
    Column("updated_at", Float, nullable=False, index=True),
    Column("unknown_at", Float),                               # first found unknown
    Column("resolved_at", Float),                              # an unknown outcome settled
    CheckConstraint(WRITE_STATE_CHECK, name="ck_writes_state"),
    CheckConstraint(WRITE_KIND_CHECK, name="ck_writes_kind"),
)


audit_head = Table(
    "audit_head", metadata,                                    # one row: how long the chain is, signed
    Column("id", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_id", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("mac", String(64)),
    Column("at", Float, nullable=False),
    # The first record written with the audit key: from it on, every record must carry a signature (covered by the
    # head's own signature, so it cannot be moved without the key).
    Column("signed_from", Integer),
)


inflight = Table(
    "inflight", metadata,
    Column("lock_key", String(120), primary_key=True),
    Column("correlation_id", String(40), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("state", String(20), nullable=False),               # in_flight | sending | unknown
    Column("since", Float, nullable=False),
    Column("note", Text),
    Column("owner", String(200)),                              # host|pid|process start time
    Column("lease_until", Float),                              # UNIX seconds
)


approval_requests = Table(
    "approval_requests", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),               # refund | bulk_extend
    Column("pending_key", String(120), unique=True),          # set while open: one per payment
    Column("imp_uid", String(64), index=True),
    Column("amount", Integer),
    Column("payload", Text, nullable=False),                  # the wizard state (masked), seen snapshot, fee preview
    Column("requester", String(200), nullable=False, index=True),
    Column("note", Text),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # pending approving executed failed unknown rejected expired
    Column("decided_by", String(200)),
    Column("decided_at", Float),
    Column("decision_note", Text),
    Column("result", Text),
    Column("request_hash", String(64)),                       # exactly what was requested (full numbers included)
    Column("sealed", Text),                                   # full account / phone, only while open
)


saved_views = Table(
    "saved_views", metadata,
    Column("name", String(80), primary_key=True),
    Column("params", Text, nullable=False),                 # JSON
    Column("operator", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


recon_presets = Table(
    "recon_presets", metadata,
    Column("name", String(80), primary_key=True),
    Column("mapping", Text, nullable=False),                 # JSON
    Column("operator", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


recon_resolutions = Table(
    "recon_resolutions", metadata,
    Column("name", String(80), primary_key=True),
    Column("resolution", Text, nullable=False),                 # JSON
    Column("operator", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


app_state = Table(
    "app_state", metadata,                                     # small shared counters (one row each)
    Column("key", String(60), primary_key=True),               # "data_version": bumped by every write
    Column("value", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)


operator_marks = Table(
    "operator_marks", metadata,                                # what each person last did (per operator)
    Column("operator", String(200), primary_key=True),
    Column("mark", String(40), primary_key=True),              # "deposits_seen" (UNIX time), "lang" (ko / en)
    Column("value", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


refund_accounts = Table(
    "refund_accounts", metadata,                               # the account a payment was last refunded to
    Column("imp_uid", String(64), primary_key=True),
    Column("refund_bank", String(10), nullable=False),         # the PG's own code
    Column("refund_account", String(40), nullable=False),      # full: offered again masked, for the same payment
    Column("refund_holder", String(60), nullable=False),
    Column("refund_tel", String(20)),
    Column("operator", String(200), nullable=False),
    Column("at", Float, nullable=False),
)


watch_sent = Table(
    "watch_sent", metadata,                                    # every event posted to every webhook, at most once
    Column("event_key", String(120), primary_key=True),        # "deposit:<imp_uid>", "approval:<id>:requested", …
    Column("target", String(64), primary_key=True),            # sha256 of the webhook URL (never the URL)
    Column("status", String(12), nullable=False),              # sending | sent | retry | gave_up
    Column("attempts", Integer, nullable=False),
    Column("next_at", Float, nullable=False),                  # when a retry (or a stuck send) may be tried
    Column("payload", Text, nullable=False),                   # the message (no full numbers, no secrets)
    Column("last_error", Text),
    Column("updated_at", Float, nullable=False),
)


watch_state = Table(
    "watch_state", metadata,                                   # the watcher's cursor and last run, for /admin
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


mirror_sync = Table(
    "mirror_sync", metadata,                                   # the payments mirror's sync: lease, cursors, drift
    Column("api", String(8), primary_key=True),                # "v1" | "v2"
    Column("holder", String(200)),                             # host|pid|start of the syncer holding the lease
    Column("lease_until", Float, nullable=False),
    Column("cursors", Text, nullable=False),                   # JSON: {status: newest status time seen, …}
    Column("last_ok_at", Float),                               # the last sync that finished
    Column("last_full_at", Float),                             # the last full re-read of the lookback window
    Column("drift", Integer),                                  # rows that re-read found different
    Column("drift_ids", Text),                                 # a few of them (JSON), for /admin
    Column("last_error", Text),
    Column("updated_at", Float, nullable=False),
)


recon_seen = Table(
    "recon_seen", metadata,                                    # reconciliation exceptions as first shown (the watcher
    Column("key", String(40), primary_key=True),               # tells those still open after some days)
    Column("label", String(300), nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)


accounts = Table(
    "accounts", metadata,                                      # built-in accounts (VBANK_IDENTITY_MODE=accounts)
    Column("email", String(200), primary_key=True),            # lower case
    Column("roles", String(200), nullable=False),              # comma-separated
    Column("password_hash", Text, nullable=False),             # argon2id (never the password)
    Column("must_change", Boolean, nullable=False),            # a one-time password was given: choose one first
    Column("totp_secret", String(64)),                         # set once enrolment is confirmed
    Column("totp_last_step", Integer),                         # a code is used at most once
    Column("disabled", Boolean, nullable=False),
    Column("epoch", Integer, nullable=False),                  # bumped on a reset or disable: sessions sign in again
    Column("created_at", Float, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
)


sign_in_failures = Table(
    "sign_in_failures", metadata,                              # what the lockout counts (pruned past its window)
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(200), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
)


webhook_receipts = Table(
    "webhook_receipts", metadata,                              # PortOne's webhooks as accepted (webhook_receipts.py)
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("api", String(4), nullable=False),                  # "v1" | "v2"
    Column("webhook_id", String(200)),                         # V2's webhook-id (V1 has none): one row per message
    Column("imp_uid", String(200), nullable=False, index=True),
    Column("kind", String(60), nullable=False),                # Transaction.Paid … (V1: the status it named)
    Column("status", String(20)),                              # the payment's status as re-read
    Column("received_at", Float, nullable=False, index=True),
    Column("detail", Text),
    UniqueConstraint("api", "webhook_id", name="uq_webhook_receipts_id"),
    CheckConstraint("api IN ('v1', 'v2')", name="ck_webhook_receipts_api"),
)
