"""The figure check: every number an answer states must be in the chunk it cites, for the asked company and period."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.companies import mentions
from rag.figures import parse_figures, same_quantity
from rag.lexicon import default_lexicon
from rag.tables import TableRow, column_of, figures_in, table_rows
from rag.context import (INSTRUCTION, column_months, column_years, identity_text, mentions_year, months_named, names_hint,
                         other_date, other_quarter, period_text, quarters_named)
from rag.query import QueryAnalysis
from rag.text import is_header_row, is_table_line, split_sentences, table_gaps
from rag.types import CheckedFigure, Chunk, Figure

# Starts only where white space starts: from inside a run of spaces every start would rescan the run.
_MARKERS = re.compile(r"(?<!\s)(?:\s*\[\d+\])+")
_ONE = re.compile(r"\[(\d+)\]")
# A figure given as a change, by the words just before it ("increased by", "an increase of", "up") or just after
# it ("a $27 million increase"): it is not the amount a lookup asks for.
_CHANGE_BEFORE = re.compile(r"\b(?:(?:increased|decreased|declined|rose|fell|grew|dropped)\s(?:by\s)?|(?:increase|"
                            r"decrease|decline|rise|drop|reduction|growth)\sof\s|up\s|down\s)(?:approximately\s|"
                            r"about\s|nearly\s)?$", re.IGNORECASE)
_CHANGE_AFTER = re.compile(r"^\s(?:increase|decrease|decline|rise|drop|reduction)\b", re.IGNORECASE)


def answer_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer cut after each group of markers: each piece (markers blanked out) with the numbers it cites.

    "A was 94 [1]. B was 157 [2][3]." gives ("A was 94    .", (1,)) and (" B was 157       .", (2, 3)); text after
    the last marker is a piece that cites nothing.
    """
    out: list[tuple[str, tuple[int, ...]]] = []
    pos = 0
    for m in _MARKERS.finditer(text):
        piece = text[pos : m.end()]
        refs = tuple(int(n) for n in _ONE.findall(m.group()))
        # A piece starts where the last markers ended: "(2) Working capital…" is a list mark, as in the source.
        out.append((_ONE.sub(lambda x: " " * len(x.group()), piece).lstrip(), refs))
        pos = m.end()
    if text[pos:].strip():
        out.append((text[pos:], ()))
    return out


def check_figures(
    text: str,
    cited: Sequence[Chunk],
    intent: QueryAnalysis,
    *,
    derived: Sequence[tuple[str, str]] = (),
) -> list[CheckedFigure]:
    """Check each figure of an answer against the chunks its sentence cites.

    A figure is ``verified`` when the same quantity (any written form, within its precision) is in a cited chunk
    whose passage is about the asked period and entities and names the question's other names (hints); ``quoted``
    when it is there but for another period or company, or a name the question writes is not in its passage; ``derived`` when it is the result of arithmetic the
    answer shows; otherwise ``unverified`` with the reason.
    """
    results: list[CheckedFigure] = []
    derived_figs = [(parse_figures(res), arith) for res, arith in derived]
    for sentence, refs in answer_sentences(text):
        for fig in figures_in(sentence):
            if fig.unit == "code":
                continue
            checked = _check_one(fig, refs, cited, intent, derived_figs)
            if checked not in results:  # "63 ... = 63": one badge per figure, status and citation
                results.append(checked)
    return results


