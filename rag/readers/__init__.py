"""Readers: each reads the retrieved chunks for one kind of question and returns scored evidence, or nothing.

A reader is one module with a ``read(analysis, ranked) -> Evidence | None`` callable; ``READERS`` maps each
operation to the readers tried for it, in order. The best evidence wins; the sentence answerer is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.compose import Draft
from rag.types import Figure


@dataclass(frozen=True)
class Evidence:
    """A reader's answer: the draft it composed and how sure it is (0-1)."""

    draft: Draft
    score: float
    reader: str
    figures: tuple[Figure, ...] = ()  # the figures read (a table cell), to compare with another reader's answer
    named_measure: bool = False  # the row's label is a line-item name of the measure the question names
