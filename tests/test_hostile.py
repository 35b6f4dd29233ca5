"""Issue 14: hostile data stays inert. Markup from the API, the URL, a file or another operator is text; exports
are formula-safe; uploads, deep links, amounts and identifiers fail safely with one sentence and nothing written.
Each case asserts a clear message and that nothing was sent or stored."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lib.domain import rules as domain_rules
from lib.domain.text import clean, lookup_problem, md, parse_won, plain
from lib.iamport.client import IamportClient
from lib.iamport.errors import NotFound
from lib.reports import export
from lib.reports.recon import grid, normalize, read
from lib.services import approval_flow, refund, update
from tests.conftest import bank_holder
from tests.hostile import DANGEROUS_TAGS, FORMULAS, LONG, MARKUP

# GitHub-flavoured markdown with autolinks, as close to Streamlit's renderer as a Python library gets.
GFM = MarkdownIt("gfm-like", {"linkify": True, "html": True}).enable("linkify")
GFM.linkify.set({"fuzzy_link": False})    # GFM autolinks www. and http(s):// and e-mails, not bare "example.com"


def rendered(source: str) -> str:
    """The HTML, plus the check Streamlit's remark-gfm makes *after* parsing: its autolink literals are found
    in text nodes, where escapes are gone (mdast-util-gfm-autolink-literal's patterns)."""
    import html as h
    import re
    out = GFM.render(source)
    text = h.unescape(re.sub(r"<[^>]+>", "", out))
    if re.search(r"(?i)(https?://|www(?=\.)[-.\w]+)", text) or re.search(r"[-.\w+]@[-\w]+(\.[-\w]+)+", text):
        out += "<a (autolink literal)>"
    return out


# ================================================================ markup is text
@pytest.mark.parametrize("value", MARKUP + [LONG], ids=lambda v: repr(v[:24]))
def test_escaped_values_render_as_plain_text(value):
    html = rendered(md(value))
    assert not [t for t in DANGEROUS_TAGS if t in html], html
    assert "<p>" in html and html.count("<p>") == 1                 # one paragraph: no block of its own


@pytest.mark.parametrize("value", MARKUP, ids=lambda v: repr(v[:24]))
def test_escaped_values_read_the_same(value):
    """Escaping changes nothing a person reads, except that newlines become spaces and invisible marks go."""
    assert plain(md(value)) == clean(value).replace("\n", " ")


@pytest.mark.parametrize("value", MARKUP, ids=lambda v: repr(v[:24]))
def test_streamlit_directives_cannot_start(value):
    """Colour, badge, icon and maths directives (Streamlit's own, not in CommonMark): every ':' '[' '$' is escaped."""
    s = md(value)
    for i, ch in enumerate(s):
        if ch in ":[]$" and (i == 0 or s[i - 1] != "\\"):
            pytest.fail(f"unescaped {ch!r} at {i} in {s!r}")


@hsettings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80))
def test_any_text_renders_without_markup(value):
    html = rendered(md(value))
    assert not [t for t in DANGEROUS_TAGS if t in html], (value, html)


# ================================================================ exports
@pytest.mark.parametrize("cell", FORMULAS, ids=repr)
def test_csv_cells_that_start_a_formula_are_text(cell):
    df = pd.DataFrame({"merchant_uid": [cell], "amount": [-1000]})
    text = export.to_csv_bytes(df).decode("utf-8-sig")
    row = text.splitlines()[1] if "\r" not in cell else text.split("\n", 1)[1]
    assert row.lstrip('"').startswith("'"), row
    assert text.rstrip().endswith("-1000")                  # a number the app produced stays a number


