"""Benchmark: real filing PDFs end to end, pages/s and chunks/s, with the time of each stage, before and after.

Run: .venv/bin/python benchmarks/real_filings.py --repo before=/tmp/orig13 --repo after=. [--rounds 2]
        [--filings ../shared/filings] [--out benchmarks/results/real_filings.md]

For each checkout (``--repo LABEL=DIR``; DIR an untouched checkout of an older commit measures "before"), in
rotation, ``--rounds`` times:

- a whole ``python -m ingest FILINGS --workers 1`` and ``--workers 2`` into a fresh index (wall seconds and peak
  RSS from /usr/bin/time; chunks from the report);
- a child process that times the stages one after the other on the same files, each in one thread, so that
  every stage's own cost is seen (no overlap, no lock waits): load (PDF text and tables, metadata), chunk,
  embed (the default encoder, the ingest batch), write (Chroma). The loader's share is split further by a
  cProfile of loading the first file once more (in the child's main thread, so the profile sees all of it;
  the profiler slows pure Python about 3x, so read it for shares, not seconds).

The machine's load average is recorded with every row; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ENV, PY, ROOT, machine, today  # noqa: E402

_STAGES = r"""
import cProfile, io, json, logging, pstats, sys, time, tempfile
from pathlib import Path
logging.disable(logging.WARNING)
files = sorted(Path(sys.argv[1]).glob("*.pdf"))
from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from rag.config import load_settings
from rag.store import chunk_keywords
settings = load_settings(index=Path(tempfile.mkdtemp()) / "idx")
ing = Ingestor.from_settings(settings)
ing.embedder.embed_documents(["warm up"])
out = {"load": 0.0, "chunk": 0.0, "embed": 0.0, "write": 0.0, "pages": 0, "chunks": 0}
prof = cProfile.Profile()
for f in files:
    data = f.read_bytes()
    t = time.perf_counter()
    doc = load_document(data, source=str(f), file_name=f.name)
    out["load"] += time.perf_counter() - t
    if f == files[0]:  # the breakdown: the first file loaded once more under the profiler (it slows Python ~3x)
        prof.enable(); load_document(data, source=str(f), file_name=f.name); prof.disable()
    out["pages"] += max(p.number or 0 for p in doc.pages)
    t = time.perf_counter(); chunks = ing.chunker.chunk(doc); out["chunk"] += time.perf_counter() - t
    out["chunks"] += len(chunks)
    t = time.perf_counter(); vectors = ing.embedder.embed_documents([c.embedding_text() for c in chunks])
    out["embed"] += time.perf_counter() - t
    t = time.perf_counter()
    from ingest.pipeline import _record, _Todo, _versioned
    import hashlib
    h = hashlib.sha256(data).hexdigest(); key = ing.ingest_key(h)
    chunks = _versioned(chunks, key)
    rec = _record(_Todo(f, str(f), True, None), doc, h, key, out["pages"], len(chunks))
    ing.store.write_documents([(rec, chunks, vectors)], [[chunk_keywords(c) for c in chunks]])
    out["write"] += time.perf_counter() - t
s = io.StringIO(); st = pstats.Stats(prof, stream=s)
rows = []
for (fn, line, name), (cc, nc, tt, ct, callers) in st.stats.items():
    rows.append((tt, fn, name))
rows.sort(reverse=True)
by_file = {}
for tt, fn, name in rows:
    key = fn.split("site-packages/")[-1].split("/")[0] if "site-packages" in fn else fn.split("/")[-2:] and "/".join(fn.split("/")[-2:])
    by_file[key] = by_file.get(key, 0.0) + tt
