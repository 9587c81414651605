"""Query analysis: a question taken apart once into a typed ``QueryAnalysis`` that every later stage reads.

Directives ("Answer in USD billions.", "Round to two decimal places", 请用亿元回答) are taken out of the question
and turned into an ``AnswerFormat``; periods are parsed once; entities come from the company lexicon and the
documents' own metadata, while other capitalised words are ``hints`` that may raise a score but never refuse;
measures come from the measure lexicon; the operation (lookup, change, growth, average ...) from the operation
cues. All vocabulary is ``rag.lexicon`` data, passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.companies import names_of, multiword_names
from rag.glossary import alternatives
from rag.intent import (
    _COMPARE_WORDS,
    _CORPORATE_WORDS,
    _COUNT_WORDS,
    _CURRENCY_WORDS,
    _DATE,
    _PERCENT_WORDS,
    _YEAR,
    _ZH_YEAR,
    chinese_companies,
)
from rag.lexicon import Lexicon, default_lexicon, find_name
from rag.text import search_tokens

_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "一": 1, "两": 2, "二": 2, "三": 3, "四": 4}
_SCALE_WORDS = {"thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9,
                "billions": 1e9, "units": 1.0, "亿元": 1e8, "万元": 1e4, "百万元": 1e6, "千元": 1e3, "元": 1.0,
                "亿美元": 1e8, "万美元": 1e4, "百万美元": 1e6}
_CURRENCY_CODES = {"usd": "USD", "us$": "USD", "$": "USD", "dollars": "USD", "us dollars": "USD", "rmb": "CNY",
                   "cny": "CNY", "yuan": "CNY", "hkd": "HKD", "eur": "EUR"}
# A capitalised run of words: a name, a ticker or a product ("Zai Lab", "AAPL", "New-Co").
_CAPITALISED = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9&.\-']*[A-Za-z0-9](?:\s+[A-Z][A-Za-z0-9&\-']*)*)")
_QUARTER = re.compile(r"\bQ([1-4])\b|\b(first|second|third|fourth)[- ]quarter\b|第([一二三四])季度|([1-4])Q\b|"
                      r"\b(?:three[- ]months?|thirteen[- ]weeks|(?:the|a|fiscal)\squarter)\b|单季度?",
                      re.IGNORECASE)
_HALF = re.compile(r"\bH([12])\b|\b(first|second)[- ]half\b|([上下])半年|\bsix[- ]months?\b|\binterim\b|半年度|中期",
                   re.IGNORECASE)
_NINE = re.compile(r"\bnine[- ]months?\b|\b9M\b|前三季度|1-9月", re.IGNORECASE)
_FISCAL_WORD = re.compile(r"\bfiscal\b|\bFY\s?'?\d", re.IGNORECASE)
_LINKING = frozenset({"by", "from", "of", "the", "and", "in", "for", "to", "on", "at", "a", "an"})
_FY_SHORT = re.compile(r"\bFY\s?'?(\d{2})\b", re.IGNORECASE)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4, "上": 1, "下": 2}


@dataclass(frozen=True)
class AnswerFormat:
    """How the question asks the answer to be written (from its directives)."""

    scale: float | None = None  # 1e9 for "in USD billions"; None: as the source writes it
    currency: str = ""
    decimals: int | None = None
    percent: bool = False
    statement: str = ""  # income | balance | cash_flow: the statement to rely on


@dataclass(frozen=True)
class Period:
    """A period the question asks about: a fiscal or calendar year, or part of one."""

    year: int
    months: int = 12  # 3 (a quarter), 6 (a half), 9 (nine months), 12 (a year)
    part: int = 0  # which quarter (1-4) or half (1-2); 0 for a year or nine months


@dataclass(frozen=True)
class QueryAnalysis:
    """A question taken apart for retrieval, the readers and the figure check."""

    question: str  # without inline filters and directives: what is searched for
    years: tuple[str, ...]
    dates: tuple[str, ...]  # "January 12": a day that names an event, to be found near the figure
    entities: tuple[str, ...]  # companies known to the lexicon or the corpus (or named in Chinese): must match
    quantity: str | None  # "currency" | "count" | "percent" | "code" | None
    terms: tuple[str, ...]  # search tokens of the question and their glossary translations
    concepts: tuple[frozenset[str], ...]  # one per question token: that token or any of its translations
    comparison: bool
    wants_figure: bool
    hints: tuple[str, ...] = ()  # other capitalised words ("Orchid", "New-Co"): a boost, never a refusal
    asked: str = ""  # the question as asked (with its directives)
    directives: tuple[str, ...] = ()  # the directives as written, taken out of ``question``
    format: AnswerFormat = field(default_factory=AnswerFormat)
    periods: tuple[Period, ...] = ()
    measures: tuple[str, ...] = ()  # ids of rag/lexicon/measures.yaml
    operation: str = "lookup"
    fiscal: bool = False  # the years are written as fiscal years ("fiscal 2024", "FY24")
    inputs: tuple[str, ...] = ()  # measure ids a derived metric the question names is computed from (formulas.yaml)
    forms: tuple[str, ...] = ()  # metadata forms of the kind of filing the question names ("10-K", "年报")
    statement: str = ""  # the primary statement the question names or asks to rely on (income|balance|cash_flow)

    @property
    def named(self) -> tuple[str, ...]:
        """Every name the question writes: entities, then hints."""
        return self.entities + tuple(h for h in self.hints if h not in self.entities)


def strip_directives(question: str, lexicon: Lexicon) -> tuple[str, tuple[str, ...], AnswerFormat]:
    """The question without its directives, the directives as written, and the format they ask for."""
    text = question
    found: list[str] = []
    scale: float | None = None
    currency = ""
    decimals: int | None = None
    percent = False
    statement = ""
    for d in lexicon.directives:
        while (m := d.pattern.search(text)) is not None and m.group().strip(" ,;.。，"):
            groups = {k: (v or "").lower() for k, v in m.groupdict().items()}
            if groups.get("scale"):
                scale = _SCALE_WORDS.get(groups["scale"], scale)
                if "美元" in groups["scale"]:
                    currency = "USD"
                elif groups["scale"].endswith("元"):
                    currency = currency or "CNY"
            if groups.get("currency"):
                currency = _CURRENCY_CODES.get(groups["currency"], currency)
            if groups.get("decimals"):
                raw = groups["decimals"]
                decimals = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, decimals)
            if groups.get("statement"):
                statement = lexicon.statement_named(groups["statement"]) or statement
            if d.decimals is not None:
                decimals = d.decimals
            percent = percent or d.percent
            found.append(m.group().strip(" ,;.。，"))
            keep_end = text[m.end() - 1] if m.group()[-1:] in "?？" else ""
            text = f"{text[: m.start()]} {keep_end}{text[m.end():]}"
    text = " ".join(text.split())
    text = re.sub(r"(?<!\s)\s+([?？.!,])", r"\1", text).strip(" ,;:：，")
    return text, tuple(found), AnswerFormat(scale, currency, decimals, percent, statement)


def parse_periods(question: str, years: Iterable[str]) -> tuple[Period, ...]:
    """The periods a question names: each asked year, as a whole year or the quarter, half or nine months named."""
    months, part = 12, 0
    if (q := _QUARTER.search(question)) is not None:
        months = 3
        raw = next((g for g in q.groups() if g), "")  # "the quarter ended April 30": which one, the date says
        part = int(raw) if raw.isdigit() else _ORDINAL.get(raw.lower(), 0)
    elif _NINE.search(question) is not None:
        months = 9
    elif (h := _HALF.search(question)) is not None:
        months = 6
        raw = next((g for g in h.groups() if g), "")
        part = int(raw) if raw.isdigit() else _ORDINAL.get(raw.lower(), 1 if raw == "" else 0)
        part = part or 1
    return tuple(Period(int(y), months, part) for y in years)


def _operation(question: str, lexicon: Lexicon, answer_format: AnswerFormat) -> str:
    # The cue the question writes first names the operation: "the change in Weighted average grant date price"
    # is a change, "the average of X" an average (on a tie, the earlier entry of operations.yaml).
    found = [(m.start(), i, cue.op) for i, cue in enumerate(lexicon.operations)
             if (m := cue.pattern.search(question)) is not None]
    op = min(found)[2] if found else "lookup"
    # "How much did revenue grow ..., in percent?": a change asked in percent is a growth rate
    return "growth" if op == "change" and answer_format.percent else op


def measures_in(question: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Measures the question names, longest name first so that "net income" is not also "income"."""
    low = " " + " ".join(question.lower().split()) + " "
    for title in sorted((t for st in lexicon.statements for t in st.names), key=len, reverse=True):
        while (at := find_name(low, title)) >= 0:  # "per the cash flow statement" names a statement, not cash
            low = low[:at] + " " * len(title) + low[at + len(title):]
    names = sorted(((n, m.id) for m in lexicon.measures for n in m.names), key=lambda p: -len(p[0]))
    found: list[tuple[str, str]] = []  # (measure, the name written)
    for name, mid in names:
        at = find_name(low, name)
        if at >= 0:
            found.append((mid, name))
            low = low[:at] + " " * len(name) + low[at + len(name):]
    # A long name in other words ("How much cash did Apple generate from operating activities" for "cash generated
    # by operating activities"): each of its three or more words written, in any form; it stands for the shorter
    # names whose words it holds ("cash").
    written = [w[:5] for w in re.findall(r"[a-z]+", question.lower())]
    stems = set(written)
    for name, mid in names:
        words = [w[:5] for w in re.findall(r"[a-z]+", name) if w not in _LINKING]
        if len(words) < 2 or not all(w in stems for w in words) or any(m == mid for m, _ in found):
            continue
        if not _close(written, set(words), len(words) + 4):
            continue  # its words scattered over the question ("What share of net income ... per the statement")
        if any(len(n) >= len(name) for _, n in found):
            continue
        covered = {m for m, n in found if {w[:5] for w in re.findall(r"[a-z]+", n)} <= set(words)}
        if len(words) < 3 and not covered:
            continue  # two words only stand for a shorter name they hold: "cash ... from operations" for "cash"
        found = [(mid, name)] + [(m, n) for m, n in found if m not in covered]
    return tuple(dict.fromkeys(m for m, _ in found))