def test_excel_never_holds_a_formula_and_numbers_stay_numbers():
    from openpyxl import load_workbook
    df = pd.DataFrame({"merchant_uid": FORMULAS, "Amount (₩)": range(len(FORMULAS)),
                       "due": pd.to_datetime(["2026-11-20 23:59:59"] * len(FORMULAS)).tz_localize("Asia/Seoul")})
    wb = load_workbook(io.BytesIO(export.to_xlsx_bytes(df, "Pending")))
    ws = wb.active
    cells = [ws.cell(row=r, column=1) for r in range(2, len(FORMULAS) + 2)]
    assert all(c.data_type == "s" and c.value.startswith("'") for c in cells), [(c.data_type, c.value) for c in cells]
    assert ws.cell(row=2, column=2).data_type == "n" and ws.cell(row=2, column=2).number_format.startswith("₩")
    assert ws.cell(row=2, column=3).is_date and ws.cell(row=2, column=3).value.hour == 23     # KST, a real date
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


# ================================================================ uploads
def csv_bytes(text: str, enc="utf-8") -> bytes:
    return text.encode(enc)


def xlsx_bomb(unpacked_mb: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<sheetData>" + "0" * (unpacked_mb * 1024 * 1024) + "</sheetData>")
    return buf.getvalue()


SMALL = grid.UploadLimits(max_bytes=10_000, max_rows=5, max_cols=4, max_xlsx_unpacked=5 * 1024 * 1024)
UPLOADS = [
    ("empty", b"", "x.csv", grid.LIMITS, "is empty"),
    ("header only", csv_bytes("거래일자,금액,주문번호\n"), "x.csv", grid.LIMITS, "header line but no rows"),
    ("latin-1", "date,montant\n2026-11-20,café ça\n".encode("latin-1"), "x.csv", grid.LIMITS,
     "neither UTF-8 nor CP949"),
    ("binary", bytes(range(256)) * 10, "x.csv", grid.LIMITS, "not a text file"),
    ("duplicate headers", csv_bytes("거래일자,금액,금액\n2026-11-20,1,2\n"), "x.csv", grid.LIMITS,
     "the column “금액” twice (columns 2 and 3)"),
    ("too many columns", csv_bytes(",".join(f"c{i}" for i in range(6)) + "\n" + ",".join("1" * 6) + "\n"), "x.csv",
     SMALL, "at most 4 can be read"),
    ("too many rows", csv_bytes("a,b\n" + "1,2\n" * 6), "x.csv", SMALL, "at most 5 can be read"),
    ("too large", csv_bytes("a,b\n" + "1,2\n" * 5000), "x.csv", SMALL, "files up to"),
    ("zip bomb", xlsx_bomb(30), "x.xlsx", grid.UploadLimits(max_xlsx_unpacked=5 * 1024 * 1024), "would unpack to"),
    ("damaged xlsx", b"PK\x03\x04 not really a zip", "x.xlsx", grid.LIMITS, "not a readable Excel file"),
    ("long header", csv_bytes("a" * 500 + ",b\n1,2\n"), "x.csv", grid.LIMITS, "500 characters long"),
    ("ragged row", csv_bytes("a,b\n1,2\n1,2,3\n"), "x.csv", grid.LIMITS, "3 fields where the header has 2"),
    ("one column", csv_bytes("just one\n1\n"), "x.csv", grid.LIMITS, "fewer than two columns"),
]


@pytest.mark.parametrize("data,name,limits,needle", [u[1:] for u in UPLOADS], ids=[u[0] for u in UPLOADS])
def test_a_bad_upload_ends_in_one_sentence(data, name, limits, needle):
    with pytest.raises(grid.ReconFileError) as e:
        read.read_file(data, name, limits).df
    msg = str(e.value)
    assert needle in msg and "\n" not in msg and "Traceback" not in msg and len(msg) < 300


@pytest.mark.parametrize("amount,needle", [("1" * 23, "too large"), ("12.5", "whole number"), ("1e3", "not an amount"),
                                           ("=1+1", "not an amount")])
def test_a_bad_amount_cell_names_its_row_and_column(amount, needle):
    raw = read.read_file(csv_bytes(f"거래일자,금액,주문번호\n2026-11-20,{amount},ord_1\n"), "x.csv").df
    with pytest.raises(grid.ReconFileError) as e:
        normalize.normalize(raw, normalize.ColumnMap(date="거래일자", amount="금액", merchant_uid="주문번호"))
    assert "Row 2, column “금액”" in str(e.value) and needle in str(e.value)


def test_a_cp949_file_with_korean_headers_still_reads():
    raw = read.read_file("거래일자,금액,주문번호\n2026.11.20,\"12,000\",주문-1\n".encode("cp949"), "kcp.csv").df
    assert list(raw.columns) == ["거래일자", "금액", "주문번호"] and raw.iloc[0]["금액"] == "12,000"


# ================================================================ deep links
@pytest.mark.parametrize("value,needle", [
    ("..", "not an imp_uid"), (".", "not an imp_uid"), ("imp_../../x", "not an imp_uid"), ("imp_..", "imp_ followed by"),
    ("a/b", "not an imp_uid"), ("ord\x00nul", "control or invisible"), ("x" * 10_000, "at most 80"),
    ("imp_１２３", "imp_ followed by"), ("\u202eimp_123", "control or invisible"), ("ord\n1", "control or invisible"),
    ("", "Enter an imp_uid"),
], ids=repr)
def test_crafted_ids_are_refused_before_the_api(value, needle):
    assert needle in (lookup_problem(value) or "")


@pytest.mark.parametrize("value", ["**주문** [1](x)", "주문-2026-11-20", "ORDER-1”. Your session expired"])
def test_odd_but_possible_merchant_uids_are_looked_up(value):
    assert lookup_problem(value) is None


@pytest.mark.parametrize("value", ["..", ".", "ord\x00x"])
def test_the_client_never_puts_a_dot_segment_or_control_character_in_a_path(sandbox, value):
    from tests.helpers import settings_for
    sandbox.clear_requests()
    with pytest.raises(NotFound):
        IamportClient(settings_for(sandbox)).find_by_merchant_uid(value)
    assert sandbox.requests_seen("/payments") == []


# ================================================================ amounts typed by people
@pytest.mark.parametrize("typed,expect", [
    ("1,234,000", 1_234_000), ("₩5,000", 5000), ("5000원", 5000), (" 700 ", 700),
    ("1e3", "written in full"), ("1000.5", "no decimals"), ("-5", "cannot be negative"), ("１０００", "digits 0–9"),
    ("1,00", "digits 0–9"), ("12 34", "digits 0–9"), ("9" * 14, "too large"),
], ids=repr)
def test_amounts_are_never_reinterpreted(typed, expect):
    value, why = parse_won(typed)
    if isinstance(expect, int):
        assert (value, why) == (expect, None)
    else:
        assert value is None and expect in why


# ================================================================ names, notes, limits
def test_long_and_invisible_values_are_refused_before_sending(fresh, client, tmp_path):
    from lib.db.appdb import AppDb
    from lib.domain import banks
    from lib.domain.identity import Actor
    from tests.helpers import settings_for
    db = AppDb(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    rules = settings_for(fresh).rules
    p = client.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0)["imp_uid"])
    kim = Actor("kim@example.com", frozenset({"operator"}))
    base = dict(imp_uid=p.imp_uid, amount=1000, reason_code="OTHER", refund_bank=banks.refund_banks("kcp")[0].code,
                refund_account="110123456789", refund_holder="홍길동")
    fresh.clear_requests()
    for kw, needle in [({"refund_holder": "가" * 10_000}, "too long"), ({"refund_holder": "홍길동\u200b"}, "invisible"),
                       ({"note": "x" * 50_000}, "too long"), ({"refund_holder": "\u202e동길홍"}, "invisible")]:
        with pytest.raises(domain_rules.InvalidInput) as e:
            refund.refund_vbank(client, db, operator=kim, request=domain_rules.RefundRequest(**{**base, **kw}),
                                  seen=domain_rules.Seen.of(p), rules=rules)
        assert any(needle in x for x in e.value.problems), e.value.problems
    assert fresh.requests_seen("/payments/cancel") == [] and db.audit.records().empty


