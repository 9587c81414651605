"""Turn the external benchmarks in ../shared/benchmarks (FinEval Financial Rigor Test, TAT-QA) into eval suites."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from evals.suite import ExpectedFigure, ExpectedSource, SuiteQuestion
from rag.errors import ConfigError
from rag.figures import parse_figures, same_quantity
from rag.types import Figure, FigureUnit

__all__ = ["BENCHMARKS_DIR", "ENV_VAR", "NAMES", "ExternalSuite", "benchmarks_dir", "describe", "load_external"]

logger = logging.getLogger(__name__)

NAMES = ("fineval_rigor", "tatqa")
ENV_VAR = "SECTORCHAT_BENCHMARKS"
_DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"  # <project root>/../shared/benchmarks


def benchmarks_dir() -> Path:
    """The benchmarks folder: ``$SECTORCHAT_BENCHMARKS`` if set, else ``<project root>/../shared/benchmarks``."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser() if env else _DEFAULT_DIR


BENCHMARKS_DIR: Path = benchmarks_dir()  # as at import; load_external reads the variable again on each call

_DESCRIPTIONS = {
    "fineval_rigor": "FinEval Financial Rigor Test (GitHub SUFE-AIFLM-Lab/FinEval, Apache-2.0), Chinese stock/fund/"
    "macro questions: scores the figure of the reference fact that answers an index_extraction question and the "
    "computed gold answer of a numerical_calculation, within the documents the benchmark retrieved for it",
    "tatqa": "TAT-QA (GitHub NExTplusplus/TAT-QA, CC BY 4.0, Zhu et al. ACL 2021), English annual-report table+text "
    "questions: scores numeric gold answers (derived for arithmetic and counts) on the one page each comes from",
}


@dataclass(frozen=True)
class ExternalSuite:
    """An external benchmark as a suite: the documents to ingest into a temporary index and the questions."""

    name: str  # "fineval_rigor" | "tatqa"
    documents: tuple[Path, ...]  # only the files the selected questions need
    questions: tuple[SuiteQuestion, ...]
    description: str  # one line: source, licence, what is scored


def load_external(name: str, *, root: Path | None = None, limit: int | None = None, seed: int = 0) -> ExternalSuite:
    """Read one external benchmark as a suite.

    Args:
        name: one of ``NAMES``.
        root: the folder holding ``fineval_rigor/`` and ``tatqa/``; default ``benchmarks_dir()``.
        limit: how many questions to sample (``random.Random(seed)``, stratified so that every category is
            represented when ``limit`` allows); None for all.
        seed: the sampling seed.

    Raises:
        ConfigError: unknown name, bad limit, the benchmark folder or a line of its questions.jsonl is missing
            or malformed, or two documents share a file name.
    """
    if name not in NAMES:
        raise ConfigError(f"unknown external benchmark {name!r}: choose one of {', '.join(NAMES)}")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be a positive number of questions, got {limit}")
    folder = (root if root is not None else benchmarks_dir()) / name
    path = folder / "questions.jsonl"
    rows = _read_jsonl(path, name)
    category = _fineval_category if name == "fineval_rigor" else _tatqa_category
    build = _FinEvalBuilder(folder).question if name == "fineval_rigor" else _TatqaBuilder(folder).question
    questions: list[SuiteQuestion] = []
    documents: dict[str, Path] = {}
    try:
        chosen = [rows[i] for i in _sample([category(r) for r in rows], limit, seed)]
        for row in chosen:
            q, paths = build(row)
            questions.append(q)
            for p in paths:
                if documents.setdefault(p.name, p) != p:
                    raise ConfigError(f"{name}: two documents are named {p.name} ({documents[p.name]} and {p}); "
                                      "the source filter needs unique file names")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"{path}: a question lacks a field or has a malformed one ({exc!r}); "
                          "see ../shared/benchmarks/README.md for the expected fields") from exc
    sampled = f"sample of {len(questions)} of {len(rows)}" if len(questions) < len(rows) else f"{len(rows)}"
    return ExternalSuite(name=name, documents=tuple(documents[k] for k in sorted(documents)),
                         questions=tuple(questions), description=f"{_DESCRIPTIONS[name]} ({sampled} questions)")


