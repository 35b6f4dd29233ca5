"""vbank-desk's own vocabulary as codes: one name per thing, stored in the app database and the audit log as these
values, translated only when shown (lib/domain/names.py holds the words). ``StrEnum`` members are their strings, so
a stored value reads back equal to its member.
"""

from __future__ import annotations

from enum import StrEnum


class WriteKind(StrEnum):
    """The three money-moving writes. The value names the write everywhere: its lock (``<kind>:<imp_uid>``), its
    audit action and the permission it needs."""

    UPDATE = "update_vbank"      # PUT /vbanks/{imp_uid}: a pending account's amount or due date
    REFUND = "refund"            # POST /payments/cancel: a paid account's refund
    REVOKE = "revoke_vbank"      # DELETE /vbanks/{imp_uid}: close a pending account before anything is paid in

    def lock_key(self, imp_uid: str) -> str:
        return f"{self.value}:{imp_uid}"

    @classmethod
    def of_lock(cls, lock_key: str) -> "WriteKind | None":
        prefix = lock_key.split(":", 1)[0]
        return cls(prefix) if prefix in cls._value2member_map_ else None


class Outcome(StrEnum):
    """What an audit record says happened."""

    SENT = "sent"                # the one request is about to leave (written before it does)
    SUCCEEDED = "succeeded"      # the API's envelope said code 0, or a re-read proves our own request landed
    FAILED = "failed"            # the API's envelope refused it, or it provably never left: nothing moved
    UNKNOWN = "unknown"          # it left and no envelope came back; the lock is kept until resolved
    REFUSED = "refused"          # an approval request that could not be carried out (the payment moved)
    RESOLVED = "resolved"        # an unknown outcome settled (re-read, or an operator who checked the PG)
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REVEALED = "revealed"        # full account / phone numbers shown to a person


class WriteState(StrEnum):
    """Where one write stands (lib/services/write.py's ``Write``); the last four are stored in the ``writes`` table
    (lib/db/writes.py), one row per write that claimed its send."""

    NEW = "new"                  # built, nothing taken
    CLAIMED = "claimed"          # its lock taken and the payment re-read; nothing sent
    SENT = "sent"                # the one request may have left
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


STORED_WRITE_STATES = (WriteState.SENT, WriteState.SUCCEEDED, WriteState.FAILED, WriteState.UNKNOWN)


class Action(StrEnum):
    """What an audit record is about (the three writes are their ``WriteKind`` values)."""

    UPDATE_VBANK = WriteKind.UPDATE.value
    REFUND = WriteKind.REFUND.value
    REVOKE_VBANK = WriteKind.REVOKE.value
    REFUND_REQUEST = "refund_request"
    BULK_EXTEND_REQUEST = "bulk_extend_request"
    BULK_REVOKE_REQUEST = "bulk_revoke_request"
    APPROVAL = "approval"                # a request that expired undecided
    REVEAL_PERSONAL = "reveal_personal"
    SAVED_VIEW = "saved_view"
    RECON_PRESET = "recon_preset"
    RECON_RESOLUTION = "recon_resolution"
    ACCOUNT = "account"                  # a built-in account added or changed (lib/db/accounts.py)
    SIGN_IN = "sign_in"


class WatchStatus(StrEnum):
    """One event posted to one webhook (lib/db/watch_log.py)."""

    SENDING = "sending"          # claimed by a watcher pass; posted or about to be
    SENT = "sent"
    RETRY = "retry"              # failed; tried again after a pause
    GAVE_UP = "gave_up"          # failed too often: shown on /admin


class LockState(StrEnum):
    """An in-flight lock (lib/db/locks.py)."""

    IN_FLIGHT = "in_flight"      # taken; the payment is being re-read and checked; nothing sent
    SENDING = "sending"          # the send was claimed; the API may have the request
    UNKNOWN = "unknown"          # it left and its outcome was not learned


class RequestKind(StrEnum):
    REFUND = "refund"
    BULK_EXTEND = "bulk_extend"
    BULK_REVOKE = "bulk_revoke"


class RequestStatus(StrEnum):
    """A four-eyes request (lib/db/approvals.py)."""

    PENDING = "pending"
    APPROVING = "approving"      # claimed by an approver; its write is being sent
    EXECUTED = "executed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class MatchStatus(StrEnum):
    """A row of a settlement file matched against I'mport (lib/reports/recon/match.py); 거래대사's own words for them
    in lib/domain/names.py."""

    MATCHED = "matched"
    MISMATCHED = "mismatched"
    FILE_ONLY = "file_only"              # in the file only (대사불능)
    IMPORT_ONLY = "import_only"          # at I'mport only (대사불능)


class PayoutStatus(StrEnum):
    """A PG payout expected on a settlement day, against the bank statement (lib/reports/recon/payouts.py)."""

    MATCHED = "payout_matched"
    SHORT = "short"
    OVER = "over"
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    OFFSET = "offset"                    # nothing to transfer: refunds and fees offset the day


# How a write's outcome finishes the approval request it carried out.
REQUEST_STATUS_OF = {Outcome.SUCCEEDED: RequestStatus.EXECUTED, Outcome.FAILED: RequestStatus.FAILED,
                     Outcome.UNKNOWN: RequestStatus.UNKNOWN}


class BulkOutcome(StrEnum):
    """One row of a bulk change."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REFUSED = "refused"          # not sent: changed since loaded, busy, invalid
    SKIPPED = "skipped"          # nothing to do for this row
