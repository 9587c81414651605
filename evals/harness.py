"""Run eval suites through the same `ask` the chat uses and compute their metrics (deterministic, no LLM judge)."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.score import _source_matches, score_answer
from evals.suite import SuiteQuestion
from rag.assistant import Assistant
from rag.figures import same_quantity
from rag.tables import figures_in
from rag.types import Answer, Figure, Filters

logger = logging.getLogger(__name__)

METRICS = ("figure_accuracy", "figure_faithfulness", "recall_at_k", "mrr", "citation_precision",
           "refusal_accuracy", "pass_rate")
Progress = Callable[[int, int], None]


@dataclass
class QuestionReport:
    """One question's run: what was asked and expected, what came back, and how it scored."""

    id: str
    question: str
    kind: str
    category: str
    expected: list[dict[str, Any]]
    answer: str
    refused: bool
    passed: bool
    why: list[str]
    figures: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    figures_expected: int
    figures_found: int
    stated: int
    verified: int
    unverified: int
    refusal_ok: bool
    source_rank: int | None
    cited_chunks: int
    cited_with_expected: int
    timings_ms: dict[str, float]
    has_sources: bool = False
    notice: str = ""
    refusal_code: str = ""
    confident_wrong: bool = False  # every stated figure verified or derived, yet the expected one is not among them


@dataclass
class SuiteReport:
    name: str
    questions: list[QuestionReport] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    k: int = 5


def run_suite(name: str, questions: Sequence[SuiteQuestion], assistant: Assistant, *,
              progress: Progress | None = None) -> SuiteReport:
    """Ask every question of a suite and score it."""
    started = time.perf_counter()
    report = SuiteReport(name=name, k=assistant.settings.top_k)
    for i, q in enumerate(questions, start=1):
        filters = Filters(sources=q.scope) if q.scope else None
        answer = assistant.ask(q.question, history=q.history, filters=filters)
        report.questions.append(_question_report(q, answer, assistant))
        if progress:
            progress(i, len(questions))
    report.metrics = compute_metrics(report.questions)
    report.seconds = time.perf_counter() - started
    return report


def _question_report(q: SuiteQuestion, answer: Answer, assistant: Assistant) -> QuestionReport:
    res = score_answer(q, answer)
    rank = None
    if q.sources and answer.retrieved:
        for r, chunk in enumerate(assistant.store.get_chunks(list(answer.retrieved)), start=1):
            if _source_matches(q, Path(chunk.source).name, chunk.page):
                rank = r
                break
    wanted = [Figure(text="", value=e.value, unit=e.unit if e.unit != "count" else "count", decimals=6)  # type: ignore[arg-type]
              for e in q.expected if e.unit != "code"]
    with_expected = 0
    notes = {c.id: c.unit_note for c in assistant.store.get_chunks([c.chunk_id for c in answer.citations])}
    for c in answer.citations:
        held = [f for f in figures_in(c.chunk_text, notes.get(c.chunk_id, "")) if f.unit != "code"]
        if any(same_quantity(w, h) or same_quantity(w, Figure(text="", value=abs(h.quantity), unit=h.unit))
               for w in wanted for h in held):
            with_expected += 1
    if not wanted:
        with_expected = len(answer.citations) if res.passed else 0
    return QuestionReport(
        id=q.id, question=q.question, kind=q.kind, category=q.category,
        expected=[asdict(e) for e in q.expected], answer=answer.answer, refused=answer.refused, passed=res.passed,
        why=res.why, figures=[asdict(f) for f in answer.figures],
        citations=[{"n": c.n, "source": Path(c.source).name, "page": c.page, "quote": c.quote} for c in answer.citations],
        figures_expected=res.figures_expected, figures_found=res.figures_found, stated=res.stated,
        verified=res.verified, unverified=res.unverified, refusal_ok=res.refusal_ok, source_rank=rank,
        cited_chunks=len(answer.citations), cited_with_expected=with_expected,
        timings_ms=dict(answer.timings_ms), has_sources=bool(q.sources), notice=answer.notice,
        refusal_code=answer.refusal_code,
        confident_wrong=bool(q.expected) and bool(answer.figures) and res.figures_found < res.figures_expected
        and all(f.status in ("verified", "derived") for f in answer.figures),
    )


def compute_metrics(qs: Sequence[QuestionReport]) -> dict[str, float]:
    """Suite metrics; a metric with nothing to measure is left out rather than reported as a perfect score."""
    m: dict[str, float] = {"questions": float(len(qs))}
    expected = sum(q.figures_expected for q in qs)
    if expected:
        m["figure_accuracy"] = sum(q.figures_found for q in qs) / expected
    stated = sum(q.stated for q in qs)
    if stated:
        # faithful: found in the cited source (verified, quoted or computed from such figures), i.e. not unverified
        m["figure_faithfulness"] = sum(q.stated - q.unverified for q in qs) / stated
    m["unverified_figures"] = float(sum(q.unverified for q in qs))
    ranked = [q for q in qs if q.kind != "unanswerable" and q.has_sources]
    if ranked:
        m["recall_at_k"] = sum(1 for q in ranked if q.source_rank is not None) / len(ranked)
        m["mrr"] = sum(1.0 / q.source_rank for q in ranked if q.source_rank) / len(ranked)
    cited = sum(q.cited_chunks for q in qs)
    if cited:
        m["citation_precision"] = sum(q.cited_with_expected for q in qs) / cited
    if qs:
        m["refusal_accuracy"] = sum(1 for q in qs if q.refusal_ok) / len(qs)
        m["pass_rate"] = sum(1 for q in qs if q.passed) / len(qs)
        m["confident_wrong"] = float(sum(1 for q in qs if q.confident_wrong))
        for code in sorted({q.refusal_code for q in qs if q.refused and q.refusal_code}):
            m[f"refusals_{code}"] = float(sum(1 for q in qs if q.refused and q.refusal_code == code))
    for stage in ("retrieve", "rerank", "answer", "total"):
        values = [q.timings_ms[stage] for q in qs if stage in q.timings_ms]
        if values:
            m[f"latency_{stage}_p50_ms"] = statistics.median(values)
            m[f"latency_{stage}_p95_ms"] = sorted(values)[min(len(values) - 1, int(0.95 * len(values)))]
    return m