def describe(suite: ExternalSuite) -> str:
    """A few lines: the suite, its document count, and questions (and those with expected figures) by category."""
    lines = [f"{suite.name}: {len(suite.questions)} questions, {len(suite.documents)} documents, "
             f"{sum(1 for q in suite.questions if q.expected)} with expected figures"]
    counts = Counter(q.category for q in suite.questions)
    scored = Counter(q.category for q in suite.questions if q.expected)
    width = max((len(c) for c in counts), default=0)
    for cat in sorted(counts):
        lines.append(f"  {cat:<{width}}  {counts[cat]:>5}  ({scored[cat]} with figures)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- reading, sampling

def _missing(path: Path, name: str) -> ConfigError:
    return ConfigError(
        f"external benchmark {name!r} not found: {path} does not exist (looked in {path.parent.parent}). "
        f"Point {ENV_VAR} at a folder holding fineval_rigor/ and tatqa/ (export {ENV_VAR}=/path/to/benchmarks). "
        "The data: FinEval \"Financial Rigor Test\" from the GitHub repository SUFE-AIFLM-Lab/FinEval (Apache-2.0) "
        "and TAT-QA from NExTplusplus/TAT-QA (CC BY 4.0), converted to one text file per document in docs/ "
        "(TAT-QA: one per context, table rows joined with ' | ') plus questions.jsonl, as described in "
        "../shared/benchmarks/README.md."
    )


def _read_jsonl(path: Path, name: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise _missing(path, name)
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{i}: not valid JSON ({exc})") from exc
    return rows


def _sample(categories: Sequence[str], limit: int | None, seed: int) -> list[int]:
    """Indices of a stratified sample: one per category, the rest in proportion to category sizes."""
    if limit is None or limit >= len(categories):
        return list(range(len(categories)))
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        groups.setdefault(c, []).append(i)
    names = sorted(groups, key=lambda c: (-len(groups[c]), c))
    if limit < len(names):
        logger.info("limit %d is below the %d categories; sampling the %d largest", limit, len(names), limit)
        quota = dict.fromkeys(names[:limit], 1)
    else:
        quota = dict.fromkeys(names, 1)
        spare, rest = limit - len(names), {c: len(groups[c]) - 1 for c in names}
        share = {c: spare * rest[c] / sum(rest.values()) for c in names}
        for c in names:
            quota[c] += math.floor(share[c])
        left = limit - sum(quota.values())  # largest remainders first; a zero remainder is never reached
        for c in sorted(names, key=lambda c: (math.floor(share[c]) - share[c], c))[:left]:
            quota[c] += 1
    rng = random.Random(seed)
    return sorted(i for c in sorted(quota) for i in rng.sample(groups[c], quota[c]))


def _fineval_category(row: dict[str, Any]) -> str:
    return f"{row['task']}/{row['category']}"


def _tatqa_category(row: dict[str, Any]) -> str:
    return f"{row['answer_type']}/{row['answer_from']}"


def _existing(folder: Path, rels: Sequence[str], qid: str) -> list[Path]:
    paths = []
    for rel in rels:
        p = folder / rel
        if p.is_file():
            paths.append(p)
        else:
            logger.warning("%s: document %s is missing; left out of its scope", qid, p)
    return paths


def _rounded(value: float, decimals: int | None, scale: float) -> float:
    """``value`` without the float noise of multiplying by a scale (8.62亿 -> 862000000.0, not 861999999.99...)."""
    return round(value, (6 if decimals is None else decimals) - round(math.log10(scale))) + 0.0


def _expected(value: float, unit: str, decimals: int | None, status: str) -> ExpectedFigure:
    # A negative gold is usually stated as a size with words ("净流出5537.66万", "decreased by 12.6 million").
    return ExpectedFigure(value=abs(value), unit=unit, status=status, decimals=decimals, abs=value < 0)


def _unique(figures: Sequence[ExpectedFigure]) -> tuple[ExpectedFigure, ...]:
    return tuple(dict.fromkeys(figures))


# ------------------------------------------------------------------------------------------------------- FinEval

# FinEval figure units -> ours. "pp" (个百分点), "bps" (基点) and "x" (倍) are read by rag.figures as bare numbers.
_FINEVAL_UNITS = {"CNY": "CNY", "USD": "USD", "HKD": "HKD", "EUR": "EUR", "%": "%"}
_OPERATOR = re.compile(r"[×xX*/÷+\-−^]")


class _FinEvalBuilder:
    """Builds FinEval questions; caches the figures parsed from each retrieved document."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._doc_figures: dict[Path, list[Figure]] = {}

    def question(self, row: dict[str, Any]) -> tuple[SuiteQuestion, list[Path]]:
        qid = str(row["id"])
        docs = _existing(self.folder, row["retrieved_docs"], qid)
        if row["task"] == "numerical_calculation":
            figures = list(row.get("figures") or [])
            # "derived" only when the benchmark's calculation computes something; "1.24%。" is a plain quote.
            status = "derived" if _OPERATOR.search(str(row.get("calculation", ""))) else ""
            if not figures:  # calc_74 "1900股": neither the benchmark's parser nor ours (a year?) reads it
                figures = [_figure_row(f) for f in _numbers(str(row.get("gold_answer", "")))]
            expected = [_fineval_expected(g, status) for g in figures]
            kind = "comparison"
        else:
            as_of = re.match(r"\d{4}", str(row.get("as_of", "")))
            choice = _choose_facts(str(row["question"]), [str(f["fact"]) for f in row["reference_facts"]],
                                   [list(f["figures"]) for f in row["reference_facts"]],
                                   as_of_year=int(as_of.group()) if as_of else 2025)
            figures = [g for group in choice.figures for g in group]
            expected = [_fineval_expected(g, "") for g in choice.figures[0]] if choice.kind == "one" else []
            kind = "lookup"
        holding = [p for p in docs if any(self._holds(p, g) for g in figures)]
        return SuiteQuestion(
            id=qid, question=str(row["question"]), kind=kind, language="zh", expected=_unique(expected),
            sources=tuple(ExpectedSource(document=p.name) for p in (holding or docs)),
            scope=tuple(p.name for p in docs), category=_fineval_category(row),
        ), docs

    def _holds(self, path: Path, g: dict[str, Any]) -> bool:
        """Whether the document states the figure (either sign), to the precision the figure is written with."""
        if path not in self._doc_figures:
            self._doc_figures[path] = parse_figures(path.read_text(encoding="utf-8", errors="replace"))
        want = Figure(text=str(g.get("raw", "")), value=abs(float(g["value"])), unit=cast(FigureUnit, _fineval_unit(g)),
                      scale=float(g.get("multiplier") or 1.0), decimals=int(g.get("decimals") or 0))
        return any(same_quantity(want, Figure(text=h.text, value=abs(h.value), unit=h.unit, scale=h.scale,
                                              decimals=h.decimals), rel_tol=0.0)
                   for h in self._doc_figures[path] if h.unit != "code")


def _fineval_unit(g: dict[str, Any]) -> str:
    unit = g.get("unit") or g.get("currency")
    if unit is None and g.get("percent"):
        return "%"
    return _FINEVAL_UNITS.get(str(unit), "")


def _fineval_expected(g: dict[str, Any], status: str) -> ExpectedFigure:
    decimals = g.get("decimals")
    scale = float(g.get("multiplier") or 1.0)
    return _expected(_rounded(float(g["normalized_value"]), decimals, scale), _fineval_unit(g), decimals, status)


def _numbers(text: str) -> list[Figure]:
    """The figures of a gold answer; the plain numbers in it when rag.figures reads none."""
    found = parse_figures(text)
    if found:
        return found
    return [Figure(text=m.group(), value=float(m.group().replace(",", "")), unit="",
                   decimals=len(m.group().partition(".")[2]), start=m.start(), end=m.end())
            for m in re.finditer(r"-?\d[\d,]*(?:\.\d+)?", text)]


def _figure_row(f: Figure) -> dict[str, Any]:
    """A figure parsed by rag.figures in the shape of a FinEval figure object."""
    return {"raw": f.text, "value": f.value, "multiplier": f.scale, "decimals": f.decimals, "unit": f.unit,
            "normalized_value": f.quantity}


# ------------------------------------------------------------------------------- FinEval: which fact answers

@dataclass(frozen=True)
class _FactChoice:
    """The reference facts that answer an index_extraction question, and the figure(s) each gives for it.

    ``kind`` is "one" (the chosen facts agree on one value), "several" (they disagree: no single gold) or "none".
    """

    kind: str
    indicator: str
    facts: tuple[int, ...]
    figures: tuple[tuple[dict[str, Any], ...], ...]  # FinEval figure objects, one group per chosen fact


_CN_DIGIT = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
             "九": "9", "十": "10"}
_SKIP = frozenset("“”\"‘’'「」『』 \t\r\n")
_LEAD = re.compile(r"^(?:帮我看看|帮我查|提供下股票|提供下|怎么查|我想了解|关于|分析一下|请问)")
_TRAIL = re.compile(r"(?:是多少|多少|是什么|是谁|如何|怎么样|怎样|怎么看|情况|最新数据|我?可以买吗|值得投资吗|值得购买吗|能到"
                    r"|[?。!呀吗呢])$")
_YEAR = re.compile(r"(?<!\d)(20\d\d)年(?!\d{1,2}月)|去年|本年度")
_QUALIFIER_END = re.compile(r"(?:近\d+[年月周日天]|今年以来|成立以来|半年来|(?<!\d)\d{1,2}[年月])$")
_QUALIFIER_IN = re.compile(r"近\d|近期|今年以来|成立以来|今日|今天|现在|目前|上周|上月|半年来")
_SOFT = re.compile(r"^(?:上个交易日|上一交易日|今天|今日|现在|当前(?!价)|目前|最新|近期|近(?!\d)|股票|个股)")
_NAME_TAIL = re.compile(r"^(?:型|发起式|联接|证券投资|交易型开放式指数|集合资产管理计划|基金中基金|基金|[A-H]类"
                        r"|ETF|LOF|FOF|QDII)+")  # the rest of a fund's full name: "...增强型证券投资基金A类"
_NAME_LEFT = re.compile(r"(?:[A-H]类?|ETF|LOF|FOF|QDII|-[A-Z]{1,2}|集团)*")
_SYNONYMS = (("价格最大值", "最高价"), ("上涨封板价", "涨停价"), ("每股利润", "每股收益"), ("基金净值", "单位净值"),
             ("半年来", "近6月"), ("半年", "近6月"), ("股价", "当前价"), ("GDP总量", "国内生产总值"), ("赤字比率", "赤字率"),
             ("同类排名", "同类收益率排名"))
_WHOLE_SYNONYMS = {"日涨跌幅": "涨跌幅", "净值": "单位净值"}
# A fact whose indicator carries one of these before the asked words measures something else.
_BLOCKING = re.compile(r"近\d|(?<!\d)\d{1,2}[年月周日天]|今年以来|成立以来|上周|上月|滚动|静态|年化|同类|主力|游资|散户"
                       r"|扣非|预测|预估|预计|盘中")
_VALUE_NEXT = re.compile(r"(?:为|是|达到|达|约为|约|:)")
_FACT_DATE = re.compile(r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?")
_RANGE_JOIN = re.compile(r"\s*(?:至|到|~|-|—|–)\s*")


def _normalise(text: str) -> tuple[str, list[int]]:
    """Text for matching (full-width folded, quotes and bracketed remarks dropped, 最近->近, 个月->月, 三年->3年)
    and, for each of its characters, the index of the character of ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    depth = 0
    for i, ch in enumerate(text):
        nxt, prev = text[i + 1:i + 2], text[i - 1:i]
        c = unicodedata.normalize("NFKC", ch)
        if c == "(" or depth:  # a bracketed remark: "(LOF)", "(TTM)", "(834058.BJ)"
            depth = depth + (c == "(") - (c == ")")
            continue
        if c in _SKIP or (ch == "最" and nxt == "近") or (ch == "个" and nxt == "月"):
            continue
        if ch in _CN_DIGIT and nxt in "年月周日天个" and prev not in _CN_DIGIT:
            c = _CN_DIGIT[ch]
        out.append(c)
        where.extend([i] * len(c))
    return "".join(out), where


def _indicator(question: str, facts: Sequence[str], as_of_year: int) -> tuple[str, str, int | None]:
    """(entity, indicator, year asked) of a question, given the normalised facts:
    '一鸣食品的20日主力净流入是多少' -> ('一鸣食品', '20日主力净流入', None)."""
    q, _ = _normalise(question)
    q = re.sub(r"\d{6}(?:\.[A-Za-z]{2})?", "", q)  # stock and fund codes
    q = re.sub(r"^(\d\d)年", r"20\1年", q)
    year: int | None = None
    if m := _YEAR.search(q):
        year = int(m.group(1)) if m.group(1) else as_of_year - 1 if m.group() == "去年" else as_of_year
        q = q[:m.start()] + q[m.end():]
    previous = None
    while previous != q:
        previous, q = q, _TRAIL.sub("", _LEAD.sub("", q))
    if "的" in q:
        entity, _, ind = q.partition("的")
    else:  # the entity is the longest start of the question that the facts also write
        joined = "\n".join(facts)
        k = len(q)
        while k >= 2 and q[:k] not in joined:
            k -= 1
        entity = q[:k] if k >= 2 else ""
        if k == len(q) and re.search(re.escape(q) + _VALUE_NEXT.pattern, joined):
            entity = ""  # "活期利率": the whole question is an indicator the facts give a value for
        if cut := _QUALIFIER_IN.search(entity):
            entity = entity[:cut.start()]
        ind = q[len(entity):]
    if m := _QUALIFIER_END.search(entity):  # "平安短债债券I近1月的收益率": the window belongs to the indicator
        entity, ind = entity[:m.start()], m.group() + ind
    ind = _NAME_TAIL.sub("", ind.replace("的", ""))
    ind = re.sub(r"^(?:中国|我国|全国)", "", ind)
    previous = None
    while previous != ind:
        previous, ind = ind, _SOFT.sub("", ind)
    for old, new in _SYNONYMS:
        ind = ind.replace(old, new)
    return entity, _WHOLE_SYNONYMS.get(ind, ind), year


def _choose_facts(question: str, facts: Sequence[str], figures: Sequence[Sequence[dict[str, Any]]], *,
                  as_of_year: int = 2025) -> _FactChoice:
    """The reference facts whose indicator is the one the question asks for, and their figures.

    The question's indicator is what is left once the entity (the words before 的, or the longest start the facts
    share), codes, fillers, question words and soft time words are removed; synonyms map it onto the facts'
    words (股价 -> 当前价). A fact answers when it writes that indicator directly followed by its value
    ("的20日主力净流入为-5537.66万") with no other qualifier before it (a 近1周, 滚动, 主力 ... makes it another
    indicator); a question year keeps the facts that mention it; the latest dated facts win. The figure is the
    first one written after the indicator (two for a range "995.44亿至1101.36亿元").
    """
    normal = [_normalise(f) for f in facts]
    entity, ind, year = _indicator(question, [t for t, _ in normal], as_of_year)
    if len(ind) < 2:
        return _FactChoice("none", ind, (), ())
    core = ind[:-1] if ind.endswith("收益率") else ind  # facts write 收益 and 收益率, 基金收益率 and 收益率 alike
    pattern = re.compile("的?".join("(?:基金)?收" if c == "收" and core[j + 1:j + 2] == "益" else re.escape(c)
                                   for j, c in enumerate(core)) + ("率?" if core.endswith("收益") else ""))
    exact: list[tuple[int, tuple[dict[str, Any], ...]]] = []
    loose: list[tuple[int, tuple[dict[str, Any], ...]]] = []
    for i, (text, where) in enumerate(normal):
        if year is not None and str(year) not in facts[i]:
            continue
        head, comma, body = text.partition(",")
        start = len(head) + 1 if comma and re.search(r"\d|年|月|日|季|截至|以来", head) else 0
        if not start:
            body = text
        for m in pattern.finditer(body):
            if not _VALUE_NEXT.match(body, m.end()):
                continue
            found = _figures_after(facts[i], figures[i], where[start + m.end() - 1] + 1)
            if not found:
                continue
            clause = body[max(body.rfind(c, 0, m.start()) for c in ",、;:") + 1:m.start()]
            if "扣除非经常性损益" in clause:  # "扣除非经常性损益后的基本每股收益": the qualifier sits before 的
                continue
            # What the fact writes before the indicator, less its entity (the start it shares with the question's,
            # or all before 的) and fund-class letters: empty for an exact match.
            pre = clause[clause.rfind("的") + 1:]
            shared = next((j for j, (a, b) in enumerate(zip(pre, entity, strict=False)) if a != b),
                          min(len(pre), len(entity)))
            extra = _NAME_LEFT.sub("", pre[shared:] if shared >= 2 else pre, count=1)
            if not extra:
                exact.append((i, found))
            elif not _BLOCKING.search(extra):
                loose.append((i, found))
    chosen = exact or loose
    if not chosen:
        return _FactChoice("none", ind, (), ())
    latest = max(_fact_date(facts[i]) for i, _ in chosen)
    chosen = [(i, f) for i, f in chosen if _fact_date(facts[i]) == latest]
    values = {tuple((round(float(g["normalized_value"]), 6), _fineval_unit(g)) for g in f) for _, f in chosen}
    return _FactChoice("one" if len(values) == 1 else "several", ind, tuple(i for i, _ in chosen),
                      tuple(f for _, f in chosen))


def _figures_after(fact: str, figures: Sequence[dict[str, Any]], end: int) -> tuple[dict[str, Any], ...]:
    """The figure written right after position ``end`` (within the clause), with its range partner if any."""
    after = [g for g in figures if g["span"][0] >= end]
    if not after or re.search(r"[，,。；;]", fact[end:after[0]["span"][0]]) or after[0]["span"][0] - end > 8:
        return ()
    if len(after) > 1 and _RANGE_JOIN.fullmatch(fact[after[0]["span"][1]:after[1]["span"][0]]):
        return (after[0], after[1])
    return (after[0],)


def _fact_date(fact: str) -> tuple[int, int, int]:
    m = _FACT_DATE.search(fact)
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)) if m else (0, 0, 0)


