"""Issue 31 point 6: every amount and id readable at 1280×800 — the refund picker sizes its columns for their widest
value (₩1,200,000 showed as ",200,000": the table's own sizing looks at the first rows only)."""

from __future__ import annotations

import json

from lib.ui.present import text_px


def widths(df_element) -> dict[str, object]:
    cfg = json.loads(df_element.proto.columns or "{}")
    return {k.removeprefix("col:"): (v or {}).get("width") for k, v in cfg.items()}


def test_the_refund_picker_shows_every_amount_and_id_whole(app, app_env):
    at = app("app_pages/refund.py").run()
    assert not at.exception
    picker = next(d for d in at.dataframe if "refundable" in d.value.columns)
    df, w = picker.value, widths(picker)
    for col, fmt in (("amount", "{:,}"), ("refundable", "{:,}"), ("cancel_amount", "{:,}"), ("imp_uid", "{}"),
                     ("merchant_uid", "{}")):
        widest = max(text_px(fmt.format(v)) for v in df[col])
        assert isinstance(w.get(col), int) and w[col] >= widest + 16, (col, w.get(col), widest)
    assert not set(df["pg_provider"]) & {"nice", "tosspayments", "html5_inicis", "kcp"}      # PGs by name


def test_the_payment_pages_refund_history_shows_amounts_and_ids_whole(app, app_env):
    p = app_env.pick(status="paid", where=lambda x: x["cancel_amount"] > 0)
    at = app("app_pages/payment.py", imp_uid=p["imp_uid"]).run()
    hist = next(d for d in at.dataframe if "cancellation_id" in d.value.columns)
    df, w = hist.value, widths(hist)
    for col, fmt in (("amount", "{:,}"), ("pg_tid", "{}"), ("cancellation_id", "{}")):
        widest = max(text_px(fmt.format(v)) for v in df[col])
        assert isinstance(w.get(col), int) and w[col] >= widest + 16, (col, w.get(col), widest)
