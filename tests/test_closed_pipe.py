"""Every command line stops quietly when the reader of its output goes away (`| head`): exit 141, no traceback."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

QUESTION = "How many license-out deals did Chinese drugmakers conclude in 2024?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    idx = tmp_path_factory.mktemp("pipe") / "idx"
    built = subprocess.run([sys.executable, "-m", "ingest", str(CORPUS), "--index", str(idx)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    return idx


def test_batch_into_a_reader_that_closes_after_one_line_stops_quietly(index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "many.txt"
    batch.write_text(f"{QUESTION}\n" * 300, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "rag", "ask", "--batch", str(batch), "--index", str(index)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader is gone; 299 answers are still to be written
    stderr = proc.stderr.read()
    assert proc.wait(timeout=600) == 141
    assert stderr == b""
    assert json.loads(first)["question"] == QUESTION


def test_ask_piped_into_head_exits_141_without_a_traceback(index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "many.txt"
    batch.write_text(f"{QUESTION}\n" * 300, encoding="utf-8")
    ask = shlex.join([sys.executable, "-m", "rag", "ask", "--batch", str(batch), "--index", str(index)])
    out = subprocess.run(["bash", "-c", f'{ask} | head -n 1; echo "status ${{PIPESTATUS[0]}}"'], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    lines = out.stdout.splitlines()
    assert out.stderr == ""
    assert len(lines) == 2 and json.loads(lines[0])["question"] == QUESTION
    assert lines[1] == "status 141"


@pytest.mark.parametrize("command", [
    ["-m", "ingest", "--list", "--index", "{index}"],
    ["-m", "rag", "ask", QUESTION, "--index", "{index}"],
    ["-m", "rag", "ask", QUESTION, "--index", "{index}", "--json"],
    ["-m", "evals", "list"],
], ids=["ingest --list", "rag ask", "rag ask --json", "evals list"])
def test_output_into_a_closed_pipe_exits_141_without_a_traceback(index: Path, command: list[str]) -> None:
    args = [sys.executable, *(a.format(index=index) for a in command)]
    read, write = os.pipe()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    os.close(read)  # closed before the command has even imported its modules: its first write fails
    _, stderr = proc.communicate(timeout=600)
    assert (proc.returncode, stderr) == (141, b"")


def test_error_message_into_a_closed_stderr_exits_141(tmp_path: Path) -> None:
    read, write = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "ask", "How many deals?", "--from", "2025-xx", "--index",
                             str(tmp_path / "none")], cwd=ROOT, stdout=subprocess.PIPE, stderr=write)
    os.close(write)
    os.close(read)
    stdout, _ = proc.communicate(timeout=600)
    assert (proc.returncode, stdout) == (141, b"")
