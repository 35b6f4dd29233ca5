"""Refund wizard for paid virtual-account payments (POST /payments/cancel), with the PG fee impact first.

Six steps sharing one draft in the session (lib/ui/refund_draft.py): payment → amount → account → fees
(lib/ui/refund_steps.py) → confirm → result (lib/ui/refund_confirm.py); the words in lib/ui/refund_words.py. The rules,
the holder check, the refund plan and the write itself live in lib (domain/rules, domain/holder_check,
services/refund).
"""

import streamlit as st

from lib.ui import inert, language, refund_words, session
from lib.ui.refund_confirm import step_confirm, step_result
from lib.ui.refund_draft import draft
from lib.ui.refund_steps import approvers_text, payment_summary, step_account, step_amount, step_fees, step_payment

language.entry_guard()

T = refund_words.texts()
st.title(T["title"])
st.caption(T["intro"])
d = draft(session.query_imp_uid())

st.progress(d.step / 6, text=T["step"].format(n=d.step, name=T["steps"][d.step - 1]))
if d.step == 1:
    step_payment(d, T)
    st.stop()
if d.step == 6:
    step_result(d, T)
    st.stop()
# Steps 2–5 work on the payment chosen in step 1 (as it was then; the send re-checks it).
chosen = d.chosen()
fee_rule = session.settings().rules.fee_rule(chosen.pg_provider)
payment_summary(chosen, T)
if d.step > 2 and d.extra.get("approval"):
    st.info(inert.say(T["approval_ahead"], why=d.extra["approval"], who=approvers_text(T)))
{2: lambda: step_amount(d, T, chosen), 3: lambda: step_account(d, T, chosen), 4: lambda: step_fees(d, T, chosen, fee_rule),
 5: lambda: step_confirm(d, T, chosen, fee_rule)}[d.step]()
