"""Text helpers shared by ingestion and answering: sentence splitting and search tokens (English + Chinese)."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|Corp|No|vs|etc|approx|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|"
    r"Dec|Fig|Ref|e\.g|i\.e|U\.S|U\.K|Ph|Rs)\.|\b[A-Z]\.(?:[A-Z]\.)*)$"
)
_EN_END = re.compile(r"[.!?][\"”’')\]]*(?=\s+[\"“‘(\[]?[A-Z0-9\u4e00-\u9fff$¥])")
_ZH_END = re.compile(r"[。！？；][\"”’」』）)]*")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``: English . ! ? and Chinese 。！？；, abbreviations respected."""
    cuts: list[int] = []
    seg = text[start:end]
    for m in _ZH_END.finditer(seg):
        cuts.append(start + m.end())
    for m in _EN_END.finditer(seg):
        if _ABBREV.search(seg, max(0, m.start() - 12), m.start() + 1):
            continue
        cuts.append(start + m.end())
    spans: list[tuple[int, int]] = []
    pos = start
    for cut in sorted(set(cuts)) + [end]:
        a, b = strip_span(text, pos, cut)
        if b > a:
            # "1." or a lone quote is not a sentence: keep it with what follows.
            if spans and len(text[spans[-1][0] : spans[-1][1]].strip()) <= 3 and spans[-1][1] <= a:
                a = spans.pop()[0]
            spans.append((a, b))
        pos = cut
    return spans


def strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b




# -- tables ----------------------------------------------------------------------------------------------------
_NUMERIC_CELL = re.compile(r"^[(\-−+]?[$¥€£]?\s*\d[\d,]*(\.\d+)?\s*%?\)?$|^(n/?m|n/?a|—|-|–)$", re.IGNORECASE)


def is_table_line(line: str) -> bool:
    s = line.strip()
    return " | " in s or (s.startswith("|") and s.endswith("|") and s.count("|") >= 2) or s.count("\t") >= 2


def cells(line: str) -> list[str]:
    return [line[a:b].strip() for a, b in cell_spans(line)]


def cell_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a table row in ``line``; outer bars ("| a | b |") start and end no cell."""
    a, b = len(line) - len(line.lstrip()), len(line.rstrip())
    # Outer bars come in pairs ("| a | b |"); a row that only starts with a bar (" | 2022 | 2021") starts with an
    # empty first cell: a header row whose label column is blank.
    if a < b and line[a] == "|" and line[b - 1] == "|" and b - a > 1:
        while a < b and line[a] == "|":
            a += 1
        while b > a and line[b - 1] == "|":
            b -= 1
    sep = "\t" if "\t" in line[a:b] and "|" not in line[a:b] else "|"
    out: list[tuple[int, int]] = []
    for part in line[a:b].split(sep):
        out.append((a, a + len(part)))
        a += len(part) + 1
    return out


# A year written in text (2025, not 12025 or 20251): what a passage's period is read from.
YEAR_IN_TEXT = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Each bar takes the spaces after it ("\s*\|?\s*" would let two quantifiers share a run of spaces: quadratic).
_MD_TABLE_SEP = re.compile(r"^\s*(?:\|\s*)?:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*(?:\|\s*)?$")


def is_separator_row(line: str) -> bool:
    """A Markdown table's ``| --- | :---: |`` line under its header."""
    return bool(_MD_TABLE_SEP.match(line))


def table_gaps(lines: Sequence[str]) -> frozenset[int]:
    """Indices of blank lines that sit inside a table: between rows of the same width.

    Some converters (and Markdown written by hand) put a blank line after every row. Such rows are still one table,
    so that each keeps its header, unless the row after the gap starts a new table (a header over a ``---`` line).
    """
    if not any("|" in line or "\t" in line for line in lines):
        return frozenset()
    gaps: set[int] = set()
    first: int | None = None  # first line of the table being read
    rows = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if is_table_line(line):
            if first is None:
                first, rows = i, 0
            rows += 1
            i += 1
            continue
        if line.strip() or first is None:
            first = None
            i += 1
            continue
        j = i
        while j < n and not lines[j].strip():
            j += 1
        if j < n and _table_goes_on(lines, first, rows, j):
            gaps.update(range(i, j))
        else:
            first = None
        i = j
    return frozenset(gaps)


