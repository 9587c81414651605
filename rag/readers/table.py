"""The table-cell reader: a line item × period read from the tables of the retrieved chunks, and arithmetic on it.

Rows are matched to the question by their label (and section) against the question's words and the measure
lexicon's line-item names; columns by the period their header names. A cell's figure is read with the unit and
scale its header states (``rag.tables.figures_in``, the same reading the figure check uses), so what the answer
states is what the check finds. Change, growth, average and sum go through ``rag.calculator``; "which year"
questions compare the asked row across its period columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.calculator import compute
from rag.companies import mentions
from rag.compose import compose
from rag.context import column_months, fiscal_shift, identity_text, names_hint, other_date, other_quarter
from rag.figures import format_quantity
from rag.lexicon import Lexicon, default_lexicon, find_name
from rag.query import QueryAnalysis
from rag.readers import Evidence
from rag.tables import TableRow, table_rows
from rag.text import search_tokens
from rag.types import Figure, RetrievedChunk

NAME = "table"
# Words that say what to do with a row, not which row: they are not matched against labels.
_NOISE = frozenset(search_tokens(
    "change changes percentage percent average mean sum difference increase decrease growth rate ratio year years "
    "fiscal value amount between from what how much did was were is are the in of for and which largest "
    "smallest higher lower larger smaller highest lowest compared respectively both each"))
_CURRENCY_UNITS = ("USD", "CNY", "HKD", "EUR")
MIN_SCORE = 0.55
_FOOTNOTE = re.compile(r"\(\d{1,2}\)|\[\d{1,2}\]|\d\)")
SURE = 0.8  # a named measure's row this sure is read from the table before any sentence
_ARITHMETIC = ("change", "growth", "average", "sum")
OPERATIONS = (*_ARITHMETIC, "compare")  # what only this reader answers from tables


def _label_score(analysis: QueryAnalysis, row: TableRow, asked: set[str], lexicon: Lexicon) -> float:
    label = row.label.lower()
    own = set(search_tokens(row.label)) - _NOISE
    around = set(search_tokens(row.section)) - _NOISE
    fit = max((lexicon.row_fit(mid, row.label, row.section) for mid in analysis.measures), default=0.0)
    measure = fit > 0.0
    if not own and not measure:
        return 0.0
    hit = own & asked
    if not hit and not measure:
        return 0.0
    precision = len(hit) / len(own) if own else 1.0
    recall = len(asked & (own | around)) / len(asked) if asked else 0.0
    if measure:  # the label is a line-item name of the asked measure ("capex" -> "Purchases of property, ...");
        # how wholly it is one decides between "Net income" and "Net income attributable to non-controlling ..."
        precision, recall = max(precision, 0.5 + 0.3 * fit), max(recall, 0.3)
    verbatim = 0.15 if label and find_name(" ".join(analysis.question.lower().split()), " ".join(label.split())) >= 0 \
        else 0.0  # as whole words: "Sales" is not written in "Salesforce's"
    statement = 0.05 if measure and _in_own_statement(analysis, row, lexicon) else 0.0
    # the same label under two headings ("Revenues: Subscription and support", "Cost of revenues: Subscription and
    # support"): the heading whose words the question writes more of
    heading = 0.05 * len(around & asked) / len(around) if around else 0.0
    return (0.4 * precision + 0.4 * recall + (0.15 if measure else 0.0) + verbatim + statement + heading
            + 0.05 / (1 + row.rank))


def _in_own_statement(analysis: QueryAnalysis, row: TableRow, lexicon: Lexicon) -> bool:
    """Whether the row is in the statement that states the asked measure (or the one the question asks to rely
    on): the income statement's "Net income", not the same label in the MD&A's reconciliation."""
    where = lexicon.statement_named(row.chunk.section)
    if not where:
        return False
    own = {m.statement for mid in analysis.measures for m in [lexicon.measure(mid)] if m is not None}
    return where in own or where == analysis.format.statement


def _kind_fits(analysis: QueryAnalysis, row: TableRow, lexicon: Lexicon) -> bool:
    """A per-share measure is read from a row of per-share amounts (two decimals: 6.11), never from the share
    counts under the same label ("Diluted | 2,766" among the weighted-average shares)."""
    kinds = {m.kind for mid in analysis.measures for m in [lexicon.measure(mid)] if m is not None}
    if kinds != {"per_share"}:
        return True
    return any(f is not None and f.decimals == 2 for f in row.figures)


def _bare_money(analysis: QueryAnalysis, row: TableRow, cols: list[int], lexicon: Lexicon) -> bool:
    """Whether an amount of money is asked and the row's cells are percentages or state neither a currency nor a
    scale (a "% of revenues" table beside the amounts)."""
    kinds = {m.kind for mid in analysis.measures for m in [lexicon.measure(mid)] if m is not None}
    if "currency" not in kinds:
        return False
    return all(f is not None and (f.unit == "%" or (f.unit not in _CURRENCY_UNITS and f.scale == 1.0))
               for f in (row.figures[c] for c in cols))


def _measure_named(analysis: QueryAnalysis, row: TableRow, lexicon: Lexicon) -> bool:
    """Whether the row's label is a line-item name of a measure the question names, or the row is the part of it
    the question names under the measure's heading ("Revenues:" above "Subscription and support" for "subscription
    and support revenue": every word of the label is the question's, ``Lexicon.question_fit``)."""
    if any(lexicon.names_measure(mid, row.label) for mid in analysis.measures):
        return True
    if not row.section:
        return False
    asked = lexicon.asked_words(analysis.question)
    return any(lexicon.question_fit(mid, row.label, row.section, asked) >= 0.9 for mid in analysis.measures)


