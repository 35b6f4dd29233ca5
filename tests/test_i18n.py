"""The Korean catalog covers every text in the code, with the same placeholders; Korean is the default."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from lib.domain import i18n
from lib.domain.fmt import duration, krw, krw_compact, time_left_seconds
from lib.ui import language

ROOT = Path(__file__).resolve().parent.parent
HANGUL = range(0xAC00, 0xD7A4)


def source_ids() -> set[str]:
    """Every message id in app.py, pages/ and lib/, read from the code itself (not from the .pot)."""
    ids = set()
    method_map = [("app.py", "python"), ("app_pages/**.py", "python"), ("lib/**.py", "python")]
    keywords = {"_": None, "N_": None, "gettext": None}
    for _file, _line, msg, _comments, _ctx in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        ids.add(msg if isinstance(msg, str) else msg[0])
    return ids - {""}


def korean_catalog():
    with i18n.catalog_path("ko").open("rb") as f:
        return {m.id: m for m in read_po(f, locale="ko_KR") if m.id}


def fields(text: str) -> list[str]:
    """The replacement fields with their format specs ({n:,} stays {n:,})."""
    return sorted(f"{name}:{spec}!{conv}" for _lit, name, spec, conv in string.Formatter().parse(text)
                  if name is not None)


def test_every_text_in_the_code_has_a_korean_translation():
    ko = korean_catalog()
    missing = sorted(i for i in source_ids() if i not in ko or not ko[i].string or ko[i].fuzzy)
    assert not missing, f"{len(missing)} texts lack Korean (make messages, then translate): {missing[:10]}"


def test_translations_keep_the_placeholders_and_read_as_korean():
    bad = []
    for mid, m in korean_catalog().items():
        if fields(mid) != fields(m.string):
            bad.append((mid, m.string))
        elif not any(ord(c) in HANGUL for c in m.string) and mid not in ("PG", "imp_uid", "REST API key"):
            bad.append((mid, m.string))
    assert not bad, bad[:10]


def test_the_template_is_current():
    with (ROOT / "locale" / "messages.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert pot == source_ids(), "run `make messages`"


def test_korean_is_the_default_and_english_is_available(monkeypatch):
    monkeypatch.delenv("VBANK_LANG", raising=False)
    i18n._current.set(None)
    assert i18n.lang() == "ko" and i18n.gettext("Refund") == "환불"
    monkeypatch.setenv("VBANK_LANG", "en")
    assert i18n.lang() == "en" and i18n.gettext("Refund") == "Refund"
    assert i18n.set_lang("ko") == "ko" and i18n.gettext("Refund") == "환불"       # the sidebar switch wins
    assert i18n.set_lang("xx") == "en"                                           # unknown: back to VBANK_LANG
    i18n._current.set(None)


def test_an_id_missing_from_the_catalog_is_recorded(korean):
    i18n.MISSING.discard("A text nobody translated")
    assert i18n.gettext("A text nobody translated") == "A text nobody translated"
    assert "A text nobody translated" in i18n.MISSING
    i18n.MISSING.discard("A text nobody translated")


def test_korean_formats(korean):
    assert krw(1_234_000) == "₩1,234,000" and krw(-1000) == "-₩1,000"
    assert krw_compact(57_330_000) == "₩5,733만"
    from datetime import timedelta
    assert duration(timedelta(days=2, hours=3)) == "2일 3시간" and duration(timedelta(minutes=12)) == "12분"
    assert time_left_seconds(-3 * 3600 - 1200) == "3시간 20분 지남" and time_left_seconds(90_000) == "1일 1시간 남음"


def test_english_formats():
    assert krw(1_234_000) == "₩1,234,000"
    assert krw_compact(31_858_500) == "₩31.9M"
    assert time_left_seconds(90_000) == "1d 1h left"


@pytest.mark.parametrize("code,ko,en", [("ready", "입금대기", "Awaiting deposit"), ("paid", "결제완료", "Paid"),
                                        ("cancelled", "취소", "Cancelled"), ("failed", "실패", "Failed")])
def test_statuses_in_the_consoles_words(code, ko, en):
    from lib.domain.names import status_name
    assert status_name(code) == en
    i18n.set_lang("ko")
    try:
        assert status_name(code) == ko
    finally:
        i18n._current.set(None)


def test_bank_names_korean_first(korean):
    from lib.domain import banks
    assert banks.bank_label("kcp", "BK88") == "신한은행" and banks.bank_label("html5_inicis", "88") == "신한은행"
    i18n._current.set("en")
    assert banks.bank_label("kcp", "BK88") == "신한은행 (Shinhan Bank)"


def test_refund_reason_sent_to_the_pg_is_korean():
    from lib.domain.rules import RefundRequest
    from lib.domain.settings import Rules
    r = RefundRequest(imp_uid="imp_1", amount=1000, reason_code="CUSTOMER_REQUEST", note="배송 지연")
    assert r.reason_text(Rules()) == "고객 요청 — 배송 지연"
    custom = Rules(refund_reasons={"CUSTOMER_REQUEST": "고객 변심"})
    assert r.reason_text(custom) == "고객 변심 — 배송 지연"


def test_the_listing_threads_speak_the_callers_language(korean, client, monkeypatch):
    """Pages are fetched by worker threads: what they say (an error) is in the language of the person asking."""
    import threading
    seen = {}
    original = client._status_page_reply

    def spy(*a, **kw):
        seen[threading.current_thread().name] = i18n.lang()
        return original(*a, **kw)
    monkeypatch.setattr(client, "_status_page_reply", spy)
    assert client.list_by_status_raw("all", 0, 2_000_000_000)
    workers = {k: v for k, v in seen.items() if k.startswith("iamport")}
    assert workers and set(workers.values()) == {"ko"}
    assert client._map(lambda _i: i18n.gettext("Refund"), [1, 2, 3]) == ["환불"] * 3


def test_a_deferred_download_is_made_in_the_language_of_the_run_that_offered_it(korean):
    """Streamlit calls a deferred download's data on a server thread, where no language is set."""
    import threading

    made = language.later(lambda: i18n.gettext("Refund"))
    i18n._current.set("en")
    out = []
    t = threading.Thread(target=lambda: out.append(made()))
    t.start()
    t.join()
    assert out == ["환불"] and i18n.gettext("Refund") == "Refund"


