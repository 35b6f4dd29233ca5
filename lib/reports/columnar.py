"""The listing's Arrow table (lib/iamport/columns.py) as the pandas frame a report works on: only the columns the
report reads, strings Arrow-backed (no Python object per value). A list of dicts (a test, a lookup of single
payments) gives the same frame."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa


def frame(rows: pa.Table | list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    if isinstance(rows, pa.Table):
        have = [c for c in columns if c in rows.column_names]
        df = rows.select(have).to_pandas()
        for c in columns:
            if c not in have:
                df[c] = None
        return df[columns]
    return pd.DataFrame.from_records(rows, columns=columns)
