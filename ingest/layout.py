"""A PDF page read from its characters' positions (pypdfium2): words, visual rows, and tables rebuilt from rows.

Real filings set their statements without rules: a row is a label at the left margin and numbers right-aligned
at fixed column positions, with the column headers (periods) and the unit ("in millions, except per share
amounts") in the lines above. A text stream writes such a table one cell per line; positions keep it whole.

One pass per page serves the text and the tables: the page's text is pdfium's own text stream (its reading
order handles multi-column prose), with each table's characters taken out and the table written in their place
as ``label | cell | cell`` rows under a header row whose first cell is the table's unit line (see ``rag.tabular``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rag.tabular import Column, Row, Table, column_period, parse_unit

# A cell of a statement: a number with its sign, currency and percent marks, or a dash for zero / not applicable.
_NUMBER_CELL = re.compile(
    r"^\(?[-−–]?[$¥€£]?\s?\(?[-−–]?(?:\d[\d,]*\d|\d)(?:\.\d+)?\)?\s?(?:%|pts?|bps|x)?\)?$|^(?:[$¥€£]\s?)?[—–-]{1,3}$|^n/?[am]$|^NM$",
    re.IGNORECASE,
)
_CURRENCY_MARK = re.compile(r"^(?:[$¥€£]|US\$|HK\$|RMB)$")
_TRAILING_MARK = re.compile(r"^(?:%|\)|%\)|pts?|bps)$")
_SIGN_SPACE = re.compile(r"^([$¥€£])\s+(?=[\d(])")
_YEAR_ONLY = re.compile(r"^(?:19|20)\d{2}$")
_CJK = re.compile(r"[\u3400-\u9fff]")
# How far apart two words of one row must be to stand in different cells, in units of the text height: the
# space between words of a sentence is about a third of it; columns of a statement are set several heights apart.
_CELL_GAP = 0.9
_MAX_HEADER_ROWS = 4
_ENDS_WITH_YEAR = re.compile(r"\s((?:19|20)\d{2})$")
_YEARS = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Footnote marks after a row label ("Hardware (1)", "Restructuring (3)", "Cost of revenues (1)(2):"): not its name.
_FOOTNOTE_MARKS = re.compile(r"(?<![\s)])(?:\s*+\((?:\d{1,2}|[a-z])\))++(?=[\s:：]*+$)")


@dataclass
class Segment:
    """Words of one visual row that stand together (a label, a cell), with their character indices."""

    x0: float
    x1: float
    text: str
    chars: list[int] = field(default_factory=list)
    digits_end: float = 0.0  # where its last digit ends (0 when it has none): numbers are right-aligned on it

    @property
    def numeric(self) -> bool:
        return bool(_NUMBER_CELL.match(self.text))


@dataclass
class Line:
    """One visual row of a page: its segments from left to right."""

    top: float
    bottom: float
    segments: list[Segment]

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    @property
    def x0(self) -> float:
        return self.segments[0].x0

    @property
    def x1(self) -> float:
        return self.segments[-1].x1

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def chars(self) -> list[int]:
        return [c for s in self.segments for c in s.chars]


@dataclass
class _Word:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    chars: list[int]
    digits_end: float = 0.0


def page_words(textpage: Any, text: str, height: float) -> list[_Word]:
    """Words from pdfium's characters: runs of non-space characters that touch, in the text's order."""
    words: list[_Word] = []
    current: _Word | None = None
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\x00":
            current = None
            continue
        if ch == "\ufffe":  # pdfium's mark for a hyphen that ends a line: a hyphen in the words
            ch = "-"
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        y0, y1 = height - top, height - bottom
        size = max(y1 - y0, 1.0)
        if (current is not None and abs(y0 - current.top) < size * 0.5
                and -size * 0.2 < left - current.x1 < size * 0.3):
            current.text += ch
            current.x1 = max(current.x1, right)
            current.top, current.bottom = min(current.top, y0), max(current.bottom, y1)
            current.chars.append(i)
            if ch.isdigit():
                current.digits_end = right
        else:
            current = _Word(left, right, y0, y1, ch, [i], right if ch.isdigit() else 0.0)
            words.append(current)
    return words


def page_lines(words: list[_Word]) -> list[Line]:
    """Words grouped into visual rows (by their vertical middle), each row cut into segments at wide gaps."""
    rows: list[tuple[float, float, list[_Word]]] = []
    for w in sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0)):
        middle = (w.top + w.bottom) / 2
        if rows and abs(middle - rows[-1][0]) < (w.bottom - w.top) * 0.45:
            rows[-1][2].append(w)
        else:
            rows.append((middle, w.bottom - w.top, [w]))
    lines: list[Line] = []
    for _, _, row in rows:
        row.sort(key=lambda w: w.x0)
        segments: list[Segment] = []
        for w in row:
            size = max(w.bottom - w.top, 1.0)
            # numbers of neighbouring columns never join, however close ("(531) $ 738")
            last_word = segments[-1].text.rsplit(" ", 1)[-1] if segments else ""
            apart = bool(_NUMBER_CELL.match(last_word)) and any(c.isdigit() for c in last_word) and \
                bool(_CURRENCY_MARK.match(w.text) or _NUMBER_CELL.match(w.text)) and not _TRAILING_MARK.match(w.text)
            if segments and not apart and w.x0 - segments[-1].x1 < size * _CELL_GAP:
                last = segments[-1]
                last.text += w.text if _TRAILING_MARK.match(w.text) else " " + w.text
                last.x1 = max(last.x1, w.x1)
                last.chars.extend(w.chars)
                last.digits_end = w.digits_end or last.digits_end
            else:
                segments.append(Segment(w.x0, w.x1, w.text, list(w.chars), w.digits_end))
        lines.append(Line(min(w.top for w in row), max(w.bottom for w in row), _merge_marks(segments)))
    return lines


def _merge_marks(segments: list[Segment]) -> list[Segment]:
    """A currency sign set apart from its number ("$   316,199") and a "%" or ")" set after it join the number."""
    out: list[Segment] = []
    for s in segments:
        if out and _TRAILING_MARK.match(s.text) and out[-1].numeric:
            prev = out[-1]
            out[-1] = Segment(prev.x0, s.x1, prev.text + s.text, prev.chars + s.chars, prev.digits_end)
            continue
        if out and _CURRENCY_MARK.match(out[-1].text) and s.numeric:
            sign = out.pop()
            s = Segment(sign.x0, s.x1, sign.text + s.text.lstrip(), sign.chars + s.chars, s.digits_end)
        out.append(s)
    return out


# -- tables ----------------------------------------------------------------------------------------------------

@dataclass
class _Block:
    first: int  # index of the first line of the table (header included)
    last: int  # index of the last line
    body: int  # index of the first line below the header
    columns: list[tuple[float, float]]  # (x0, x1) of each value column
    unit_line: int | None = None


def _values(line: Line) -> list[Segment]:
    """The line's value cells: numeric segments after its label (all of them when it has no label)."""
    segs = line.segments
    if len(segs) >= 2 and not segs[0].numeric:
        cells = segs[1:]
    else:
        cells = segs
    if not cells or not all(c.numeric for c in cells):
        return []
    if all(_YEAR_ONLY.match(c.text) for c in cells) and (len(segs) == len(cells) or len(cells) >= 2):
        return []  # a row of years is a header
    if len(cells) == len(segs) and len(cells) < 2:
        return []  # a lone number (a page number, a footnote) is not a row
    return cells


