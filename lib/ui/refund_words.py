"""The refund wizard's words (app_pages/refund.py and its steps in lib/ui/refund_steps.py, refund_confirm.py), made
in the run's language each time they are asked for."""

from __future__ import annotations

from typing import Any

from lib.domain.i18n import _


def texts() -> dict[str, Any]:
    return {
        "bad_id": _("No payment found: “{q}” cannot name one. {msg}"),
        "title": _("Refund a virtual-account payment"),
        "intro": _("Virtual-account refunds need the customer's own bank account, use the PG's own bank codes, and the "
                 "PG keeps its fees. The wizard shows what the refund costs before any money moves."),
        "steps": [_("Payment"), _("Amount and reason"), _("Refund account"), _("Fee impact"), _("Confirm"), _("Result")],
        "step": _("Step {n} of 6 — {name}"),
        "summary": _("{pg} · imp_uid {imp_uid} · order {merchant_uid} · buyer {buyer} · paid {paid} · {status}"),
        "amount_help": _("Used for a partial refund; a full refund sends the whole refundable balance."),
        "reason_help": _("Sent to the PG as shown, with your note after it (set per reason in vbank-desk.toml)."),
        "bank_placeholder": _("Choose the bank"),
        "reuse": _("This payment was last refunded to {bank} {account} ({holder}) on {when}."),
        "reuse_go": _("Refund to this account again"),
        "typed_account": _("Account number as typed: {digits} ({n} digits)"),
        "no_api_refund": _("{n} paid payments of PGs that do not refund virtual accounts through the API (다날) are not listed: "
                           "refund those customers directly."),
        "cash_receipt": _("A cash receipt was issued for this payment: a partial refund may need the receipt corrected "
                          "(cancelled and issued again for the amount that stays paid) in the PG's console."),
        "account_help": _("Hidden as you type; it is masked everywhere else too."),
        "back": _("Back"), "next": _("Next"),
        "lookup": _("imp_uid or merchant_uid"), "find": _("Find"),
        "or_pick": _("…or pick a paid virtual-account payment (last {days} days, with a refundable balance)"),
        "search": _("Filter by merchant_uid, imp_uid or buyer"),
        "pick_hint": _("Select a row to choose that payment."),
        "not_found": _("No payment found for “{q}”: “{msg}”"), "error": _("Could not read the payment: {err}"),
        "blocked": _("This payment cannot be refunded here:"),
        "amount": _("Amount"), "refunded": _("Refunded so far"), "refundable": _("Refundable"), "pg": _("PG"),
        "history": _("Cancel / refund history"), "no_history": _("No earlier refunds."),
        "full": _("Full refund"), "partial": _("Partial refund"), "kind": _("Refund"),
        "refund_amount": _("Refund amount (₩)"), "reason": _("Reason"), "note": _("Note (optional, sent with the reason)"),
        "tax": _("Tax-free / VAT split (only if the payment was made with one)"), "tax_free": _("Tax-free amount (₩)"),
        "vat": _("VAT amount (₩)"),
        "holder": _("Account holder name"), "bank": _("Customer's bank"), "account": _("Account number (digits, hyphens allowed)"),
        "tel": _("Account holder's phone (required by this PG)"),
        "check": _("Check the holder's name with the bank"), "check_ok": _("The bank says the holder is “{name}”: it matches."),
        "check_bad": _("The bank says the holder is “{name}”, which does not match “{typed}”. Check the name and account."),
        "check_fail": _("The holder check did not work: “{msg}”. Confirm the account with the customer before you go on."),
        "override": _("Why send to this account anyway? (at least {n} characters; kept in the audit log and shown to an "
                      "approver)"),
        "override_needed": _("The bank's check did not confirm the holder's name: correct the details, or write why the "
                             "refund should go to this account (at least {n} characters)."),
        "use_bank_name": _("Use the bank's name"),
        "keep_typed": _("Or keep the name you typed and write below why the refund should go to this account."),
        "check_stale": _("The account details changed since the holder check; check again if you want to be sure."),
        "fee_title": _("What this refund costs you"), "fee_rule": _("Fee schedule for {pg}: issuance {iss}, remittance {rem}{vat}."),
        "vat_on": _(" + 10% VAT on each fee"), "vat_off": _(" (VAT not added)"),
        "confirm_title": _("Everything that will be sent"), "typed": _("Type the refund amount to confirm ({amount})"),
        "typed_first": _("Type the refund amount above first: a refund this large is confirmed by typing it."),
        "typed_bad": _("The typed amount does not match the refund amount."),
        "send": _("Send the refund…"), "dialog": _("Confirm the refund"), "go": _("Refund now"), "cancel": _("Cancel"),
        "sending": _("Sending…"),
        "dialog_body": _("This refunds {amount} to {bank} {account} in {where}, once."),
        "ok": _("Refund registered — the PG pays the customer on the next business day."),
        "new_cancel": _("Refunded total now"), "entry": _("The new cancel history entry"),
        "audit_link": _("See it in the audit log"), "start_over": _("Refund another payment"),
        "stale": _("The payment changed since you started, so nothing was sent: {changes}. Start again from step 1."),
        "busy": _("Nothing was sent: {msg}"), "invalid": _("Nothing was sent:"),
        "needs_approval": _("Refunds above {limit} need a second person's approval: send the request, and an approver "
                          "sends the refund from the Approvals page. No money moves until then."),
        "already_requested": _("A request for this payment is already waiting for approval ({who}, {when})."),
        "request_note": _("Why (for the approver)"), "request": _("Request approval"), "requested":
            _("Request sent — waiting for an approver. Nothing has been refunded yet."),
        "see_request": _("Open the request"),
        "mismatch_accepted": _("Holder name check: the bank says “{name}” — you go on because: {why}"),
        "approval_ahead": _("This refund will need a second person's approval: {why} Who can approve: {who}."),
        "approvers_local": _("a second signed-in person with the approver role (local mode has one identity only)"),
        "approvers_any": _("anyone with the approver role"),
        "api": _("API"),
        "no_holder_v2": _("PortOne V2 offers no account-holder lookup: the holder's name is sent as you type it, not "
                          "checked by the bank. Confirm the name and account with the customer before you go on."),
        "holder_row": _("Holder check"), "holder_v2": _("not available on PortOne V2 (the name is sent as typed)"),
        "checksum_v2": _("Current cancellable amount it is checked against"),
        "refund_requested": _("Refund requested: the PG accepted the refund and carries it out later. PortOne will "
                              "confirm it (its webhook or a re-read of the payment); until then the payment reads "
                              "“refund requested”. Do not send it again."),
        "requested_amount": _("Refund requested (not yet done)"),
    }
