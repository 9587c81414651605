"""The passage reader: define / explain / why questions, and questions whose answer is words rather than a figure.

It quotes the best window of one or two consecutive sentences of a retrieved chunk, scored on the question's
words (a name the question writes, such as "New-Co", counts double) and the embedding similarity; no figure of
any kind is required. A sentence that refers back ("this model", "it") comes with the one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.companies import mentions
from rag.compose import compose
from rag.query import QueryAnalysis
from rag.readers import Evidence
from rag.text import search_tokens, split_sentences
from rag.types import Chunk, RetrievedChunk

NAME = "passage"
Similarity = Callable[[str, list[str]], list[float]]
MIN_SHARE = 0.5  # at least half of the question's words (or a name it writes and a third of them)
_BACK = frozenset("this that these those it its they their such the latter the former".split())
_ASKING = frozenset(search_tokens("what is are was were does do did mean meant define definition explain why how "
                                  "describe reason reasons model approach term concept"))


@dataclass(frozen=True)
class Window:
    chunk: Chunk
    rank: int
    text: str


def windows(chunk: Chunk, rank: int) -> list[Window]:
    """Each prose sentence of a chunk, and each sentence with the one before it (table rows are not prose)."""
    prose = "\n".join(line for line in chunk.text.split("\n") if " | " not in line)
    sentences = [" ".join(prose[a:b].split()) for a, b in split_sentences(prose, 0, len(prose))]
    sentences = [s for s in sentences if len(s) > 15]
    out = [Window(chunk, rank, s) for s in sentences]
    out += [Window(chunk, rank, f"{a} {b}") for a, b in zip(sentences, sentences[1:], strict=False)
            if (b.split()[0].lower() if b.split() else "") in _BACK or len(a) < 80]
    return out


def read(analysis: QueryAnalysis, ranked: Sequence[RetrievedChunk], *,
         similarity: Similarity | None = None) -> Evidence | None:
    """The window that answers best, or None when none shares enough of the question's words."""
    asked = [c for c in analysis.concepts if not (c & _ASKING)]
    if not asked:
        return None
    candidates: list[tuple[float, Window]] = []
    for rank, rc in enumerate(ranked):
        identity = f"{rc.chunk.title} {rc.chunk.company} {' '.join(rc.chunk.tickers)}".lower()
        for w in windows(rc.chunk, rank):
            low = w.text.lower()
            if not all(mentions(e, f"{low} {identity}") for e in analysis.entities):
                continue
            if analysis.years and not any(y in w.text or y in identity for y in analysis.years):
                continue
            own = set(search_tokens(w.text))
            share = sum(1 for c in asked if c & own) / len(asked)
            named = sum(1 for n in analysis.hints if mentions(n, low)) / len(analysis.hints) if analysis.hints else 0.0
            if share < MIN_SHARE and not (named == 1.0 and share >= 0.34):
                continue
            brevity = 0.05 if len(w.text) < 400 else 0.0
            candidates.append((share + 0.5 * named + brevity + 0.05 / (1 + rank), w))
    if not candidates:
        return None
    if similarity is not None:
        top = sorted(candidates, key=lambda c: -c[0])[:40]
        sims = similarity(analysis.question, [w.text for _, w in top])
        candidates = [(s + 0.5 * max(sim, 0.0), w) for (s, w), sim in zip(top, sims, strict=True)]
    score, best = max(candidates, key=lambda c: c[0])
    if len(best.text) < 80:  # a short sentence that names the thing: the definition follows it
        longer = [w for _, w in candidates if w.chunk.id == best.chunk.id and w.text.startswith(best.text + " ")]
        best = longer[0] if longer else best
    return Evidence(compose([(best, "")]), min(score / 2.0, 1.0), NAME)