def _edge(seg: Segment) -> float:
    """Where a number's digits end: numbers are right-aligned, a ")" or "%" after them hangs outside."""
    return seg.digits_end or seg.x1


def _columns(lines: list[Line], rows: list[int]) -> list[tuple[float, float]]:
    """Value columns from the right edges of the numbers in ``rows``, clustered within a few points.

    Two neighbouring clusters that no row fills both of are one column whose numbers end unevenly ("6.84%" beside
    "86,412.37", where the sign stands where the digits end).
    """
    found: list[tuple[float, float, int]] = []  # (edge, x0, row)
    for i in rows:
        for seg in _values(lines[i]):
            found.append((_edge(seg), seg.x0, i))
    found.sort()
    clusters: list[list[tuple[float, float, int]]] = []
    for item in found:
        if clusters and item[0] - clusters[-1][-1][0] <= 6.0:
            clusters[-1].append(item)
        else:
            clusters.append([item])
    merged: list[list[tuple[float, float, int]]] = []
    for c in clusters:
        if merged and c[0][0] - merged[-1][-1][0] <= 15.0 and not ({r for *_, r in c} & {r for *_, r in merged[-1]}):
            merged[-1].extend(c)
        else:
            merged.append(c)
    return [(min(x0 for _, x0, _ in c), max(e for e, _, _ in c)) for c in merged]


