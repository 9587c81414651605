"""The command line as a user runs it: python -m ingest, its report, exit codes, --list, --delete, --rebuild."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from rag.config import Settings, load_settings
from rag.errors import ConfigError


def ingest(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled corpus (copied) ingested once into an index by the real command."""
    base = tmp_path_factory.mktemp("cli")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    run = ingest(corpus, "--index", base / "idx")
    assert run.returncode == 0, run.stderr
    assert re.search(r"2 added, 0 updated, 0 unchanged, 0 failed, 1 skipped; \d+ chunks written", run.stdout)
    return corpus, base / "idx"


def test_second_run_reports_every_file_unchanged(built: tuple[Path, Path]) -> None:
    corpus, idx = built
    run = ingest(corpus, "--index", idx)
    assert run.returncode == 0
    assert "0 added, 0 updated, 2 unchanged, 0 failed, 1 skipped; 0 chunks written, 0 stale chunks deleted." in run.stdout
    assert f"  unchanged {corpus / 'innovative-drug-sector-2026-01.md'}" in run.stdout


def test_list_shows_documents_with_dates_and_chunk_counts(built: tuple[Path, Path]) -> None:
    _, idx = built
    run = ingest("--list", "--index", idx)
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0].split()[:6] == ["DATE", "TYPE", "LANG", "PAGES", "CHUNKS", "ADDED"]
    assert re.match(r"2026-03-20\s+filing\s+en\s+3\s+\d+\s+\d{4}-\d\d-\d\d\s+Lanting Biopharma", lines[1])
    assert re.match(r"2026-01-13\s+news\s+en\s+-\s+\d+\s+\d{4}-\d\d-\d\d\s+China innovative drug sector", lines[2])
    chunks = [int(line.split()[4]) for line in lines[1:3]]
    assert lines[3] == f"2 document(s), {sum(chunks)} chunk(s)."


def test_failed_file_gives_exit_1_after_the_rest_is_ingested(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("Akeso signed a deal with US$500 million upfront.\n", encoding="utf-8")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    run = ingest(good, bad, "--index", tmp_path / "idx")
    assert run.returncode == 1
    assert "1 added, 0 updated, 0 unchanged, 1 failed" in run.stdout
    assert f"  FAILED    {bad}: not a PDF: the file has no %PDF- header" in run.stdout
    listed = ingest("--list", "--index", tmp_path / "idx")
    assert "1 document(s), 1 chunk(s)." in listed.stdout


def test_delete_then_rebuild(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, idx = built
    copy = tmp_path / "idx"
    shutil.copytree(idx, copy)
    run = ingest("--delete", "lanting-biopharma-2025-annual-results.pdf", "--index", copy)
    assert run.returncode == 0
    assert re.fullmatch(rf"Deleted {re.escape(str(corpus.resolve()))}/lanting-biopharma-2025-annual-results.pdf "
                        r"\(\d+ chunks\)\.\n", run.stdout)
    missing = ingest("--delete", "nope.pdf", "--index", copy)
    assert missing.returncode == 1
    assert "error: no document 'nope.pdf' in the index; `python -m ingest --list` shows them" in missing.stderr
    rebuilt = ingest("--rebuild", "--index", copy)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuilding the index in" in rebuilt.stdout and "from 1 path(s)." in rebuilt.stdout
    assert "1 added, 0 updated, 0 unchanged, 0 failed" in rebuilt.stdout


def test_list_of_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    run = ingest("--list", "--index", tmp_path / "nothing")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"error: no index at {tmp_path / 'nothing'}: build it first with "
        f"`python -m ingest corpus/ --index {tmp_path / 'nothing'}`"
    )


def test_index_folder_comes_from_the_environment(built: tuple[Path, Path]) -> None:
    _, idx = built
    run = ingest("--list", env={"SECTORCHAT_INDEX": str(idx)})
    assert run.returncode == 0 and "2 document(s)" in run.stdout


def test_no_arguments_prints_usage() -> None:
    run = ingest()
    assert run.returncode == 2
    assert "give files or folders to ingest, or --list / --delete / --rebuild" in run.stderr


def test_settings_validate_where_they_enter(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="chunk_overlap must be less than chunk_tokens"):
        load_settings(chunk_tokens=64, chunk_overlap=64)
    monkeypatch.setenv("SECTORCHAT_MAX_FILE_MB", "-1")
    with pytest.raises(ConfigError, match=r"max_file_mb: Input should be greater than 0"):
        load_settings()
    monkeypatch.setenv("SECTORCHAT_MAX_FILE_MB", "5")
    monkeypatch.setenv("SECTORCHAT_CHROMA_HOST", "chroma.local")
    s = load_settings(index=Path("/tmp/x"))
    assert (s.max_file_mb, s.chroma_host, s.chroma_port, s.index) == (5.0, "chroma.local", 8000, Path("/tmp/x"))
    assert Settings().llm == "extractive"


def test_rag_imports_nothing_from_ingest_evals_or_app() -> None:
    import ast

    for path in (ROOT / "rag").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"ingest", "evals", "app"}, f"{path.name} imports {name}"
