"""The command line as a user runs it: python -m ingest, its report, exit codes, --list, --delete, --rebuild."""

from __future__ import annotations

import json
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
    assert lines[0].split()[:9] == ["DATE", "TYPE", "FORM", "COMPANY", "PERIOD", "LANG", "PAGES", "CHUNKS", "ADDED"]
    filing = re.match(r"2026-03-20\s+filing\s+annual results announcement\s+Lanting Biopharma Holdings Ltd\s+"
                      r"FY2025 \(to 2025-12-31\)\s+en\s+3\s+(\d+)\s+\d{4}-\d\d-\d\d\s+Lanting Biopharma", lines[1])
    news = re.match(r"2026-01-13\s+news\s+-\s+-\s+-\s+en\s+-\s+(\d+)\s+\d{4}-\d\d-\d\d\s+China innovative drug sector",
                    lines[2])
    assert filing and news, lines
    assert lines[3] == f"2 document(s), {int(filing[1]) + int(news[1])} chunk(s)."


def test_list_json_prints_one_typed_object_per_document(built: tuple[Path, Path]) -> None:
    _, idx = built
    run = ingest("--list", "--json", "--index", idx)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["source"].rsplit("/", 1)[-1] for r in rows] == [
        "lanting-biopharma-2025-annual-results.pdf", "innovative-drug-sector-2026-01.md"]
    filing, news = rows
    assert {k: filing[k] for k in ("company", "tickers", "form", "doc_type", "fiscal_year", "period_end",
                                   "period_type", "date", "language", "pages")} == {
        "company": "Lanting Biopharma Holdings Ltd", "tickers": ["9999.HK"], "form": "annual results announcement",
        "doc_type": "filing", "fiscal_year": 2025, "period_end": "2025-12-31", "period_type": "FY",
        "date": "2026-03-20", "language": "en", "pages": 3}
    # the PDF's own title names the company, so it is kept (a title made from the cover is the fallback)
    assert filing["title"] == "Lanting Biopharma Holdings Ltd (fictional) — Annual Results Announcement for the " \
                              "year ended 31 December 2025"
    # unknown fields: "" for text, null for the year, [] for lists
    assert (news["form"], news["fiscal_year"], news["tickers"], news["doc_type"]) == ("", None, [], "news")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["added"]) for r in rows)
    assert ingest("--json", "--index", idx).returncode == 2


def test_set_corrects_metadata_and_the_correction_survives_a_rebuild(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    idx = tmp_path / "idx"
    assert ingest(corpus, "--index", idx).returncode == 0
    run = ingest("--set", "lanting-biopharma-2025-annual-results.pdf", "company=Lanting Bio Ltd", "fiscal_year=2024",
                 "period_type=FY", "--index", idx)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"Set company, fiscal_year, period_type of {corpus / 'lanting-biopharma-2025-annual-results.pdf'}")

    def lanting() -> dict[str, object]:
        rows = [json.loads(line) for line in ingest("--list", "--json", "--index", idx).stdout.splitlines()]
        return next(r for r in rows if r["source"].endswith(".pdf"))

    got = lanting()
    assert (got["company"], got["fiscal_year"], got["corrected"]) == ("Lanting Bio Ltd", 2024,
                                                                      ["company", "fiscal_year", "period_type"])
    assert "* metadata corrected by hand" in ingest("--list", "--index", idx).stdout
    # the company filter finds the corrected name at once (chunks carry it)
    ask = subprocess.run([sys.executable, "-m", "rag", "ask", "What was revenue in 2025?", "--company",
                          "Lanting Bio Ltd", "--index", str(idx), "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert ask.returncode == 0, ask.stderr
    assert {c["source"].rsplit("/", 1)[-1] for c in json.loads(ask.stdout)["citations"]} == {
        "lanting-biopharma-2025-annual-results.pdf"}
    # re-reading every file keeps the correction (it is applied after each load)
    assert ingest("--rebuild", "--index", idx).returncode == 0
    got = lanting()
    assert (got["company"], got["fiscal_year"], got["date"]) == ("Lanting Bio Ltd", 2024, "2026-03-20")
    # a wrong field or value names it and changes nothing
    bad = ingest("--set", "lanting-biopharma-2025-annual-results.pdf", "fiscal_year=20x4", "--index", idx)
    assert bad.returncode == 1 and "fiscal_year must be a year such as 2018, not '20x4'" in bad.stderr
    bad = ingest("--set", "lanting-biopharma-2025-annual-results.pdf", "colour=red", "--index", idx)
    assert bad.returncode == 1 and "'colour' is not a field that can be set" in bad.stderr
    bad = ingest("--set", "nothing.pdf", "company=X", "--index", idx)
    assert bad.returncode == 1 and "no document 'nothing.pdf' in the index" in bad.stderr
    assert lanting()["fiscal_year"] == 2024


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
    assert "give files or folders to ingest, or --list / --delete / --set / --rebuild" in run.stderr


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
