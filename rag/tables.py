"""Figures in text tables: a cell is read with the unit and scale its column header states ("2025 (RMB million)")."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.figures import parse_figures
from rag.text import cell_spans, cells, is_header_row, is_table_line, table_gaps
from rag.types import Figure, FigureUnit

_CUR = [
    (re.compile(r"RMB|CNY|人民币|元", re.IGNORECASE), "CNY"),
    (re.compile(r"US\$|USD|美元"), "USD"),
    (re.compile(r"HK\$|HKD|港元|港币"), "HKD"),
    (re.compile(r"EUR|€"), "EUR"),
]
_SCALE = [
    (re.compile(r"\bbillions?\b|\bbn\b|十亿", re.IGNORECASE), 1e9),
    (re.compile(r"\bmillions?\b|\bmn\b|\bm\b|百万", re.IGNORECASE), 1e6),
    (re.compile(r"\bthousands?\b|'000|千", re.IGNORECASE), 1e3),
    (re.compile(r"亿"), 1e8),
    (re.compile(r"万"), 1e4),
]


def column_units(header: str) -> list[tuple[FigureUnit, float] | None]:
    """Per column of a header row: the (unit, scale) it states, or None."""
    out: list[tuple[FigureUnit, float] | None] = []
    for cell in cells(header):
        if re.search(r"%|％|percent", cell, re.IGNORECASE):
            out.append(("%", 1.0))
            continue
        unit: FigureUnit | None = next((u for rx, u in _CUR if rx.search(cell)), None)  # type: ignore[misc]
        scale = next((s for rx, s in _SCALE if rx.search(cell)), 1.0)
        out.append((unit, scale) if unit or scale != 1.0 else None)  # type: ignore[arg-type]
    return out


def figures_in(text: str) -> list[Figure]:
    """All figures of a text; in table rows below a header that states units, cells take those units."""
    figures = parse_figures(text)
    if " | " not in text and "\t" not in text:
        return figures
    by_start = {f.start: f for f in figures}
    pos = 0
    units: list[tuple[FigureUnit, float] | None] = []
    in_table = False
    lines = text.split("\n")
    gaps = table_gaps(lines)
    for i, line in enumerate(lines):
        if i in gaps:
            pos += len(line) + 1
            continue  # a blank line between rows of one table
        if is_table_line(line):
            if (not in_table or not any(u for u in units)) and is_header_row(line):
                units = column_units(line)
                # A header states labels, years and footnote marks ("2019 (1)"), not quantities.
                for start in [k for k in by_start if pos <= k < pos + len(line)]:
                    del by_start[start]
            else:
                _apply(line, pos, units, by_start)
            in_table = True
        else:
            in_table = False
            units = []
        pos += len(line) + 1
    return sorted(by_start.values(), key=lambda f: f.start)


def _apply(line: str, offset: int, units: list[tuple[FigureUnit, float] | None],
           by_start: dict[int, Figure]) -> None:
    for col, (cell_start, cell_end) in enumerate(cell_spans(line)):
        if col >= len(units) or units[col] is None:
            continue
        unit, scale = units[col]  # type: ignore[misc]
        for f in list(by_start.values()):
            a = f.start - offset
            # abs(value) < 1e290: a column's scale must leave value × scale a finite float
            if cell_start <= a < cell_end and f.unit in ("", "count") and f.scale == 1.0 and abs(f.value) < 1e290:
                by_start[f.start] = replace(f, unit=unit or f.unit, scale=scale)
