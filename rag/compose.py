"""Compose: the one place where ``[n]`` markers are made, from the quoted pieces a reader chose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.types import Chunk


class Quotable(Protocol):
    """What a reader quotes: a piece of text of one chunk."""

    @property
    def chunk(self) -> Chunk: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Draft:
    """An answer before its figures are checked: text with [n] markers and the chunk each marker cites."""

    text: str
    cited: tuple[Chunk, ...]  # cited[n-1] is the chunk of marker [n]
    quotes: tuple[str, ...]
    refused: bool = False
    reason: str = ""
    arithmetic: tuple[tuple[str, str], ...] = ()  # (result text, "a − b = c") of computed figures
    code: str = ""  # why it refused: no_passage | no_entity | no_period | no_figure | low_score | no_answer |
    # no_input | not_stated (every figure found is for another period, company or measure)


def compose(parts: Sequence[tuple[Quotable, str]], *, lead: str = "", arithmetic: Sequence[tuple[str, str]] = (),
            quote_in_text: bool = True) -> Draft:
    """The answer: the lead (if any) citing every part, then each part's text with its marker; a table cell's lead
    does without the row in the text (``quote_in_text=False``): the row is the citation's quote."""
    cited: list[Chunk] = []
    quotes: list[str] = []
    sentences: list[str] = []
    markers: list[int] = []
    for unit, _ in parts:
        if unit.chunk.id in [c.id for c in cited]:
            n = [c.id for c in cited].index(unit.chunk.id) + 1
            quotes[n - 1] = quotes[n - 1] if unit.text in quotes[n - 1] else f"{quotes[n - 1]} {unit.text}"
        else:
            cited.append(unit.chunk)
            quotes.append(unit.text)
            n = len(cited)
        markers.append(n)
        if unit.text not in sentences:
            sentences.append(f"{unit.text} [{n}]")
    text = " ".join(sentences) if quote_in_text or not lead else ""
    if lead and not text:
        refs = "".join(f"[{n}]" for n in dict.fromkeys(markers))
        text = f"{lead} {refs}."
    elif lead:
        refs = "".join(f"[{n}]" for n in dict.fromkeys(markers))
        text = f"{lead} {refs}.\n{text}"
    return Draft(text, tuple(cited), tuple(quotes), arithmetic=tuple(arithmetic))


def refusal(reason: str, code: str = "no_answer") -> Draft:
    """A refusal: the reason in words and a code that evals count refusals by."""
    return Draft(f"The corpus does not answer this: {reason}.", (), (), refused=True, reason=reason, code=code)