def _zone_left(columns: list[tuple[float, float]]) -> float:
    """Where the value columns' area starts: half a column pitch left of the first column's middle (headers are
    centred over their numbers and are often wider; a title centred on the page is not over them)."""
    edges = [b for _, b in columns]
    pitch = min((b - a for a, b in zip(edges, edges[1:], strict=False)), default=0.0)
    width = max(b - a for a, b in columns)
    first = (columns[0][0] + columns[0][1]) / 2
    return first - max(pitch, 1.5 * width, 40.0) / 2


def _split_heading(seg: Segment, columns: list[tuple[float, float]]) -> list[Segment]:
    """A heading run over several columns that is as many words as the columns it covers ("2025年 2024年", set
    too close to stand apart) is one heading per column; any other run is one heading that spans them."""
    covered = [j for j, (a, b) in enumerate(columns) if seg.x0 <= (a + b) / 2 <= seg.x1]
    words = seg.text.split(" ")
    if len(covered) < 2 or len(words) != len(covered):
        return [seg]
    return [Segment((columns[j][0] + columns[j][1]) / 2 - 1, (columns[j][0] + columns[j][1]) / 2 + 1, w)
            for j, w in zip(covered, words, strict=True)]


def _nearest(seg: Segment, columns: list[tuple[float, float]]) -> int:
    middle = (seg.x0 + seg.x1) / 2
    return min(range(len(columns)), key=lambda j: abs((columns[j][0] + columns[j][1]) / 2 - middle))


def _over(seg: Segment, left: float) -> bool:
    return (seg.x0 + seg.x1) / 2 > left


def _column_of(seg: Segment, columns: list[tuple[float, float]]) -> int | None:
    edge = _edge(seg)
    best = min(range(len(columns)), key=lambda j: abs(columns[j][1] - edge), default=None)
    if best is None or abs(columns[best][1] - edge) > 12.0:
        # a number set left or centred: the column whose span holds its middle
        middle = (seg.x0 + seg.x1) / 2
        for j, (a, b) in enumerate(columns):
            if a - 4 <= middle <= b + 4:
                return j
        return None
    return best


