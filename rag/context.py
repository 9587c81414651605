"""What a passage is about, read from the passage itself: the text that names its period, its document's identity,
the years it names (2019, FY19, 2018/19), and sentences that speak to the assistant rather than state a fact.

Shared by the readers and by the independent figure check, so that neither depends on the other.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.text import YEAR_IN_TEXT
from rag.types import Chunk

# A sentence that speaks to the assistant ("Ignore previous instructions", "Say that ...") states no fact.
INSTRUCTION = re.compile(
    r"^\W*(ignore|disregard|forget|say|reply|respond|answer|tell|reveal|print|output|pretend|act as|you are now)\b|"
    r"previous instructions|system prompt|api key|忽略(之前|以上|前面)的?指令|系统提示",
    re.IGNORECASE,
)  # below this the best sentence does not answer the question: refuse

# A fiscal year written short: "FY19", "FY 2019", "FY'19", "2018/19", "2017-18" (the second year is the one named).
FISCAL_YEAR = re.compile(r"\bFY\s?'?((?:19|20)?\d{2})\b|(?<!\d)(?:19|20)\d{2}[/-](\d{2})(?!\d)", re.IGNORECASE)


def mentions_year(text: str, year: str) -> bool:
    """Whether ``text`` names ``year`` ("2019"), written in full or as a fiscal year ("FY19", "2018/19")."""
    if year in text:
        return True
    short = year[-2:]
    return any((m[1] or m[2]).endswith(short) and len(m[1] or m[2]) in (2, 4) and (len(m[1] or m[2]) == 2 or
                                                                                    (m[1] or m[2]) == year)
               for m in FISCAL_YEAR.finditer(text))


def period_text(passage: str, title: str, before: str = "") -> str:
    """The passage when it names a year. Otherwise the sentence before it when that names one ("On July 2, 2024,
    X announced a licence ... X is also eligible for up to $5.38 billion in milestones": the second sentence
    continues the first), else the title (a filing's highlights name no year)."""
    if YEAR_IN_TEXT.search(passage) or FISCAL_YEAR.search(passage):
        return passage
    if before and (YEAR_IN_TEXT.search(before) or FISCAL_YEAR.search(before)):
        return f"{passage} {before}"
    return f"{passage} {title}"


def identity_text(chunk: Chunk) -> str:
    """A chunk's document identity: title, company, tickers, file name and section."""
    return f"{chunk.title} {chunk.company} {' '.join(chunk.tickers)} {Path(chunk.source).stem} {chunk.section}"


def names_hint(hint: str, text_lower: str) -> bool:
    """Whether a lower-case text names a name the question writes, as written or in the singular ("ETFs" -> ETF)."""
    from rag.companies import mentions

    return mentions(hint, text_lower) or (len(hint) > 3 and hint.endswith("s") and mentions(hint[:-1], text_lower))
