"""A reconciliation file read and recognised: the table found under its title block (grid, formats), its layout
recognised by its header (layouts), or its columns guessed by name with a warning for every guess."""

from __future__ import annotations

from lib.reports.recon.formats import read_table
from lib.reports.recon.grid import LIMITS, Table, UploadLimits
from lib.reports.recon.layouts import BANK_FIELDS, HEADER_WORDS, PG_FIELDS, Recognition, recognise
from lib.reports.recon.normalize import ColumnMap


def read_file(data: bytes, filename: str, limits: UploadLimits = LIMITS, *, header_row: int | None = None,
              sheet: str | None = None) -> Table:
    """The table in an uploaded file (lib/reports/recon/grid.py): its header row found above the first rows that read
    as transactions (or by the names of known layouts), in the workbook's sheet of transactions."""
    return read_table(data, filename, header_words=HEADER_WORDS, header_row=header_row, limits=limits, sheet=sheet)


def recognise_pg(columns: list[str]) -> tuple[Recognition, ColumnMap]:
    """The PG layout of a file's header and the mapping it implies."""
    rec = recognise(columns, "pg")
    m = {f: rec.mapping.get(f) for f in PG_FIELDS}
    return rec, ColumnMap(**m, fee_includes_vat=rec.fee_includes_vat, refund_values=",".join(rec.refund_values),
                          deposit_values=",".join(rec.deposit_values), file_pg=rec.pg)


def guess_map(columns: list[str]) -> ColumnMap:
    return recognise_pg(columns)[1]


def recognise_bank(columns: list[str]) -> tuple[Recognition, dict]:
    """The bank layout of a statement's header and the mapping it implies (with the layout's meaning)."""
    rec = recognise(columns, "bank")
    m = {f: rec.mapping.get(f) for f in BANK_FIELDS}
    return rec, {**m, "signed": rec.signed, "memo_columns": list(rec.memo_columns)}


def guess_bank_map(columns: list[str]) -> dict:
    return recognise_bank(columns)[1]
