"""Ingest throughput against the encoder's own limit, measured in the same run.

Run: .venv/bin/python benchmarks/ingest_throughput.py --sizes 1000 10000 --work /work/bench
     [--workers 2] [--baseline-commit 0c7ef77] [--profile] [--out benchmarks/results/ingest_throughput.md]

For each generated corpus (benchmarks/gen_corpus.py, by size in chunks):
  1. encoder only: the corpus's chunk texts (loaded and chunked beforehand, untimed) embedded by the same model
     with the same batch sizes the pipeline uses (EMBED_GROUP texts per call, Settings.embed_batch_size inside);
  2. the pipeline end to end (discover, read, hash, load, chunk, embed, write to a fresh embedded Chroma, keyword
     index), in this process, as `python -m ingest` runs it;
  3. re-ingest of the unchanged corpus: seconds, chunks written, and whether the store's generation moved;
  4. with --workers N: the pipeline again with N worker processes, on a fresh index;
  5. with --baseline-commit: the same ingest by `python -m ingest` of an older commit (a git worktree), for the
     before/after ratio.
The encoder-only pass runs before and after the pipeline; its mean is the limit the ratio is taken against.
With --profile, the pipeline run is profiled (cProfile) and its top functions are written beside the table.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ENV, PY, ROOT, ensure_corpus, label, machine, today  # noqa: E402

sys.path.insert(0, str(ROOT))
from ingest.pipeline import EMBED_GROUP, Ingestor, discover  # noqa: E402
from ingest.loaders import load_document  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embeddings import USE_ALIASES, make_embedder  # noqa: E402
from rag.store import ChunkStore  # noqa: E402


def chunk_texts(ingestor: Ingestor, corpus: Path) -> list[str]:
    files, _failed, _skipped = discover([corpus / "docs"])
    texts: list[str] = []
    for path, _named in files:
        doc = load_document(path.read_bytes(), source=str(path.resolve()), file_name=path.name)
        texts.extend(c.embedding_text() for c in ingestor.chunker.chunk(doc))
    return texts


def encoder_only(ingestor: Ingestor, texts: list[str]) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(texts), EMBED_GROUP):
        ingestor.embedder.embed_documents(texts[i : i + EMBED_GROUP])
    return len(texts) / (time.perf_counter() - t0)


_ENC = None


def _enc_init(threads: int) -> None:
    import os

    global _ENC
    os.environ["SECTORCHAT_EMBED_THREADS"] = str(threads)
    _ENC = make_embedder(Settings())
    _ENC.embed_query("warm up")


def _enc_run(texts: list[str]) -> int:
    assert _ENC is not None
    for i in range(0, len(texts), EMBED_GROUP):
        _ENC.embed_documents(texts[i : i + EMBED_GROUP])
    return len(texts)


def encoder_parallel(texts: list[str], processes: int) -> float:
    """The encoder alone in ``processes`` processes of one core's share each: the machine's encoding limit."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    threads = max(1, (os_cpus() // processes))
    with ctx.Pool(processes, initializer=_enc_init, initargs=(threads,)) as pool:
        pool.map(_enc_run, [["warm up"]] * processes)  # every worker has loaded its model
        step = -(-len(texts) // (processes * 8))
        parts = [texts[i : i + step] for i in range(0, len(texts), step)]
        t0 = time.perf_counter()
        done = sum(pool.map(_enc_run, parts, chunksize=1))
        return done / (time.perf_counter() - t0)


def os_cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def fresh_ingestor(settings: Settings, embedder: object) -> Ingestor:
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension)  # type: ignore[attr-defined]
    return Ingestor(settings, embedder, store)  # type: ignore[arg-type]


