"""Benchmark: what checking a keyword index against the document registry costs at 13k documents.

Run: .venv/bin/python benchmarks/registry_check.py [--docs 13398] [--chunks 88386] [--repeat 7]
        [--out benchmarks/results/registry_check.md]

Builds a registry of --docs documents in an embedded Chroma under a temporary folder (records shaped like the
ingest's: 20 metadata fields each) and a saved keyword index of --chunks chunks, then times, in
this process, each --repeat times (median and max, ms):
- the per-question generation check (`ChunkStore.generation`);
- the check a reader makes when it loads the saved keyword index, and every RECHECK_SECONDS after
  (`ChunkStore.matches_registry`: the registry's ids, then the records of marked documents), with no write
  marker and with a write group of 8 marked documents in doubt;
- the check at the end of an ingest run that wrote nothing (`saved_versions` read and compared);
- for comparison, reading the whole registry (`ChunkStore.list_documents`), which a check over every record's
  ingest key would cost on each load;
- loading the saved keyword index itself (`BM25Index.load`), what a reader pays anyway.
13,398 documents / 88,386 chunks is the 100k target of benchmarks/query_latency.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, today  # noqa: E402


NOTES = """
## Notes

- On a busy machine (the load average above) every number is an upper bound: compare rows with each other.
- What a reader pays for the check: one `matches_registry` when it loads the saved keyword index (a small part of
  loading that index, see the last row), and in a long-running reader (the app) one every `RECHECK_SECONDS` (30 s)
  while the generation stays; every question still pays only the generation check. The check reads the
  registry's ids (every document) and the records of documents with a write marker, which is enough because a
  write marks its documents before switching any and moves the generation before removing the markers
  (`ChunkStore.write_documents`). Reading every record's ingest key instead (`list_documents`) would add
  seconds to each load at this size.
- The end of an ingest compares the saved index's registry with the one the run read at its start (no extra read
  of the store), and rebuilds the saved index when they differ.
"""


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), max(runs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=13398)
    p.add_argument("--chunks", type=int, default=88386)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--out", type=Path)
    args = p.parse_args()

    from rag.bm25 import BM25Index, ChunkInfo, saved_versions
    from rag.config import Settings
    from rag.store import PENDING, ChunkStore, _record_to_chroma
    from rag.types import DocumentMeta, DocumentRecord

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index=Path(tmp))
        store = ChunkStore(settings, model_name="benchmark", dimension=1)
        records = [
            DocumentRecord(
                source=f"/data/corpus/docs/{i:05}-company-{i}-annual-results.md", content_hash=uuid.uuid4().hex * 2,
                ingest_key=uuid.uuid4().hex * 2, pages=3, chunks=0,
                meta=DocumentMeta(title=f"Company {i} announces its annual results for 2025", doc_type="filing",
                                  date="2025-03-28", publisher="HKEX", company=f"Company {i}", tickers=("1234.HK",),
                                  language="en"),
                added_at="2026-01-01T00:00:00+00:00", updated_at="2026-01-01T00:00:00+00:00",
                file_name=f"{i:05}-company-{i}-annual-results.md")
            for i in range(args.docs)
        ]
        for i in range(0, len(records), 5000):
            part = records[i : i + 5000]
            store.documents.upsert(ids=[r.source for r in part], embeddings=[[1.0]] * len(part),
                                   metadatas=[_record_to_chroma(r) for r in part])
        store.bump_generation()
        versions = {r.source: r.ingest_key for r in records}
        infos = [ChunkInfo(f"{n:032}", records[n % len(records)].source, "filing", f"Company {n % len(records)}",
                           "1234.HK", 20250328, "en", "2025") for n in range(args.chunks)]
        tokens = [[f"word{(j * 7 + k) % 5000}" for k in range(60)] for j in range(len(infos))]
        folder = Path(tmp) / "bm25"
        BM25Index(infos, tokens, store.generation(), versions).save(folder, tokens)

        rows: list[tuple[str, tuple[float, float]]] = []
        rows.append(("generation check (every question)", timed(store.generation, args.repeat * 5)))
        assert store.matches_registry(versions)
        rows.append(("`matches_registry`, no write marker (on load; every 30 s in a running app)",
                     timed(lambda: store.matches_registry(versions), args.repeat)))
        marked = [r.source for r in records[:8]]
        store.documents.upsert(ids=[PENDING + s for s in marked], embeddings=[[1.0]] * len(marked),
                               metadatas=[{"pending": True, "source": s} for s in marked])
        assert store.matches_registry(versions)
        rows.append(("`matches_registry`, 8 documents marked (a write group in doubt)",
                     timed(lambda: store.matches_registry(versions), args.repeat)))
        rows.append(("end of an ingest that wrote nothing: saved versions read and compared",
                     timed(lambda: saved_versions(folder) == versions, args.repeat)))
        rows.append(("for comparison: the whole registry read (`list_documents`)",
                     timed(store.list_documents, args.repeat)))
        rows.append(("for comparison: the saved keyword index loaded (`BM25Index.load`)",
                     timed(lambda: BM25Index.load(folder), max(1, args.repeat // 3))))

    lines = [
        "# Checking the keyword index against the document registry",
        "",
        f"Generated by `benchmarks/registry_check.py --docs {args.docs} --chunks {args.chunks} "
        f"--repeat {args.repeat}` on {today()}: {machine()}.",
        "",
        f"{args.docs:,} documents, {args.chunks:,} chunks in the saved keyword index (60 tokens each). "
        "Median / max ms.",
        "",
        "| operation | median ms | max ms |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {med:.1f} | {worst:.1f} |" for name, (med, worst) in rows]
    text = "\n".join(lines) + "\n" + NOTES
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
