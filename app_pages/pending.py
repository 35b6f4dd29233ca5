"""Pending virtual accounts: every vbank payment still waiting for its deposit."""

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from lib.domain import identity
from lib.domain import status as person_status
from lib.domain.clock import now_kst
from lib.domain.fmt import krw, number
from lib.domain.i18n import _
from lib.domain.names import pg_name
from lib.iamport.errors import ApiError
from lib.reports import pending
from lib.ui import filters, inert, keys, language, loaders, metrics, open_payment, pending_view, session, stores
from lib.ui import present as ui_present
from lib.ui import reveal as ui_reveal
from lib.ui.pending_view import due_soonest_first, live_strip

language.entry_guard()
T = pending_view.texts()                        # this run's language

K_SEL = keys.PENDING_SELECTION


st.title(T["title"])
st.caption(T["intro"])
who = session.operator()


strip = st.container()           # filled once the list is drawn (see finish())
paid_flash = st.session_state.pop(keys.flash("pending:paid"), None)
if paid_flash:
    st.success(inert.say(T["paid_meanwhile"], who=paid_flash))


def finish(days: int) -> None:
    """Draw the deposits strip at the top, last: the page is on screen before the feed is read."""
    with strip:
        live_strip(days)

# Filters live in the URL (a link shows the same list) and survive a visit to another page.
K_FILTERS, K_URL = keys.PENDING_FILTERS, keys.PENDING_URL
from_url = filters.from_params(st.query_params.to_dict())
if from_url and from_url != st.session_state.get(K_URL):                 # a link, or the user edited the URL
    st.session_state[K_URL] = from_url
    st.session_state.update({**filters.DEFAULTS, **from_url})
kept = st.session_state.get(K_FILTERS, {})
for k, v in filters.DEFAULTS.items():                      # back from another page: Streamlit dropped the widgets' state
    if k not in st.session_state:
        st.session_state[k] = kept.get(k, v)

with st.sidebar:
    st.subheader(T["filters"])
    # value=None: a browser that re-creates this input shows it empty (read as the default), never its minimum —
    # a list that silently shrank to one day was seen under load after the deposit strip's app rerun.
    days = st.number_input(T["range_days"], min_value=1, max_value=365, step=1, help=T["range_help"], key="f_days",
                           value=None, placeholder=str(filters.DEFAULTS["f_days"]))
    days = int(days or filters.DEFAULTS["f_days"])

top = st.columns([4, 1])
if top[1].button(T["refresh"], icon=":material/refresh:", width="stretch", key="pending_refresh"):
    loaders.refresh_now()
try:
    df, fetched = loaders.load_pending(int(days))
except ApiError as e:  # noqa
    st.error(T["load_error"].format(err=e))
    finish(int(days))
    st.stop()
st.session_state[keys.PENDING_READ_AT] = fetched.timestamp()
top[0].caption(session.last_refreshed(fetched) + " · " + T["loaded"].format(n=number(len(df)), days=int(days)))