out["load_profile"] = sorted(((round(v, 2), k) for k, v in by_file.items()), reverse=True)[:8]
print("RESULT " + json.dumps(out))
"""


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def whole(repo: Path, filings: Path, workers: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="realfilings"))
    try:
        env = dict(ENV, PYTHONPATH=str(repo))
        load = _load()
        done = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", PY, "-m", "ingest", str(filings), "--index",
                               str(work / "idx"), "--workers", str(workers)], capture_output=True, text=True,
                              env=env, cwd=repo, timeout=3600)
        m = re.search(r"TIME ([\d.]+) (\d+)", done.stderr)
        chunks = re.search(r"(\d+) chunks written", done.stdout)
        return {"seconds": float(m[1]) if m else float("nan"), "rss_mb": int(m[2]) / 1024 if m else float("nan"),
                "chunks": int(chunks[1]) if chunks else 0, "load": load, "ok": done.returncode == 0}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def stages(repo: Path, filings: Path) -> dict[str, object]:
    env = dict(ENV, PYTHONPATH=str(repo))
    load = _load()
    done = subprocess.run([PY, "-c", _STAGES, str(filings)], capture_output=True, text=True, env=env, cwd=repo,
                          timeout=3600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"stage child failed in {repo}:\n{done.stderr[-2000:]}")
    out = json.loads(line[7:])
    out["load_avg"] = load
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", action="append", default=[], help="LABEL=DIR, in the order to rotate")
    p.add_argument("--filings", type=Path, default=ROOT.parent / "shared" / "filings")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "real_filings.md")
    args = p.parse_args()
    repos = [(r.split("=", 1)[0], Path(r.split("=", 1)[1]).resolve()) for r in args.repo or [f"this={ROOT}"]]
    files = sorted(args.filings.glob("*.pdf"))
    runs: dict[str, dict[str, list[dict[str, object]]]] = {label: {"w1": [], "w2": [], "stages": []}
                                                          for label, _ in repos}
    for _ in range(args.rounds):
        for label, repo in repos:
            runs[label]["stages"].append(stages(repo, args.filings))
            print(label, "stages", runs[label]["stages"][-1], flush=True)
        for label, repo in repos:
            runs[label]["w1"].append(whole(repo, args.filings, 1))
            print(label, "w1", runs[label]["w1"][-1], flush=True)
        for label, repo in repos:
            runs[label]["w2"].append(whole(repo, args.filings, 2))
            print(label, "w2", runs[label]["w2"][-1], flush=True)

    def med(rows: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]

    lines = [
        "# Real filing PDFs end to end: pages/s, chunks/s and where the time goes",
        "",
        f"Command: `.venv/bin/python benchmarks/real_filings.py {' '.join('--repo ' + r for r in args.repo)} "
        f"--rounds {args.rounds}` ({today()}).",
        "",
        f"Machine: {machine()}. Files: the {len(files)} PDFs of ../shared/filings "
        f"({', '.join(f.name for f in files)}). Medians of {args.rounds} rounds, the checkouts in rotation; the "
        "load average at the start of each measurement is in the last column.",
        "",
        "## Whole ingest (`python -m ingest FILINGS`)",
        "",
        "| checkout | workers | pages | chunks | seconds | pages/s | chunks/s | peak RSS (MB) | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    pages = {label: int(runs[label]["stages"][0]["pages"]) for label, _ in repos}  # type: ignore[call-overload]
    for key, workers in (("w1", 1), ("w2", 2)):
        for label, _ in repos:
            rows = runs[label][key]
            sec = med(rows, "seconds")
            chunks = int(rows[0]["chunks"])  # type: ignore[call-overload]
            lines.append(f"| {label} | {workers} | {pages[label]} | {chunks:,} | {sec:.1f} | {pages[label] / sec:.1f} | "
                         f"{chunks / sec:.1f} | {med(rows, 'rss_mb'):.0f} | "
                         f"{', '.join(str(r['load']) for r in rows)} |")
    lines += ["", "## Stages one after the other (one thread, no overlap)", "",
              "| checkout | load s | load pages/s | chunk s | embed s | write s | chunks | load avg |",
              "|---|---|---|---|---|---|---|---|"]
    for label, _ in repos:
        rows = runs[label]["stages"]
        lines.append(f"| {label} | {med(rows, 'load'):.1f} | {pages[label] / med(rows, 'load'):.1f} | "
                     f"{med(rows, 'chunk'):.1f} | {med(rows, 'embed'):.1f} | {med(rows, 'write'):.1f} | "
                     f"{int(rows[0]['chunks']):,} | {', '.join(str(r['load_avg']) for r in rows)} |")  # type: ignore[call-overload]
    lines += ["", f"## Where the load stage spends its time ({files[0].name} loaded under cProfile, which slows "
              "pure Python about 3x: self time by package or module, first round)", ""]
    for label, _ in repos:
        prof = runs[label]["stages"][0]["load_profile"]
        lines.append(f"- {label}: " + "; ".join(f"{k} {v:.1f} s" for v, k in prof))  # type: ignore[union-attr]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(json.dumps(runs, indent=1), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
