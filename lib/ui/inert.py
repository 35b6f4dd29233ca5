"""Outside text (the API, a URL, a file, another operator) shown as text, never as markdown: the page's own sentence
with escaped values (``say``), tables with escaped cells, URLs that may be links."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lib.domain.i18n import _
from lib.domain.text import has_invisible, md


# ------------------------------------------------------------------ inert text
def say(template: str, **values: Any) -> str:
    """One of the page's own sentences with values from outside (the API, the URL, a file, another
    operator) made inert: every string or error is escaped for markdown, numbers keep their format spec."""
    return template.format(**{k: md(v) if isinstance(v, (str, BaseException)) else v for k, v in values.items()})


def table(data: Any, **kw: Any) -> None:
    """``st.table`` (whose cells, index and headers are markdown) with every string cell escaped."""
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    df = df.map(lambda v: md(v) if isinstance(v, str) else v)
    df.index = [md(i) if isinstance(i, str) else i for i in df.index]
    df.columns = [md(c) if isinstance(c, str) else c for c in df.columns]
    st.table(df, **kw)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL from the API that may be shown as a link; anything else (javascript:, data:, relative,
    credentials in it) is not a link."""
    from urllib.parse import urlsplit
    if not url or not isinstance(url, str) or len(url) > 2000 or has_invisible(url) or any(c in url for c in " <>\"\n"):
        return None
    try:
        u = urlsplit(url.strip())
    except ValueError:
        return None
    if u.scheme not in ("http", "https") or not u.hostname or u.username or u.password:
        return None
    return url.strip()


def display_url(url: str) -> str:
    """A URL for display with any user:password@ removed."""
    from urllib.parse import urlsplit, urlunsplit
    try:
        u = urlsplit(url)
    except ValueError:
        return _("(invalid URL)")
    host = u.hostname or ""
    if u.port:
        host += f":{u.port}"
    return urlunsplit((u.scheme, host, u.path, "", ""))
