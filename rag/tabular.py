"""A table as one typed object: rows of a label and cells, columns with their period, and the table's unit.

Ingestion builds tables from PDF word positions (``ingest.layout``) and writes each into the page's text as rows,
the header row first::

    (In millions, except per share amounts) | September 24, 2022 | September 25, 2021
    Net sales: |  |
    Products | $316,199 | $297,392

The header row's first cell is the unit line as printed ("" when the table states none); each other header
cell is a column's period as printed. ``Table.from_text`` reads that text back, so the chunker, the answer
stages and the figure check see one table, not four ways of walking rows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from rag.text import cells, is_table_line

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())} | {"sept": 9})
MONTH_DAY_YEAR = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+(\d{1,2}),?\s*((?:19|20)\d{2})\b", re.IGNORECASE)
_MONTH_DAY_YEAR = MONTH_DAY_YEAR


def month_day_year(m: re.Match[str]) -> dt.date | None:
    """The date of a ``MONTH_DAY_YEAR`` match ("Sept. 24, 2022"), or None when it is no date (February 30)."""
    try:
        return dt.date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    except ValueError:
        return None
_ZH_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_FY_SHORT = re.compile(r"\bFY\s?'?(\d{2})\b", re.IGNORECASE)
_SPAN_MONTHS = [
    (re.compile(r"\b(?:three|3)[- ]months?\b|\bquarter\b|\bQ[1-4]\b|三个月|季度", re.IGNORECASE), 3),
    (re.compile(r"\b(?:six|6)[- ]months?\b|\bhalf[- ]year\b|\bH[12]\b|六个月|半年|1-6月|1－6月", re.IGNORECASE), 6),
    (re.compile(r"\b(?:nine|9)[- ]months?\b|九个月|前三季度|1-9月", re.IGNORECASE), 9),
    (re.compile(r"\b(?:twelve|12)[- ]months?\b|\byears?\b|\bfiscal\b|年度|全年", re.IGNORECASE), 12),
]

# The unit line of a table: its scale, and its currency when it names one.
_SCALE_WORDS = [
    (re.compile(r"\bbillions?\b|十亿", re.IGNORECASE), 1e9),
    (re.compile(r"\bmillions?\b|百万", re.IGNORECASE), 1e6),
    (re.compile(r"\bthousands?\b|'000|’000|千元", re.IGNORECASE), 1e3),
    (re.compile(r"亿元"), 1e8),
    (re.compile(r"万元"), 1e4),
]
_UNIT_LINE = re.compile(
    r"\(\s*(?:in|dollars in|amounts in|[$€£]\s*in|US\$\s*in|RMB\s*in|unaudited,?\s*in)\s+(?:millions|thousands|billions)"
    r"|\b(?:in|dollars in|amounts in|\$ in)\s+(?:millions|thousands|billions)\b"
    r"|\(\s*(?:millions|thousands|billions)\b|(?:US\$|HK\$|RMB|\$)\s*(?:'|’)000|单位\s*[:：]|人民币(?:千|万|百万|亿)?元",
    re.IGNORECASE,
)
_CURRENCIES = [
    (re.compile(r"HK\$|HKD|港元|港币"), "HKD"),
    (re.compile(r"RMB|CNY|人民币|元"), "CNY"),
    (re.compile(r"US\$|USD|\$|dollars", re.IGNORECASE), "USD"),
    (re.compile(r"EUR|€|euros?", re.IGNORECASE), "EUR"),
]
# Rows the scale of money does not apply to: per-share amounts, share counts, ratios.
_UNSCALED_ROW = re.compile(r"\bper (?:common |ordinary )?share\b|\bper-share\b|每股|\bpercent(?:age)?\b|\bratio\b|比率|比例",
                           re.IGNORECASE)


_CENTS = re.compile(r"\d\.\d{2,}\)?\s*$|^\s*[-—–]\s*$")


def unscaled_row(label: str, section: str, cells: tuple[str, ...] | list[str]) -> bool:
    """A row the table's scale of money does not apply to: per-share amounts, share counts' ratios, percentages."""
    # A "% change" column beside money does not make the money unscaled: only a row of percentages is. Under a
    # heading that names per-share amounts ("GAAP Diluted Net Income Per Share:"), rows of cents are per share,
    # while "Net income | $199" is still in millions.
    filled = [c for c in cells if c.strip()]
    if _UNSCALED_ROW.search(label) or (filled and all("%" in c for c in filled)):
        return True
    return bool(_UNSCALED_ROW.search(section)) and bool(filled) and all(_CENTS.search(c) for c in filled)


def parse_unit(text: str) -> tuple[str, float, bool]:
    """(currency, scale, whether ``text`` states a unit) of a table's unit line.

    "(In millions, except per share amounts)" -> ("", 1e6, True); "单位：人民币百万元" -> ("CNY", 1e6, True);
    "单位：元  币种：人民币" -> ("CNY", 1.0, True). A line that states no unit gives ("", 1.0, False).
    """
    if not text or not _UNIT_LINE.search(text):
        return "", 1.0, False
    scale = next((s for rx, s in _SCALE_WORDS if rx.search(text)), 1.0)
    currency = next((c for rx, c in _CURRENCIES if rx.search(text)), "")
    return currency, scale, True


def column_period(header: str) -> tuple[int | None, str, int]:
    """(year, period end as ISO date or "", months covered or 0) that a column header names.

    "Years ended September 24, 2022" -> (2022, "2022-09-24", 12); "Three Months Ended June 30, 2023" -> (2023,
    "2023-06-30", 3); "Fiscal 2023" -> (2023, "", 12); "2025年" -> (2025, "", 0); "本期" -> (None, "", 0).
    """
    end = ""
    year: int | None = None
    m = _MONTH_DAY_YEAR.search(header)
    z = _ZH_DATE.search(header)
    try:
        if m and (d := month_day_year(m)) is not None:
            end, year = d.isoformat(), d.year
        elif z:
            d = dt.date(int(z[1]), int(z[2]), int(z[3]))
            end, year = d.isoformat(), d.year
    except ValueError:
        end = ""
    if year is None:
        years = _YEAR.findall(header)
        if years:
            year = int(years[-1])
        elif (fy := _FY_SHORT.search(header)) is not None:
            year = 2000 + int(fy[1])
    months = next((n for rx, n in _SPAN_MONTHS if rx.search(header)), 0)
    return year, end, months


@dataclass(frozen=True)
class Column:
    """A value column: its header as printed and the period it names."""

    header: str
    year: int | None = None
    period_end: str = ""  # ISO date, when the header gives one
    months: int = 0  # 3, 6, 9, 12 when the header says; 0 when it does not
    edge: float = field(default=0.0, compare=False)  # where the column's numbers end on the page (PDF points)


@dataclass(frozen=True)
class Row:
    """A row: its label (a wrapped label joined), one cell per column as printed ("" when empty).

    ``section`` is the heading row above it ("Operating expenses"); a heading row itself has no cells filled.
    """

    label: str
    cells: tuple[str, ...]
    section: str = ""
    indent: int = 0

    @property
    def is_heading(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Table:
    """Rows × columns, with the table's unit line and the scale and currency it states."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    unit_text: str = ""
    currency: str = ""
    scale: float = 1.0
    page: int | None = None
    continued: bool = False  # its header was read on an earlier page (or above on this one), where it started

    @property
    def has_header(self) -> bool:
        return bool(self.unit_text) or any(c.header for c in self.columns)

    def continuing(self, earlier: Table) -> Table:
        """This headerless table as the continuation of ``earlier``, when their columns line up; else itself."""
        if self.has_header or len(self.columns) != len(earlier.columns):
            return self
        if any(abs(a.edge - b.edge) > 12.0 for a, b in zip(self.columns, earlier.columns, strict=True)):
            return self
        columns = tuple(replace(e, edge=c.edge) for c, e in zip(self.columns, earlier.columns, strict=True))
        return replace(self, columns=columns, unit_text=earlier.unit_text, currency=earlier.currency,
                       scale=earlier.scale, continued=True)

    def _lines(self) -> list[list[str]]:
        def clean(s: str) -> str:
            return " ".join(s.replace("|", "/").split())

        # the header row always comes first, empty when the table states no header (it is how a reader finds it)
        lines = [[clean(self.unit_text)] + [clean(c.header) for c in self.columns]]
        lines.extend([clean(row.label)] + [clean(c) for c in row.cells] for row in self.rows)
        return lines

    def to_text(self) -> str:
        """The table as rows of text (see the module docstring); a row's cells never hold "|"."""
        return "\n".join(" | ".join(parts).rstrip() for parts in self._lines())

    def cell_spans(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(row index, column index) -> (start, end) of that cell's text in ``to_text()``, for non-empty cells."""
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        at = 0
        for r, parts in enumerate(self._lines()):
            line = " | ".join(parts).rstrip()
            pos = at
            for c, part in enumerate(parts):
                if c > 0 and r > 0 and part:
                    spans[(r - 1, c - 1)] = (pos, pos + len(part))
                pos += len(part) + 3
            at += len(line) + 1
        return spans

    @classmethod
    def from_text(cls, text: str, page: int | None = None) -> Table | None:
        """The table written by ``to_text`` (its first row the header), or None when ``text`` holds no rows."""
        lines = [line for line in text.split("\n") if is_table_line(line)]
        if not lines:
            return None
        head = cells(lines[0])
        n = len(head) - 1
        if n < 1:
            return None
        currency, scale, stated = parse_unit(head[0])
        columns = tuple(Column(h, *column_period(h)) for h in head[1:])
        rows: list[Row] = []
        section = ""
        for line in lines[1:]:
            parts = cells(line)
            label, values = parts[0], tuple((parts[1:] + [""] * n)[:n])
            if not any(values):
                section = label.rstrip(":：").strip()
                rows.append(Row(label, values))
            else:
                rows.append(Row(label, values, section))
        return cls(columns, tuple(rows), head[0] if stated or head[0] else "", currency, scale, page)

    def row_scale(self, row: Row) -> float:
        """The scale of a row's cells: the table's, except for per-share amounts, ratios and percentages."""
        return 1.0 if unscaled_row(row.label, row.section, row.cells) else self.scale

    def find(self, label: str, section: str | None = None, nth: int = 1) -> Row | None:
        """The ``nth`` row whose label is ``label`` (white space and case aside), under ``section`` if given."""
        want = " ".join(label.split()).casefold()
        seen = 0
        for row in self.rows:
            if " ".join(row.label.split()).casefold() != want:
                continue
            if section is not None and " ".join(row.section.split()).casefold() != " ".join(
                    section.split()).casefold():
                continue
            seen += 1
            if seen == nth:
                return row
        return None


def tables_in(text: str, page: int | None = None) -> list[Table]:
    """Every table written in ``text`` (runs of table rows, each run's first row its header)."""
    out: list[Table] = []
    run: list[str] = []
    for line in [*text.split("\n"), ""]:
        if is_table_line(line):
            run.append(line)
            continue
        if run:
            table = Table.from_text("\n".join(run), page)
            if table is not None:
                out.append(table)
            run = []
    return out
