"""The figure check: every number an answer states must be in the chunk it cites, for the asked company and period."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.companies import mentions
from rag.figures import parse_figures, same_quantity
from rag.tables import column_of, figures_in, table_rows
from rag.context import INSTRUCTION, identity_text, mentions_year, names_hint, period_text
from rag.query import QueryAnalysis
from rag.text import is_header_row, is_table_line, split_sentences, table_gaps
from rag.types import CheckedFigure, Chunk, Figure

# Starts only where white space starts: from inside a run of spaces every start would rescan the run.
_MARKERS = re.compile(r"(?<!\s)(?:\s*\[\d+\])+")
_ONE = re.compile(r"\[(\d+)\]")


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
        candidates = [f for f in figures_in(chunk.text) + parse_figures(chunk.text)
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


def _context_problem(chunk: Chunk, found: Figure, intent: QueryAnalysis) -> str:
    """Why the passage around a found figure is not about the question's period or company ('' if it is).

    The period must be written in the figure's sentence (for a table row, its header) or the document's title; a
    company may also be named in the sentence before it, the section or the document's metadata.
    """
    passage, before = _passage(chunk.text, found)
    column_year = _column_year(chunk, found)
    if intent.years and column_year is not None:
        if str(column_year) not in intent.years:
            return f"for another period (its column is {column_year}; the question asks about {' or '.join(intent.years)})"
    elif intent.years and not any(mentions_year(period_text(passage, chunk.title, before), y) for y in intent.years):
        return f"for another period (the question asks about {' or '.join(intent.years)})"
    hay = f"{passage} {before} {identity_text(chunk)}".lower()
    absent = [e for e in intent.entities if not mentions(e, hay)]
    if absent:
        return f"about another company (the question asks about {', '.join(absent)})"
    return ""


def _column_year(chunk: Chunk, found: Figure) -> int | None:
    """The year of the table column a figure's cell is in, read from the table's own header rows (None when the
    figure is in no table cell, or its column names no year)."""
    if " | " not in chunk.text and "\t" not in chunk.text:
        return None
    for row in table_rows(chunk):
        col = column_of(row, found.start)
        if col is not None:
            return row.years[col]
    return None


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
