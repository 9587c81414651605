"""The line-item index: every table row label of the index, so that a measure's row is found by its name.

A filing states a measure once, in its statement ("Payments for acquisition of property, plant and equipment |
(10,708)"), and a question seldom shares the row's words: among hundreds of pages neither the dense nor the
keyword search ranks the statement page reliably ("Apple capex 2022" finds the MD&A and the tax note). This index
lists each table row's label with the years of its columns, built once per keyword index (the same visible chunks;
its build and lookup times are in benchmarks/results/line_items.md), and answers "which chunks have a row that
names this measure for this year" exactly. The table and derived readers read those chunks beside the retrieved
ones; retrieval itself is not changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.context import fiscal_shift
from rag.lexicon import Lexicon
from rag.tables import table_rows
from rag.types import Chunk


@dataclass(frozen=True)
class LabelledRow:
    """A table row as the index keeps it: where it is and what it is named."""

    position: int  # the chunk's position in the keyword index (its filter facts)
    chunk_id: str
    label: str  # lower case, spaces collapsed
    heading: str  # the heading row above it in its table ("earnings per share:" above "diluted"), or ""
    years: frozenset[int]
    statement: str  # the primary statement whose section the row is in ("income", "balance", "cash_flow") or ""
    shift: int = 0  # rag.context.fiscal_shift of its document


@dataclass(frozen=True)
class LineItemHit:
    """A chunk with a row that names an asked measure, and how well (``rag.lexicon.Lexicon.measure_fit``)."""

    chunk_id: str
    fit: float
    statement: bool  # the row is in the measure's own statement


class LineItemIndex:
    """The table rows of a set of chunks, searchable by measure."""

    def __init__(self, rows: Sequence[LabelledRow], lexicon: Lexicon) -> None:
        self.rows = list(rows)
        self.lexicon = lexicon
        self._positions = np.fromiter((r.position for r in self.rows), dtype=np.int64, count=len(self.rows))
        self._fits: dict[tuple[str, str, str], float] = {}  # (measure, label, heading) -> fit: labels repeat across filings

    @classmethod
    def build(cls, chunks: Iterable[Chunk], positions: dict[str, int], lexicon: Lexicon) -> LineItemIndex:
        """Index the rows of the chunks that ``positions`` knows (the keyword index's visible chunks)."""
        rows: list[LabelledRow] = []
        for chunk in chunks:
            pos = positions.get(chunk.id)
            if pos is None or " | " not in chunk.text:
                continue
            statement = lexicon.statement_named(chunk.section)
            shift = fiscal_shift(chunk)
            for row in table_rows(chunk):
                label = " ".join(row.label.lower().split())
                if label:
                    rows.append(LabelledRow(pos, chunk.id, label, " ".join(row.section.lower().split()),
                                            frozenset(y for y in row.years if y), statement, shift))
        return cls(rows, lexicon)

    def __len__(self) -> int:
        return len(self.rows)

    def find(self, measures: Sequence[str], *, years: Sequence[str] = (),
             mask: np.ndarray | None = None, limit: int = 8,
             asked: frozenset[str] | None = None) -> list[LineItemHit]:
        """Chunks with a row that names one of ``measures`` and has a column of every asked year, best fit first
        (the measure's own statement before a restatement of it); ``mask`` (0/1 per keyword-index position)
        filters. With ``asked`` (the question's words, first five letters) a row's fit is
        ``Lexicon.question_fit``: a sub-line the question names before the total it does not."""
        wanted = {int(y) for y in years}
        best: dict[str, LineItemHit] = {}
        chosen = range(len(self.rows)) if mask is None else np.flatnonzero(mask[self._positions])
        for i in chosen:
            row = self.rows[int(i)]
            if wanted and not wanted <= row.years and not (
                    row.shift and {y + row.shift for y in wanted} <= row.years):
                continue
            for mid in measures:
                key = (mid, row.label, row.heading)
                fit = self._fits.get(key)
                if fit is None:
                    fit = self._fits[key] = self.lexicon.row_fit(mid, row.label, row.heading)
                if fit <= 0.0:
                    continue
                if asked is not None:
                    fit = self.lexicon.question_fit(mid, row.label, row.heading, asked)
                m = self.lexicon.measure(mid)
                own = bool(m is not None and m.statement and m.statement == row.statement)
                hit = LineItemHit(row.chunk_id, fit, own)
                old = best.get(row.chunk_id)
                if old is None or (hit.fit, hit.statement) > (old.fit, old.statement):
                    best[row.chunk_id] = hit
        ordered = sorted(best.values(), key=lambda h: (-(h.fit + (0.25 if h.statement else 0.0)), h.chunk_id))
        return ordered[:limit]
