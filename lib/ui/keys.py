"""Every session-state key vbank-desk keeps between runs, declared here and prefixed by who owns it. Widget keys
stay on their page, prefixed by the page (``rf_`` refund, ``upd_`` update, ``bulk_``, ``rc_`` reconcile, ``ap_``
approvals, ``a_`` audit, ``pay_`` payment, ``f_`` the pending list's filters)."""

from __future__ import annotations

# shared between pages
BULK_SELECTION = "shared:bulk_selection"         # imp_uids picked on the pending list for the bulk page
DESK = "shared:desk"                             # the run's Desk (lib/ui/session.start_run)
IDENTITY_PROBLEM = "shared:identity_problem"     # why nobody is identified (header / OIDC mode)
LANG_WIDGET, LANG_CHOICE = "ui_lang", "ui_lang_choice"   # the language switch and the choice it keeps
LANG_OWNER = "shared:lang_owner"                 # whose language choice is remembered (header / OIDC mode)
REVEAL_CHOICE = "shared:reveal"                  # the person's "show full numbers" choice, kept from page to page
OPEN_PAYMENT = "shared:open_payment"             # the payment a click in a table asked to open (lib/ui/open_payment)

# pages
PENDING_SELECTION = "pending:selected_ids"       # the selection, as imp_uids (never row positions)
PENDING_FILTERS, PENDING_URL = "pending:filters", "pending:url"
PENDING_READ_AT = "pending:read_at"              # when the list shown was read (UNIX seconds)
PENDING_LISTED = "pending:listed"                # imp_uids the list shows now (the deposit check compares with them)
PENDING_DROPPED = "pending:dropped"              # ticked payments that left the list: said until the next tick
REFUND_DRAFT, REFUND_CONFIRM = "refund:draft", "refund:confirm"
UPDATE_CONFIRM = "update:confirm"
BULK_ACTION, BULK_PLAN, BULK_CONFIRM, BULK_DONE = "bulk:action", "bulk:plan", "bulk:confirm", "bulk:done"
REVOKE_ACTION, REVOKE_PLAN, REVOKE_CONFIRM, REVOKE_DONE = "revoke:action", "revoke:plan", "revoke:confirm", "revoke:done"
APPROVALS_CONFIRM, APPROVALS_LAST = "approvals:confirm", "approvals:last"


def flash(owner: str) -> str:
    """A one-run message a page shows after a rerun (``owner``: the page's or panel's key)."""
    return f"flash:{owner}"


def upload_digest(file_id: str) -> str:
    return f"upload:digest:{file_id}"


# lib/ui/send_once.py: one family for every action sent at most once
def send_started(aid: str) -> str:
    return f"send:started:{aid}"


def send_result(aid: str) -> str:
    return f"send:result:{aid}"


def send_armed(aid: str) -> str:
    return f"send:armed:{aid}"


def revealed_for(toggle_key: str) -> str:
    return f"reveal:{toggle_key}"
