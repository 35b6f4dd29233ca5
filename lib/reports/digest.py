"""오늘의 요약 as one Excel sheet (the numbers: lib/domain/digest.py)."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from lib.domain.digest import LABELS, Digest
from lib.domain.i18n import _


def frame(d: Digest) -> pd.DataFrame:
    """One sheet: each figure with its label, in the run's language."""
    values = asdict(d)
    return pd.DataFrame({_("Figure"): [_(LABELS[k]) for k in LABELS], _("Value"): [int(values[k]) for k in LABELS]})
