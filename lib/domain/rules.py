"""The business rules of the two writes, pure: no HTTP, no database, no Streamlit. The services
(lib/services/) apply them right before sending; pages use them to explain a form before anything is sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from lib.domain import banks, pg_rules
from lib.domain.clock import KST, now_kst, to_unix
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.models import Payment
from lib.domain.names import method_name, pg_name, status_name
from lib.domain.refusals import Refusal
from lib.domain.settings import Rules
from lib.domain.text import (
    NAME_MAX,
    NOTE_MAX,
    REASON_MAX,
    WRITE_TAG_LEN,
    ascii_digits,
    clean,
    has_invisible,
    is_account_text,
)


class InvalidInput(Refusal):
    """Input the operator can fix; ``problems`` are sentences for the form."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Seen:
    """What the operator saw when the form loaded: a write is refused if any of it changed."""

    status: str
    amount: int
    cancel_amount: int
    vbank_due: int          # UNIX seconds, 0 if none

    @classmethod
    def of(cls, p: Payment) -> "Seen":
        return cls(p.status, p.amount, p.cancel_amount, to_unix(p.vbank_date))


def changes(seen: Seen, now: Payment) -> list[str]:
    out = []
    if now.status != seen.status:
        out.append(_("status is now {now} (was {was})").format(
            now=status_name(now.status), was=status_name(seen.status)))
    if now.amount != seen.amount:
        out.append(_("amount is now {now} (was {was})").format(now=krw(now.amount), was=krw(seen.amount)))
    if now.cancel_amount != seen.cancel_amount:
        out.append(_("refunded so far is now {now} (was {was})").format(
            now=krw(now.cancel_amount), was=krw(seen.cancel_amount)))
    if to_unix(now.vbank_date) != seen.vbank_due:
        was = kst(datetime.fromtimestamp(seen.vbank_due, KST)) if seen.vbank_due else "—"
        out.append(_("due is now {now} (was {was})").format(now=kst(now.vbank_date), was=was))
    return out


# ================================================================ changing a pending account
def update_blockers(p: Payment, rules: Rules) -> list[str]:
    """Why this payment cannot be changed at all (empty: it can) — the form is not offered."""
    out = []
    if not p.is_vbank:
        out.append(_("This payment is not a virtual account."))
    if p.status != "ready":
        out.append(_("Only a virtual account still waiting for its deposit can be changed (status is {status}).").format(
            status=status_name(p.status)))
    if p.pg_provider not in rules.vbank_update_pgs:
        out.append(_("Changing a virtual account is not offered for PG {pg}: the product supports {pgs}.").format(
            pg=pg_name(p.pg_provider), pgs=', '.join(pg_name(x) for x in rules.vbank_update_pgs)))
    return out


def validate_update(p: Payment, *, new_amount: int | None, new_due: datetime | None, rules: Rules,
                    now: datetime | None = None) -> list[str]:
    now = now or now_kst()
    problems = update_blockers(p, rules)
    if new_amount is not None:
        if isinstance(new_amount, bool) or not isinstance(new_amount, int):
            problems.append(_("The new amount must be a whole number of won."))
        elif new_amount <= 0:
            problems.append(_("The new amount must be more than ₩0."))
        elif rules.update_amount_ceiling and new_amount > rules.update_amount_ceiling:
            problems.append(_("The new amount is above the ceiling of {ceiling}.").format(
                ceiling=krw(rules.update_amount_ceiling)))
    if new_due is not None:
        if new_due.tzinfo is None:
            problems.append(_("The new due time needs a time zone (KST)."))
        elif new_due <= now:
            problems.append(_("The new due time {new_due} is not in the future.").format(new_due=kst(new_due)))
        elif rules.update_max_horizon_days and new_due > now + timedelta(days=rules.update_max_horizon_days):
            problems.append(_("The new due time is more than {n} days ahead.").format(n=rules.update_max_horizon_days))
    changed_amount = new_amount is not None and new_amount != p.amount
    changed_due = new_due is not None and to_unix(new_due) != to_unix(p.vbank_date)
    if not problems and not changed_amount and not changed_due:
        problems.append(_("Nothing changed: the amount and due time are what the account already has."))
    return problems


