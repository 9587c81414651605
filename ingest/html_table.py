"""An HTML <table> of a filing as a typed ``Table``: the same object the PDF reader builds (``rag.tabular``).

EDGAR statements are tables laid out for print: a label cell, then for each period a "$" cell, the number's
cell and a ")" or "%" cell, with empty spacer cells between; the column headers span those cells
("Years ended" over all periods, "September 24, 2022" over one). Cells are placed on a grid by their colspan;
a number's column is where its cell ends (numbers are right-aligned, and a "$" sometimes shares the cell);
header cells name the columns they span. Inline-XBRL facts tagged inside a cell stay with that cell, and fill in
a column's period where its header does not state one.

A table without rows of figures (layout: a cover's check boxes, a signature block, a list) is no ``Table``;
its rows come back as lines of text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from rag.tabular import Column, Row, Table, column_period, parse_unit
from rag.types import XbrlFact

_VALUE = re.compile(r"\(?-?[$€£¥]?\(?\d[\d,]*+(?:\.\d++)?\)?%?\)?|[—–-]+|\(?[—–-]\)?")
_BEFORE = {"$", "US$", "€", "£", "¥", "RMB", "HK$", "(", "$(", "($"}
_AFTER = {")", "%", ")%", "%)", "pts", "bps", "x"}
_YEAR = re.compile(r"(?:19|20)\d\d")
_STYLE_INDENT = re.compile(r"(?:padding-left|text-indent|margin-left)\s*:\s*([\d.]+)\s*(pt|px|em|in)?", re.IGNORECASE)
_TO_POINTS = {"pt": 1.0, "px": 0.75, "em": 10.0, "in": 72.0, "": 0.75}
_SCALE_NAMES = {3: "thousands", 6: "millions", 9: "billions"}
MAX_COLSPAN = 64


@dataclass
class _Cell:
    start: int
    end: int  # last grid column the cell covers
    text: str
    facts: list[XbrlFact] = field(default_factory=list)
    indent: int = 0


@dataclass
class _Group:
    """One figure of a row: its text as printed (affixes joined), the grid column it ends in, its facts."""

    text: str
    end: int
    facts: list[XbrlFact]


@dataclass(frozen=True)
class ReadTable:
    table: Table
    facts: dict[tuple[int, int], tuple[XbrlFact, ...]]  # (row index, column index) -> the cell's facts


_WORDS = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}\s+[A-Za-z]{2,}")


def squeeze(text: str) -> str:
    return " ".join(text.replace("\u200b", "").split())


def _indent(td: Any) -> int:
    for el in (td, *td.find_all(True, limit=3)):
        m = _STYLE_INDENT.search(str(el.get("style", "")))
        if m and float(m[1]) > 0:
            return round(float(m[1]) * _TO_POINTS.get((m[2] or "").lower(), 0.75))
    return 0


def grid(table: Any, fact_of: dict[int, XbrlFact]) -> list[list[_Cell]]:
    """The table's rows as cells placed on a grid by colspan (rows of nested tables left to those tables)."""
    rows: list[list[_Cell]] = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        col = 0
        cells: list[_Cell] = []
        for td in tr.find_all(["td", "th"], recursive=False):
            try:
                span = max(1, min(MAX_COLSPAN, int(str(td.get("colspan", "1")).strip() or 1)))
            except ValueError:
                span = 1
            text = squeeze(td.get_text(" "))
            facts = [fact_of[id(el)] for el in td.find_all(True) if id(el) in fact_of]
            if text:
                cells.append(_Cell(col, col + span - 1, text, facts, _indent(td)))
            col += span
        rows.append(cells)
    return rows


def _is_value(text: str) -> bool:
    return _VALUE.fullmatch(text.replace(" ", "")) is not None


def _split(cells: list[_Cell]) -> tuple[str, int, list[_Group], list[_Cell]]:
    """(label, indent, figures, text cells after the label) of a row."""
    label_parts: list[str] = []
    indent = 0
    groups: list[_Group] = []
    texts: list[_Cell] = []
    prefix = ""
    for cell in cells:
        text = cell.text
        if text in _BEFORE:
            prefix += text
            continue
        if text in _AFTER and groups:
            groups[-1].text += text
            continue
        if not label_parts and not groups and cell.start == 0 and _YEAR.fullmatch(text):
            label_parts.append(text)  # a row of a maturity schedule: "2023 | $1,250"
            continue
        # a label that cites tagged amounts ("including related party amount of $0 and $38,834 at ...") is words
        if _is_value(text) or (cell.facts and not _WORDS.search(text)):
            groups.append(_Group((prefix + text).replace(" ", ""), cell.end, list(cell.facts)))
            prefix = ""
            continue
        if not groups:
            if not label_parts:
                indent = cell.indent
            label_parts.append(text)
        else:
            texts.append(cell)
        prefix = ""
    return " ".join(label_parts), indent, groups, texts


