"""Benchmark: `ask` latency per stage on the bundled corpus, for each packaged embedding model.

Run: .venv/bin/python benchmarks/ask_latency.py [--repeat 3] [--out benchmarks/results/ask_latency.md]
Builds a throw-away index per model, asks every question of the bundled eval suites (after one warm-up), and
writes a Markdown table with the machine it ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.score import score_answer  # noqa: E402
from evals.suite import load_suite  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from rag.assistant import build_assistant  # noqa: E402
from rag.config import MINILM, USE_MULTILINGUAL, Settings  # noqa: E402

SUITES = [ROOT / "evals" / "suites" / "sector_article.jsonl", ROOT / "evals" / "suites" / "sample_filing.jsonl"]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(model: str, repeat: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    try:
        settings = Settings(index=tmp / "index", embedding_model=model)
        t0 = time.perf_counter()
        ingestor = Ingestor.from_settings(settings)
        report = ingestor.run([ROOT / "corpus"])
        ingest_s = time.perf_counter() - t0
        assistant = build_assistant(settings, embedder=ingestor.embedder)
        questions = [q for s in SUITES for q in load_suite(s)]
        assistant.ask(questions[0].question)  # warm-up: model and keyword index loaded
        stages: dict[str, list[float]] = {}
        passed = 0
        for r in range(repeat):
            for q in questions:
                a = assistant.ask(q.question, history=q.history)
                for k, v in a.timings_ms.items():
                    stages.setdefault(k, []).append(v)
                if r == 0:
                    passed += score_answer(q, a).passed
        return {"model": model, "chunks": report.chunks_written, "ingest_s": ingest_s, "questions": len(questions),
                "passed": passed, "stages": stages}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ask_latency.md")
    args = parser.parse_args()
    rows = [run(m, args.repeat) for m in (USE_MULTILINGUAL, MINILM)]
    lines = [
        "# `ask` latency on the bundled corpus (extractive backend)",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Each suite question asked {args.repeat}x after "
        "one warm-up; times in ms, measured inside `Assistant.ask` (`timings_ms`). Ingest time includes loading "
        "the model.",
        "",
        "| model | chunks | ingest s | suite passed | total p50 | total p95 | retrieve p50 | rerank p50 | answer p50 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        st: dict[str, list[float]] = r["stages"]  # type: ignore[assignment]
        lines.append(
            f"| {r['model']} | {r['chunks']} | {r['ingest_s']:.1f} | {r['passed']}/{r['questions']} "
            f"| {statistics.median(st['total']):.0f} | {pct(st['total'], 95):.0f} "
            f"| {statistics.median(st['retrieve']):.0f} | {statistics.median(st['rerank']):.0f} "
            f"| {statistics.median(st['answer']):.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