with st.sidebar:
    pg_options, bank_options = sorted(df["pg_provider"].unique()), sorted(df["vbank_name"].unique())
    st.session_state["f_pg"] = [x for x in st.session_state["f_pg"] if x in pg_options]       # from a URL: only real ones
    st.session_state["f_bank"] = [x for x in st.session_state["f_bank"] if x in bank_options]
    pgs = st.multiselect(T["pg"], pg_options, key="f_pg", format_func=pg_name, placeholder=T["all"])
    bank_names = st.multiselect(T["bank"], bank_options, key="f_bank", placeholder=T["all"])
    apis = st.multiselect(T["api"], ["v1", "v2"], key="f_api", format_func=open_payment.api_words,
                          placeholder=T["all"], help=T["api_help"]) if open_payment.both() else []
    window = st.selectbox(T["due_window"], pending.DUE_WINDOWS, format_func=T["due_labels"].get, key="f_due")
    due_from = due_to = None
    if window == "custom":
        due_from = st.date_input(T["due_from"], key="f_due_from")
        due_to = st.date_input(T["due_to"], key="f_due_to")
    c1, c2 = st.columns(2)
    a_min = c1.number_input(T["amount_min"], min_value=0, step=1000, key="f_min")
    a_max = c2.number_input(T["amount_max"], min_value=0, step=1000, key="f_max")
    text = st.text_input(T["search"], key="f_text", max_chars=100)
    reveal = ui_reveal.reveal_toggle(T["reveal"], key="f_reveal", where="pending list")  # the audit's page name
    current = {k: st.session_state.get(k) for k in filters.DEFAULTS}
    st.session_state[K_FILTERS] = current
    params = filters.to_params(current)
    if params != {k: v for k, v in st.query_params.to_dict().items() if k in filters.KEYS}:
        st.query_params.from_dict(params)
        st.session_state[K_URL] = filters.from_params(params)
    # Named views shared by the team
    store = stores.views()
    saved = store.all()
    with st.expander(T["views"]):
        choice = st.selectbox(T["views"], [T["no_view"]] + list(saved), key="f_view", label_visibility="collapsed")

        def apply_view() -> None:
            chosen = saved.get(st.session_state.get("f_view"))
            if chosen:
                st.session_state.update({**filters.DEFAULTS, **filters.from_params(chosen)})
        st.button(T["apply"], key="f_view_apply", on_click=apply_view, disabled=choice == T["no_view"])
        can_save = session.operator().can("save_settings")
        vname = st.text_input(T["save_as"], key="f_view_name", max_chars=60, disabled=not can_save,
                              help=None if can_save else T["no_save"])
        if st.button(T["save"], key="f_view_save", disabled=not can_save) and vname.strip():
            try:
                st.success(inert.say(T["saved"], name=store.save(vname, params, session.operator())))
            except (ValueError, identity.Forbidden) as e:
                st.error(inert.say("{e}", e=e))

now = now_kst()
flt = pending.PendingFilter(pgs=pgs, banks=bank_names, due_window=window, due_from=due_from, due_to=due_to,
                            amount_min=int(a_min) if a_min is not None else None,
                            amount_max=int(a_max) if a_max is not None else None, text=text, apis=apis)
view = due_soonest_first(pending.apply_filter(df, flt, now))
s = pending.summarize(view, now)

m = st.columns(5)
m[0].metric(T["m_count"], number(s.count), help=T["m_count_help"].format(n=number(s.count - s.overdue_count)))
m[2].metric(T["m_overdue"], number(s.overdue_count))
m[4].metric(T["m_today"], number(s.due_today_count), help=T["m_today_help"].format(amount=krw(s.due_today_amount)))
metrics.row([m[1], m[3]], [(T["m_total"], s.total - s.overdue_amount), (T["m_overdue_amt"], s.overdue_amount)])
st.caption(T["m_total_help"].format(overdue=krw(s.overdue_amount)))
overdue_ids = view.loc[view["overdue"], "imp_uid"].tolist()
overdue_v1 = view.loc[view["overdue"] & (view["api"] == "v1"), "imp_uid"].tolist()     # a bulk cancel is V1's
v1, v2 = st.columns(2)
if window != "overdue" and overdue_ids:
    v1.button(T["overdue_view"].format(n=number(len(overdue_ids))), key="pending_overdue_view",
              icon=":material/event_busy:", on_click=lambda: st.session_state.update(f_due="overdue"))
elif window == "overdue":
    v1.button(T["all_view"], key="pending_all_view", on_click=lambda: st.session_state.update(f_due="all"))
    if overdue_v1 and session.operator().can("revoke_vbank"):
        def revoke_overdue(ids: list[str]) -> None:
            st.session_state[keys.BULK_SELECTION] = ids
            st.session_state.pop("revoke_ids", None)      # the revoke page starts from these ids
            st.session_state[keys.flash("pending:revoke")] = True
        v2.button(T["revoke_overdue"].format(n=number(len(overdue_v1))), key="pending_revoke_overdue",
                  icon=":material/block:", on_click=revoke_overdue, args=(overdue_v1,))
if st.session_state.pop(keys.flash("pending:revoke"), None):
    st.switch_page("app_pages/revoke.py")

if view.empty:
    st.info(T["none"])
    finish(int(days))
    st.stop()