def _check_one(fig: Figure, refs: tuple[int, ...], cited: Sequence[Chunk], intent: QueryAnalysis,
               derived: Sequence[tuple[list[Figure], str]]) -> CheckedFigure:
    def out(status: str, citation: int | None, reason: str = "", arithmetic: str = "") -> CheckedFigure:
        value = float(f"{fig.quantity:.12g}")  # 4.1 * 1e9 is 4099999999.9999995 in floating point
        return CheckedFigure(fig.text, value, fig.unit or "count", status, citation, reason,  # type: ignore[arg-type]
                             arithmetic)

    # The result of arithmetic the answer shows is derived, even where a source prints a rounded figure that is
    # the same quantity within its precision ("7.79%" computed beside a printed "8%").
    for results, arith in derived:
        if any(r.text == fig.text and same_quantity(fig, r) for r in results):
            return out("derived", refs[0] if refs else None, arithmetic=arith)
    wrong_context = ""
    quoted: CheckedFigure | None = None
    for n in refs:
        if not 1 <= n <= len(cited):
            continue
        chunk = cited[n - 1]
        # Cells are tried with their column's unit and as written, since a quote may omit a second header line.
        # Every occurrence counts (the same text first): one about the asked period and company verifies.
        candidates = [f for f in figures_in(chunk.text, chunk.unit_note) + parse_figures(chunk.text)
                      if f.unit != "code" and same_quantity(fig, f)]
        candidates.sort(key=lambda f: f.text != fig.text)
        for found in candidates:
            problem = _context_problem(chunk, found, intent)
            if INSTRUCTION.search(_passage(chunk.text, found)[0]):
                problem = "only inside an instruction to the assistant, which states no fact"
            if not problem:
                unnamed = [h for h in intent.hints if not names_hint(h, f"{_passage(chunk.text, found)[0]} "
                                                                      f"{_passage(chunk.text, found)[1]} "
                                                                      f"{identity_text(chunk)}".lower())]
                if not unnamed:
                    return out("verified", n)
                quoted = quoted or out("quoted", n, f"[{n}] gives {found.text} but does not name "
                                                    f"{', '.join(unnamed)}, which the question names")
                continue
            wrong_context = wrong_context or f"[{n}] gives {found.text} {problem}"
    for results, arith in derived:
        if any(same_quantity(fig, r) for r in results):
            return out("derived", refs[0] if refs else None, arithmetic=arith)
    if quoted is not None:
        return quoted
    if wrong_context:  # in the source, but about another period or company: quoted, never verified
        return out("quoted", refs[0] if refs else None, wrong_context)
    if not refs:
        return out("unverified", None, "the sentence cites no source")
    where = ", ".join(f"[{n}]" for n in refs)
    return out("unverified", refs[0], f"not found in the cited passage {where}")


_AMOUNT_UNITS = frozenset("元股克份手吨盎美港")  # "5000股", "50克", "100盎司", "3284份" (not "1周", "3年": spans of time)


def _given(intent: QueryAnalysis) -> bool:
    """Whether the question gives amounts of its own to compute with ("3万元按年化2.5%计算，一年收益多少？", "sell
    5,000 shares at HK$369"): money, a percentage, a scaled number, or a number with a Chinese unit after it."""
    text = intent.question
    return any(f.unit in ("USD", "CNY", "HKD", "EUR", "%") or f.scale != 1.0 or text[f.end:f.end + 1] in _AMOUNT_UNITS
               for f in parse_figures(text) if f.unit != "code" and not f.text.startswith("("))


