"""Resolve suite arguments (JSONL files or external benchmarks), prepare their indexes, run them, build the report."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.harness import SuiteReport, run_suite
from evals.report import to_json
from evals.suite import SUITES, SuiteQuestion, load_suite
from ingest.pipeline import Ingestor
from rag.assistant import build_assistant
from rag.config import Settings
from rag.embeddings import Embedder, make_embedder
from rag.errors import ConfigError

ROOT = SUITES.parents[1]  # the project root: a suite's .documents file names folders relative to it

logger = logging.getLogger(__name__)

EXTERNAL = ("fineval_rigor", "tatqa")
Status = Callable[[str], None]


def available_suites() -> list[tuple[str, str]]:
    """The bundled suites and the external ones whose data is found."""
    out = [(p.name, str(p)) for p in sorted(SUITES.glob("*.jsonl"))]
    for name in EXTERNAL:
        try:
            from evals.external import load_external

            suite = load_external(name, limit=1)
            out.append((name, f"external: {suite.description}"))
        except (ConfigError, ImportError) as exc:
            out.append((name, f"external, not found: {exc}"))
    return out


def _bar(desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=0, desc=desc, unit="q", file=sys.stderr, disable=None)


def run_all(suites: Sequence[str], settings: Settings, *, work: Path, limit: int | None = None,
            progress_bar: bool = False, on_progress: Callable[[str, int, int], None] | None = None,
            embedder: Embedder | None = None) -> dict[str, Any]:
    """Run each suite and return the report object.

    A JSONL suite runs against ``settings.index`` unless a folder named like it (``<suite>/`` beside the file)
    holds its documents; external suites ingest their documents into a temporary index under ``work``.
    """
    embedder = embedder or make_embedder(settings)
    reports: list[SuiteReport] = []
    for i, arg in enumerate(suites):
        name, questions, documents = _resolve(arg, limit)
        suite_settings = settings
        if documents:
            suite_settings = settings.model_copy(update={"index": work / f"suite-{i}"})
            ingestor = Ingestor(suite_settings, embedder, Ingestor.from_settings(suite_settings).store)
            logger.info("Ingesting %d documents for %s", len(documents), name)
            report = ingestor.run(list(documents))
            if report.failed:
                logger.warning("%d documents of %s failed to ingest: %s", len(report.failed), name,
                               "; ".join(f"{p}: {w}" for p, w in report.failed[:5]))
        assistant = build_assistant(suite_settings, embedder=embedder)
        assistant.store.count()  # a missing index is one clear error, not an error in every answer
        bar = _bar(name, progress_bar)

        def progress(done: int, total: int, bar: Any = bar, name: str = name) -> None:
            if bar is not None:
                bar.total = total
                bar.update(done - bar.n)
            if on_progress is not None:
                on_progress(name, done, total)

        reports.append(run_suite(name, questions, assistant, progress=progress))
        if bar is not None:
            bar.close()
    return to_json(reports, settings={"embedding_model": settings.embedding_model, "top_k": settings.top_k,
                                      "reranker": settings.reranker, "llm": settings.llm, "limit": limit})


def _resolve(arg: str, limit: int | None) -> tuple[str, list[SuiteQuestion], list[Path]]:
    if arg in EXTERNAL:
        from evals.external import load_external

        suite = load_external(arg, limit=limit)
        return suite.name, list(suite.questions), list(suite.documents)
    path = Path(arg)
    if not path.is_file() and (SUITES / arg).is_file():
        path = SUITES / arg
    if not path.is_file() and (SUITES / f"{arg}.jsonl").is_file():  # "real_filings" names its suite file
        path = SUITES / f"{arg}.jsonl"
    if not path.is_file():
        raise ConfigError(f"no suite {arg!r}: give a JSONL file or one of {', '.join(EXTERNAL)}")
    docs_dir = path.with_suffix("")
    documents = [docs_dir] if docs_dir.is_dir() else []
    listed = path.with_suffix(".documents")
    if listed.is_file():  # documents kept outside the project (../shared/filings): one folder or file a line
        documents = []
        for line in listed.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                where = (ROOT / line.strip()).resolve()
                if not where.exists():
                    raise ConfigError(f"{listed}: {line.strip()} ({where}) does not exist; the suite's documents "
                                      "must be there to run it")
                documents.append(where)
    return path.stem, load_suite(path), documents
