"""The extractive summarizer: "What are the main catalysts?", "Summarize …": several sentences across sections and
documents, each cited, chosen for covering the question's topic and for saying different things."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.companies import mentions
from rag.compose import compose
from rag.query import QueryAnalysis
from rag.readers import Evidence
from rag.readers.passage import Window, windows
from rag.text import search_tokens
from rag.types import RetrievedChunk

NAME = "summary"
Similarity = Callable[[str, list[str]], list[float]]
MAX_SENTENCES = 4
_GENERIC = frozenset(search_tokens("what are the main key major biggest most important summarize summarise summary "
                                   "overview highlights give me an of in for 主要 总结 概述"))


def read(analysis: QueryAnalysis, ranked: Sequence[RetrievedChunk], *,
         similarity: Similarity | None = None) -> Evidence | None:
    """Up to four sentences on the question's topic, from as many sections as possible; None when none is on it."""
    topic = [c for c in analysis.concepts if not (c & _GENERIC)]
    scored: list[tuple[float, Window, set[str]]] = []
    for rank, rc in enumerate(ranked):
        identity = f"{rc.chunk.title} {rc.chunk.company}".lower()
        for w in windows(rc.chunk, rank):
            if " " in w.text and len(w.text) > 500:
                continue
            if not all(mentions(e, f"{w.text.lower()} {identity}") for e in analysis.entities):
                continue
            own = set(search_tokens(w.text))
            share = sum(1 for c in topic if c & own) / len(topic) if topic else 0.0
            if topic and share == 0.0:
                continue
            scored.append((share + 0.05 / (1 + rank), w, own))
    if not scored:
        return None
    if similarity is not None:
        top = sorted(scored, key=lambda s: -s[0])[:60]
        sims = similarity(analysis.question, [w.text for _, w, _ in top])
        scored = [(s + max(sim, 0.0), w, own) for (s, w, own), sim in zip(top, sims, strict=True)]
    scored.sort(key=lambda s: -s[0])
    chosen: list[tuple[float, Window, set[str]]] = []
    for s, w, own in scored:
        # diverse: not the same words again (maximal marginal relevance on word overlap)
        if any(len(own & o) / max(len(own | o), 1) > 0.35 or w.text in c.text or c.text in w.text
               for _, c, o in chosen):
            continue
        chosen.append((s, w, own))
        if len(chosen) == MAX_SENTENCES:
            break
    draft = compose([(w, "") for _, w, _ in chosen])
    bullets = "\n".join(f"- {line}" for line in _lines(draft.text))
    return Evidence(type(draft)(bullets, draft.cited, draft.quotes), min(chosen[0][0], 1.0), NAME)


def _lines(text: str) -> list[str]:
    """The composed sentences, one per line (each ends with its marker)."""
    out, current = [], ""
    for token in text.split(" "):
        current = f"{current} {token}".strip()
        if token.endswith("]") and token.startswith("["):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out
