"""Audit log: who did what, when, why, and what the API said."""

import re
from datetime import datetime, timedelta
from datetime import time as dtime

import streamlit as st

from lib.domain import names
from lib.domain.errors import DeskError
from lib.domain.i18n import _
from lib.reports.audit_log import grouped as audit_grouped
from lib.reports.audit_log import search as audit_search
from lib.ui import loaders, open_payment

WRITE_TAG_IN_JSON = re.compile(r"\s*\[vd:[0-9a-f]{8}\]")     # lib/domain/text.write_tag, inside the stored JSON
from lib.domain.chain import Anchor
from lib.domain.clock import KST, now_kst
from lib.domain.fmt import kst
from lib.reports import export
from lib.ui import language, session, stores
from lib.ui import present as ui_present

language.entry_guard()

T = {
    "title": _("Audit log"),
    "intro": _("Every write vbank-desk sends is recorded before it is sent and again with its outcome; the two share "
             "a correlation id. Account and phone numbers are masked; no secret is ever stored. Times are KST."),
    "from": _("From (KST)"), "to": _("Until (KST)"), "operator": _("Operator"), "action": _("Action"), "outcome": _("Outcome"),
    "imp_uid": _("imp_uid"), "any": _("(any)"), "csv": _("Download CSV"), "none": _("No audit records match."),
    "locks": _("Writes in flight or with an unknown outcome"),
    "count": _("{n:,} records"),
    "raw": _("The records as stored (masked requests, details, the hash chain)"),
    "verify": _("Verify audit log"), "verify_ok": _("The audit log is intact: {n:,} records, every link checks out."),
    "verify_bad": _("The audit log is broken at record {id} ({n:,} checked): {reason}."),
    "signed": _(" Every record and the head are signed with the audit key."),
    "unsigned": _(" The log is not signed (no AUDIT_HMAC_KEY): keep anchors to detect a rollback or a re-written tail."),
    "anchored": _(" It still holds the {n:,} records of the anchor you gave, unchanged."),
    "anchor_in": _("Anchor from an earlier export (optional)"),
    "anchor_help": _("Paste an anchor downloaded earlier (count:hash): Verify then also proves no record up to it was "
                   "removed or changed since."),
    "search": _("Search: an amount, a buyer, a bank or an operator"),
    "search_help": _("₩55,000 or 55000 finds every record naming that amount; a name finds the holder, the buyer's "
                     "payments and the operator; a bank by its name (신한은행)."),
    "no_buyers": _("The payments could not be read, so buyers' names are not searched."),
    "case": _("Case"), "case_help": _("Records with the same number belong together: a refund's request, approval "
                                      "and outcome."),
    "open": _("Open →"), "open_col": _("Open"),
    "anchor_dl": _("Download anchor"), "anchor_bad": _("That anchor cannot be read: {msg}"),
}
st.title(T["title"])
st.caption(T["intro"])
store = stores.audit_log()

today = now_kst().date()
c = st.columns(5)
d_from = c[0].date_input(T["from"], value=today - timedelta(days=30), key="a_from")
d_to = c[1].date_input(T["to"], value=today, key="a_to")
op = c[2].selectbox(T["operator"], [T["any"]] + store.distinct("operator"), key="a_op")
action = c[3].selectbox(T["action"], [T["any"]] + store.distinct("action"), key="a_action",
                        format_func=lambda v: v if v == T["any"] else names.action_name(v))
outcome = c[4].selectbox(T["outcome"], [T["any"]] + store.distinct("outcome"), key="a_outcome",
                         format_func=lambda v: v if v == T["any"] else names.outcome_name(v))
q1, q2 = st.columns([3, 2])
query = q1.text_input(T["search"], key="a_q", max_chars=100, help=T["search_help"])
imp_uid = q2.text_input(T["imp_uid"], value=st.query_params.get("imp_uid", ""), key="a_imp")
cid = st.query_params.get("correlation_id") or None

any_ = T["any"]
df = store.records(since=datetime.combine(d_from, dtime.min, KST) if d_from else None,
                   until=datetime.combine(d_to, dtime.max, KST) if d_to else None,
                   operator=None if op == any_ else op, action=None if action == any_ else action,
                   outcome=None if outcome == any_ else outcome, imp_uid=imp_uid.strip() or None, correlation_id=cid)
if query.strip() and not df.empty:
    buyers: set[str] = set()
    if not any(ch.isdigit() for ch in query):            # a buyer's name: their payments in the period
        try:
            pays, _fetched = loaders.load_search_frame(max(d_from or today, today - timedelta(days=365)), d_to or today)
            buyers = set(pays.loc[pays["buyer_name"].str.contains(query.strip(), case=False, regex=False), "imp_uid"])
        except DeskError:
            st.caption(T["no_buyers"])
    df = audit_search(df, query, buyer_imp_uids=buyers, bank_name=names.bank_name,
                      amount_cases=session.desk().cases_with_amount)