def _columns(row: TableRow, analysis: QueryAnalysis) -> list[int]:
    """The row's columns for the asked periods (in the question's order), or [] when one is missing. A change or
    growth asked for one year ("grow year over year in fiscal 2022") is from the year before."""
    want_months = analysis.periods[0].months if analysis.periods else 12
    years = list(analysis.years)
    if analysis.operation in ("change", "growth") and len(years) == 1:
        years.append(str(int(years[0]) - 1))
    shift = fiscal_shift(row.chunk)
    if shift and (analysis.fiscal or not all(int(y) in row.years for y in years)):
        years = [str(int(y) + shift) for y in years]  # "Q1 fiscal 2024" in columns dated 2023
    out = []
    for y in years:
        year = int(y)
        # a column of the year, dated as asked, covering the asked months or months it does not state
        options = [c for c, cy in enumerate(row.years) if cy == year and row.figures[c] is not None
                   and not other_date(row.headers[c], analysis.dates)
                   and column_months(row.chunk, row.months[c]) in (want_months, 0)]
        if not options:
            return []
        fitting = [c for c in options if column_months(row.chunk, row.months[c]) == want_months]
        out.append((fitting or options)[0])
    return out


def read(analysis: QueryAnalysis, ranked: Sequence[RetrievedChunk], *,
         lexicon: Lexicon | None = None) -> Evidence | None:
    """The best-matching row's cell(s) for the asked period(s), with the operation applied; None if no row fits."""
    lexicon = lexicon or default_lexicon()
    asked = set(search_tokens(analysis.question)) - _NOISE - set(analysis.years)
    best: tuple[float, TableRow, list[int]] | None = None
    for rank, rc in enumerate(ranked):
        about = f"{rc.chunk.text} {identity_text(rc.chunk)}".lower()
        if not all(mentions(e, about) for e in analysis.entities):
            continue  # a table of another company answers nothing about the asked one
        if not all(names_hint(h, about) for h in analysis.hints):
            continue  # a name the question writes ("CXO") that the table's chunk does not: the sentences decide
        if analysis.periods and other_quarter(rc.chunk, analysis.periods[0].months, analysis.periods[0].part):
            continue  # the first quarter's release does not answer for the second
        for row in table_rows(rc.chunk, rank):
            score = _label_score(analysis, row, asked, lexicon)
            if score < MIN_SCORE or not _kind_fits(analysis, row, lexicon):
                continue
            cols = _columns(row, analysis)
            op = analysis.operation
            if not analysis.years:
                dated = [c for c, y in enumerate(row.years) if y is not None and row.figures[c] is not None]
                if op in _ARITHMETIC or op == "compare":
                    cols = dated
                else:
                    cols = dated[:1] or [c for c, f in enumerate(row.figures) if f is not None][:1]
                score *= 0.8
            if not cols or (op in ("change", "growth") and len(cols) < 2):
                continue
            if _bare_money(analysis, row, cols, lexicon):
                score -= 0.1  # "49,954" under a table that states no unit, when the statement says "$ in millions"
            if best is None or score > best[0]:
                best = (score, row, cols)
    if best is None:
        return None
    score, row, cols = best
    evidence = _answer(analysis, row, cols, score)
    if evidence is not None and _measure_named(analysis, row, lexicon):
        evidence = replace(evidence, named_measure=True)
    return evidence


