"""Writing results: the sweep CSV (contract columns first, then any extra columns).

Numbers are written with 6 significant digits (values ≥ 1) or 6 decimals without
trailing zeros; ``None``, NaN and infinities become empty cells. The evaluation JSON
payload (with its provenance: command, commit, timing) is assembled by the CLI.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recsys.evaluation.tuning import SWEEP_COLUMNS


def write_csv(rows: Sequence[Mapping[str, float]], path: str | Path) -> list[str]:
    """Write sweep rows (contract columns first); returns the header."""
    extra = [c for c in rows[0] if c not in SWEEP_COLUMNS] if rows else []
    header = list(SWEEP_COLUMNS) + extra
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in header])
    return header


def _csv_value(value: Any) -> str:
    """One CSV cell (see the module docstring)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) >= 1 else f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    return str(value)
