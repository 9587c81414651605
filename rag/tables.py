"""Figures in text tables: a cell is read with the unit and scale its column header states ("2025 (RMB million)")."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.figures import CURRENCIES, parse_figures
from rag.tabular import column_period, parse_unit, unscaled_row
from rag.text import cell_spans, cells, is_header_row, is_table_line, table_gaps
from rag.types import Chunk, Figure, FigureUnit

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
    texts = cells(header)
    filled = [u for u, t in zip(units, texts, strict=False) if t.strip()]
    if len(filled) == 1 and filled[0] is not None and filled[0][0] != "%" and not (texts[0].strip()):
        # a header line that only states a unit, in whichever column it was centred over ("|  | (U.S. $ in
        # thousands) |"): the unit of every value column
        return [None] + [filled[0]] * (len(units) - 1 + _MAX_COLUMNS)
    first = texts[0] if header.strip() else ""
    currency, scale, stated = parse_unit(first)
    if units and stated:
        # the unit line names the currency in words as often as in signs: "(Dollars in millions)"; columns that
        # state a unit of their own ("% Change") keep it
        # (the line's own words are no column's unit: "except percentages" does not make it a percent column)
        line: tuple[FigureUnit, float] | None = (currency or None, scale)  # type: ignore[assignment]
        return [line] + [u if u is not None else line for u in units[1:]]
    return units


_MAX_COLUMNS = 40  # value columns a page's unit is given to beyond the header's cells


def figures_in(text: str, note: str = "") -> list[Figure]:
    """All figures of a text; in table rows below a header that states units, cells take those units. ``note`` is
    the unit the text's page states for its tables ("(in thousands", see ingest.units): a header that states no
    currency or scale of its own takes it."""
    figures = parse_figures(text)
    if " | " not in text and "\t" not in text:
        return figures
    currency, scale, stated = parse_unit(note) if note else ("", 1.0, False)
    default: tuple[FigureUnit, float] | None = (currency or None, scale) if stated and (  # type: ignore[assignment]
        currency or scale != 1.0) else None
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
                if default is not None and units and not any(u is not None and u[0] != "%" for u in units):
                    # the page's unit, "%" columns aside, also for value columns the header has no cell for
                    units = [units[0]] + [u or default for u in units[1:]] + [default] * _MAX_COLUMNS
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
            if not (cell_start <= a < cell_end and f.scale == 1.0 and abs(f.value) < 1e290):
                continue
            if f.unit in ("", "count"):
                by_start[f.start] = replace(f, unit=unit or f.unit, scale=scale)
            elif f.unit in CURRENCIES and unit in (None, f.unit):  # "$ 316,199" under "(In millions)"
                by_start[f.start] = replace(f, scale=scale)


# -- rows of a chunk's tables, each cell with its figure and each column with its period --------------------
@dataclass(frozen=True)
class TableRow:
    """A row of a table in a chunk, read with its header: what a reader quotes and computes with."""

    chunk: Chunk
    rank: int
    text: str  # the header line(s) and the row, as the chunk writes them
    start: int  # where the row's line starts in the chunk's text
    label: str
    section: str
    figures: tuple[Figure | None, ...]  # per value column
    years: tuple[int | None, ...]
    months: tuple[int, ...]
    headers: tuple[str, ...]


def table_rows(chunk: Chunk, rank: int = 0) -> list[TableRow]:
    """Every data row of every table of a chunk, with each cell's figure and each column's period."""
    lines = chunk.text.split("\n")
    gaps = table_gaps(lines)
    figs = figures_in(chunk.text, chunk.unit_note)
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    out: list[TableRow] = []
    i = 0
    while i < len(lines):
        if not is_table_line(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and (is_table_line(lines[j]) or (j in gaps)):
            j += 1
        run = [k for k in range(i, j) if is_table_line(lines[k])]
        out.extend(_rows_of_run(chunk, rank, lines, starts, run, figs))
        i = j
    return out


def _rows_of_run(chunk: Chunk, rank: int, lines: list[str], starts: list[int], run: list[int],
                 figs: list[Figure]) -> list[TableRow]:
    header_idx = [run[0]]
    for k in run[1:]:
        if is_header_row(lines[k]) and not any(c for c in cells(lines[k])[:1]):
            header_idx.append(k)
        else:
            break
    width = max(len(cells(lines[k])) for k in run)
    heads = [""] * max(width - 1, 0)
    for k in header_idx:
        parts = cells(lines[k])
        for c, text in enumerate(parts[1:]):
            if c < len(heads) and text:
                heads[c] = f"{heads[c]} {text}".strip()
    periods = [column_period(h) for h in heads]
    header_text = "\n".join(lines[k] for k in header_idx)
    out: list[TableRow] = []
    sections: list[str] = []  # the headings above a row, outermost first ("Current assets:", "Inventories")
    for k in run:
        if k in header_idx:
            continue
        parts = cells(lines[k])
        spans = cell_spans(lines[k])
        if not any(parts[1:]):
            if parts and parts[0]:
                sections.append(parts[0])
            continue
        label = parts[0] if parts else ""
        if not label and sections:
            # the unlabelled sum under a heading's items is the heading's total ("Inventories | |", its three
            # kinds, then " | 13,224 | 10,776"); the rows after it belong to the heading above again
            label = f"Total {sections.pop().rstrip(':：').strip()}"
        section = sections[-1] if sections else ""
        values: list[Figure | None] = []
        for a, b in spans[1:]:
            at = [f for f in figs if starts[k] + a <= f.start < starts[k] + b and f.unit != "code"]
            values.append(at[0] if at else None)
        values += [None] * (len(heads) - len(values))
        out.append(TableRow(
            chunk=chunk, rank=rank, start=starts[k], text=f"{header_text}\n{lines[k]}" if header_text.strip() else lines[k],
            label=label, section=section, figures=tuple(values[: len(heads)]),
            years=tuple(p[0] for p in periods), months=tuple(p[2] for p in periods), headers=tuple(heads)))
    return out




def column_of(row: TableRow, figure_start: int) -> int | None:
    """The value column of ``row`` whose cell holds the figure starting at ``figure_start`` (chunk offset)."""
    for c, f in enumerate(row.figures):
        if f is not None and f.start == figure_start:
            return c
    return None