# --------------------------------------------------------------------------------------------------------- TAT-QA

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_PURE_REST = re.compile(r"[\s$€£¥.]*")


class _TatqaBuilder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def question(self, row: dict[str, Any]) -> tuple[SuiteQuestion, list[Path]]:
        qid = str(row["id"])
        docs = _existing(self.folder, row["evidence_docs"], qid)
        answer_type = str(row["answer_type"])
        status = "derived" if answer_type in ("arithmetic", "count") else ""
        return SuiteQuestion(
            id=qid, question=str(row["question"]), kind="comparison" if answer_type == "arithmetic" else "lookup",
            language="en", expected=_tatqa_expected(row, status),
            sources=tuple(ExpectedSource(document=p.name) for p in docs), scope=tuple(p.name for p in docs),
            category=_tatqa_category(row),
        ), docs


def _is_year(g: dict[str, Any]) -> bool:
    v = float(g["value"])
    return not g.get("scale") and not g.get("percent") and v.is_integer() and 1900 <= v <= 2100


def _tatqa_expected(row: dict[str, Any], status: str) -> tuple[ExpectedFigure, ...]:
    """The gold figures; a year answering "in which year" is not a figure (rag.figures never reads years)."""
    span = row["answer_type"] in ("span", "multi-span")
    given = [g for g in row.get("figures") or [] if not (span and _is_year(g))]
    out = []
    for g in given:
        v = float(g["value"])
        decimals = 0 if v.is_integer() else len(repr(abs(v)).partition(".")[2])
        scale = 1.0 if g.get("percent") else _SCALES.get(str(g.get("scale")), 1.0)
        out.append(_expected(_rounded(float(g["normalized_value"]), decimals, scale),
                             "%" if g.get("percent") else "", decimals, status))
    if span:
        recovered = _quantities(row, status)
        if len(recovered) > len(out):  # "$85.1 million", "36%" or "(114)": the converter gave fewer figures
            out = recovered
    return _unique(out)


def _quantities(row: dict[str, Any], status: str) -> list[ExpectedFigure]:
    """The gold spans that are each one quantity and nothing else, read with rag.figures and the question's scale."""
    out = []
    for text in (str(s) for s in row["gold_answer"] if str(s).strip()):
        found = parse_figures(text)
        if len(found) != 1 or not _PURE_REST.fullmatch(text[:found[0].start] + text[found[0].end:]):
            return []
        f = found[0]
        percent = f.unit == "%" or row.get("scale") == "percent"
        scale = f.scale if f.scale != 1.0 or percent else _SCALES.get(str(row.get("scale")), 1.0)
        out.append(_expected(_rounded(f.value * scale, f.decimals, scale), "%" if percent else "", f.decimals, status))
    return out