def test_no_korean_particle_is_fixed_after_a_value():
    """A particle right after a placeholder depends on the value's last sound ("임선우로" but "홍길동으로"): the
    catalog writes the either-kind form (을(를), 이(가), 은(는), 과(와), (으)로), which is chosen when the value is
    filled in — never a fixed 을 or 로 that is wrong for half the values."""
    import re
    fixed = re.compile(r"\}”?(으로|로|을|를|이|가|은|는|과|와)(?=[\s.,:;!?)]|$)")
    bad = [(mid, s) for mid, s in i18n.catalog("ko").items() if fixed.search(s)]
    assert not bad, bad[:5]


def test_particles_are_chosen_for_the_value(korean):
    say = i18n._("This refunds {amount} to {bank} {account} in {where}, once.")
    assert say.format(amount="₩5,000", bank="신한은행", account="110-***-456", where="샌드박스") == \
        "샌드박스에서 신한은행 110-***-456으로 ₩5,000을 한 번 환불합니다."
    assert i18n.particles("임선우(으)로 홍길동(으)로 “2026-13-45”은(는) 환불이(가)") == \
        "임선우로 홍길동으로 “2026-13-45”는 환불이"
    # a PG named with its code in brackets: the particle is chosen for the name before them (seen on the payment page)
    assert i18n.particles("KG이니시스 (html5_inicis)은(는) 자체 키가, 신한은행 (088)(으)로") == \
        "KG이니시스 (html5_inicis)는 자체 키가, 신한은행 (088)으로"
    # English stays as it is
    i18n.set_lang("en")
    assert i18n._("This refunds {amount} to {bank} {account} in {where}, once.").format(
        amount="₩5,000", bank="Shinhan", account="110", where="the sandbox") == \
        "This refunds ₩5,000 to Shinhan 110 in the sandbox, once."


# Exceptions whose message a person reads on a page: their sentences must be marked for translation.
USER_FACING = {"Refusal", "Busy", "NeedsApproval", "Stale", "Forbidden", "InvalidInput", "ReconFileError",
               "ApprovalProblem", "Refused", "NotFound", "AuthFailed", "ApiUnavailable", "OutcomeUnknown",
               "WriteResult"}


def _unmarked(node: ast.AST) -> list[str]:
    """Prose literals in ``node`` that are not inside _() / N_() (a sentence: a space and a letter)."""
    out = []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_", "gettext"):
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _unmarked(node.func.value) + [x for a in node.args + [k.value for k in node.keywords]
                                               for x in _unmarked(a)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value.strip() \
            and any(c.isalpha() for c in node.value):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["f-string: " + ast.unparse(node)[:60]]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [x for e in node.elts for x in _unmarked(e)]
    if isinstance(node, ast.BinOp):
        return _unmarked(node.left) + _unmarked(node.right)
    return out


def test_lib_marks_every_sentence_a_person_reads():
    """A refusal, an API error or a write's result built in lib carries a sentence the page shows as it is: an unmarked
    literal would reach a Korean screen in English. (The API's own message is passed through, never a literal.)"""
    found = []
    for f in sorted((ROOT / "lib").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in USER_FACING):
                continue
            first = node.args[1:2] if node.func.id == "WriteResult" else node.args[:1]
            for arg in first:
                found += [f"{f.relative_to(ROOT)}:{node.lineno}: {s}" for s in _unmarked(arg)]
    assert not found, "\n".join(found)