def update_confirmation(seen: Seen, *, new_amount: int | None, new_due: datetime | None, rules: Rules) -> str | None:
    """What the operator must type to confirm a drastic change (None: a click is enough): the new amount when
    it cuts the amount below ``update_typed_confirm_below_share`` of what it was, or the new due date when it
    moves the due by more than ``update_typed_confirm_due_days``."""
    if new_amount is not None and seen.amount and new_amount < seen.amount * rules.update_typed_confirm_below_share:
        return f"{new_amount:,}"
    if new_due is not None and seen.vbank_due and \
            abs(to_unix(new_due) - seen.vbank_due) > rules.update_typed_confirm_due_days * 86400:
        return new_due.astimezone(KST).strftime("%Y-%m-%d")
    return None


def plan_due(current: datetime | None, *, extend_days: int | None, to: datetime | None,
             now: datetime | None = None) -> datetime | None:
    """The new due time for one account: a fixed time, or + N days — from the current due date, or from today
    (at the account's own time of day) when the account is already overdue: "+3 days" on an account 84 days
    overdue means three days from now, not 81 days ago."""
    if to is not None:
        return to
    if current is None or not extend_days:
        return None
    now = now or datetime.now(KST)
    base = current
    if current < now:
        c = current.astimezone(KST)
        base = datetime.combine(now.astimezone(KST).date(), c.timetz())
    return base + timedelta(days=extend_days)


def bulk_confirmation(payments: list[Any], extend_days: int | None, to: datetime | None, rules: Rules,
                      now: datetime | None = None) -> str | None:
    """What the operator must type before a bulk change is sent (None: the dialog's click is enough). The rule of
    one account applies to every row: a row whose due date would move by more than
    ``update_typed_confirm_due_days``, or move *earlier* (never an extension), needs the change typed — the number
    of days, or the new date."""
    need = False
    for p in payments:
        nd = plan_due(p.vbank_date, extend_days=extend_days, to=to, now=now)
        if nd is None or p.vbank_date is None:
            continue
        if nd < p.vbank_date or update_confirmation(Seen.of(p), new_amount=None, new_due=nd, rules=rules):
            need = True
            break
    if not need:
        return None
    if extend_days is not None or to is None:
        return str(extend_days)
    return to.astimezone(KST).strftime("%Y-%m-%d")


def moves_earlier(p: Payment, new_due: datetime | None) -> bool:
    return bool(new_due is not None and p.vbank_date is not None and new_due < p.vbank_date)


def check_bulk_plan(payments: list[Any], extend_days: int | None, to: datetime | None, rules: Rules) -> None:
    if len(payments) > rules.bulk_extend_max_rows:
        raise InvalidInput([_("At most {n} accounts can be changed at once.").format(n=rules.bulk_extend_max_rows)])
    if (extend_days is None) == (to is None):
        raise InvalidInput([_("Give either a number of days to extend by or a new due date, not both.")])
    if extend_days is not None and (isinstance(extend_days, bool) or not isinstance(extend_days, int)
                                    or extend_days <= 0):
        raise InvalidInput([_("Extend by at least one day (a whole number).")])


# ================================================================ refunds
@dataclass(frozen=True)
class RefundRequest:
    imp_uid: str
    amount: int
    reason_code: str
    note: str = ""
    refund_holder: str = ""
    refund_bank: str = ""        # the PG's own code
    refund_account: str = ""     # as typed; hyphens allowed
    refund_tel: str = ""
    tax_free: int | None = None
    vat_amount: int | None = None
    holder_override: str = ""    # why to send although the bank's holder name differs or could not be looked up

    def reason_text(self, rules: Rules) -> str:
        label = rules.refund_reasons.get(self.reason_code, self.reason_code)
        note = clean(self.note)
        return label + (f" — {note}" if note else "")     # "고객 요청 — 배송 지연": as the PG shows it

    def content(self) -> dict[str, Any]:
        """Exactly what an approval covers: the full numbers, normalised."""
        d = asdict(self)
        d["refund_account"] = ascii_digits(self.refund_account)
        d["refund_tel"] = ascii_digits(self.refund_tel)
        d["refund_holder"] = clean(self.refund_holder)
        d["note"] = clean(self.note)
        d["holder_override"] = clean(self.holder_override)
        return d