def _close(written: list[str], words: set[str], width: int) -> bool:
    """Whether all ``words`` occur within ``width`` consecutive words of ``written``."""
    for start, w in enumerate(written):
        if w in words and words <= set(written[start:start + width]):
            return True
    return False


def _known(word: str, known: frozenset[str]) -> bool:
    """Whether a word names a company of the lexicon or of the corpus's documents."""
    key = word.lower().strip(".'’").removesuffix("'s").removesuffix("’s")
    return len(names_of(key)) > 1 or key in known


def known_names(companies: Iterable[str], tickers: Iterable[str] = ()) -> frozenset[str]:
    """The lower-case words a question may name a corpus company by: each ticker, each company's full name and
    its first distinctive word ("Apple Inc." -> "apple inc.", "apple"; "McDonald's Corporation" -> "mcdonald's",
    "mcdonald")."""
    out: set[str] = {t.lower() for t in tickers if t}
    for name in companies:
        low = " ".join(name.lower().split())
        if not low:
            continue
        out.add(low)
        first = low.split()[0].strip(",.")
        if len(first) > 2 and first not in _CORPORATE_WORDS:
            out.update({first, first.removesuffix("'s").removesuffix("’s")})
    return frozenset(out)


def analyze(question: str, *, lexicon: Lexicon | None = None, known: frozenset[str] = frozenset()) -> QueryAnalysis:
    """Take a question apart.

    Args:
        question: the question, inline filters already taken out (``rag.intent.split_filters``).
        lexicon: the vocabulary (default: the packaged one).
        known: lower-case company names and tickers of the corpus's documents (``known_names``).
    """
    lexicon = lexicon or default_lexicon()
    text, directives, answer_format = strip_directives(question, lexicon)
    years = list(dict.fromkeys(_YEAR.findall(text) + _ZH_YEAR.findall(text)))
    years += [y for y in (f"20{m}" for m in _FY_SHORT.findall(text)) if y not in years]
    undated = _DATE.sub(" ", text)
    entities: list[str] = []
    hints: list[str] = []
    for m in _CAPITALISED.finditer(undated):
        words = m.group(1).split()
        sentence_start = m.start() == 0 or undated[: m.start()].rstrip()[-1:] in (".", "?", "!", ":", ";")
        for i, w in enumerate(words):
            w = w.strip(".")
            low = w.lower()
            if len(w) < 2 or w.isdigit() or low in lexicon.not_names or re.fullmatch(r"[A-Z]{1,3}-?\d.*", w):
                continue
            if _known(w, known):
                entities.append(_bare(w))
            elif not (i == 0 and sentence_start and w[1:].islower() and undated[m.end():m.end() + 1] in " '’"):
                # (an English sentence's first word is capitalised anyway; "CXO公司" or "BeiGene" still names)
                hints.append(_bare(w))
    # A corpus company written with a lower-case first letter ("eBay's", "ebay") is still named: its ticker or
    # full name in any case, or its first word where the question writes a capital in it ("eBay", not "amount").
    low = " " + " ".join(undated.lower().replace("’", "'").split()) + " "
    for name in sorted(known, key=len, reverse=True):
        at = find_name(low, name) if len(name) > 2 and name not in lexicon.not_names else -1
        if at < 0 or any(e.lower() == name or name.startswith(e.lower()) for e in entities):
            continue
        written = " ".join(undated.replace("’", "'").split())[at - 1 : at - 1 + len(name)]
        if " " in name or any(ch.isupper() for ch in written):
            entities.append(name)
    entities += chinese_companies(undated)
    # "Zai Lab", "Sino Biopharm": one company, matched through its names by the first word (see rag.companies).
    for written, first in multiword_names(undated):
        rest = {w.lower() for w in written.split()[1:]}
        entities = [e for e in entities if e.lower() not in rest or e.lower() == first.lower()]
        hints = [h for h in hints if h.lower() not in rest]
        if first.lower() not in {e.lower() for e in entities}:
            entities.append(first)
    entities = list(dict.fromkeys(entities))
    hints = [h for h in dict.fromkeys(hints) if h not in entities]
    quantity = _quantity(text, answer_format)
    wants = quantity is not None or bool(re.search(r"\bwhat (was|were|is|are)\b|多少|几", text, re.IGNORECASE))
    own = [t for t in dict.fromkeys(search_tokens(text)) if t not in years]
    concepts = tuple(alternatives(t) for t in own)
    # A company named in one language is searched for by its names in the other too (君实 -> junshi).
    for e in entities:
        names = frozenset(t for n in names_of(e) for t in search_tokens(n) if t not in _CORPORATE_WORDS)
        if len(names) > 1:
            merged = [c | names if c & names else c for c in concepts]
            concepts = tuple(merged) if merged != list(concepts) else concepts + (names,)
    terms = tuple(dict.fromkeys(t for c in concepts for t in sorted(c)))
    return QueryAnalysis(
        question=text,
        years=tuple(years),
        dates=tuple(dict.fromkeys(_DATE.findall(text))),
        entities=tuple(entities),
        quantity=quantity,
        terms=terms,
        concepts=concepts,
        comparison=bool(_COMPARE_WORDS.search(text)) and (len(years) >= 2 or bool(re.search(r"ratio|share", text))),
        wants_figure=wants,
        hints=tuple(hints),
        asked=question,
        directives=directives,
        fiscal=bool(_FISCAL_WORD.search(text)),
        format=answer_format,
        periods=parse_periods(text, years),
        measures=measures_in(text, lexicon),
        operation=_operation(text, lexicon, answer_format),
        inputs=formula_inputs(text, lexicon),
        forms=lexicon.forms_named(text),
        statement=answer_format.statement or statement_in(text, lexicon),
    )