def _context_problem(chunk: Chunk, found: Figure, intent: QueryAnalysis) -> str:
    """Why the passage around a found figure is not about the question's period or company ('' if it is).

    The period must be written in the figure's sentence (for a table row, its header) or the document's title; a
    company may also be named in the sentence before it, the section or the document's metadata.
    """
    if intent.operation == "lookup" and _given(intent):
        # a figure quoted for a question that computes with amounts it gives is an input, not the result
        return "as an input of the computation the question asks for, not its result"
    passage, before = _passage(chunk.text, found)
    column_year, covered, header = _column(chunk, found)
    period = intent.periods[0] if intent.periods else None
    years = intent.years
    if intent.operation in ("change", "growth") and len(years) == 1 and years[0].isdigit():
        years = (*years, str(int(years[0]) - 1))  # "growth in fiscal 2023" is from fiscal 2022
    asked_months = intent.periods[0].months if intent.periods else 0
    if intent.years and column_year is not None:
        if str(column_year) not in column_years(chunk, years, fiscal=intent.fiscal):
            return f"for another period (its column is {column_year}; the question asks about {' or '.join(years)})"
        if asked_months and covered and covered != asked_months:
            return (f"for another part of the year (its column covers {covered} months; the question asks "
                    f"about {asked_months})")
        if other_date(header, intent.dates):
            return f"for another period (its column is {' '.join(header.split())[:80]!r}; the question asks about {', '.join(intent.dates)})"
        if period is not None and covered == 3 and other_quarter(chunk, period.months, period.part):
            return f"for another quarter (its document reports {chunk.period_type}; the question asks about Q{period.part})"
    elif intent.years and not any(mentions_year(period_text(passage, chunk.title, before), y) for y in intent.years):
        return f"for another period (the question asks about {' or '.join(intent.years)})"
    elif asked_months and column_year is None:
        # the clause up to the figure, not the sentence: "..., of which LT-203 contributed X in its first six months"
        clause = _clause(chunk.text, found)
        parts = months_named(clause)
        if not parts and column_months(chunk, 0) == 12:
            parts = frozenset({12})  # an annual report's sentence that names no part of the year is about the year
        if parts and asked_months not in parts:
            return (f"for another part of the year (its sentence is about {' or '.join(f'{m} months' for m in sorted(parts))}; "
                    f"the question asks about {asked_months})")
        quarters = quarters_named(clause)
        if period is not None and period.months == 3 and period.part and quarters and period.part not in quarters:
            return f"for another quarter (the question asks about Q{period.part})"
    hay = f"{passage} {before} {identity_text(chunk)}".lower()
    absent = [e for e in intent.entities if not mentions(e, hay)]
    if absent:
        return f"about another company (the question asks about {', '.join(absent)})"
    # (a growth rate beside an asked amount, "revenue of RMB 45.5 billion, a year-on-year increase of 15.84%", is
    # no amount to mistake for it: only a change of the asked kind is)
    if intent.operation == "lookup" and (found.unit != "%" or intent.quantity == "percent") and (_CHANGE_BEFORE.search(chunk.text[max(0, found.start - 40):found.start])
                                         or _CHANGE_AFTER.match(chunk.text[found.start + len(found.text):][:30])):
        return "as a change, not the amount asked (its sentence gives an increase or decrease)"
    if _line_items(intent) and not _names_measure(chunk, found, intent, f"{passage} {before}"):
        lexicon = default_lexicon()
        names = [m.en[0] if m.en else m.zh[0] for mid in _line_items(intent) for m in [lexicon.measure(mid)] if m]
        return f"about another measure (its passage names no {' or '.join(names)})"
    return ""


def _line_items(intent: QueryAnalysis) -> list[str]:
    """The asked measures that a financial statement states (revenue, EPS, capex): the ones whose names a passage
    must write. Others ("employees", "upfront payment") are written in too many ways to be checked by name."""
    lexicon = default_lexicon()
    return [mid for mid in intent.measures if (m := lexicon.measure(mid)) is not None and m.statement]


def _names_measure(chunk: Chunk, found: Figure, intent: QueryAnalysis, passage: str) -> bool:
    """Whether the passage of a figure names a measure the question asks for by one of its names (rag/lexicon):
    a table cell by its row's label, the heading rows above it or the chunk's section; a sentence by the words of
    the clause that leads up to it ("an average price of $163.39 per share" is no earnings per share)."""
    lexicon = default_lexicon()
    text = _whole_clause(chunk.text, found)  # its clause: "Net pre-tax charges of $1,281 million, or $1.44 per share"
    cell = _cell(chunk, found)
    if cell is not None:
        # its row's label and heading row, the table's header, and the words around the table: its caption above
        # ("The following table shows net sales by geographic area:") or, where a page prints it so, below
        top = chunk.text.find(cell.text.split("\n")[0])
        above = chunk.text[max(0, top - 300):top] if top >= 0 else ""
        end = _table_end(chunk.text, cell.start)
        below = chunk.text[end:end + 300]
        text = f"{cell.section} {cell.label} {chunk.section} {cell.text.split(chr(10))[0]} {above} {below}"
        if not any(lexicon.names_measure(mid, text) for mid in _line_items(intent)) and not (
                above.strip() or below.strip() or cell.section or chunk.section):
            # a bare table, its caption in another passage: its rows say what they are ("United States",
            # "Digital"), and only a row that is another line item ("Cost of sales") is known to be another measure
            return not any(lexicon.measure_fit(m.id, cell.label) for m in lexicon.measures if m.statement)
    return any(lexicon.names_measure(mid, text) for mid in _line_items(intent))


