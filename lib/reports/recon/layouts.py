"""The layouts of the files the team really downloads, recognised by their header signature, with what their
columns *mean* — not just what they are called.

A layout says, besides which column holds what: whether the fee includes its VAT (Toss Payments' ``fee`` does, its
``vat`` is the fee's VAT), which 부가세 a column is (the payment's in PortOne's 거래대사, the fee's in a PG's own
settlement file), one signed amount column or 입금/출금 columns, which codes mean a cancel (Hecto's 승인구분 1),
which column holds the sender of a bank deposit (보낸분/받는분, 기재내용, 내용, 상대계좌예금주명 …, never the
channel in 적요) and which PG the file belongs to. Where each layout is described: tests/fixtures/README.md.

``recognise`` gives the layout, how sure it is and the warnings to show; an unknown file falls back to guessing by
column names, and every guess that changes a meaning is a visible warning naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.domain.i18n import N_, _
from lib.reports.recon.words import norm_header

PG_FIELDS = ("date", "type", "amount", "fee", "fee_vat", "tax_free", "vat", "imp_uid", "merchant_uid", "pg_tid",
             "pg", "method", "cancel_date", "cancel_amount", "sign_from")


BANK_FIELDS = ("date", "sender", "memo", "deposit", "withdrawal", "amount", "direction")


@dataclass(frozen=True)
class Layout:
    id: str
    name: str                                   # the bank's or PG's own name for the export
    kind: str                                   # "pg" | "bank"
    columns: dict[str, tuple[str, ...]]         # field → header names it may have (first present wins)
    signature: tuple[str, ...]                  # header names that must all be present
    pg: str | None = None                       # the PG a file of this layout belongs to
    fee_includes_vat: bool = False
    refund_values: tuple[str, ...] = ()         # exact type-column values meaning a cancel (beyond 취소/환불 words)
    deposit_values: tuple[str, ...] = ()
    signed: bool = False                        # one amount column; negative = refund / withdrawal
    memo_columns: tuple[str, ...] = ()          # bank: further text columns searched for the PG's name

    def sig(self) -> frozenset[str]:
        return frozenset(norm_header(s) for s in self.signature)


PG_LAYOUTS = (
    Layout("portone_recon", N_("PortOne 거래대사 (거래건별조회) Excel"), "pg", {
        "date": ("거래일시", "거래일자", "거래일"), "type": ("거래상태", "거래구분", "결제상태"),
        "amount": ("거래금액", "결제금액"), "fee": ("PG 정산 수수료", "PG정산수수료", "정산 수수료"),
        "fee_vat": ("PG 정산 수수료 부가세", "PG정산수수료부가세", "정산 수수료 부가세"),
        "tax_free": ("면세가액", "면세금액"), "vat": ("부가세",), "imp_uid": ("포트원 거래번호", "아임포트 거래번호"),
        "merchant_uid": ("고객사 주문번호", "주문번호"), "pg_tid": ("PG 거래번호",), "pg": ("PG사", "결제대행사"),
        "method": ("결제수단",)},
        signature=("포트원 거래번호", "고객사 주문번호", "PG 정산 수수료")),
    Layout("tosspayments_settlement", N_("Toss Payments settlements (정산 조회)"), "pg", {
        "date": ("soldDate",), "amount": ("amount",), "fee": ("fee",), "fee_vat": ("vat",),
        "merchant_uid": ("orderId",), "pg_tid": ("paymentKey",), "method": ("method",)},
        signature=("paymentKey", "orderId", "soldDate", "payOutAmount"), pg="tosspayments", fee_includes_vat=True,
        signed=True),
    Layout("settle_recon", N_("Hecto Financial (settlebank) 정산대사 file"), "pg", {
        "date": ("거래일자",), "type": ("승인구분",), "amount": ("거래금액",), "fee": ("수수료",),
        "fee_vat": ("부가세", "수수료부가세"), "merchant_uid": ("주문번호",), "pg_tid": ("거래번호",),
        "method": ("결제수단",)},
        signature=("승인구분", "주문번호", "거래금액", "수수료"), pg="settle", refund_values=("1",),
        deposit_values=("0",)),
)


BANK_LAYOUTS = (
    Layout("kb_web", N_("KB국민은행 거래내역 (web banking .xls)"), "bank", {
        "date": ("거래일시",), "sender": ("보낸분/받는분",), "memo": ("적요",), "deposit": ("입금액",),
        "withdrawal": ("출금액",)},
        signature=("거래일시", "보낸분/받는분", "송금메모", "입금액"), memo_columns=("송금메모",)),
    Layout("kb_excel", N_("KB국민은행 거래내역 (Excel)"), "bank", {
        "date": ("거래일시",), "sender": ("보낸분/받는분",), "memo": ("적요",), "deposit": ("입금액(원)", "입금액"),
        "withdrawal": ("출금액(원)", "출금액")},
        signature=("거래일시", "보낸분/받는분", "내 통장 표시", "입금액"), memo_columns=("내 통장 표시",)),
    Layout("shinhan", N_("신한은행 거래내역"), "bank", {
        "date": ("거래일시", "거래일자"), "sender": ("내용",), "memo": ("적요",), "deposit": ("입금액", "입금(원)", "입금"),
        "withdrawal": ("출금액", "출금(원)", "출금")},
        signature=("적요", "내용", "거래점명"), memo_columns=("메모",)),
    Layout("shinhan_daily", N_("신한은행 거래내역 (일자·시간)"), "bank", {
        "date": ("거래일자",), "sender": ("내용",), "memo": ("적요",), "deposit": ("입금(원)", "입금"),
        "withdrawal": ("출금(원)", "출금")},
        signature=("거래일자", "거래시간", "적요", "내용", "입금"), memo_columns=("메모",)),
    Layout("woori", N_("우리은행 거래내역"), "bank", {
        "date": ("거래일시",), "sender": ("기재내용",), "memo": ("적요",), "deposit": ("입금(원)", "입금"),
        "withdrawal": ("지급(원)", "지급")},
        signature=("거래일시", "기재내용", "지급(원)", "입금(원)"), memo_columns=("메모",)),
    Layout("hana", N_("하나은행 거래내역"), "bank", {
        "date": ("거래일시",), "sender": ("의뢰인/수취인",), "memo": ("적요",), "deposit": ("입금",),
        "withdrawal": ("출금",)},
        signature=("거래일시", "의뢰인/수취인", "입금", "출금"), memo_columns=("거래특이사항",)),
    Layout("ibk", N_("IBK기업은행 거래내역"), "bank", {
        "date": ("거래일시",), "sender": ("상대계좌예금주명",), "memo": ("거래내용",), "deposit": ("입금",),
        "withdrawal": ("출금",)},
        signature=("거래일시", "상대계좌예금주명", "입금", "출금"), memo_columns=("송금메시지",)),
    Layout("nh_personal", N_("NH농협은행 거래내역 (개인)"), "bank", {
        "date": ("거래일시",), "sender": ("거래기록사항",), "memo": ("거래내용",), "deposit": ("입금금액",),
        "withdrawal": ("출금금액",)},
        signature=("거래일시", "거래기록사항", "입금금액", "출금금액"), memo_columns=("거래메모",)),
    Layout("nh_business", N_("NH농협은행 거래내역 (기업)"), "bank", {
        "date": ("거래일자",), "sender": ("거래기록사항", "기록사항"), "memo": ("거래내용",),
        "deposit": ("입금금액(원)", "입금금액", "맡기신금액"), "withdrawal": ("출금금액(원)", "출금금액", "찾으신금액")},
        signature=("거래일자", "거래내용", "거래점"), memo_columns=("이체메모",)),
    Layout("kakaobank", N_("카카오뱅크 거래내역"), "bank", {
        "date": ("거래일시",), "direction": ("구분",), "amount": ("거래금액",), "sender": ("내용",),
        "memo": ("거래구분",)},
        signature=("거래일시", "구분", "거래금액", "거래 후 잔액", "거래구분", "내용"), signed=True,
        memo_columns=("메모",)),
    Layout("tossbank", N_("토스뱅크 거래내역"), "bank", {
        "date": ("거래 일시",), "amount": ("거래 금액",), "sender": ("적요",), "memo": ("거래 유형",)},
        signature=("거래 일시", "적요", "거래 유형", "거래 금액", "거래 후 잔액"), signed=True,
        memo_columns=("거래 기관", "메모")),
)


# Guesses for files of no known layout (the sandbox's sample files are read this way).
PG_GUESS = {
    "date": ("거래일자", "거래일시", "거래일", "일자", "날짜", "매출일", "승인일자", "결제일", "date", "paid_at", "day"),
    "type": ("구분", "거래구분", "거래상태", "승인구분", "유형", "type", "kind"),
    "amount": ("거래금액", "결제금액", "승인금액", "금액", "입금액", "amount", "gross"),
    "fee": ("수수료", "pg수수료", "fee", "fees"),
    "fee_vat": ("수수료부가세", "수수료vat", "부가세(수수료)", "fee_vat", "feevat"),
    "tax_free": ("면세금액", "면세가액", "면세", "tax_free", "taxfree"),
    "vat": ("부가세", "결제부가세", "vat", "vat_amount"),
    "imp_uid": ("imp_uid", "아임포트번호", "포트원거래번호", "아임포트거래번호"),
    "merchant_uid": ("주문번호", "merchant_uid", "가맹점주문번호", "고객사주문번호", "order", "orderid"),
    "pg_tid": ("pg거래번호", "거래번호", "pg_tid", "tid", "승인번호"),
    "pg": ("pg사", "pg", "결제대행사", "pg_provider"),
    "method": ("결제수단", "pay_method", "method"),
}


BANK_GUESS = {
    "date": ("거래일시", "거래일자", "거래 일시", "거래일", "일자", "date"),
    "sender": ("보낸분/받는분", "의뢰인/수취인", "기재내용", "상대계좌예금주명", "거래기록사항", "기록사항", "입금자명",
               "보낸분", "입금자", "내용", "sender"),
    "memo": ("적요", "거래내용", "거래구분", "memo", "description"),
    "deposit": ("입금액", "입금금액", "입금(원)", "입금", "맡기신금액", "deposit", "credit"),
    "withdrawal": ("출금액", "출금금액", "출금(원)", "출금", "지급(원)", "지급", "찾으신금액", "withdrawal", "debit"),
    "amount": ("거래금액", "거래 금액"),
    "direction": ("구분",),
}


HEADER_WORDS = frozenset(
    [norm_header(n) for lay in PG_LAYOUTS + BANK_LAYOUTS for names in lay.columns.values() for n in names]
    + [norm_header(s) for lay in PG_LAYOUTS + BANK_LAYOUTS for s in lay.signature + lay.memo_columns]
    + [norm_header(n) for g in (PG_GUESS, BANK_GUESS) for names in g.values() for n in names]
    + [norm_header(n) for n in ("잔액", "거래후잔액", "거래점", "취급점", "정산금액", "정산일", "상점아이디", "No", "순번",
                                "메모", "거래시간", "PG사", "payOutAmount", "supplyAmount", "paidOutDate")])


@dataclass
class Recognition:
    """What a file was recognised as: the layout (None = guessed by column names), how sure, the mapping and the
    warnings to show (each a translated sentence naming the column in doubt)."""

    layout: Layout | None
    mapping: dict[str, str | None]
    sure: bool
    warnings: list[str] = field(default_factory=list)
    fee_includes_vat: bool = False
    refund_values: tuple[str, ...] = ()
    deposit_values: tuple[str, ...] = ()
    signed: bool = False
    memo_columns: tuple[str, ...] = ()
    pg: str | None = None

    @property
    def name(self) -> str:
        return _(self.layout.name) if self.layout else ""


def _find(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    norm = {c: norm_header(c) for c in columns}
    for want in names:
        w = norm_header(want)
        hit = next((c for c, n in norm.items() if n == w and c not in taken), None)
        if hit:
            return hit
    return None


def _apply(layout: Layout, columns: list[str]) -> Recognition:
    taken: set[str] = set()
    mapping: dict[str, str | None] = {}
    for f, names in layout.columns.items():
        hit = _find(columns, names, taken)
        mapping[f] = hit
        if hit:
            taken.add(hit)
    memo = tuple(c for c in (_find(columns, (m,), taken) for m in layout.memo_columns) if c)
    sure = all(v for v in mapping.values())
    rec = Recognition(layout, mapping, sure, fee_includes_vat=layout.fee_includes_vat,
                      refund_values=layout.refund_values, deposit_values=layout.deposit_values, signed=layout.signed,
                      memo_columns=memo, pg=layout.pg)
    if not sure:
        missing = ", ".join(n[0] for f, n in layout.columns.items() if not mapping[f])
        rec.warnings.append(_("Recognised as {layout}, but the column(s) {missing} are not in the file: check the "
                              "mapping below.").format(layout=_(layout.name), missing=missing))
    return rec


def recognise(columns: list[str], kind: str) -> Recognition:
    """The layout whose signature the header holds (the one with the most columns present wins), else a guess."""
    have = {norm_header(c) for c in columns}
    layouts = PG_LAYOUTS if kind == "pg" else BANK_LAYOUTS
    fits = [lay for lay in layouts if lay.sig() <= have]
    if fits:
        best = max(fits, key=lambda lay: (len(lay.sig()), sum(1 for n in lay.columns.values()
                                                               if any(norm_header(x) in have for x in n))))
        return _apply(best, columns)
    return _guess_pg(columns) if kind == "pg" else _guess_bank(columns)


def _guess(columns: list[str], guesses: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    taken: set[str] = set()
    out: dict[str, str | None] = {}
    for f, names in guesses.items():
        hit = _find(columns, names, taken)
        out[f] = hit
        if hit:
            taken.add(hit)
    return out


def _guess_pg(columns: list[str]) -> Recognition:
    m = _guess(columns, PG_GUESS)
    rec = Recognition(None, m, False)
    if m.get("vat") and m.get("fee") and not m.get("fee_vat"):
        # A PG's own settlement export lists the fee and the fee's VAT; the payment's VAT is not in it.
        m["fee_vat"], m["vat"] = m["vat"], None
        rec.warnings.append(_("The column “{col}” is read as the VAT of the fee (the file has a fee column and no "
                              "separate fee VAT). If it is the VAT of the payment, map it under VAT instead.").format(
            col=m["fee_vat"]))
    if m.get("fee") and norm_header(m["fee"] or "") in ("fee", "수수료") and not m.get("fee_vat"):
        rec.warnings.append(_("The column “{col}” is read as the fee without its VAT.").format(col=m["fee"]))
    rec.warnings.insert(0, _("No known layout: the columns were matched by their names. Check the mapping below."))
    return rec


def _guess_bank(columns: list[str]) -> Recognition:
    m = _guess(columns, BANK_GUESS)
    if m.get("deposit"):
        m["amount"] = m["direction"] = None
    rec = Recognition(None, m, False, signed=bool(m.get("amount")) and not m.get("deposit"))
    rec.warnings.append(_("No known bank layout: the columns were matched by their names. Check the mapping below."))
    if m.get("sender"):
        rec.warnings.append(_("The sender of each deposit is read from “{col}”.").format(col=m["sender"]))
    else:
        rec.warnings.append(_("No column names the sender of a deposit: PG payouts are found by the words in “{col}” "
                              "only.").format(col=m.get("memo") or "—"))
    return rec


# What a header says about a field, beyond the layouts above: exact names (normalised, NFKC) and words a header
# holds. Header names are one signal; lib/reports/recon/understand.py weighs them with the cells and I'mport's data.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("거래일시", "거래일자", "거래일", "일자", "날짜", "매출일", "매출일자", "승인일자", "승인일시", "결제일", "결제일시",
             "거래 일시", "일시", "date", "solddate", "approvedat", "transactiondate", "paid_at", "day"),
    "type": ("구분", "거래구분", "거래상태", "승인구분", "유형", "거래유형", "결제상태", "상태", "type", "kind", "status"),
    "amount": ("거래금액", "결제금액", "승인금액", "금액", "매출금액", "거래 금액", "amount", "gross"),
    "fee": ("수수료", "pg수수료", "정산수수료", "pg정산수수료", "결제수수료", "fee", "fees"),
    "fee_vat": ("수수료부가세", "수수료vat", "부가세(수수료)", "pg정산수수료부가세", "수수료 부가세", "fee_vat", "feevat"),
    "tax_free": ("면세금액", "면세가액", "면세", "tax_free", "taxfree"),
    "vat": ("부가세", "결제부가세", "vat"),
    "imp_uid": ("imp_uid", "아임포트번호", "포트원거래번호", "아임포트거래번호", "포트원결제번호", "아임포트결제번호"),
    "merchant_uid": ("주문번호", "merchant_uid", "가맹점주문번호", "고객사주문번호", "고객사결제번호", "order", "orderid"),
    "pg_tid": ("pg거래번호", "거래번호", "pg_tid", "tid", "pg결제번호", "paymentkey", "결제키"),
    "pg": ("pg사", "pg", "결제대행사", "pg_provider"),
    "method": ("결제수단", "pay_method", "method", "지불수단"),
    "net": ("정산금액", "지급금액", "입금예정금액", "정산액", "payoutamount", "net"),
    "deposit": ("입금액", "입금금액", "입금(원)", "입금", "맡기신금액", "받은금액", "deposit", "credit"),
    "withdrawal": ("출금액", "출금금액", "출금(원)", "출금", "지급(원)", "지급", "찾으신금액", "지급액", "보낸금액",
                   "withdrawal", "debit"),
    "sender": ("보낸분/받는분", "의뢰인/수취인", "기재내용", "상대계좌예금주명", "거래기록사항", "기록사항", "입금자명", "보낸분",
               "입금자", "내용", "sender", "의뢰인", "송금인", "예금주"),
    "memo": ("적요", "거래내용", "거래구분", "memo", "description", "비고"),
    "balance": ("잔액", "거래후잔액", "거래 후 잔액", "balance"),
}
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "date": ("일시", "일자", "날짜"), "amount": ("금액",), "fee": ("수수료",), "tax_free": ("면세",),
    "imp_uid": ("포트원", "아임포트", "imp"), "merchant_uid": ("주문",), "pg_tid": ("pg거래", "pg결제", "tid"),
    "pg": ("pg사",), "method": ("수단",), "net": ("정산금", "지급예정", "payout"),
    "deposit": ("입금", "맡기신"), "withdrawal": ("출금", "지급", "찾으신"), "sender": ("보낸", "의뢰인", "예금주", "입금자"),
    "memo": ("적요",), "balance": ("잔액",), "type": ("구분", "상태"),
}
_FIELD_NAMES_N = {f: frozenset(norm_header(n) for n in names) for f, names in FIELD_NAMES.items()}


def field_hint(field_: str, header: str) -> float:
    """How strongly a header names a field: 1 for a known name, 0.5 for a header holding one of its words, else 0
    (the fee's VAT is not the fee, a PG's transaction number is not the order number)."""
    h = norm_header(header)
    if not h:
        return 0.0
    if h in _FIELD_NAMES_N.get(field_, frozenset()):
        return 1.0
    if field_ == "fee" and ("부가세" in h or "vat" in h):
        return 0.0
    if field_ in ("merchant_uid",) and h.startswith("pg"):
        return 0.0
    if field_ == "amount" and any(w in h for w in ("수수료", "부가세", "잔액", "정산", "면세", "공급")):
        return 0.0
    if field_ == "date" and any(w in h for w in ("정산", "지급", "입금예정")):
        return 0.1
    return 0.5 if any(w in h for w in FIELD_WORDS.get(field_, ())) else 0.0
