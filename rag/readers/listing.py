"""The list reader: "Which ETFs are mentioned?", "Which deals …?", "List the segments": every match, each cited.

The asked noun is the word after which/what/list ("ETFs" → ETF). Each mention of it in the retrieved chunks that a
name stands before ("Hong Kong Innovative Drug ETF (Code: 159567)") is one item: the capitalised words before the
noun, the noun, and a parenthesis right after it. When no mention carries a name, the sentences that mention the
noun are the items. Items are listed once, in the order of the chunks' ranks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.companies import mentions
from rag.compose import compose
from rag.query import QueryAnalysis
from rag.readers import Evidence
from rag.text import split_sentences
from rag.types import Chunk, RetrievedChunk

NAME = "list"
MAX_ITEMS = 12
_ASKED = re.compile(r"^(?:which|what)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?([A-Za-z][\w&/-]*)|"
                    r"^(?:list|name|enumerate)\s+(?:all\s+|the\s+)?([A-Za-z][\w&/-]*)|哪些([\u4e00-\u9fff]{1,4})",
                    re.IGNORECASE)
_LINKING = frozenset("of and & for the de".split())
_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve")


@dataclass(frozen=True)
class Item:
    chunk: Chunk
    rank: int
    text: str  # the sentence that names the item (what is quoted)
    name: str


def asked_noun(question: str) -> str:
    """The noun a list question asks for, singular ("Which ETFs are mentioned?" -> "ETF"), or ""."""
    m = _ASKED.search(question.strip())
    if m is None:
        return ""
    noun = next(g for g in m.groups() if g)
    if noun.lower() in ("are", "is", "were", "was", "do", "does", "did", "the", "of"):
        return ""
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ses", "xes")) and len(noun) > 4:
        return noun[:-2]
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") and len(noun) > 2 else noun


def _names_in(sentence: str, noun: str) -> list[str]:
    """Each name that ends with ``noun`` in a sentence: capitalised words before it, a parenthesis after it."""
    words = list(re.finditer(r"[^\s]+", sentence))
    out = []
    for i, w in enumerate(words):
        core = w.group().strip(",.;:()\"'").lower()
        if core not in (noun.lower(), noun.lower() + "s", noun.lower() + "es"):
            continue
        j = i
        while j > 0 and i - j < 6:
            prev = words[j - 1].group()
            if prev[:1].isupper() or (prev.lower() in _LINKING and j - 1 > 0 and words[j - 2].group()[:1].isupper()):
                j -= 1
            else:
                break
        if j == i:
            continue  # "relevant ETF tools": no name stands before the noun
        start, end = words[j].start(), w.end()
        rest = sentence[end:]
        paren = re.match(r"\s*\([^()]{1,40}\)", rest)
        if paren:
            end += paren.end()
        out.append(sentence[start:end].strip(" ,;:"))
    return out


def read(analysis: QueryAnalysis, ranked: Sequence[RetrievedChunk]) -> Evidence | None:
    """Every item the retrieved chunks name, or None when the question names no noun or nothing mentions it."""
    noun = asked_noun(analysis.question)
    if not noun:
        return None
    named: list[Item] = []
    mentioning: list[Item] = []
    for rank, rc in enumerate(ranked):
        text = rc.chunk.text
        identity = f"{rc.chunk.title} {rc.chunk.company}".lower()
        for a, b in split_sentences(text, 0, len(text)):
            sentence = " ".join(text[a:b].split())
            if not all(mentions(e, f"{sentence.lower()} {identity}") for e in analysis.entities):
                continue
            if analysis.years and not any(y in sentence for y in analysis.years):
                continue
            names = _names_in(sentence, noun)
            named += [Item(rc.chunk, rank, sentence, n) for n in names]
            if not names and noun.lower() in sentence.lower():
                mentioning.append(Item(rc.chunk, rank, sentence, ""))
    items = list({i.name.lower(): i for i in reversed(named)}.values())[::-1] if named else []
    if items:
        items = items[:MAX_ITEMS]
        count = _WORDS[len(items)] if len(items) < len(_WORDS) else "Many"  # in words: a digit would be a figure
        lead = f"{count} {noun}{'s' if len(items) > 1 else ''} named: " + "; ".join(i.name for i in items)
        draft = compose([(i, "") for i in items], lead=lead, quote_in_text=False)
        return Evidence(draft, 0.8, NAME)
    if mentioning:
        seen: dict[str, Item] = {}
        for i in mentioning:
            seen.setdefault(i.text, i)
        chosen = list(seen.values())[:4]
        return Evidence(compose([(i, "") for i in chosen]), 0.5, NAME)
    return None
