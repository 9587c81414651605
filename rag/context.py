"""What a passage is about, read from the passage itself: the text that names its period, its document's identity,
the years it names (2019, FY19, 2018/19), and sentences that speak to the assistant rather than state a fact.

Shared by the readers and by the independent figure check, so that neither depends on the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


# The part of a year a passage is about, by the words it writes: a quarter, a half, nine months, a whole year.
_PARTS = (
    (3, re.compile(r"\b(?:Q[1-4]|(?:first|second|third|fourth)[- ]quarter|three months|thirteen weeks)\b|第[一二三四]季度|"
                   r"(?<![前])[一二三四1-4]季度", re.IGNORECASE)),
    (6, re.compile(r"\b(?:H[12]|(?:first|second)[- ]half|six months|twenty-six weeks|half[- ]year)\b|半年", re.IGNORECASE)),
    (9, re.compile(r"\b(?:nine months|thirty-nine weeks)\b|前三季度", re.IGNORECASE)),
    (12, re.compile(r"\b(?:full[- ]year|twelve months|fiscal year|years? ended|annual|FY\s?'?\d{2,4})\b|全年|年度", re.IGNORECASE)),
)


_MONTH = re.compile(r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|"
                    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s\d{1,2}\b", re.IGNORECASE)


def month_days(text: str) -> frozenset[str]:
    """The months of the dates a text writes with a day ("June 30, 2023", "Dec 31" -> {"jun", "dec"})."""
    return frozenset(m.group(1)[:3].lower() for m in _MONTH.finditer(text))


def other_date(header: str, dates: Sequence[str]) -> bool:
    """Whether a column header is dated at another month than every date the question names ("three months ended
    June 30, 2023" for "the quarter ended September 30, 2023"); False when either names no such date."""
    asked = frozenset().union(*(month_days(d) for d in dates)) if dates else frozenset()
    shown = month_days(header)
    return bool(asked and shown and not asked & shown)


def other_quarter(chunk: Chunk, months: int, part: int) -> bool:
    """Whether a quarterly report's chunk is about another quarter than the one asked: "the second quarter of
    fiscal 2024" asked of the first quarter's earnings release (its period type "Q1"), whose three-month columns
    are the first quarter's."""
    kind = chunk.period_type.upper()
    return bool(months == 3 and part and len(kind) == 2 and kind[0] == "Q" and kind[1] in "1234"
                and int(kind[1]) != part)


_WHICH_QUARTER = re.compile(r"\bQ([1-4])\b|\b(first|second|third|fourth)[- ]quarter|第([一二三四])季度", re.IGNORECASE)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4}


def quarters_named(text: str) -> frozenset[int]:
    """Which quarters a text names (1-4): "Q2", "second-quarter", "第二季度"."""
    out = set()
    for m in _WHICH_QUARTER.finditer(text):
        raw = next(g for g in m.groups() if g)
        out.add(int(raw) if raw.isdigit() else _ORDINALS[raw.lower()])
    return frozenset(out)


def months_named(text: str) -> frozenset[int]:
    """The parts of a year a passage names: 3 (a quarter), 6, 9, 12 (a whole year); empty when it names none."""
    return frozenset(months for months, rx in _PARTS if rx.search(text))


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


def fiscal_shift(chunk: Chunk) -> int:
    """Years from the fiscal year a chunk's document reports to the calendar year its period ends in: -1 for
    Salesforce's "first quarter fiscal 2024", the three months ended April 30, 2023, whose table columns say 2023;
    0 when the two agree or either is unknown."""
    end = chunk.period_end[:4]
    if chunk.fiscal_year and end.isdigit():
        shift = int(end) - chunk.fiscal_year
        return shift if abs(shift) == 1 else 0
    return 0


def column_months(chunk: Chunk, months: int) -> int:
    """The months a table column covers: as its header states, else 12 in an annual report (its columns are
    years: "2025 (RMB million)"), else 0 (not known)."""
    return months or (12 if chunk.period_type.upper() == "FY" else 0)


def column_years(chunk: Chunk, years: Sequence[str], *, fiscal: bool = False) -> tuple[str, ...]:
    """The years a table column of this chunk is dated with for the asked years: moved by the document's
    ``fiscal_shift`` when the question writes fiscal years ("Q1 fiscal 2024" is in the columns of 2023); the asked
    ones and the moved ones when it does not say which it means."""
    shift = fiscal_shift(chunk)
    moved = tuple(str(int(y) + shift) for y in years if shift and y.isdigit())
    if moved and fiscal:
        return moved
    return tuple(years) + moved


def identity_text(chunk: Chunk) -> str:
    """A chunk's document identity: title, company, tickers, file name and section."""
    return f"{chunk.title} {chunk.company} {' '.join(chunk.tickers)} {Path(chunk.source).stem} {chunk.section}"


def names_hint(hint: str, text_lower: str) -> bool:
    """Whether a lower-case text names a name the question writes, as written or in the singular ("ETFs" -> ETF)."""
    from rag.companies import mentions

    return mentions(hint, text_lower) or (len(hint) > 3 and hint.endswith("s") and mentions(hint[:-1], text_lower))


# Part of a year: a figure for "the six months ended June 30, 2025" or "前三季度" does not answer "in 2025".
PART_OF_YEAR = re.compile(
    r"\b(?:(?:six|three|nine) months ended|(?:first|second) half|half[- ]year|"
    r"interim (?:results|report|period|announcement|financial)|"
    r"(?:first|second|third|fourth|the|this|last|same|previous|latest) quarter|[1-4]Q(?:\d{2}|\d{4})?|[12]H(?:\d{2}|\d{4})?|Q[1-4]|H[12])\b|"
    r"上半年|下半年|半年度|中期(?:业绩|报告)|止[三六九]个月|前三季度|第?[一二三四]季度",
    re.IGNORECASE,
)


def part_of_year_document(chunk: Chunk) -> bool:
    """Whether the chunk's document is about part of a year: an interim or quarterly report by its period or its
    title ("2024 Interim Results": its "2023" column is the first half of 2023)."""
    return chunk.period_type.upper()[:1] in ("Q", "H") or chunk.period_type.upper() == "9M" or bool(
        PART_OF_YEAR.search(chunk.title))
