"""Eval suites: JSONL files of questions with the figures and sources a right answer must have."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

SUITES = Path(__file__).resolve().parent / "suites"
KINDS = ("lookup", "comparison", "unanswerable", "follow-up")


@dataclass(frozen=True)
class ExpectedFigure:
    value: float
    unit: str  # "USD", "CNY", "HKD", "%", "count", "code", or "" for a bare number
    status: str = ""  # "derived" when the answer must compute it; otherwise it must be verified
    decimals: int | None = None
    tolerance: float | None = None  # relative; default 0.5%
    abs: bool = False  # the size is asked: "(1,120.3)" in an expense row counts as 1,120.3


@dataclass(frozen=True)
class ExpectedSource:
    document: str  # file name
    page: int | None = None


@dataclass(frozen=True)
class SuiteQuestion:
    id: str
    question: str
    kind: str
    language: str
    expected: tuple[ExpectedFigure, ...]
    sources: tuple[ExpectedSource, ...]
    history: tuple[tuple[str, str], ...] = ()
    scope: tuple[str, ...] = ()  # file names the question may be answered from (external suites); () = all
    category: str = ""  # free label for per-category scores (e.g. TAT-QA's answer_type)


def load_suite(path: Path) -> list[SuiteQuestion]:
    """Read a suite, naming the line and field of any mistake.

    Raises:
        ConfigError: a line is not valid JSON or lacks a field.
    """
    out: list[SuiteQuestion] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            kind = obj.get("kind", "lookup")
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
            out.append(SuiteQuestion(
                id=str(obj["id"]),
                question=str(obj["question"]),
                kind=kind,
                language=str(obj.get("language", "en")),
                expected=tuple(ExpectedFigure(float(e["value"]), str(e.get("unit", "")), str(e.get("status", "")),
                                              e.get("decimals"), e.get("tolerance"), bool(e.get("abs", False)))
                               for e in obj.get("expected", [])),
                sources=tuple(ExpectedSource(str(s["document"]), s.get("page")) for s in obj.get("sources", [])),
                history=tuple((str(q), str(a)) for q, a in obj.get("history", [])),
                scope=tuple(str(x) for x in obj.get("scope", [])),
                category=str(obj.get("category", "")),
            ))
        except KeyError as exc:
            raise ConfigError(f"{path}:{i}: missing field {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path}:{i}: {exc}") from exc
    return out