df = audit_grouped(df)
st.caption(T["count"].format(n=len(df)))
if df.empty:
    st.info(T["none"])
else:
    df = df.assign(what=[ui_present.audit_sentence(r) for r in df.to_dict("records")],
                   outcome_name=df["outcome"].map(names.outcome_name),
                   case_label=df["case_no"].map(lambda n: f"#{n}"),
                   payment=df["imp_uid"].fillna("").astype(str))
    ids = df["payment"].tolist()
    shown = open_payment.with_open_column(df, T["open"]).assign(
        open=lambda d: d["open"].where(d["payment"] != "", ""))
    st.dataframe(shown, hide_index=True, width="stretch", key="a_table", selection_mode="single-cell",
                 on_select=open_payment.on_select("a_table", ids),
                 column_order=["case_label", "at", "operator", "what", "outcome_name", "payment", "open"],
                 column_config={
                     "case_label": st.column_config.TextColumn(T["case"], width=56, help=T["case_help"]),
                     "at": st.column_config.DatetimeColumn(_("Time (KST)"), format="YYYY-MM-DD HH:mm:ss", width=150,
                                                           timezone="Asia/Seoul"),
                     "operator": _("Who"), "what": st.column_config.TextColumn(_("What happened"), width="large"),
                     "payment": st.column_config.TextColumn(_("Payment"), width=ui_present.column_px(
                         _("Payment"), ids)),
                     "open": open_payment.column_config(T["open_col"]),
                     "outcome_name": _("Outcome")})
    open_payment.follow()
    # The stored records as a person reads them: the proof tag a refund's reason carries to the PG taken off, empty
    # fields empty (never "None"); the chain's hashes stay as stored (Verify checks the log itself, not this copy).
    stored = df.drop(columns=["what", "payment", "outcome_name", "case", "case_no", "case_label"]).assign(
        request=df["request"].map(lambda v: WRITE_TAG_IN_JSON.sub("", v) if isinstance(v, str) else ""),
        detail=df["detail"].map(lambda v: WRITE_TAG_IN_JSON.sub("", v) if isinstance(v, str) else ""))
    stored = stored.assign(**{c: stored[c].map(lambda v: "" if v is None or v != v else str(v))
                              for c in stored.columns if c not in ("at", "id")})
    with st.expander(T["raw"]):
        st.dataframe(stored,
                     hide_index=True, width="stretch", key="a_raw",
                     column_config={
                         "at": st.column_config.DatetimeColumn(_("Time (KST)"), format="YYYY-MM-DD HH:mm:ss",
                                                               timezone="Asia/Seoul"),
                         "request": st.column_config.TextColumn(_("Request (masked)"), width="large"),
                         "detail": st.column_config.TextColumn(_("Detail"), width="large")})
    st.download_button(T["csv"], data=export.to_csv_bytes(stored.assign(what=df["what"], case_no=df["case_no"]).rename(
                           columns={"at": _("at (KST)"), "what": _("what happened")})),
                       file_name=f"audit-{today:%Y%m%d}.csv", mime="text/csv", on_click="ignore", icon=":material/download:")

v1, v2 = st.columns([3, 1], vertical_alignment="bottom")
anchor_text = v1.text_input(T["anchor_in"], key="a_anchor", help=T["anchor_help"], placeholder="1234:9f86d0…")
head = store.anchor()
v2.download_button(T["anchor_dl"], data=head.text() + "\n", file_name=f"audit-anchor-{now_kst():%Y%m%d-%H%M%S}.txt",
                   mime="text/plain", on_click="ignore", icon=":material/anchor:", key="a_anchor_dl")
if st.button(T["verify"], icon=":material/verified:", key="a_verify"):
    anchor = None
    if anchor_text.strip():
        try:
            anchor = Anchor.parse(anchor_text)
        except ValueError as e:
            st.error(T["anchor_bad"].format(msg=e))
            st.stop()
    rep = store.verify_chain(anchor)
    extra = (T["signed"] if rep.signed else T["unsigned"]) + (T["anchored"].format(n=anchor.count) if anchor and rep.ok
                                                               else "")
    if rep.ok:
        st.success(T["verify_ok"].format(n=rep.checked) + extra)
    else:
        st.error(T["verify_bad"].format(id=rep.first_broken_id, n=rep.checked, reason=names.chain_break(rep.reason, rep.params)))

locks = session.desk().locks_held()
if locks:
    st.subheader(T["locks"])
    st.dataframe([{_("What"): f"{names.action_name(lk.action)} · {lk.lock_key.split(':', 1)[-1]}",
                   _("State"): names.lock_state(lk.state), _("Operator"): lk.operator,
                   _("Since"): kst(lk.since, seconds=True), _("Note"): lk.note or ""} for lk in locks],
                 hide_index=True, width="stretch")