def _table_goes_on(lines: Sequence[str], first: int, rows: int, j: int) -> bool:
    nxt = lines[j]
    if not is_table_line(nxt) or len(cells(nxt)) != len(cells(lines[first])):
        return False
    if is_separator_row(nxt):
        return rows == 1  # header, gap, separator
    k = next((k for k in range(j + 1, len(lines)) if lines[k].strip()), None)
    return k is None or not is_separator_row(lines[k])


_YEAR_CELL = re.compile(r"^(?:19|20)\d{2}$")


def is_header_row(line: str) -> bool:
    """A table row reads as a header when fewer than half of its non-empty cells are plain numbers."""
    filled = [c for c in cells(line) if c]
    if not filled:
        return False
    # A year is a column's period, not a quantity: "(In millions) | 2022 | 2021" is a header row.
    numeric = sum(1 for c in filled if _NUMERIC_CELL.match(c) and not _YEAR_CELL.match(c))
    return numeric * 2 < len(filled)



# -- search tokens ---------------------------------------------------------------------------------------------
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# Words, numbers and codes; joined compounds such as "pd-1/vegf", "45.456", "1,496.5", "600276.sh" stay whole.
_WORD = re.compile(r"[a-z0-9\uff10-\uff19]+(?:[-/.,'&][a-z0-9]+)*")
_STOP_EN = frozenset(
    "a an the and or of in on at to for from by with as is are was were be been being it its this that these those "
    "what which who whom how much many did do does has have had will would can could should may might than then "
    "there their they them he she his her we our you your i me my about into over under up down out not no yes "
    "if so such also any all each per vs via s".split()
)
_STOP_ZH = frozenset("年 月 日 的 了 是 在 和 与 及 或 为 对 中 有 多少 什么 哪些 哪个 怎么 如何 吗 呢 吧 啊 其 该 这 那 个 之 而 并 等 也 都 把 被 从 到 于".split())
_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:
        jieba.initialize()
    return jieba


def search_tokens(text: str) -> list[str]:
    """Tokens for keyword search: lower-case English words and whole numbers/codes, jieba words for Chinese.

    "PD-1/VEGF" gives "pd-1/vegf", "pd-1", "pd", "1", "vegf"; "1,496.5" gives "1,496.5" and "1496.5";
    "454.56亿元" gives "454.56" and jieba's words. Stop words are dropped.
    """
    if len(text) > 4000:  # whole documents at ingest: not worth a cache entry
        return _tokens(text)
    return list(_cached_tokens(text))


@lru_cache(maxsize=8192)
def _cached_tokens(text: str) -> tuple[str, ...]:
    # Answering tokenizes the same retrieved chunks and sentences question after question.
    return tuple(_tokens(text))


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    low = text.lower()
    for m in _CJK_RUN.finditer(low):
        out.extend(_latin_tokens(low[pos : m.start()]))
        for word in _jieba().lcut_for_search(m.group()):
            if word.strip() and word not in _STOP_ZH:
                out.append(word)
        pos = m.end()
    out.extend(_latin_tokens(low[pos:]))
    return out


def _latin_tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(text):
        tok = m.group().strip(".,'")
        if not tok or tok in _STOP_EN:
            continue
        out.append(_stem(tok))
        if any(ch in tok for ch in "-/&'"):
            parts = [p for p in re.split(r"[-/&']", tok) if p and p not in _STOP_EN]
            out.extend(parts)
            if "/" in tok:
                out.extend(p for p in tok.split("/") if "-" in p)
        if "," in tok and tok.replace(",", "").replace(".", "").isdigit():
            out.append(tok.replace(",", ""))
    return out


def _stem(word: str) -> str:
    """Fold English plurals ("deals" -> "deal", "companies" -> "company"); leaves other words alone."""
    if not word.isalpha() or len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word
