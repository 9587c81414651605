"""Reranking of fused candidates by what the question gives away: years, names, kind of figure, its words."""

from __future__ import annotations

import logging

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rag.companies import mentions
from rag.figures import parse_figures
from rag.lexicon import Lexicon, default_lexicon
from rag.query import QueryAnalysis
from rag.text import search_tokens
from rag.types import Chunk, RetrievedChunk

logger = logging.getLogger(__name__)

# Weights of the feature reranker; chosen on the bundled eval suite (see README "Retrieval"). W_YEAR was raised
# from 0.5 to 1.0 on the generated 10k-chunk corpus (benchmarks/gen_corpus.py), where news restating other years'
# figures outranked the filing about the asked year: 55 -> 58 of 60 right figures, the bundled suites unchanged.
W_FUSED = 1.0
W_TERMS = 0.8
W_YEAR = 1.0
W_ENTITY = 0.6
W_QUANTITY = 0.3
# Issue 15 (benchmarks/results/retrieval.md): a table row that names the asked measure (or an input of the asked
# ratio), the document's own period and form, and the statement the question names.
W_ITEM = 1.0
W_PERIOD = 0.4
W_FORM = 0.4
W_STATEMENT = 0.5


def chunk_haystack(rc: RetrievedChunk) -> str:
    c = rc.chunk
    return f"{c.title} {c.company} {' '.join(c.tickers)} {Path(c.source).stem} {c.section} {c.text}"


def has_quantity(text: str, kind: str | None) -> bool:
    """Whether the text states a figure of the kind a question asks for."""
    figures = [f for f in parse_figures(text) if f.unit != "code"]
    if kind is None:
        return bool(figures)
    if kind == "percent":
        return any(f.unit == "%" for f in figures)
    if kind == "count":
        return any(f.unit in ("count", "") for f in figures)
    return any(f.unit in ("CNY", "USD", "HKD", "EUR") or f.scale > 1 for f in figures)


class FeatureReranker:
    """The default reranker: fused rank plus features of the question found in each candidate.

    Score = W_FUSED * fused/max(fused) + W_TERMS * share of question terms in the chunk + W_YEAR * share of asked
    years in its text + W_ENTITY * share of named entities in it (text, title, company, file name) +
    W_QUANTITY * (it states a figure of the asked kind) + W_ITEM * how well one of its table rows names an asked
    measure + W_PERIOD * ``period_fit`` of its document when it is a named company's + W_FORM * (its document is
    of the form the question names) + W_STATEMENT * (it is a table of the statement the question names).
    """

    name = "features"

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()

    def rerank(self, intent: QueryAnalysis, candidates: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        if not candidates:
            return []
        top = max(c.fused for c in candidates) or 1.0
        out = []
        for rc in candidates:
            hay = chunk_haystack(rc)
            tokens = set(search_tokens(hay))
            f_terms = sum(1 for c in intent.concepts if c & tokens) / len(intent.concepts) if intent.concepts else 0.0
            f_year = (sum(1 for y in intent.years if y in rc.chunk.text) / len(intent.years)) if intent.years else 0.0
            low = hay.lower()
            f_entity = (
                sum(1 for e in intent.entities if mentions(e, low)) / len(intent.entities) if intent.entities else 0.0
            )
            f_qty = 1.0 if intent.wants_figure and has_quantity(rc.chunk.text, intent.quantity) else 0.0
            c = rc.chunk
            # Which of a named company's filings is about the asked period; a filing of the year is no better an
            # answer than news about that year when the question names no company (bundled suite: MRR 0.838).
            owner = f"{c.company},{','.join(c.tickers)}".lower()
            f_period = period_fit(intent, c) if c.company and any(mentions(e, owner) for e in intent.entities) else 0.0
            f_form = 1.0 if intent.forms and c.form in intent.forms else 0.0
            f_statement = 1.0 if intent.statement and " | " in c.text and (
                self.lexicon.statement_named(c.section) == intent.statement) else 0.0
            score = (W_FUSED * rc.fused / top + W_TERMS * f_terms + W_YEAR * f_year + W_ENTITY * f_entity
                     + W_QUANTITY * f_qty + W_ITEM * rc.line_item + W_PERIOD * f_period
                     + W_FORM * f_form + W_STATEMENT * f_statement)
            out.append(replace(rc, rerank=round(score, 6)))
        out.sort(key=lambda r: r.rerank, reverse=True)
        return out


def period_fit(intent: QueryAnalysis, chunk: Chunk) -> float:
    """How well the chunk's document is about the asked period, by its metadata: 1.0 when its fiscal year (or the
    year its period ends) is the latest asked year and, for an asked quarter or half, its period is that one; 0.5
    when it is an asked year otherwise (a filing also states the year before); 0.0 for other or unknown periods."""
    if not intent.years:
        return 0.0
    asked = {int(y) for y in intent.years}
    own = {y for y in (chunk.fiscal_year, int(chunk.period_end[:4]) if chunk.period_end[:4].isdigit() else None) if y}
    if not own & asked:
        return 0.0
    latest = max(asked)
    part = next((p for p in intent.periods if p.year == latest and p.months < 12), None)
    if latest not in own:
        return 0.5
    if part is None:
        return 1.0 if chunk.period_type in ("FY", "") else 0.5
    if part.months == 3 and not part.part:  # "the quarter ended April 30, 2023": any quarter ending that year
        return 1.0 if chunk.period_type.startswith("Q") else 0.5
    wanted = {3: f"Q{part.part}", 6: f"H{part.part}", 9: "9M"}.get(part.months, "")
    return 1.0 if chunk.period_type == wanted else 0.5


class NoReranker:
    """Keeps the fused order (for comparison in the evals)."""

    name = "none"

    def rerank(self, intent: QueryAnalysis, candidates: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        return [replace(rc, rerank=rc.fused) for rc in candidates]


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder from a local folder (for users who have one; none ships here)."""

    name = "cross-encoder"

    def __init__(self, path: str) -> None:
        self.path = path
        self._model = None

    def rerank(self, intent: QueryAnalysis, candidates: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(self.path, device="cpu", local_files_only=True)  # type: ignore[assignment]
        scores = self._model.predict([(intent.question, rc.chunk.text) for rc in candidates])  # type: ignore[attr-defined]
        out = [replace(rc, rerank=float(s)) for rc, s in zip(candidates, scores, strict=True)]
        out.sort(key=lambda r: r.rerank, reverse=True)
        return out