def revoke_blockers(p: Payment) -> list[str]:
    """Why this account cannot be cancelled (가상계좌 발급취소) through the API (empty: it can)."""
    out = []
    if not p.is_vbank:
        out.append(_("This payment is not a virtual account."))
    if p.status != "ready":
        out.append(_("Only a virtual account still waiting for its deposit can be cancelled (status is {status}).").format(
            status=status_name(p.status)))
    if p.pg_provider in pg_rules.REVOKE_NEEDS_PG_KEY:
        out.append(_("{pg} cancels a virtual account only with its own API key, which vbank-desk does not hold: cancel "
                     "it in the PG's console.").format(pg=pg_name(p.pg_provider)))
    elif p.pg_provider not in pg_rules.REVOKE_SUPPORTED:
        out.append(_("{pg} does not cancel virtual accounts through the API: cancel it in the PG's console.").format(
            pg=pg_name(p.pg_provider)))
    return out


def refund_blockers(p: Payment) -> list[str]:
    """Why this payment cannot be refunded through the wizard at all (empty: it can)."""
    out = payment_refund_blockers(p)
    if p.pg_provider not in pg_rules.NO_VBANK_REFUND and p.is_vbank and banks.table_for(p.pg_provider) is None:
        out.append(_("vbank-desk has no refund bank-code table for PG {pg}.").format(pg=pg_name(p.pg_provider)))
    return out


def payment_refund_blockers(p: Payment) -> list[str]:
    """What bars a refund of this payment on either API: not a virtual account, nothing left to refund, not paid,
    a PG that refunds no virtual account through the API (lib/domain/portone_v2.py adds V2's own)."""
    out = []
    if not p.is_vbank:
        out.append(_("This is not a virtual-account payment (pay method: {method}); use the PG console for it.").format(
            method=method_name(p.pay_method)))
    if p.status == "cancelled" or (p.status == "paid" and p.refundable <= 0):
        out.append(_("This payment is already fully refunded."))
    elif p.status != "paid":
        out.append(_("Only a paid payment can be refunded (status is {status}).").format(status=status_name(p.status)))
    if p.pg_provider in pg_rules.NO_VBANK_REFUND:
        out.append(_("{pg} does not refund virtual accounts through the API; refund the customer directly.").format(
            pg=pg_name(p.pg_provider)))
    return out


def validate_refund_amount(p: Payment, r: RefundRequest, rules: Rules) -> list[str]:
    """Step 2 of the wizard: amount, reason, note, tax-free / VAT split."""
    problems = []
    if isinstance(r.amount, bool) or not isinstance(r.amount, int):
        problems.append(_("The refund amount must be a whole number of won."))
    elif r.amount <= 0:
        problems.append(_("The refund amount must be more than ₩0."))
    elif r.amount > p.refundable:
        problems.append(_("The refund amount {amount} is more than the refundable balance {refundable}.").format(
            amount=krw(r.amount), refundable=krw(p.refundable)))
    if r.reason_code not in rules.refund_reasons:
        problems.append(_("Pick a refund reason from the list."))
    if len(clean(r.note)) > NOTE_MAX:
        problems.append(_("The note is too long ({n:,} characters; {max} at most).").format(
            n=len(clean(r.note)), max=NOTE_MAX))
    elif len(r.reason_text(rules)) > REASON_MAX - WRITE_TAG_LEN:
        problems.append(_("The reason is too long ({max} characters at most, with the note).").format(
            max=REASON_MAX - WRITE_TAG_LEN))
    for name, v in ((_("The tax-free amount"), r.tax_free), (_("The VAT amount"), r.vat_amount)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0
                              or (isinstance(r.amount, int) and v > r.amount)):
            problems.append(_("{name} must be between ₩0 and the refund amount.").format(name=name))
    if isinstance(r.tax_free, int) and isinstance(r.vat_amount, int) and isinstance(r.amount, int) \
            and r.tax_free + r.vat_amount > r.amount:
        problems.append(_("The tax-free amount and the VAT amount together cannot be more than the refund amount."))
    if r.vat_amount is not None and not pg_rules.takes_vat_amount(p.pg_provider):
        problems.append(_("{pg} does not take a VAT amount on refunds (only {pgs} do); leave it empty.").format(
            pg=pg_name(p.pg_provider), pgs=', '.join(pg_name(x) for x in sorted(pg_rules.VAT_AMOUNT_SUPPORTED))))
    return problems


HOLDER_OVERRIDE_MIN = 10       # a sentence, not "ok"
REASON_MIN = HOLDER_OVERRIDE_MIN


