"""The eval harness as CI and users run it: our suites on the bundled corpus, thresholds, reports, compare."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

SUITES = [str(ROOT / "evals" / "suites" / "sector_article.jsonl"), str(ROOT / "evals" / "suites" / "sample_filing.jsonl")]
# What holds today on the bundled corpus; CI fails when a change drops below.
THRESHOLDS = ["figure_accuracy=1.0", "figure_faithfulness=1.0", "refusal_accuracy=1.0", "recall_at_k=1.0",
              "mrr=0.9", "citation_precision=0.95", "pass_rate=1.0"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("evals")
    shutil.copytree(CORPUS, base / "corpus")
    built = run("-m", "ingest", base / "corpus", "--index", base / "idx")
    assert built.returncode == 0, built.stderr
    return base / "idx"


@pytest.fixture(scope="module")
def report(index: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("report")
    out = run("-m", "evals", "run", *SUITES, "--index", index, "--report", folder, "--fail-under", *THRESHOLDS)
    return folder, out


def test_our_suites_pass_their_thresholds(report: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, out = report
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    m = data["metrics"]
    assert (m["questions"], m["figure_accuracy"], m["figure_faithfulness"], m["refusal_accuracy"]) == (54, 1.0, 1.0, 1.0)
    assert m["unverified_figures"] == 0
    assert set(m) >= {"recall_at_k", "mrr", "citation_precision", "latency_total_p50_ms", "latency_total_p95_ms",
                      "latency_retrieve_p50_ms", "latency_rerank_p50_ms", "latency_answer_p50_ms"}
    assert set(data["suites"]) == {"sector_article", "sample_filing"}
    assert len(data["questions"]) == 54
    q = next(q for q in data["questions"] if q["id"] == "more-deals")
    assert q["passed"] and any(f["status"] == "derived" and f["value"] == 63 for f in q["figures"])
    summary = out.stdout.splitlines()
    assert summary[0].split()[:4] == ["suite", "n", "figure_accuracy", "figure_faithfulness"]
    assert summary[1].split()[:3] == ["sector_article", "45", "1.000"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<h2>Metrics per suite</h2>" in page and "<svg" in page and "more-deals" in page


def test_a_threshold_that_fails_exits_1_and_says_which(index: Path, tmp_path: Path) -> None:
    out = run("-m", "evals", "run", SUITES[1], "--index", index, "--report", tmp_path / "r",
              "--fail-under", "figure_accuracy=1.01")
    assert out.returncode == 1
    assert "THRESHOLD FAILED: sample_filing: figure_accuracy = 1.000 is under 1.01" in out.stderr
    bad = run("-m", "evals", "run", SUITES[1], "--index", index, "--fail-under", "accuracy=1")
    assert bad.returncode == 2 and "use METRIC=VALUE with METRIC one of figure_accuracy" in bad.stderr


def test_compare_names_what_changed(report: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder, _ = report
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    worse = json.loads(json.dumps(data))
    q = next(q for q in worse["questions"] if q["id"] == "deals-2024")
    q["passed"], q["why"] = False, ["expected 94 count: not stated"]
    worse["metrics"]["pass_rate"] = 53 / 54
    (tmp_path / "b.json").write_text(json.dumps(worse), encoding="utf-8")
    out = run("-m", "evals", "compare", folder, tmp_path / "b.json")
    assert out.returncode == 0
    assert "pass_rate                    1.000    0.981    -0.019" in out.stdout
    assert "0 question(s) now pass, 1 now fail, 0 new, 0 gone." in out.stdout
    assert "  WORSE  sector_article/deals-2024: expected 94 count: not stated" in out.stdout


def test_a_broken_suite_line_is_named(tmp_path: Path, index: Path) -> None:
    suite = tmp_path / "mine.jsonl"
    suite.write_text('{"id": "a", "question": "How many deals in 2024?"}\n{"id": "b"}\n', encoding="utf-8")
    out = run("-m", "evals", "run", suite, "--index", index)
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {suite}:2: missing field 'question'"
