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


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False, env={**os.environ, **(env or {})})


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


DATES = "use YYYY, YYYY-MM or YYYY-MM-DD"
LIMIT = ("over the limit of 2,000 (SECTORCHAT_MAX_QUESTION_CHARS): ask a shorter question, or raise the setting")


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2025-xx"], f"--from 2025-xx is not a date: {DATES}"),
    (["--from=--"], f"--from -- is not a date: {DATES}"),  # "--from --" would end the options
    (["--to", "2025-13"], f"--to 2025-13 is not a date: there is no month 13 ({DATES})"),
    (["--to", "2025-02-30"], f"--to 2025-02-30 is not a date: 2025-02 has 28 days ({DATES})"),
    (["--from", "2025-01-32"], f"--from 2025-01-32 is not a date: 2025-01 has 31 days ({DATES})"),
    (["--from", ""], f"--from '' has no date: {DATES}"),
    (["--to", "2025 06"], f"--to '2025 06' is not a date: {DATES}"),
    (["--from", "2026", "--to", "2025"], "the date filters leave no day: from 2026-01-01 is after to 2025-12-31"),
    (["--company", ""], "--company '' has no value: give a company name or ticker"),
    (["--source", " "], "--source ' ' has no value: give a document path or file name"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_malformed_filter_option_exits_2_with_its_message_before_anything_loads(tmp_path: Path, options: list[str],
                                                                                message: str) -> None:
    # The index does not exist: the option is refused before it (or the model) is opened.
    out = run("-m", "rag", "ask", "How many deals?", "--index", tmp_path / "none", *options)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"error: {message}\n")


def test_unknown_doc_type_option_exits_2_naming_the_choices(tmp_path: Path) -> None:
    out = run("-m", "rag", "ask", "How many deals?", "--index", tmp_path / "none", "--doc-type", "bogus")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.splitlines()[-1] == ("python -m rag ask: error: argument --doc-type: invalid choice: 'bogus' "
                                           "(choose from 'news', 'filing', 'other')")


@pytest.mark.parametrize(("written", "message"), [
    ("from:2025-xx", f"from:2025-xx is not a date: {DATES}"),
    ("year:abcd", "year:abcd is not a year: use four digits (YYYY, e.g. 2025)"),
    ("until:2025-02-30", f"until:2025-02-30 is not a date: 2025-02 has 28 days ({DATES})"),
    ("type:bogus", "type:bogus is not a document type: use news, filing or other"),
])
def test_malformed_inline_filter_exits_2_with_its_message(index: Path, written: str, message: str) -> None:
    out = run("-m", "rag", "ask", f"How many deals? {written}", "--index", index, "--json")
    assert out.returncode == 2 and out.stderr == f"error: {message}\n"
    assert json.loads(out.stdout)["error"] == message


def test_question_over_the_limit_exits_2_naming_the_limit_and_the_setting(index: Path) -> None:
    out = run("-m", "rag", "ask", "x" * 2001, "--index", index)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"error: the question is 2,001 characters long, {LIMIT}\n")
    at_limit = run("-m", "rag", "ask", "How many deals in 2024? " + "x" * 1976, "--index", index, "--json")
    assert at_limit.returncode == 0 and "error" not in json.loads(at_limit.stdout)
    raised = run("-m", "rag", "ask", "x" * 2001, "--index", index, env={"SECTORCHAT_MAX_QUESTION_CHARS": "3000"})
    assert raised.returncode == 0, raised.stderr


@pytest.mark.parametrize(("value", "reason"), [
    ("0", "Input should be greater than or equal to 1"),
    ("100001", "Input should be less than or equal to 100000"),
    ("many", "Input should be a valid integer, unable to parse string as an integer"),
])
def test_question_limit_setting_is_checked_where_it_enters(tmp_path: Path, value: str, reason: str) -> None:
    out = run("-m", "rag", "ask", "How many deals?", "--index", tmp_path, env={"SECTORCHAT_MAX_QUESTION_CHARS": value})
    assert (out.returncode, out.stderr) == (2, f"error: invalid settings (env prefix SECTORCHAT_): "
                                               f"max_question_chars: {reason}\n")


def test_batch_line_with_a_bad_filter_or_an_overlong_question_fails_alone(index: Path, tmp_path: Path) -> None:
    huge = "What was the revenue? " * 50_000  # 1.1M characters
    lines = [
        "How many license-out deals did Chinese drugmakers conclude in 2025?",
        "How many deals? from:2025-xx",
        json.dumps({"question": "How many deals? year:abcd"}),
        "How many deals? to:2025-13",
        "How many deals? type:bogus",
        huge,
        json.dumps({"question": "and in 2024?", "history": [
            [huge, "Error"], ["How many license-out deals did Chinese drugmakers conclude in 2025?", "157"]]}),
        "How many deals? from:2026 to:2025",
        "What was Lanting Biopharma's revenue in 2025? year:2025",
    ]
    batch = tmp_path / "q.txt"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run("-m", "rag", "ask", "--batch", batch, "--index", index)
    assert out.returncode == 0 and "Traceback" not in out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a.get("error", "") for a in answers] == [
        "",
        f"from:2025-xx is not a date: {DATES}",
        "year:abcd is not a year: use four digits (YYYY, e.g. 2025)",
        f"to:2025-13 is not a date: there is no month 13 ({DATES})",
        "type:bogus is not a document type: use news, filing or other",
        f"the question is {len(huge.strip()):,} characters long, {LIMIT}",
        "",  # the over-long turn of the history was refused when asked; the follow-up uses the other one
        "the date filters leave no day: from 2026-01-01 is after to 2025-12-31",
        "",
    ]
    assert [a["refused"] for a in answers] == [False, True, True, True, True, True, False, True, True]
    assert any(f["value"] == 157 and f["status"] == "verified" for f in answers[0]["figures"])
    assert any(f["value"] == 94 and f["status"] == "verified" for f in answers[6]["figures"])
    assert answers[5]["timings_ms"].keys() == {"total"}  # refused before retrieval