def is_reason(text: str | None, min_len: int = REASON_MIN) -> bool:
    """True when ``text`` says something: at least ``min_len`` characters, and its letters and digits are neither
    one character repeated (ㅋㅋㅋㅋㅋ, ..........) nor one short piece repeated ("ok ok ok ok", 확인확인확인), nor
    only loose jamo (ㅋㅎㅋㅎ, ㅇㅇㅇ): a reason a colleague can read later, not filler that passes a length check."""
    import unicodedata
    t = clean(text or "").strip()
    if len(t) < min_len:
        return False
    core = "".join(c for c in t.casefold() if unicodedata.category(c)[0] in "LN")
    if len(set(core)) < 3:
        return False
    if all("\u3131" <= c <= "\u318e" for c in core):        # Hangul compatibility jamo only: ㅋㅋ, ㅎㅎ, ㅠㅠ
        return False
    for unit in range(1, 4):                                 # "okokok", "확인확인", "abcabcabc"
        if len(core) % unit == 0 and core == core[:unit] * (len(core) // unit):
            return False
    return True


def normalize_name(name: str) -> str:
    """Lenient comparison of account holder names: spaces and letter case do not matter."""
    return "".join((name or "").split()).casefold()


def holder_matches(typed: str, looked_up: str | None) -> bool:
    return bool(normalize_name(typed)) and normalize_name(typed) == normalize_name(looked_up or "")


def holder_problem(check: dict[str, Any], override: str) -> str | None:
    """Why a refund may not be sent on this holder check (None: it may). The bank's name must match the name typed,
    or the operator gives a reason of at least a sentence to go on (a lookup that failed needs one too); a bank
    that offers no lookup for this PG passes, and the audit says so."""
    if check.get("ok") or not check.get("available"):
        return None
    if is_reason(override, HOLDER_OVERRIDE_MIN):
        return None
    if check.get("bank_says"):
        return _("The bank says the account holder is “{bank}”, not “{typed}”. Correct the name, or write why the "
                 "refund should go to this account anyway (a sentence of at least {n} characters).").format(
                     bank=check["bank_says"], typed=check.get("typed", ""), n=HOLDER_OVERRIDE_MIN)
    return _("The bank's account-holder check did not work (“{msg}”). Check the account with the customer and write "
             "why the refund should go to it (a sentence of at least {n} characters).").format(
                 msg=check.get("error") or "", n=HOLDER_OVERRIDE_MIN)


def validate_refund_account(p: Payment, r: RefundRequest) -> list[str]:
    """Step 3 of the wizard: the customer's refund account, with the PG's own bank code."""
    problems = []
    holder = clean(r.refund_holder)
    if not holder:
        problems.append(_("Enter the refund account holder's name."))
    elif len(holder) > NAME_MAX:
        problems.append(_("The account holder's name is too long ({max} characters at most).").format(max=NAME_MAX))
    elif has_invisible(r.refund_holder):
        problems.append(_("The account holder's name holds invisible characters (zero-width or direction marks); "
                        "type it again."))
    if banks.bank_by_code(p.pg_provider, r.refund_bank) is None:
        problems.append(_("Pick the customer's bank from the list for {pg}.").format(pg=pg_name(p.pg_provider)))
    acct = (r.refund_account or "").strip()
    if not acct:
        problems.append(_("Enter the refund account number."))
    elif not is_account_text(acct):
        problems.append(_("The account number may hold the digits 0–9 and hyphens only."))
    elif not 8 <= len(ascii_digits(acct)) <= 16:
        problems.append(_("The account number should have 8 to 16 digits."))
    if len(r.holder_override or "") > NOTE_MAX:
        problems.append(_("The reason for going on despite the holder check is too long ({max} characters at "
                          "most).").format(max=NOTE_MAX))
    if pg_rules.needs_refund_tel(p.pg_provider):
        tel = (r.refund_tel or "").strip()
        if not is_account_text(tel) or not 9 <= len(ascii_digits(tel)) <= 11:
            problems.append(_("{pg} needs the account holder's phone number for a virtual-account refund (9–11 digits, "
                              "0–9 and hyphens only).").format(pg=pg_name(p.pg_provider)))
    return problems


def validate_refund(p: Payment, r: RefundRequest, rules: Rules) -> list[str]:
    """Everything a refund must satisfy before it is sent (the wizard's steps 1–3 together)."""
    return refund_blockers(p) or (validate_refund_amount(p, r, rules) + validate_refund_account(p, r))