def test_a_drastic_cut_needs_the_typed_amount(fresh, client, tmp_path):
    from lib.db.appdb import AppDb
    from lib.domain.identity import Actor
    from tests.helpers import settings_for
    db = AppDb(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    rules = settings_for(fresh).rules
    p = client.get_payment(fresh.pick(status="ready", pg="settle", where=lambda x: x["amount"] >= 10_000)["imp_uid"])
    kim = Actor("kim@example.com", frozenset({"operator"}))
    fresh.clear_requests()
    with pytest.raises(domain_rules.InvalidInput, match="type “1” to confirm"):
        update.update_vbank(client, db, operator=kim, imp_uid=p.imp_uid, seen=domain_rules.Seen.of(p), new_amount=1,
                              rules=rules)
    assert fresh.requests_seen("/vbanks/", "PUT") == []
    assert update.update_vbank(client, db, operator=kim, imp_uid=p.imp_uid, seen=domain_rules.Seen.of(p),
                                 new_amount=1, rules=rules, typed_confirmation="1").ok


def test_approval_notes_are_stored_cleaned_and_bounded(fresh, client, tmp_path):
    from lib.db.appdb import AppDb
    from lib.domain import banks
    from lib.domain.identity import Actor
    from tests.helpers import settings_for
    db = AppDb(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    rules = settings_for(fresh).rules
    rules.refund_approval_above = 1000
    p = client.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                      and x["amount"] > 5000)["imp_uid"])
    r = domain_rules.RefundRequest(imp_uid=p.imp_uid, amount=5000, reason_code="OTHER",
                               refund_holder=bank_holder("kcp", banks.refund_banks("kcp")[0].code, "110123456789"),
                               refund_bank=banks.refund_banks("kcp")[0].code, refund_account="110123456789")
    kim = Actor("kim@example.com", frozenset({"operator"}))
    with pytest.raises(domain_rules.InvalidInput, match="too long"):
        approval_flow.request_refund_approval(client, db, requester=kim, request=r, seen=domain_rules.Seen.of(p),
                                         rules=rules, note="URGENT " * 1000)
    q = approval_flow.request_refund_approval(client, db, requester=kim, request=r, seen=domain_rules.Seen.of(p), rules=rules,
                                         note="URGENT\u200b **Approve here**\n\n\n\n[go](http://evil)")
    assert q.note == "URGENT **Approve here**\n\n[go](http://evil)"      # cleaned, kept as typed, shown escaped
    assert json.loads(json.dumps(q.payload))["request"]["refund_account"] == "110******789"