def _bare(word: str) -> str:
    """A name without its possessive: "Apple's" -> Apple, "Biologics'" -> Biologics."""
    return word.removesuffix("'s").removesuffix("’s").rstrip("'’")


def formula_inputs(question: str, lexicon: Lexicon) -> tuple[str, ...]:
    """The measures of the derived metric the question names, its longest name first ("current ratio" ->
    current_assets, current_liabilities); () when it names none."""
    low = " ".join(question.lower().split())
    named = [(len(n), f) for f in lexicon.formulas for n in f.names if find_name(low, n) >= 0]
    return max(named, key=lambda p: p[0])[1].inputs if named else ()


def statement_in(question: str, lexicon: Lexicon) -> str:
    """The primary statement whose title the question writes ("per the cash flow statement", 合并利润表), or ""."""
    low = " ".join(question.lower().split())
    named = [(len(t), st.id) for st in lexicon.statements for t in st.names if find_name(low, t) >= 0]
    return max(named)[1] if named else ""


def _quantity(text: str, answer_format: AnswerFormat) -> str | None:
    if re.search(r"\bcodes?\b|\btickers?\b|代码", text, re.IGNORECASE):
        return "code"
    if answer_format.percent or _PERCENT_WORDS.search(text):
        quantity: str | None = "percent"
    else:
        quantity = None
    if _COUNT_WORDS.search(text):
        return "count"
    if _CURRENCY_WORDS.search(text) and not (quantity == "percent" and re.search(r"growth|rate|%|同比", text)):
        return "currency"
    if quantity is None and (answer_format.scale is not None or answer_format.currency):
        return "currency"
    return quantity