def run_size(size: int, work: Path, workers: int, baseline: Path | None, profile: bool,
             baseline_max: int) -> dict[str, object]:
    corpus = ensure_corpus(work, size, seed=7)
    scratch = Path(tempfile.mkdtemp(prefix=f"ingest-bench-{label(size)}-", dir=work))
    embedder = make_embedder(Settings())
    embedder.embed_query("warm up")
    row: dict[str, object] = {"size": label(size)}
    try:
        settings = Settings(index=scratch / "index")
        ingestor = fresh_ingestor(settings, embedder)
        texts = chunk_texts(ingestor, corpus)
        row["chunks"] = len(texts)
        row["docs"] = len(list((corpus / "docs").iterdir()))
        enc_before = encoder_only(ingestor, texts)

        prof = cProfile.Profile() if profile else None
        if prof:
            prof.enable()
        report = ingestor.run([corpus / "docs"])
        if prof:
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
            (work / f"ingest-profile-{label(size)}.txt").write_text(buf.getvalue(), encoding="utf-8")
            row["profile"] = buf.getvalue()
        assert not report.failed, report.failed
        pipeline = report.chunks_written / report.seconds
        enc_after = encoder_only(ingestor, texts)
        encoder = (enc_before + enc_after) / 2
        row.update(encoder=encoder, encoder_spread=(enc_before, enc_after), pipeline=pipeline,
                   ratio=pipeline / encoder, seconds=report.seconds, written=report.chunks_written)

        generation = ingestor.store.generation()
        again = fresh_ingestor(settings, embedder).run([corpus / "docs"])
        row.update(reingest_s=again.seconds, reingest_written=again.chunks_written + again.chunks_deleted,
                   reingest_gen_same=ingestor.store.generation() == generation,
                   reingest_share=again.seconds / report.seconds)

        if workers > 1:
            row["encoder_par"] = encoder_parallel(texts, workers)
            s2 = Settings(index=scratch / f"index-w{workers}")
            par = fresh_ingestor(s2, embedder).run([corpus / "docs"], workers=workers)
            assert not par.failed, par.failed
            row.update(par_workers=workers, par_rate=par.chunks_written / par.seconds,
                       speedup=(par.chunks_written / par.seconds) / pipeline,
                       par_ratio=(par.chunks_written / par.seconds) / float(row["encoder_par"]))
        if baseline is not None and size <= baseline_max:
            idx = scratch / "index-baseline"
            t0 = time.perf_counter()
            out = subprocess.run([PY, "-m", "ingest", str(corpus / "docs"), "--index", str(idx)], cwd=baseline,
                                 env=ENV, capture_output=True, text=True)
            secs = time.perf_counter() - t0
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
            row.update(baseline_rate=len(texts) / secs, baseline_ratio=(len(texts) / secs) / encoder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return row


def render(rows: list[dict[str, object]], args: argparse.Namespace) -> str:
    model = Settings().embedding_model
    backend = "numpy" if model in USE_ALIASES else Settings().embedding_backend
    lines = [
        "# Ingest throughput vs the encoder alone",
        "",
        f"Measured {today()} on {machine()}; embedding model {model} ({backend}), embedded Chroma,",
        f"generated corpora (benchmarks/gen_corpus.py, seed 7). Command: `.venv/bin/python benchmarks/ingest_throughput.py"
        f" --sizes {' '.join(map(str, args.sizes))} --workers {args.workers}"
        + (f" --baseline-commit {args.baseline_commit}" if args.baseline_commit else "")
        + (" --profile" if args.profile else "") + "`.",
        "",
        "| corpus | docs | chunks | encoder only (chunks/s) | pipeline (chunks/s) | pipeline / encoder | full ingest (s) "
        "| re-ingest unchanged (s) | re-ingest / full | rows written on re-ingest |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lo, hi = r["encoder_spread"]  # type: ignore[misc]
        lines.append(
            f"| {r['size']} | {r['docs']} | {r['chunks']} | {r['encoder']:.1f} ({lo:.1f} before, {hi:.1f} after) "
            f"| {r['pipeline']:.1f} | **{r['ratio']:.2f}** | {r['seconds']:.1f} | {r['reingest_s']:.2f} "
            f"| {r['reingest_share']:.1%} | {r['reingest_written']} (generation unchanged: {r['reingest_gen_same']}) |"
        )
    if any("par_rate" in r for r in rows):
        lines += ["", f"Parallel ingest (`--workers {args.workers}`, the cores split among worker processes), against "
                  f"the encoder alone in {args.workers} processes of one core's share each (the machine's limit):", "",
                  "| corpus | 1 process (chunks/s) | workers (chunks/s) | speed-up | encoder alone, "
                  f"{args.workers} processes (chunks/s) | workers / that encoder | workers / 1-process encoder |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            if "par_rate" in r:
                lines.append(f"| {r['size']} | {r['pipeline']:.1f} | {r['par_rate']:.1f} | {r['speedup']:.2f}x "
                             f"| {r['encoder_par']:.1f} | **{r['par_ratio']:.2f}** "
                             f"| {r['par_rate'] / r['encoder']:.2f} |")  # type: ignore[operator]
    if any("baseline_rate" in r for r in rows):
        lines += ["", f"Before this change (`python -m ingest` of commit {args.baseline_commit}, same run):", "",
                  "| corpus | before (chunks/s) | before / encoder | now / encoder |", "|---|---|---|---|"]
        for r in rows:
            if "baseline_rate" in r:
                lines.append(f"| {r['size']} | {r['baseline_rate']:.1f} | {r['baseline_ratio']:.2f} | {r['ratio']:.2f} |")
    for r in rows:
        if "profile" in r:
            lines += ["", f"Profile of the pipeline run at {r['size']} (cProfile, top functions by own time):", "",
                      "```", *str(r["profile"]).strip().splitlines()[:30], "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--work", type=Path, default=Path("/work/bench"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--baseline-commit", help="also time `python -m ingest` of this commit (git worktree)")
    p.add_argument("--baseline-max", type=int, default=2000, help="time the baseline only up to this size")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest_throughput.md")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    baseline = None
    if args.baseline_commit:
        baseline = args.work / f"worktree-{args.baseline_commit}"
        if not baseline.exists():
            subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline_commit], cwd=ROOT,
                           check=True, capture_output=True)
    rows = []
    for size in args.sizes:
        row = run_size(size, args.work, args.workers, baseline, args.profile, args.baseline_max)
        print({k: v for k, v in row.items() if k != "profile"}, flush=True)
        rows.append(row)
    text = render(rows, args)
    if args.out.exists():
        # Keep hand-written notes below the generated part.
        old = args.out.read_text(encoding="utf-8")
        marker = "\n## Notes"
        if marker in old:
            text = text.rstrip("\n") + "\n" + old[old.index(marker):]
    args.out.write_text(text, encoding="utf-8")
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