@hsettings(max_examples=1500, deadline=None, derandomize=True)
@given(st.text(alphabet="[]()*_#-+>!:@.wh tps/`$|~<>\\=\n1aA가", max_size=40))
def test_markup_characters_in_any_order_render_without_markup(value):
    """The characters markup is made of, shuffled every way: still plain text once escaped."""
    html = rendered(md(value))
    assert not [t for t in DANGEROUS_TAGS if t in html], (value, html)


@pytest.mark.parametrize("imp_uid", ["x&lang=en", "x#top", "a|Click here>", "a b", "../admin", "%2e%2e", "가나다"])
def test_an_id_from_a_file_or_the_api_stays_one_parameter_of_one_link(imp_uid):
    """A link to a payment is made of the id percent-encoded: an id with &, #, |, >, a space or dots cannot add a
    parameter, cut the link, leave /payment or close a Slack link early; the page reads back the same id."""
    from urllib.parse import parse_qs, urlsplit

    from lib.domain.text import payment_path, payment_paths
    from lib.services.watcher import Event, WatchConfig, Watcher
    path = payment_path(imp_uid)
    parts = urlsplit(path)
    assert parts.path == "/payment" and not parts.fragment and parse_qs(parts.query) == {"imp_uid": [imp_uid]}
    assert not set("&#|> ") & set(path.split("=", 1)[1])
    paths = payment_paths(pd.Series(["imp_000000000001", imp_uid]))
    assert list(paths) == ["/payment?imp_uid=imp_000000000001", path]
    w = Watcher(None, type("Db", (), {"watch": None})(), WatchConfig(targets=()), post=lambda u, b: 200)
    text = w.message(Event("deposit:x", "입금", path))["text"]
    assert text.count("<") == 1 and text.count("|") == 1 and text.endswith(">") and text.count(">") == 1