shown = pending.masked_view(view, reveal=reveal).assign(
    time_left=lambda d: pending.time_left_column(d["seconds_left"]),
    pg_provider=lambda d: d["pg_provider"].map(pg_name),
    status=lambda d: person_status.labels(d["overdue"].map({True: "overdue", False: "ready"})),
    api=lambda d: d["api"].map(open_payment.api_words),
    open=T["open_short"]).reset_index(drop=True)          # one click on it opens the payment in this tab
C = T["col"]
# A ticked row follows its payment, not its position: the selection is kept as imp_uids; each version of the table
# (another order, other rows) gets its own widget, restored from those imp_uids.
shown_ids = shown["imp_uid"].tolist()
st.session_state[keys.PENDING_LISTED] = shown_ids          # what the deposit check compares with
position = {imp_uid: i for i, imp_uid in enumerate(shown_ids)}
table_key = "pending_table_" + hashlib.sha1("\x1f".join(shown_ids).encode()).hexdigest()[:12]
st.session_state[f"{table_key}:ids"] = shown_ids
chosen = st.session_state.get(K_SEL, [])
gone = [i for i in chosen if i not in position]
if gone:      # said until the next tick: a timer's rerun or a Refresh right after must not swallow the notice
    st.session_state[K_SEL] = chosen = [i for i in chosen if i in position]
    st.session_state[keys.PENDING_DROPPED] = list(dict.fromkeys(st.session_state.get(keys.PENDING_DROPPED, []) + gone))
dropped = st.session_state.get(keys.PENDING_DROPPED, [])
if dropped:
    st.warning(inert.say(T["dropped"], n=len(dropped), ids=", ".join(dropped[:5]) + (" …" if len(dropped) > 5 else "")))


def picked() -> None:
    """The user ticked or unticked rows: turn this table's positions into payments at once."""
    st.session_state.pop(keys.PENDING_DROPPED, None)
    rows = st.session_state[table_key].selection.rows
    ids = st.session_state[f"{table_key}:ids"]
    st.session_state[K_SEL] = [ids[r] for r in rows if 0 <= r < len(ids)]


st.dataframe(
    shown, key=table_key, hide_index=True, on_select=open_payment.on_select(table_key, shown_ids, then=picked,
                                                                             apis=view["api"].tolist()),
    selection_mode=["multi-row", "single-cell"], height=460,
    selection_default={"selection": {"rows": [position[i] for i in chosen], "columns": []}},
    # Leads with what the team acts on; the holder (always the shop's own name) is on the detail page.
    column_order=["open", "imp_uid", "due", "time_left", "status", *(["api"] if open_payment.both() else []), "amount",
                  "buyer_name", "vbank_name", "pg_provider", "vbank_num", "merchant_uid", "issued_at"],
    column_config={
        "imp_uid": st.column_config.TextColumn(C["imp_uid"], pinned=True),
        "merchant_uid": st.column_config.TextColumn(C["merchant_uid"], width=ui_present.column_px(  # whole at 1280
            C["merchant_uid"], shown["merchant_uid"].head(2000))),
        "buyer_name": st.column_config.TextColumn(C["buyer_name"]),
        "amount": st.column_config.NumberColumn(C["amount"], format="localized", width=ui_present.column_px(
            C["amount"], [shown["amount"].max()], fmt="{:,}".format)),
        "vbank_name": st.column_config.TextColumn(C["vbank_name"]),
        "vbank_num": st.column_config.TextColumn(C["vbank_num"]),
        "vbank_holder": st.column_config.TextColumn(C["vbank_holder"]),
        "pg_provider": st.column_config.TextColumn(C["pg_provider"]),
        "issued_at": st.column_config.DatetimeColumn(C["issued_at"], format="YYYY-MM-DD HH:mm", timezone="Asia/Seoul"),
        "due": st.column_config.DatetimeColumn(C["due"], format="YYYY-MM-DD HH:mm", timezone="Asia/Seoul"),
        "time_left": st.column_config.TextColumn(C["time_left"]),
        "status": st.column_config.TextColumn(_("Status")), "api": st.column_config.TextColumn(T["api"], help=T["api_help"]),
        "open": open_payment.column_config(C["link"]),
    })