def _table_end(text: str, start: int) -> int:
    """Where the table holding the line that starts at ``start`` ends (the end of its last row)."""
    pos = start
    for line in text[start:].split("\n"):
        if not is_table_line(line):
            break
        pos += len(line) + 1
    return min(pos, len(text))


def _cell(chunk: Chunk, found: Figure) -> TableRow | None:
    """The table row whose cell holds a figure, or None."""
    if " | " not in chunk.text and "\t" not in chunk.text:
        return None
    return next((row for row in table_rows(chunk) if column_of(row, found.start) is not None), None)


def _column(chunk: Chunk, found: Figure) -> tuple[int | None, int, str]:
    """The year, months (0: not stated) and header of the table column a figure's cell is in, read from the
    table's own header rows ((None, 0, "") when the figure is in no table cell, or its column names no year)."""
    if " | " not in chunk.text and "\t" not in chunk.text:
        return None, 0, ""
    for row in table_rows(chunk):
        col = column_of(row, found.start)
        if col is not None:
            if row.years[col] is None:
                return None, 0, ""
            return row.years[col], column_months(chunk, row.months[col]), row.headers[col]
    return None, 0, ""


_CLAUSE_MARKS = ("▪", "•", ";", "\n\n", ". ", "。", "；")  # a single line break is a PDF's wrapped line


def _clause(text: str, fig: Figure) -> str:
    """The clause that leads up to a figure: from the last bullet, semicolon, paragraph or sentence end before it
    ("▪ Fourth-quarter earnings per share was $(0.16)" in a bullet list written as one sentence)."""
    pre = text[max(0, fig.start - 300):fig.start]
    cut, mark = max((pre.rfind(m), m) for m in _CLAUSE_MARKS)
    return pre[cut + len(mark):] + fig.text if cut >= 0 else pre + fig.text


def _whole_clause(text: str, fig: Figure) -> str:
    """The clause of a figure on both sides: what leads up to it and what follows it to the clause's end
    ("approximately $480 million of goodwill was reallocated")."""
    post = text[fig.start + len(fig.text):fig.start + len(fig.text) + 200]
    ends = [at for m in _CLAUSE_MARKS if (at := post.find(m)) >= 0]
    return _clause(text, fig) + post[:min(ends)] if ends else _clause(text, fig) + post


def _passage(text: str, fig: Figure) -> tuple[str, str]:
    """The sentence holding a figure and the sentence before it; a table row comes with its header line."""
    lines = text.split("\n")
    pos = 0
    for i, line in enumerate(lines):
        if pos <= fig.start < pos + len(line) + 1:
            if is_table_line(line):
                # The same header the answerer reads the row with: the first line of its table, if header-like.
                top = i
                gaps = table_gaps(lines)
                while top > 0 and (is_table_line(lines[top - 1]) or top - 1 in gaps):
                    top -= 1
                header = lines[top] if top < i and is_header_row(lines[top]) else ""
                return (f"{header}\n{line}" if header else line), ""
            break
        pos += len(line) + 1
    spans = split_sentences(text, 0, len(text))
    for j, (a, b) in enumerate(spans):
        if a <= fig.start < b:
            return text[a:b], (text[spans[j - 1][0] : spans[j - 1][1]] if j else "")
    return text, ""