def _columns(ends: list[list[int]]) -> list[int]:
    """The grid columns figures end in, ends one or two apart that never share a row taken as one."""
    found = sorted({e for row in ends for e in row})
    merged: list[list[int]] = []
    for e in found:
        if merged and e - merged[-1][-1] <= 2 and not any(e in r and x in r for r in ends for x in merged[-1]):
            merged[-1].append(e)
        else:
            merged.append([e])
    return [m[-1] for m in merged]


def _column_of(end: int, columns: list[int]) -> int:
    return min(range(len(columns)), key=lambda i: (abs(columns[i] - end), -columns[i]))


def _fact_scale(facts: list[XbrlFact]) -> int | None:
    """The power of ten the cells' facts are tagged in (6: millions), when they agree; else None."""
    scales: set[int] = set()
    for f in facts:
        m = re.search(r"\d[\d,]*(?:\.\d+)?", f.shown)
        if f.value is None or not m or f.unit not in ("USD", "EUR", "CNY", "HKD", "GBP", "JPY"):
            continue
        shown = float(m[0].replace(",", ""))
        if shown and f.value:
            scales.add(round(math.log10(abs(f.value) / shown)))
    return scales.pop() if len(scales) == 1 else None


def read_table(table: Any, fact_of: dict[int, XbrlFact], before: list[str]) -> ReadTable | list[str]:
    """The table as a ``Table`` with its cells' facts, or, when it holds no rows of figures, its rows as lines.

    ``before``: the texts just above the table (nearest last), where a filing prints the unit line.
    """
    rows = grid(table, fact_of)
    split = [_split(r) for r in rows]
    data = [i for i, (label, _, groups, _) in enumerate(split)
            if any(c.isdigit() for g in groups for c in g.text) and not all(_YEAR.fullmatch(g.text) for g in groups)]
    if not data:
        return [" | ".join(c.text for c in r) for r in rows if r]
    columns = _columns([[g.end for g in split[i][2]] for i in data])
    n = len(columns)
    first = data[0]
    heads: list[list[str]] = [[] for _ in range(n)]
    unit_text = ""
    label_head = ""
    leading: list[Row] = []  # heading rows above the first figures ("Net sales:"), under the column headers
    for r in rows[:first]:
        if r and all(cell.start == 0 for cell in r) and not parse_unit(r[0].text)[2]:
            leading.append(Row(" ".join(c.text for c in r), ("",) * n, "", r[0].indent))
            continue
        for cell in r:
            covered = [i for i, e in enumerate(columns) if cell.start <= e <= cell.end]
            if not covered and cell.start > 0:
                near = _column_of(cell.end, columns)
                covered = [near] if abs(columns[near] - cell.end) <= 2 else []
            stated = parse_unit(cell.text)[2]
            if stated and (not covered or len(covered) == n) and not unit_text:
                unit_text = cell.text
            elif not covered and cell.start == 0 and not label_head:
                label_head = cell.text  # the label column's own header ("Item"), written where no unit is stated
            elif covered:
                for i in covered:
                    heads[i].append(cell.text)
    if not unit_text:
        unit_text = next((t for t in reversed(before[-3:]) if parse_unit(t)[2] and len(t) < 200), "")
    out_rows: list[Row] = leading[-1:]  # the one just above the figures; higher ones are the table's titles
    facts: dict[tuple[int, int], tuple[XbrlFact, ...]] = {}
    section = out_rows[0].label.rstrip(":：").strip() if out_rows else ""
    for i in range(first, len(rows)):
        label, indent, groups, texts = split[i]
        if not groups:
            if label:
                out_rows.append(Row(label, ("",) * n, "", indent))
                section = label.rstrip(":：").strip()
            continue
        values = [""] * n
        for g in groups:
            c = _column_of(g.end, columns)
            if values[c]:  # two figures in one column: keep the first, the second is a note's number
                continue
            values[c] = g.text
            if g.facts:
                facts[(len(out_rows), c)] = tuple(g.facts)
        if texts and not label:
            label = " ".join(t.text for t in texts)
        out_rows.append(Row(label, tuple(values), section, indent))
    cols = []
    for i in range(n):
        header = " ".join(heads[i])
        year, end, months = column_period(header)
        tagged = [f for (r, c), fs in facts.items() if c == i for f in fs if not f.dims and f.end]
        if tagged and (year is None or not end):
            ends = {f.end for f in tagged}
            if len(ends) == 1:
                end = end or next(iter(ends))
                year = year or int(end[:4])
                spans = {f.months for f in tagged if f.months}
                months = months or (spans.pop() if len(spans) == 1 else 0)
        cols.append(Column(header, year, end, months))
    if not unit_text:
        scale = _fact_scale([f for fs in facts.values() for f in fs])
        if scale in _SCALE_NAMES:
            unit_text = f"(In {_SCALE_NAMES[scale]}, as tagged in XBRL)"
    currency, scale_value, _ = parse_unit(unit_text)
    unit_text = unit_text or label_head
    built = Table(tuple(cols), tuple(out_rows), unit_text, currency, scale_value)
    return ReadTable(built, facts)