open_payment.follow()

selected = view[view["imp_uid"].isin(chosen)].set_index("imp_uid").loc[chosen].reset_index() if chosen else view.iloc[0:0]
can_change = session.operator().can("update_vbank")
left_out = int((selected["api"] == "v2").sum()) if len(selected) > 1 else 0    # bulk actions are V1's
if len(selected):
    st.markdown(T["selected_v1"].format(n=len(selected), m=len(selected) - left_out) if left_out
                else T["selected"].format(n=len(selected)))
    inert.table(pd.DataFrame({"imp_uid": selected["imp_uid"], C["buyer_name"]: selected["buyer_name"],
                           T["amount"]: selected["amount"].map(krw)}).set_index("imp_uid"))
    st.button(T["clear"], key="pending_clear",
              on_click=lambda: [st.session_state.pop(k, None) for k in (K_SEL, keys.PENDING_DROPPED)])
if len(selected) == 1:
    link = open_payment.params(selected.iloc[0]["imp_uid"], selected.iloc[0]["api"])
    a, b = st.columns(2)
    a.page_link("app_pages/payment.py", label=T["open"], icon=":material/search:", query_params=link)
    if can_change:
        b.page_link("app_pages/update.py", label=T["change"], icon=":material/edit_calendar:", query_params=link)
elif len(selected) > 1 and (can_change or session.operator().can("revoke_vbank")):
    if (selected["api"] == "v2").any():         # bulk changes and cancels are V1's (PUT / DELETE /vbanks)
        st.caption(T["v2_bulk"].format(n=int((selected["api"] == "v2").sum())))
        selected = selected[selected["api"] != "v2"]
    st.session_state[keys.BULK_SELECTION] = list(selected["imp_uid"])
    a, b = st.columns(2)
    if can_change and len(selected):
        a.page_link("app_pages/bulk.py", label=T["bulk"].format(n=len(selected)), icon=":material/date_range:")
    if session.operator().can("revoke_vbank") and len(selected):
        b.page_link("app_pages/revoke.py", label=T["bulk_revoke"].format(n=len(selected)), icon=":material/block:")
else:
    st.caption(T["select_hint"])

d1, d2 = st.columns(2)
d1.download_button(T["csv"], data=language.later(lambda: pending.to_csv_bytes(pending.export_frame(view, reveal=reveal))),
                   file_name=f"pending-vbanks-{now:%Y%m%d-%H%M}.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="dl_csv")
d2.download_button(T["xlsx"], data=language.later(lambda: pending.to_xlsx_bytes(pending.export_frame(view, reveal=reveal))),
                   file_name=f"pending-vbanks-{now:%Y%m%d-%H%M}.xlsx", on_click="ignore", icon=":material/download:", key="dl_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

t1, t2 = st.tabs([T["chart_due"], T["chart_pg"]])
with t1:
    st.altair_chart(alt.Chart(pending.by_due_date(view)).mark_bar().encode(
        x=alt.X("due_date:T", title=T["axis_due"], axis=alt.Axis(format="%m-%d")),     # no English month names
        y=alt.Y("amount:Q", title=C["amount"], axis=alt.Axis(format=",d")),
        color=alt.Color("state:N", title=T["axis_state"],
                        scale=alt.Scale(domain=[_("Overdue"), _("Not yet due")], range=["#d62728", "#1f77b4"])),
        tooltip=[alt.Tooltip("due_date:T", title=T["axis_due"]), alt.Tooltip("state:N", title=T["axis_state"]),
                 alt.Tooltip("amount:Q", format=",d", title=C["amount"])]), width="stretch")
with t2:
    st.altair_chart(alt.Chart(pending.by_pg(view).assign(pg_provider=lambda d: d["pg_provider"].map(pg_name)))
                    .mark_bar().encode(
        y=alt.Y("pg_provider:N", sort="-x", title=T["pg"]), x=alt.X("amount:Q", title=C["amount"], axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("pg_provider:N", title=T["pg"]), alt.Tooltip("amount:Q", format=",d", title=C["amount"]),
                 alt.Tooltip("count:Q", title=T["m_count"])]), width="stretch")
finish(int(days))
