"""Deterministic scoring of one Answer against a suite question (no LLM judge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.suite import ExpectedFigure, SuiteQuestion
from rag.figures import parse_figures, same_quantity
from rag.types import Answer, Figure


@dataclass
class QuestionResult:
    """How one answer scored, with the reasons for each miss."""

    id: str
    passed: bool
    figures_expected: int = 0
    figures_found: int = 0
    stated: int = 0
    verified: int = 0
    unverified: int = 0
    refusal_ok: bool = True
    source_rank: int | None = None  # 1-based rank of the first retrieved chunk from an expected document
    cited_expected_source: bool = False
    why: list[str] = field(default_factory=list)


def _expected_as_figure(e: ExpectedFigure) -> Figure:
    unit = e.unit if e.unit in ("USD", "CNY", "HKD", "EUR", "%", "count", "code") else ""
    decimals = e.decimals if e.decimals is not None else 3
    return Figure(text=str(e.value), value=e.value, unit=unit, scale=1.0, decimals=decimals)  # type: ignore[arg-type]


def figure_stated(answer: Answer, e: ExpectedFigure) -> tuple[bool, str]:
    """Whether the answer states the expected figure (any written form) with the status it needs."""
    want = _expected_as_figure(e)
    tol = e.tolerance if e.tolerance is not None else 0.005
    if e.unit == "code":
        codes = [f for f in parse_figures(answer.answer) if f.unit == "code"]
        return any(abs(f.value - e.value) < 0.5 for f in codes), "code"
    for f in answer.figures:
        value = abs(f.value) if e.abs else f.value
        stated = Figure(text=f.text, value=value, unit=f.unit, scale=1.0, decimals=6)  # type: ignore[arg-type]
        if same_quantity(stated, want, rel_tol=tol):
            if e.status == "derived" and f.status != "derived":
                return False, f"{f.text} stated but not as a computed figure"
            if e.status != "derived" and f.status not in ("verified", "derived"):
                return False, f"{f.text} stated but {f.status}"
            return True, f.status
    return False, "not stated"


def score_answer(q: SuiteQuestion, answer: Answer) -> QuestionResult:
    res = QuestionResult(id=q.id, passed=False, figures_expected=len(q.expected))
    res.stated = len(answer.figures)
    res.verified = sum(1 for f in answer.figures if f.status in ("verified", "derived"))
    res.unverified = sum(1 for f in answer.figures if f.status == "unverified")
    if answer.error:
        res.why.append(f"error: {answer.error}")
    if q.kind == "unanswerable":
        res.refusal_ok = answer.refused and not answer.figures
        if not res.refusal_ok:
            res.why.append("answered a question the corpus cannot answer")
    else:
        res.refusal_ok = not answer.refused
        if answer.refused:
            res.why.append(f"refused: {answer.refusal_reason}")
    for e in q.expected:
        ok, how = figure_stated(answer, e)
        if ok:
            res.figures_found += 1
        else:
            res.why.append(f"expected {e.value:g} {e.unit}: {how}")
    docs = {s.document for s in q.sources}
    if docs:
        res.cited_expected_source = any(_source_matches(q, Path(c.source).name, c.page) for c in answer.citations)
        if not res.cited_expected_source and not answer.refused:
            res.why.append(f"cites none of {', '.join(sorted(docs))} (with the expected page)")
    res.passed = res.refusal_ok and res.figures_found == res.figures_expected and res.unverified == 0 and (
        not docs or res.cited_expected_source or q.kind == "unanswerable")
    return res


def _source_matches(q: SuiteQuestion, document: str, page: int | None) -> bool:
    """A cited (document, page) is expected when the document is, on the named page if one is named."""
    return any(s.document == document and (s.page is None or s.page == page) for s in q.sources)
