"""Benchmark: the line-item index (rag.lineitems) over an index of real filings: its build time, its size, the
time of a lookup, and what it adds to answering a line-item question.

Run: .venv/bin/python benchmarks/line_items.py [--index DIR] [--filings ../shared/filings] [--rounds 3]
        [--out benchmarks/results/line_items.md]

Without --index the filings are ingested into a temporary index first (not timed here: see ingest_throughput).
Rows:
- build: ``LineItemIndex.build`` over every chunk of the index (read from Chroma, then every table row parsed),
  once per round in the same process; the read from Chroma is timed apart.
- lookup: ``Retriever.line_items`` for each line-item question of evals/suites/real_filings.jsonl (the index
  built), p50 / p95 over all questions and rounds.
- ask: ``Assistant.ask`` of the same questions with the line-item lookup (as shipped) and with it replaced by
  an empty list (the answer path before it), p50 / p95; the ratio is what the lookup and the rows it brings to
  the readers cost per question. Both in one process, alternating, so the machine's load is shared alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import ROOT, machine, pct, today  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--filings", type=Path, default=ROOT.parent / "shared" / "filings")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "line_items.md")
    args = parser.parse_args()

    from ingest.pipeline import Ingestor
    from rag.assistant import build_assistant
    from rag.config import Settings
    from rag.lexicon import default_lexicon
    from rag.lineitems import LineItemIndex
    from rag.query import analyze

    index = args.index
    if index is None:
        index = Path(tempfile.mkdtemp()) / "index"
        Ingestor.from_settings(Settings(index=index)).run([args.filings])
    assistant = build_assistant(Settings(index=index))
    retriever = assistant.retriever
    lexicon = default_lexicon()
    questions = [json.loads(line) for line in (ROOT / "evals" / "suites" / "real_filings.jsonl").read_text().splitlines()
                 if line.strip()]
    asked = [q["question"] for q in questions if q["category"] == "line_item"]
    keyword = retriever.bm25.get(assistant.store)
    positions = {info.id: i for i, info in enumerate(keyword.infos)}

    reads, builds, rows = [], [], 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        chunks = list(assistant.store.all_chunks())
        t1 = time.perf_counter()
        built = LineItemIndex.build(chunks, positions, lexicon)
        t2 = time.perf_counter()
        reads.append(t1 - t0)
        builds.append(t2 - t1)
        rows = len(built)
    retriever.line_items(analyze(asked[0], lexicon=lexicon), lexicon)  # builds the retriever's own copy

    lookups: list[float] = []
    for _ in range(args.rounds):
        for q in asked:
            a = analyze(q, lexicon=lexicon)
            t = time.perf_counter()
            retriever.line_items(a, lexicon)
            lookups.append((time.perf_counter() - t) * 1000)

    shipped = retriever.line_items
    with_items: list[float] = []
    without: list[float] = []
    for _ in range(args.rounds):
        for q in asked:
            for label, store in (("with", with_items), ("without", without)):
                retriever.line_items = shipped if label == "with" else (lambda *a, **k: [])  # type: ignore[method-assign]
                t = time.perf_counter()
                assistant.ask(q)
                store.append((time.perf_counter() - t) * 1000)
    retriever.line_items = shipped  # type: ignore[method-assign]

    n_chunks = len(positions)
    lines = [
        "# The line-item index over real filings: build, lookup, and its cost per question",
        "",
        f"Machine: {machine()}. Date: {today()}. Command: `.venv/bin/python benchmarks/line_items.py"
        f"{' --index ' + str(args.index) if args.index else ''} --rounds {args.rounds}`.",
        "",
        f"Index: the {len(list(args.filings.glob('*.pdf')))} PDFs of {args.filings.name}/ ({n_chunks:,} chunks, "
        f"{rows:,} table rows indexed). {len(asked)} line-item questions of evals/suites/real_filings.jsonl, "
        f"{args.rounds} rounds. `ask` rows alternate with and without the lookup in one process.",
        "",
        "| step | p50 ms | p95 ms | mean ms |",
        "| --- | ---: | ---: | ---: |",
        f"| read every chunk from Chroma | {pct([r * 1000 for r in reads], 50):,.1f} | "
        f"{pct([r * 1000 for r in reads], 95):,.1f} | {statistics.mean(reads) * 1000:,.1f} |",
        f"| build the line-item index from them | {pct([b * 1000 for b in builds], 50):,.1f} | "
        f"{pct([b * 1000 for b in builds], 95):,.1f} | {statistics.mean(builds) * 1000:,.1f} |",
        f"| lookup (Retriever.line_items) | {pct(lookups, 50):,.1f} | {pct(lookups, 95):,.1f} | "
        f"{statistics.mean(lookups):,.1f} |",
        f"| ask, without the lookup | {pct(without, 50):,.1f} | {pct(without, 95):,.1f} | "
        f"{statistics.mean(without):,.1f} |",
        f"| ask, with the lookup (as shipped) | {pct(with_items, 50):,.1f} | {pct(with_items, 95):,.1f} | "
        f"{statistics.mean(with_items):,.1f} |",
        "",
        f"Ratio of the mean ask times, with / without: {statistics.mean(with_items) / statistics.mean(without):.2f}.",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