def find_blocks(lines: list[Line]) -> list[_Block]:
    """Runs of rows with values in shared columns, with their header rows above (at most four)."""
    value_rows = [i for i, line in enumerate(lines) if _values(line)]
    blocks: list[_Block] = []
    k = 0
    while k < len(value_rows):
        run = [value_rows[k]]
        k += 1
        while k < len(value_rows):
            prev, nxt = run[-1], value_rows[k]
            gap = lines[nxt].top - lines[prev].bottom
            between = lines[prev + 1 : nxt]
            if gap > 4.5 * lines[prev].height or not all(_label_only(b, lines[prev]) for b in between):
                break
            run.append(nxt)
            k += 1
        if len(run) < 2:
            continue
        columns = _columns(lines, run)
        if not columns:
            continue
        margin = min(lines[i].x0 for i in run)
        body = run[0]
        # label rows right above the first value row belong to it ("Net sales:")
        while body > 0 and _label_only(lines[body - 1], lines[run[0]]) and \
                lines[body].top - lines[body - 1].bottom < 1.5 * lines[body].height and \
                not _is_header(lines[body - 1], columns, margin):
            body -= 1
        first = body
        unit_line = None
        taken = 0
        while first > 0 and taken < _MAX_HEADER_ROWS:
            above = lines[first - 1]
            if lines[first].top - above.bottom > 3.0 * above.height:
                break
            if _is_header(above, columns, margin):
                first -= 1
                taken += 0 if _note(above.text) else 1
                continue
            break
        # the unit line, when the header does not state it: one of the two lines above the table
        in_header = any(parse_unit(s.text)[2] for line in lines[first:body] for s in line.segments)
        if not in_header:
            for i in range(max(0, first - 2), first):
                if parse_unit(lines[i].text)[2] and len(lines[i].text) < 200 and \
                        not any(_values_like(s) or _YEAR_ONLY.match(s.text) for s in lines[i].segments):
                    unit_line = i
        if unit_line is not None:
            first = unit_line
        blocks.append(_Block(first, run[-1], body, columns, unit_line))
    return blocks


def _label_only(line: Line, ref: Line) -> bool:
    """A row between value rows that is a label alone (a heading, the first line of a wrapped label)."""
    return len(line.segments) == 1 and not line.segments[0].numeric and line.x1 - line.x0 < 400 and \
        line.height < 2.5 * ref.height


def _over_columns(seg: Segment, columns: list[tuple[float, float]]) -> bool:
    """Whether a header segment stands over the value columns: centred in their area, or running into the first
    column from the left ("Years ended December 31,  2022  2021")."""
    a = columns[0][0]
    return _over(seg, _zone_left(columns)) or seg.x0 < a < seg.x1


def _is_header(line: Line, columns: list[tuple[float, float]], margin: float) -> bool:
    """A header row: its text stands over the value columns (periods, "Years ended"), not across the page; what
    it has left of them starts at the labels' margin (a caption such as "(in millions)")."""
    edges = [b for _, b in columns]
    pitch = min((b - a for a, b in zip(edges, edges[1:], strict=False)), default=80.0)
    over = [s for s in line.segments if _over_columns(s, columns)]
    if not over:
        return False
    for s in over:
        if s.x0 < columns[0][0] - 8 and not _note(s.text) and (
                (s.x1 - s.x0 > 2 * pitch and not _ENDS_WITH_YEAR.search(s.text)) or len(_YEARS.findall(s.text)) > 1):
            return False  # one run of text from the label area into the columns: a title or a sentence
    for s in line.segments:
        if s not in over and abs(s.x0 - margin) > 15 and not _note(s.text):
            return False  # a subtitle centred on the page ("For the Years Ended May 31, 2023, 2022 and 2021")
    return all(not _values_like(s) for s in over) or all(_YEAR_ONLY.match(s.text) for s in over)


def _note(text: str) -> bool:
    """A header line that is a note on the whole table: its unit, "(Unaudited)"."""
    return parse_unit(text)[2] or bool(re.fullmatch(r"[(（]?\s*(?:unaudited|audited|未经审计|经审计|未经审核|经审核)\s*[)）]?",
                                                    text, re.I)) or bool(re.search(r"[□☐☑☒√]", text))


def _values_like(seg: Segment) -> bool:
    return seg.numeric and not _YEAR_ONLY.match(seg.text)