def _answer(analysis: QueryAnalysis, row: TableRow, cols: list[int], score: float) -> Evidence | None:
    figures = [row.figures[c] for c in cols]
    inputs = [f for f in figures if f is not None]
    op = analysis.operation
    label = row.label if not row.section else f"{row.section} — {row.label}"
    what = f"{label}"
    if op == "compare" and len(cols) >= 2:
        pick_low = any(w in analysis.question.lower() for w in ("lower", "smaller", "lowest", "smallest", "less"))
        ordered = sorted(zip(cols, inputs, strict=True), key=lambda p: p[1].quantity, reverse=not pick_low)
        c, f = ordered[0]
        year = row.years[c]
        others = ", ".join(f"{_stated(g)} in {row.years[d]}" for d, g in ordered[1:])
        lead = f"{what} was {'lowest' if pick_low else 'highest'} in {year}: {_stated(f)} (against {others})"
        return Evidence(compose([(row, "")], lead=lead, quote_in_text=False), score, NAME)
    if op in _ARITHMETIC and len(inputs) >= (1 if op in ("average", "sum") else 2):
        ordered = sorted(zip(cols, inputs, strict=True), key=lambda p: row.years[p[0]] or 0, reverse=True)
        try:
            result = compute(op, [f for _, f in ordered], decimals=analysis.format.decimals)
        except ValueError:
            return None
        stated = [f"{_stated(f)} in {row.years[c]}" for c, f in ordered]
        noun = {"change": "change in", "growth": "percentage change in", "average": "average of",
                "sum": "sum of"}[op]
        lead = f"The {noun} {what} ({', '.join(stated)}) is {result.text}: {result.expression}"
        return Evidence(compose([(row, "")], lead=lead, arithmetic=[(result.text, result.expression)],
                                quote_in_text=False), score, NAME)
    if op in ("change", "growth"):
        return None
    if len(inputs) >= 2 and len({row.years[c] for c in cols}) == len(cols):
        # a line item asked for several years ("... for 2018 and 2019 respectively"): each, in the asked order
        stated = [f"{_stated(f)} in {row.years[c]}" for c, f in zip(cols, inputs, strict=True)]
        lead = f"{what}: {', '.join(stated[:-1])} and {stated[-1]}"
        return Evidence(compose([(row, "")], lead=lead, quote_in_text=False), score, NAME, tuple(inputs))
    f = inputs[0]
    header = row.headers[cols[0]] or (str(row.years[cols[0]]) if row.years[cols[0]] else "")
    header = " ".join(w for w in header.split() if not _FOOTNOTE.fullmatch(w))  # "2019 (1)": a mark, no figure
    shown = _stated(f)
    fmt = analysis.format
    if fmt.scale and f.unit != "%" and f.quantity:
        converted = format_quantity(f.quantity, f.unit if f.unit in _CURRENCY_UNITS else "",
                                    fmt.scale if fmt.scale in (1e3, 1e4, 1e6, 1e8, 1e9) else 1.0)
        if converted != shown:
            shown = f"{shown} ({converted})"
    lead = f"{what}{', ' + header if header else ''}: {shown}"
    return Evidence(compose([(row, "")], lead=lead, quote_in_text=False), score, NAME, (f,))


def _stated(f: Figure) -> str:
    """A cell's figure written with its scale ("24.5 million" for 24.5 under "£m"), as the check reads it back."""
    if f.unit == "%" or f.scale == 1.0:
        return f.text if not f.text.startswith("(") else format_quantity(f.quantity, _unit(f))
    hint = f.scale if f.scale in (1e3, 1e4, 1e6, 1e8, 1e9) else 1.0
    return format_quantity(f.quantity, _unit(f), hint)


def _unit(f: Figure) -> str:
    return f.unit if f.unit in _CURRENCY_UNITS or f.unit == "%" else ""
