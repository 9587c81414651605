"""Figures in text tables: a cell is read with the unit and scale its column header states ("2025 (RMB million)")."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.figures import parse_figures
from rag.tabular import parse_unit, unscaled_row
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


def _table_units(header: str) -> list[tuple[FigureUnit, float] | None]:
    """Per column, the unit and scale a header row gives: its own cell's, or, when only the first cell (the
    table's unit line, see rag.tabular: "(In millions, except per share amounts) | 2022 | 2021") states one, that
    one for every column."""
    units = column_units(header)
    first = cells(header)[0] if header.strip() else ""
    if units and units[0] is not None and not any(units[1:]) and parse_unit(first)[2]:
        return [units[0]] * len(units)
    return units


def figures_in(text: str) -> list[Figure]:
    """All figures of a text; in table rows below a header that states units, cells take those units."""
    figures = parse_figures(text)
    if " | " not in text and "\t" not in text:
        return figures
    by_start = {f.start: f for f in figures}
    pos = 0
    units: list[tuple[FigureUnit, float] | None] = []
    section = ""
    in_table = False
    lines = text.split("\n")
    gaps = table_gaps(lines)
    for i, line in enumerate(lines):
        if i in gaps:
            pos += len(line) + 1
            continue  # a blank line between rows of one table
        if is_table_line(line):
            if (not in_table or not any(u for u in units)) and is_header_row(line):
                units = _table_units(line)
                section = ""
                # A header states labels, years and footnote marks ("2019 (1)"), not quantities.
                for start in [k for k in by_start if pos <= k < pos + len(line)]:
                    del by_start[start]
            else:
                row = cells(line)
                if not any(row[1:]):
                    section = row[0] if row else ""  # a heading row ("Earnings per share:")
                elif units and not unscaled_row(row[0], section, row[1:]):
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
