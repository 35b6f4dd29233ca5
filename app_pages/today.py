"""오늘의 요약: the morning digest the watcher posts to the team's chat, here too — and as an Excel file."""

import streamlit as st

from lib.domain.digest import LABELS
from lib.domain.clock import now_kst
from lib.domain.fmt import number
from lib.domain.i18n import _
from lib.iamport.errors import ApiError
from lib.reports import digest, export
from lib.ui import inert, language, loaders, metrics

language.entry_guard()

T = {"title": _("Today's summary"), "intro": _("What the team looks at first in the morning (the watcher posts the "
                                                 "same to the team's chat every business day)."),
     "error": _("Could not read the payments: {err}"), "as_of": _("As of {day} (KST)"), "xlsx": _("Download as Excel")}
st.title(T["title"])
st.caption(T["intro"])
try:
    with st.spinner():
        d, _fetched = loaders.load_digest()
except ApiError as e:
    st.error(inert.say(T["error"], err=e))
    st.stop()
st.caption(T["as_of"].format(day=d.day))
MONEY = [k for k in LABELS if k.endswith("amount")]
COUNTS = [k for k in LABELS if k not in MONEY]
c = st.columns(4)
for i, k in enumerate(COUNTS):
    c[i % 4].metric(_(LABELS[k]), number(getattr(d, k)))
m = st.columns(len(MONEY))
metrics.row(m, [(_(LABELS[k]), getattr(d, k)) for k in MONEY])
st.download_button(T["xlsx"], data=language.later(lambda: export.to_xlsx_book([(T["title"], digest.frame(d))])),
                   file_name=f"today-{now_kst():%Y%m%d}.xlsx", on_click="ignore", icon=":material/download:",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="today_xlsx")