def build_table(lines: list[Line], block: _Block, page: int | None) -> Table:
    """The typed table of a block: column headers (periods), unit, and rows of label and cells."""
    columns = block.columns
    n = len(columns)
    headers: list[list[str]] = [[] for _ in range(n)]
    caption = ""
    unit_text = lines[block.unit_line].text if block.unit_line is not None else ""
    for i in range(block.first, block.body):
        line = lines[i]
        if i == block.unit_line:
            continue
        over = [s for s in line.segments if _over_columns(s, columns) and not _note(s.text)]
        for s in line.segments:
            if s not in over:
                caption = f"{caption} {s.text}".strip()
        # a heading that runs into the first column from the left spans them all ("Years ended December 31,")
        # (a heading wider than its numbers but ending where they end is the first column's own: "2025 (RMB mn)")
        # ("Years ended December 31, 2022" with the year set over the first column is split: the year is its own)
        at_edge0 = [o for o in over if abs(o.x1 - columns[0][1]) <= 4]
        spanning = [s for s in over if s.x0 < columns[0][0] - 8 < columns[0][0] + 2 < s.x1 and (
            any(o is not s for o in at_edge0) or (_ENDS_WITH_YEAR.search(s.text) and abs(s.x1 - columns[0][1]) <= 8))]
        for s in spanning:
            text, year = s.text, ""
            if (m := _ENDS_WITH_YEAR.search(text)) and columns[0][0] - 8 <= s.x1 <= columns[0][1] + 8:
                text, year = text[: m.start()].rstrip(), m[1]  # "Years ended December 31, 2022": 2022 is column 1's
            for k, h in enumerate(headers):
                h.append(text)
                if k == 0 and year:
                    h.append(year)
        over = [s for s in over if s not in spanning]
        if not over:
            continue
        if len(over) < n:
            over = [piece for s in over for piece in _split_heading(s, columns)]
        if len(over) < n:
            # fewer headings than columns: each column takes the nearest heading (a span over several)
            for col, (a, b) in enumerate(columns):
                middle = (a + b) / 2
                s = min(over, key=lambda s: abs((s.x0 + s.x1) / 2 - middle))
                headers[col].append(s.text)
        else:
            for s in over:
                # a heading is centred over its column's numbers, or ends where they end
                ends = min(range(n), key=lambda k: abs(columns[k][1] - s.x1))
                headers[ends if abs(columns[ends][1] - s.x1) <= 4 else _nearest(s, columns)].append(s.text)
    rows: list[Row] = []
    section = ""
    pending = ""  # the first line of a label that wraps onto the value row
    gaps = sorted(lines[i + 1].top - lines[i].bottom for i in range(block.body, block.last))
    spacing = gaps[len(gaps) // 2] if gaps else 0.0
    for i in range(block.body, block.last + 1):
        line = lines[i]
        values = _values(line)
        label_segs = [s for s in line.segments if s not in values]
        if values and len(label_segs) >= 2:
            # a group name and its first item on one row ("Company-operated restaurant expenses   Food & paper")
            section = _FOOTNOTE_MARKS.sub("", label_segs[0].text).rstrip(":：").strip()
            label_segs = label_segs[1:]
        label = _FOOTNOTE_MARKS.sub("", " ".join(s.text for s in label_segs))
        if not values:
            nxt = lines[i + 1] if i + 1 <= block.last else None
            if rows and _continues(rows[-1], lines[i - 1], line, spacing):
                rows[-1] = Row(f"{rows[-1].label}{_joiner(rows[-1].label, label)}{label}", rows[-1].cells,
                               rows[-1].section, rows[-1].indent)
                continue
            if nxt is not None and _wraps_into(line, nxt):
                pending = f"{pending}{_joiner(pending, label)}{label}" if pending else label
                continue
            pending = ""
            section = label.rstrip(":：").strip()
            rows.append(Row(label, ("",) * n, section="", indent=round(line.x0)))
            continue
        cells = [""] * n
        for seg in values:
            j = _column_of(seg, columns)
            if j is not None:
                text = _SIGN_SPACE.sub(r"\1", seg.text)  # "$ 1,250" as "$1,250", like a sign set apart
                cells[j] = f"{cells[j]} {text}".strip() if cells[j] else text
        full = f"{pending}{_joiner(pending, label)}{label}".strip() if pending else label
        pending = ""
        rows.append(Row(full, tuple(cells), section=section, indent=round(line.x0)))
    cols = tuple(Column(" ".join(h), *column_period(" ".join(h)), edge=b) for h, (_, b) in zip(headers, columns,
                                                                                            strict=True))
    currency, scale, _ = parse_unit(unit_text or caption)
    return Table(columns=cols, rows=tuple(rows), unit_text=unit_text or caption, currency=currency, scale=scale,
                 page=page)


def _wraps_into(line: Line, nxt: Line) -> bool:
    """A label line that continues on the next line (which carries the values): it does not end a heading."""
    text = line.text.rstrip()
    if not _values(nxt):
        return False
    if all(seg.numeric for seg in nxt.segments) and nxt.top < line.bottom:
        return True  # one row whose label sits higher than its numbers (a raised footnote mark: "Hardware (1)")
    if text.endswith((":", "：")):
        return False
    if nxt.top - line.bottom > 0.8 * line.height:
        return False
    first = nxt.segments[0].text
    if _CJK.search(text):  # a Chinese label goes on at the same indent; an indented row is under a heading
        return not re.match(r"^(?:[一二三四五六七八九十]+、|其中|加：|减：|\d+[.、])", first) and nxt.x0 <= line.x0 + 2
    return first[:1].islower()  # "…net cash provided by operating" / "activities"; a capitalised line is an item


def _continues(row: Row, above: Line, line: Line, spacing: float) -> bool:
    """A label-only line right under a value row that finishes its label ("…扣除非经常性损益的净" / "利润").

    The lines of one wrapped label stand closer than the rows of the table (``spacing``: the usual gap between
    rows); a heading under a row ("非流动资产：") stands a row's distance away, or says it is one with a colon.
    """
    gap = line.top - above.bottom
    if not row.label or not any(row.cells) or gap > 0.6 * line.height:
        return False
    text = line.text
    if text.endswith((":", "：")) or row.label.endswith(("：", ":")):
        return False
    if _CJK.search(text):
        return not re.match(r"^(?:[一二三四五六七八九十]+、|其中|加：|减：|\d+[.、])", text) and len(text) <= 12 and \
            gap < 0.6 * spacing
    return text[:1].islower()


def _joiner(a: str, b: str) -> str:
    """No space between two pieces of one Chinese label ("…的净" + "利润"), a space between English words."""
    return "" if _CJK.search(a[-1:] or " ") or _CJK.search(b[:1] or " ") else " "


@dataclass(frozen=True)
class PageLayout:
    """A page's text (tables written as rows) and the tables read from it."""

    text: str
    tables: tuple[Table, ...]


def read_page(pdf_page: Any, number: int | None = None, earlier: Table | None = None) -> PageLayout:
    """Text and tables of one pypdfium2 page.

    A table without a header continues the table above it on the page, or ``earlier`` (the last table of the
    page before) for the first, when their columns line up: it takes that header, period and unit.
    """
    textpage = pdf_page.get_textpage()
    try:
        raw = textpage.get_text_range()
        height = pdf_page.get_size()[1]
        lines = page_lines(page_words(textpage, raw, height))
    finally:
        textpage.close()
    blocks = find_blocks(lines)
    tables: list[Table] = []
    for b in blocks:
        table = build_table(lines, b, number)
        before = tables[-1] if tables else earlier
        tables.append(table.continuing(before) if before is not None else table)
    taken: dict[int, int] = {}  # char index -> table number
    starts: dict[int, int] = {}
    for t, b in enumerate(blocks):
        chars = [c for line in lines[b.first : b.last + 1] for c in line.chars()]
        for c in chars:
            taken[c] = t
        if chars:
            starts[min(chars)] = t
    out: list[str] = []
    for i, ch in enumerate(raw):
        if i in starts:
            out.append("\n" + tables[starts[i]].to_text() + "\n")
        if i in taken:
            continue
        out.append(ch)
    text = "".join(out).replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "-").replace("\x00", "")
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)
    text = re.sub(r"(?m)^[ \t]+$", "", text)
    return PageLayout(text.strip("\n"), tuple(tables))
