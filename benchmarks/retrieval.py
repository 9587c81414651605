"""Benchmark: does retrieval find the page that answers? Recall@1/@5/@10 and MRR of the gold page on real
documents, for the project's retrieval and for the plain LangChain recipe, run in the same run on the same files.

Run: .venv/bin/python benchmarks/retrieval.py [--suites real_filings tatqa fineval bundled]
        [--models use minilm] [--systems sectorchat langchain] [--tatqa-questions 300] [--fineval-questions 200]
        [--work DIR] [--out benchmarks/results/retrieval.md]

Suites (each one shared index; no question is scoped to its own documents):
- real_filings: the PDFs of ../shared/filings in one index; evals/suites/real_filings.jsonl's answerable questions,
  gold = the (file, page) pairs each names.
- tatqa: every document of ../shared/benchmarks/tatqa (555 report pages) in one index, a stratified sample of the
  questions (``evals.external.load_external``, seed 0); gold = the question's own document, the other 554 are
  distractors.
- fineval: every document of ../shared/benchmarks/fineval_rigor (1,796) in one index, the 200 questions; gold =
  the question's documents that state its expected figure (all its documents when none is expected), the other
  questions' documents are distractors.
- bundled: corpus/ with the sector_article and sample_filing suites (follow-ups keep their history for the project;
  the LangChain recipe has no history and gets the question as asked).

Systems:
- sectorchat: ``Assistant.search`` (the retrieval stage of ``ask``: query analysis, dense + BM25, metadata, reranking)
  over an index made by ``ingest``; the encoder named by the model column.
- langchain: the recipe a user copies from the LangChain docs: pages read by pypdf one by one (what PyPDFLoader does;
  .txt/.md read whole), ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, a
  ``langchain_chroma.Chroma`` collection, ``similarity_search(question, k=10)``. With MiniLM through
  ``langchain_huggingface.HuggingFaceEmbeddings`` (the recipe's own class), with USE through the project's class.

A hit at rank r is the first of the k chunks from a gold (file, page); MRR over the top 10. Latency: the search of one
question (query embedding included), p50 / p95.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from benchmarks.common import ENV, ROOT, ingest, machine, pct, today  # noqa: E402

MODELS = {"use": "universal-sentence-encoder-multilingual-3", "minilm": "all-MiniLM-L6-v2"}
K = 10


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    language: str
    gold: tuple[tuple[str, int | None], ...]  # (file name, page or None for any page)
    history: tuple[tuple[str, str], ...] = ()
    shelf: tuple[str, ...] = ()  # the file names searched (its own and the shared pool); () = the whole index


@dataclass
class Shelf:
    name: str
    documents: list[Path]
    questions: list[Question]
    key: str = ""  # the name of its indexes (shelves of the same documents share them)

    def __post_init__(self) -> None:
        self.key = self.key or self.name


@dataclass
class Row:
    suite: str
    system: str
    model: str
    language: str
    ranks: list[int | None] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    ingest_s: float = 0.0
    chunks: int = 0

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks) if self.ranks else float("nan")

    def mrr(self) -> float:
        return sum(1.0 / r for r in self.ranks if r) / len(self.ranks) if self.ranks else float("nan")


# ------------------------------------------------------------------------------------------------------ the shelves

def _suite_questions(paths: Sequence[Path]) -> list[Question]:
    from evals.suite import load_suite

    out = []
    for path in paths:
        for q in load_suite(path):
            if q.kind == "unanswerable" or not q.sources:
                continue
            out.append(Question(q.id, q.question, q.language, tuple((s.document, s.page) for s in q.sources),
                                tuple(q.history)))
    return out


def shelves(names: Sequence[str], filings: Path, tatqa_n: int, fineval_n: int, pool: int) -> list[Shelf]:
    from evals.external import benchmarks_dir, load_external

    out = []
    for name in names:
        if name == "real_filings":
            docs = sorted(filings.glob("*.pdf"))
            out.append(Shelf(name, docs, _suite_questions([ROOT / "evals" / "suites" / "real_filings.jsonl"])))
        elif name == "bundled":
            out.append(Shelf(name, sorted(p for p in (ROOT / "corpus").iterdir() if p.suffix in (".md", ".pdf")),
                             _suite_questions([ROOT / "evals" / "suites" / "sector_article.jsonl",
                                               ROOT / "evals" / "suites" / "sample_filing.jsonl"])))
        elif name in ("tatqa", "fineval"):
            ext = "tatqa" if name == "tatqa" else "fineval_rigor"
            suite = load_external(ext, limit=tatqa_n if name == "tatqa" else fineval_n, seed=0)
            docs = sorted((benchmarks_dir() / ext / "docs").glob("*.txt"))  # all in one index
            # the same distractors for every question (those that are its own documents count once)
            shared = tuple(random.Random(0).sample([p.name for p in docs], min(pool, len(docs)))) if pool else ()
            qs = [Question(q.id, q.question, q.language, tuple((s.document, s.page) for s in q.sources),
                           shelf=tuple(dict.fromkeys(tuple(q.scope) + shared)) if pool else ())
                  for q in suite.questions if q.sources]
            out.append(Shelf(f"{name}" + (f" (own + {len(shared)} shared)" if pool else " (all in one index)"), docs, qs,
                             key=name))
        else:
            raise SystemExit(f"unknown suite {name!r}")
    return out


def rank_of(q: Question, hits: Sequence[tuple[str, int | None]]) -> int | None:
    for r, (doc, page) in enumerate(hits, start=1):
        if any(doc == g and (p is None or p == page) for g, p in q.gold):
            return r
    return None


# ------------------------------------------------------------------------------------------------------- the systems

def run_sectorchat(shelf: Shelf, model: str, work: Path) -> tuple[list[list[tuple[str, int | None]]], list[float],
                                                                   float, int]:
    from rag.assistant import build_assistant
    from rag.config import Settings
    from rag.types import Filters

    index = work / f"sc-{shelf.key}-{model}"
    settings = Settings(index=index, embedding_model=MODELS[model])
    marker = index / "benchmark-ingest.json"
    if marker.is_file():  # made by an earlier run of this benchmark with the same documents and code
        done = json.loads(marker.read_text())
    else:
        shutil.rmtree(index, ignore_errors=True)
        # as a user would run it: `python -m ingest FILES --index DIR` in its own process, default workers
        done = ingest(list(shelf.documents), index, env={**ENV, "SECTORCHAT_EMBEDDING_MODEL": MODELS[model]},
                      log=work / f"sc-{shelf.key}-{model}.log")
        if done["rc"] != 0:
            raise SystemExit(f"ingest of {shelf.key} with {model} failed: see {work}/sc-{shelf.key}-{model}.log")
        marker.write_text(json.dumps(done))
    assistant = build_assistant(settings)
    chunks = assistant.store.chunks.count()
    assistant.search("What was the total revenue in 2022?", k=K)  # builds the keyword and line-item indexes
    hits, latency = [], []
    for q in shelf.questions:
        t0 = time.perf_counter()
        got = assistant.search(q.question, history=q.history, k=K, filters=Filters(sources=q.shelf) if q.shelf else None)
        latency.append((time.perf_counter() - t0) * 1000)
        hits.append([(Path(rc.chunk.source).name, rc.chunk.page) for rc in got])
    return hits, latency, float(done["seconds"]), chunks


def _recipe_embeddings(model: str) -> Any:
    if model == "minilm":
        from langchain_huggingface import HuggingFaceEmbeddings

        from rag.embeddings import resolve_model_path

        return HuggingFaceEmbeddings(model_name=str(resolve_model_path(MODELS[model])),
                                     model_kwargs={"device": "cpu", "local_files_only": True})
    from rag.config import Settings
    from rag.embeddings import make_embedder

    return make_embedder(Settings(embedding_model=MODELS[model]))


def _recipe_pages(path: Path) -> list[tuple[str, int | None]]:
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return [(page.extract_text() or "", i + 1) for i, page in enumerate(PdfReader(path).pages)]
    return [(path.read_text(encoding="utf-8", errors="replace"), None)]


def run_langchain(shelf: Shelf, model: str, work: Path) -> tuple[list[list[tuple[str, int | None]]], list[float],
                                                                  float, int]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    folder = work / f"lc-{shelf.key}-{model}"
    embeddings = _recipe_embeddings(model)
    marker = folder / "benchmark-ingest.json"
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(collection_name="recipe", embedding_function=embeddings, client=client)
    if marker.is_file():  # made by an earlier run with the same documents
        done = json.loads(marker.read_text())
    else:
        store.reset_collection()
        t0 = time.perf_counter()
        pages = [Document(page_content=text, metadata={"source": p.name, **({"page": n} if n else {})})
                 for p in shelf.documents for text, n in _recipe_pages(p)]
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(pages)
        for start in range(0, len(splits), 2000):
            store.add_documents(splits[start:start + 2000])
        done = {"seconds": time.perf_counter() - t0, "chunks": len(splits)}
        marker.write_text(json.dumps(done))
    store.similarity_search("warm up", k=K)
    hits, latency = [], []
    for q in shelf.questions:
        t0 = time.perf_counter()
        where = {"source": {"$in": list(q.shelf)}} if q.shelf else None
        got = store.similarity_search(q.question, k=K, filter=where)
        latency.append((time.perf_counter() - t0) * 1000)
        hits.append([(str(d.metadata.get("source")), d.metadata.get("page")) for d in got])
    return hits, latency, float(done["seconds"]), int(done["chunks"])


SYSTEMS: dict[str, Callable[[Shelf, str, Path], tuple[list[list[tuple[str, int | None]]], list[float], float, int]]] = {
    "langchain": run_langchain, "sectorchat": run_sectorchat}


# ------------------------------------------------------------------------------------------------------ the report

def rows_for(shelf: Shelf, system: str, model: str, hits: list[list[tuple[str, int | None]]], latency: list[float],
             seconds: float, chunks: int) -> list[Row]:
    rows: dict[str, Row] = {}
    for q, h, ms in zip(shelf.questions, hits, latency, strict=True):
        for lang in ("all", q.language):
            row = rows.setdefault(lang, Row(shelf.name, system, model, lang, ingest_s=seconds, chunks=chunks))
            row.ranks.append(rank_of(q, h))
            row.latency_ms.append(ms)
    return [rows["all"]] + [rows[x] for x in sorted(rows) if x != "all" and len(rows) > 2]


def table(rows: Sequence[Row]) -> list[str]:
    out = ["| suite | language | system | encoder | questions | recall@1 | recall@5 | recall@10 | MRR | "
           "search p50 / p95 ms | chunks | ingest s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.suite} | {r.language} | {r.system} | {r.model} | {len(r.ranks)} | {r.recall(1):.3f} | "
                   f"{r.recall(5):.3f} | {r.recall(10):.3f} | {r.mrr():.3f} | {pct(r.latency_ms, 50):.0f} / "
                   f"{pct(r.latency_ms, 95):.0f} | {r.chunks:,} | {r.ingest_s:.0f} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="+", default=["real_filings", "tatqa", "fineval", "bundled"])
    parser.add_argument("--models", nargs="+", default=["use", "minilm"], choices=sorted(MODELS))
    parser.add_argument("--systems", nargs="+", default=["langchain", "sectorchat"], choices=sorted(SYSTEMS))
    parser.add_argument("--filings", type=Path, default=ROOT.parent / "shared" / "filings")
    parser.add_argument("--tatqa-questions", type=int, default=300)
    parser.add_argument("--fineval-questions", type=int, default=200)
    parser.add_argument("--pool", type=int, nargs="+", default=[50, 0],
                        help="TAT-QA/FinEval: each question searches its own documents plus this many shared "
                        "distractors (0: every document of the benchmark in one search); one row per value")
    parser.add_argument("--work", type=Path, help="keep the indexes here (reused when present); default: a temp dir")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "retrieval.md")
    parser.add_argument("--misses", type=Path, help="write each question's rank per system here (JSON)")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="retrieval-"))
    work.mkdir(parents=True, exist_ok=True)
    started, where = today(), machine()
    rows: list[Row] = []
    misses: dict[str, dict[str, Any]] = {}
    todo: list[Shelf] = []
    for pool in args.pool:
        todo += [s for s in shelves(args.suites, args.filings, args.tatqa_questions, args.fineval_questions, pool)
                 if s.key in ("tatqa", "fineval") or pool == args.pool[0]]
    for shelf in todo:
        print(f"{shelf.name}: {len(shelf.documents)} documents, {len(shelf.questions)} questions", flush=True)
        for model in args.models:
            for system in args.systems:
                hits, latency, seconds, chunks = SYSTEMS[system](shelf, model, work)
                got = rows_for(shelf, system, model, hits, latency, seconds, chunks)
                print("\n".join(table(got)[2:]), flush=True)
                rows += got
                for q, h in zip(shelf.questions, hits, strict=True):
                    misses.setdefault(f"{shelf.name}/{q.id}", {"question": q.question, "gold": q.gold})[
                        f"{system}/{model}"] = {"rank": rank_of(q, h), "top": h}
    lines = [
        "# Retrieval: the gold page among the top k, the project against the plain LangChain recipe",
        "",
        f"Command: `.venv/bin/python benchmarks/retrieval.py {' '.join(sys.argv[1:])}` ({started}).",
        "",
        f"Machine: {where}.",
        "",
        *table(rows),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists() and "<!-- notes -->" in (old := args.out.read_text()):
        lines += [old[old.index("<!-- notes -->"):]]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    if args.misses:
        args.misses.write_text(json.dumps(misses, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
