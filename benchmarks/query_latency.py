"""Benchmark: `ask` latency per stage at 1k / 10k / 100k chunks, against a plain Chroma search as the baseline.

Run: .venv/bin/python benchmarks/query_latency.py --sizes 1000 10000 100000 --work /work/bench [--repeat 3]
        [--app-questions 10] [--out benchmarks/results/query_latency.md]

For each size: generate WORK/corpus-<size> with gen_corpus.py (same --seed, reused when present), ingest it into
WORK/index-<size> with `python -m ingest` (reused when present), then, in this process:
- baseline: the question's embedding plus one Chroma similarity search (collection.query, n_results=5);
- `ask` (extractive, rag.assistant.build_assistant) with its per-stage timings (`Answer.timings_ms`);
each generated question asked --repeat times, the two interleaved, after one warm-up. Answers are checked against
the generated truth: cited, the expected figure quoted, the expected document among the citations.
Then `python app.py` is started on the index (SECTORCHAT_INDEX, a free port): start-up time to the first answer
through gradio_client, then --app-questions more answers, and the app's peak RSS (VmHWM).
Keep WORK outside the repository.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT, AppProcess, answer_check, ensure_corpus, ingest, label, load_questions, machine, pct, today,
)

STAGES = ["embed_query", "dense", "sparse", "keyword_index", "filter", "retrieve", "rerank", "answer", "figure_check", "total"]


def measure_in_process(index: Path, questions: list[dict[str, Any]], repeat: int,
                       profile: Path | None) -> dict[str, Any]:
    from rag.assistant import build_assistant
    from rag.config import Settings

    settings = Settings(index=index)
    t0 = time.perf_counter()
    assistant = build_assistant(settings)
    chunks = assistant.store.count()
    docs = len(assistant.store.list_documents())
    assistant.ask(questions[0]["question"])  # warm-up: model, Chroma and the keyword index loaded
    warm_s = time.perf_counter() - t0
    collection = assistant.store.chunks
    base: list[float] = []
    base_embed: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    valid = cited = figure_ok = doc_ok = 0
    by_kind: dict[str, list[int]] = {}
    prof = cProfile.Profile() if profile else None
    for r in range(repeat):
        for q in questions:
            t1 = time.perf_counter()
            vector = assistant.embedder.embed_query(q["question"])
            t2 = time.perf_counter()
            collection.query(query_embeddings=[vector], n_results=5)  # type: ignore[arg-type]
            t3 = time.perf_counter()
            base.append((t3 - t1) * 1000)
            base_embed.append((t2 - t1) * 1000)
            if prof:
                prof.enable()
            a = assistant.ask(q["question"])
            if prof:
                prof.disable()
            for k in STAGES:
                if k in a.timings_ms:
                    stages[k].append(a.timings_ms[k])
            if r == 0:
                has_cit, fig, doc = answer_check(a.answer, [c.source for c in a.citations], q)
                cited += has_cit
                figure_ok += fig
                doc_ok += doc
                valid += has_cit and fig and not a.error
                kind = by_kind.setdefault(str(q.get("kind", "?")), [0, 0])
                kind[0] += has_cit and fig and not a.error
                kind[1] += 1
    # The same questions with a filter, as typed under the chat input: a date range (deals) or a document type.
    filtered: list[float] = []
    filtered_retrieve: list[float] = []
    for q in questions[:20]:
        year = next((w for w in q["question"].replace("年", " ").split() if w[:4].isdigit() and len(w) >= 4), "")
        prefix = "type:filing " if q.get("kind") == "revenue" else (f"year:{year[:4]} " if year else "type:news ")
        a = assistant.ask(prefix + q["question"])
        filtered.append(a.timings_ms["total"])
        filtered_retrieve.append(a.timings_ms.get("retrieve", 0.0))
    if prof and profile:
        profile.parent.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(str(profile))
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    return {"chunks": chunks, "docs": docs, "warm_s": warm_s, "baseline": base, "baseline_embed": base_embed,
            "stages": stages, "questions": len(questions), "valid": valid, "cited": cited, "figure_ok": figure_ok,
            "doc_ok": doc_ok, "by_kind": by_kind, "filtered": filtered, "filtered_retrieve": filtered_retrieve}


def measure_app(index: Path, questions: list[dict[str, Any]], n: int, work: Path) -> dict[str, Any]:
    from gradio_client import Client

    app = AppProcess(index, log=work / f"app-{index.name}.log")
    try:
        app.wait_ready(questions[0]["question"])
        client = Client(app.url, verbose=False)
        lat = []
        for q in questions[1 : n + 1]:
            t0 = time.perf_counter()
            client.predict(q["question"], api_name="/chat")
            lat.append((time.perf_counter() - t0) * 1000)
        from benchmarks.common import peak_rss_mib

        return {"listening_s": app.listening_s, "first_answer_s": app.first_answer_s,
                "peak_rss_mib": peak_rss_mib(app.proc.pid), "api_p50": statistics.median(lat) if lat else float("nan"),
                "api_p95": pct(lat, 95)}
    finally:
        app.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    p.add_argument("--work", type=Path, default=Path("/work/bench"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--app-questions", type=int, default=10, help="answers through the app after the first (0: skip)")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=INDEX,CORPUS",
                   help="also measure an existing index (e.g. a scale probe from replicate_index.py) with the "
                   "questions of CORPUS; may repeat")
    p.add_argument("--skip-app", action="store_true", help="do not start app.py")
    p.add_argument("--profile", action="store_true", help="cProfile `ask` at each size (WORK/profile-<size>.pstats)")
    p.add_argument("--note", default="provisional: the machine is shared with other engineers and was busy",
                   help="a note printed under the table")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "query_latency.md")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    started = today()
    header = machine()
    rows = []
    plan: list[tuple[str, Path, Path]] = []
    for size in args.sizes:
        plan.append((label(size), ensure_corpus(args.work, size, args.seed), args.work / f"index-{label(size)}"))
    for extra in args.extra:
        name, _, paths = extra.partition("=")
        index_dir, _, corpus_dir = paths.partition(",")
        plan.append((name, Path(corpus_dir), Path(index_dir)))
    for name, corpus, index in plan:
        built: dict[str, float] | None = None
        if not (index / "chroma").is_dir():
            print(f"ingesting {corpus} into {index} ...", flush=True)
            built = ingest([corpus / "docs"], index, log=args.work / f"ingest-{name}.log")
            if built["rc"] != 0:
                print(f"ingest exited with {built['rc']}; see {args.work}/ingest-{name}.log", file=sys.stderr)
        questions = load_questions(corpus)
        prof = args.work / f"profile-{name}.pstats" if args.profile else None
        r = measure_in_process(index, questions, args.repeat, prof)
        r.update(size=name, built=built)
        if not args.skip_app and args.app_questions >= 0:
            r["app"] = measure_app(index, questions, args.app_questions, args.work)
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if k not in ("stages", "baseline", "baseline_embed")},
                         default=str), flush=True)

    def p50(v: list[float]) -> str:
        return f"{statistics.median(v):.0f}" if v else "-"

    def p95(v: list[float]) -> str:
        return f"{pct(v, 95):.0f}" if v else "-"

    lines = [
        "# `ask` latency by index size (extractive backend, in process)",
        "",
        f"Machine: {header}. Run started {started}. **{args.note}.**",
        "",
        f"Corpora from `benchmarks/gen_corpus.py --seed {args.seed}` (about 1/3 Chinese), ingested with "
        "`python -m ingest`. Each generated question asked "
        f"{args.repeat}x after one warm-up. Baseline: the query embedding plus one Chroma `collection.query` "
        "(n_results=5) on the same index, interleaved with the `ask` calls. Times in ms (p50 / p95).",
        "",
        "| target | chunks | docs | baseline | `ask` total | p95 ratio to baseline | embed query | dense (embed + Chroma) "
        "| BM25 | keyword-index check | rerank | answer | of which figure check | answers valid |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        st = r["stages"]
        ratio = pct(st["total"], 95) / pct(r["baseline"], 95) if st["total"] and r["baseline"] else float("nan")
        lines.append(
            f"| {r['size']} | {r['chunks']:,} | {r['docs']:,} | {p50(r['baseline'])} / {p95(r['baseline'])} "
            f"| **{p50(st['total'])} / {p95(st['total'])}** | {ratio:.1f}x | "
            + " | ".join(f"{p50(st[k])} / {p95(st[k])}" for k in ("embed_query", "dense", "sparse", "keyword_index",
                                                                   "rerank", "answer", "figure_check"))
            + f" | {r['valid']}/{r['questions']} ("
            + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(r["by_kind"].items()))
            + f"; expected doc cited {r['doc_ok']}) |"
        )
    lines += [
        "",
        "Filtered questions (the first 20 questions with `year:YYYY` or `type:filing` in front, asked once; "
        "filters apply to the keyword index's chunk list and are passed to Chroma as an id list), ms p50 / p95:",
        "",
        "| target | filtered `ask` total | of which retrieve |",
        "| --- | --- | --- |",
        *[f"| {r['size']} | {p50(r['filtered'])} / {p95(r['filtered'])} "
          f"| {p50(r['filtered_retrieve'])} / {p95(r['filtered_retrieve'])} |" for r in rows],
        "",
        "\"answers valid\": the answer cites a source and states the generated expected quantity, in any written form "
        "(a table row's \"16,780.0\" under \"RMB million\" states \"RMB 16.78 billion\") (first pass over "
        "the questions).",
        "",
        "## Ingest, app start-up and memory",
        "",
        "| target | ingest (this run) | ingest peak RSS | `python app.py` listening | start-up to first answer "
        "(gradio_client) | app `/chat` p50 / p95 ms | app peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        b = r["built"]
        ingest_cell = f"{b['seconds']:.0f} s" if b else "reused an existing index"
        rss_cell = f"{b['peak_rss_mib']:.0f} MiB" if b else "-"
        app = r.get("app")
        if app:
            lines.append(f"| {r['size']} | {ingest_cell} | {rss_cell} | {app['listening_s']:.1f} s "
                         f"| {app['first_answer_s']:.1f} s | {app['api_p50']:.0f} / {app['api_p95']:.0f} "
                         f"| {app['peak_rss_mib']:.0f} MiB |")
        else:
            lines.append(f"| {r['size']} | {ingest_cell} | {rss_cell} | - | - | - | - |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    if args.out.exists():
        # Keep hand-written notes below the generated part.
        old = args.out.read_text(encoding="utf-8")
        marker = "\n## Notes"
        if marker in old:
            text += old[old.index(marker):]
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
