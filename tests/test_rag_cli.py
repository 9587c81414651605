"""python -m rag ask as a user runs it: plain text, --json, --batch, errors; and the shared contract check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    idx = tmp_path_factory.mktemp("rag-cli") / "idx"
    built = run("-m", "ingest", CORPUS, "--index", idx)
    assert built.returncode == 0, built.stderr
    return idx


def test_ask_prints_answer_sources_and_figure_check(index: Path) -> None:
    out = run("-m", "rag", "ask", "What was Lanting Biopharma's revenue in 2025?", "--index", index)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:2] == [
        "Revenue for 2025 was RMB 2,356.8 million, an increase of 38.2% from RMB 1,705.4 million in 2024. [1]", ""]
    assert ("  [1] Lanting Biopharma Holdings Ltd (fictional) — Annual Results Announcement for the year ended "
            "31 December 2025 (lanting-biopharma-2025-annual-results.pdf, page 1)") in out.stdout
    assert "  verified   RMB 2,356.8 million [1]" in out.stdout


def test_ask_json_is_the_answer_object(index: Path) -> None:
    out = run("-m", "rag", "ask", "What was the code of the Hong Kong Innovative Drug ETF?", "--index", index,
              "--json", "--k", "3")
    assert out.returncode == 0, out.stderr
    a = json.loads(out.stdout)
    assert "159567" in a["answer"] and a["grounded"] is True and a["refused"] is False
    assert a["citations"][0]["n"] == 1 and a["citations"][0]["page"] is None
    assert set(a["citations"][0]) >= {"n", "source", "title", "page", "chunk_id", "quote"}
    assert len(a["retrieved"]) == 3
    assert set(a["timings_ms"]) >= {"retrieve", "rerank", "answer", "total"}


def test_batch_answers_every_line_in_order_and_survives_a_bad_line(index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"question": "How many license-out deals did Chinese drugmakers conclude in 2025?"}) + "\n"
        + json.dumps({"question": "and in 2024?", "history": [
            ["How many license-out deals did Chinese drugmakers conclude in 2025?", "157"]]}) + "\n"
        + "{not json\n"
        + "What was BeiGene's revenue in 2025?\n",
        encoding="utf-8",
    )
    out = run("-m", "rag", "ask", "--batch", batch, "--index", index)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["question"] for a in answers] == [
        "How many license-out deals did Chinese drugmakers conclude in 2025?", "and in 2024?", "{not json",
        "What was BeiGene's revenue in 2025?"]
    assert any(f["value"] == 157 and f["status"] == "verified" for f in answers[0]["figures"])
    assert any(f["value"] == 94 and f["status"] == "verified" for f in answers[1]["figures"])
    assert answers[2]["error"].startswith(f"{batch}:3: not a JSON object with a 'question' field")
    assert answers[3]["refused"] is True and answers[3]["figures"] == []


def test_ask_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    out = run("-m", "rag", "ask", "How many deals?", "--index", tmp_path / "none")
    assert out.returncode == 2
    assert out.stderr.strip() == (f"error: no index at {tmp_path / 'none'}: build it first with "
                                  f"`python -m ingest corpus/ --index {tmp_path / 'none'}`")


def test_shared_contract_check_passes(tmp_path: Path) -> None:
    script = ROOT.parent / "shared" / "tools" / "check-contracts"
    if not script.is_file():
        pytest.skip(f"{script} is absent (a clone without the shared folder)")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "PY": sys.executable}
    out = subprocess.run(["bash", str(script)], cwd=ROOT, capture_output=True, text=True, timeout=900, env=env,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "contracts hold: ingest, --list, ask --json, ask --batch"


def test_rag_package_needs_no_ingest_code_at_run_time(index: Path, tmp_path: Path) -> None:
    # rag/ answers from an index with ingest/ absent: the library layering holds at run time too.
    lib = tmp_path / "lib"
    shutil.copytree(ROOT / "rag", lib / "rag")
    out = run("-c", "import sys; sys.path.insert(0, sys.argv[1]); from rag.__main__ import main; "
              "sys.exit(main(['ask', 'How many deals in 2024?', '--index', sys.argv[2]]))", lib, index, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "94" in out.stdout
