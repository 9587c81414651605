"""Benchmark: loading and chunking one long single-line text file, time and peak memory against its size.

Run: .venv/bin/python benchmarks/input_size.py [--sizes 0.5 1 2 5] [--kinds en zh en-nopunct zh-nopunct]
        [--repo DIR] [--timeout 300] [--ingest-mb 1 2 5] [--ingest-only] [--out benchmarks/results/input_size.md]

Each (kind, size) runs in a fresh child process started from --repo (default: this checkout; pass an untouched
checkout of an older commit to measure "before"): it writes one line of generated English or Chinese news-like
text (with sentence ends, or a run without them: "-nopunct"), loads it with ingest.loaders.load_document and
chunks it with the ingest chunker over the default encoder's tokenizer (200 tokens, 40 overlap, the ingest
defaults), and prints the seconds taken and its peak RSS (resource.getrusage in the child, so the model and the
text count too; a child that only loads the model is measured once as the floor). A child still running after
--timeout seconds is stopped and reported as such. --ingest-mb also times a whole `python -m ingest` of a line of
each size (embedding and writing included; peak RSS of that process) per kind.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ENV, PY, ROOT, machine, today  # noqa: E402

_CHILD = r"""
import json, random, resource, sys, time
kind, size = sys.argv[1], int(sys.argv[2])

def line(kind, size, seed=7):
    rnd = random.Random(seed)
    zh = kind.startswith("zh")
    punct = not kind.endswith("nopunct")
    words = ("恒瑞医药上半年营业收入同比增长研发投入创新药授权交易金额首付款里程碑公司发布公告显示业绩超预期" if zh else
             "the company reported revenue growth while research spending rose as licensing deals expanded".split())
    out, total = [], 0
    while total < size:
        piece = "".join(rnd.choice(words) for _ in range(rnd.randint(6, 30))) if zh else " ".join(
            rnd.choice(words) for _ in range(rnd.randint(6, 20)))
        piece += f"{rnd.randint(1, 999)}.{rnd.randint(0, 9)}亿元" if zh else f" {rnd.randint(1, 999)}.{rnd.randint(0, 9)}"
        piece += (rnd.choice("。；！") if zh else ". Then") if punct else ("" if zh else " and")
        out.append(piece)
        total += len(piece) + (0 if zh else 1)
    return ("" if zh else " ").join(out)[:size].strip()

from ingest.chunking import Chunker
from ingest.loaders import load_document
from rag.config import Settings
from rag.embeddings import make_embedder

emb = make_embedder(Settings())
emb.count_tokens(["warm up"])
if kind == "floor":
    print(json.dumps({"seconds": 0.0, "chunks": 0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    raise SystemExit
data = line(kind, size).encode("utf-8")
if len(sys.argv) > 3:
    open(sys.argv[3], "wb").write(data)
    raise SystemExit
chunker = Chunker(emb.count_tokens, emb.token_offsets, max_tokens=200, overlap=40)
t0 = time.perf_counter()
doc = load_document(data, source="line.txt", file_name="line.txt")
chunks = chunker.chunk(doc)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "chunks": len(chunks),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(repo: Path, args: list[str], timeout: float) -> dict[str, float] | None:
    env = dict(ENV, PYTHONPATH=str(repo))
    try:
        done = subprocess.run([PY, "-c", _CHILD, *args], capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=repo)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


def _ingest(repo: Path, kind: str, size: int, timeout: float, split: int = 0) -> tuple[float, float, int] | None:
    """Seconds, peak RSS (MB) and chunks of `python -m ingest` of one line file (GNU time's figures); with
    ``split``, of the same text cut into files of ``split`` characters (each held whole, none streamed)."""
    work = Path(tempfile.mkdtemp(prefix="input-size-"))
    try:
        path = work / "line.txt"
        _run(repo, [kind, str(size), str(path)], timeout)
        if split:
            text = path.read_text(encoding="utf-8")
            path.unlink()
            path = work / "parts"
            path.mkdir()
            for n, at in enumerate(range(0, len(text), split)):
                (path / f"part-{n:04d}.txt").write_text(text[at : at + split], encoding="utf-8")
        env = dict(ENV, PYTHONPATH=str(repo))
        try:
            done = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", PY, "-m", "ingest", str(path), "--index",
                                   str(work / "index"), "--workers", "1"], capture_output=True, text=True,
                                  timeout=timeout, env=env, cwd=repo)
        except subprocess.TimeoutExpired:
            return None
        stats = [ln for ln in done.stderr.splitlines() if ln.startswith("TIME ")][-1].split()
        chunks = next((int(w) for w, nxt in zip(done.stdout.split(), done.stdout.split()[1:], strict=False)
                       if nxt == "chunks" and w.isdigit()), 0)
        return float(stats[1]), int(stats[2]) / 1024, chunks
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1, 2, 5], help="line sizes in MB (10**6 chars)")
    ap.add_argument("--kinds", nargs="+", default=["en", "zh", "en-nopunct", "zh-nopunct"])
    ap.add_argument("--repo", type=Path, default=ROOT, help="checkout whose ingest/ and rag/ are measured")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--ingest-mb", type=float, nargs="*", default=[],
                    help="also time a whole `python -m ingest` of lines of these sizes")
    ap.add_argument("--ingest-only", action="store_true", help="skip the load + chunk table")
    ap.add_argument("--split", type=int, default=0,
                    help="with --ingest-mb: also ingest the same text as files of this many characters")
    ap.add_argument("--label", default="", help="what --repo is, for the table (e.g. 'before (commit abc)')")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    repo = args.repo.resolve()
    floor = _run(repo, ["floor", "0"], args.timeout) or {}
    lines = [f"### {args.label or repo}", "",
             f"Measured {today()} on {machine()}. Child process floor (model loaded, no text): "
             f"{floor.get('rss_mb', float('nan')):.0f} MB peak RSS.", "",
             "| kind | size (MB) | chunks | load + chunk (s) | chars/s | peak RSS (MB) |", "|---|---|---|---|---|---|"]
    for kind in [] if args.ingest_only else args.kinds:
        for mb in args.sizes:
            size = int(mb * 1_000_000)
            got = _run(repo, [kind, str(size)], args.timeout)
            if got is None:
                lines.append(f"| {kind} | {mb:g} | – | > {args.timeout:g} (stopped) | – | – |")
            else:
                lines.append(f"| {kind} | {mb:g} | {got['chunks']} | {got['seconds']:.1f} | "
                             f"{size / got['seconds']:,.0f} | {got['rss_mb']:.0f} |")
            print(lines[-1], flush=True)
    if args.ingest_mb:
        lines += ["", "Whole `python -m ingest` of one line (embedding and Chroma included, `--workers 1`):", "",
                  "| kind | size (MB) | chunks | seconds | chunks/s | peak RSS (MB) |", "|---|---|---|---|---|---|"]
        for kind in args.kinds:
            for mb in args.ingest_mb:
                got2 = _ingest(repo, kind, int(mb * 1_000_000), args.timeout)
                lines.append(f"| {kind} | {mb:g} | – | > {args.timeout:g} (stopped) | – | – |" if got2 is None else
                             f"| {kind} | {mb:g} | {got2[2]} | {got2[0]:.1f} | {got2[2] / got2[0]:.1f} | "
                             f"{got2[1]:.0f} |")
                print(lines[-1], flush=True)
                if args.split:
                    got3 = _ingest(repo, kind, int(mb * 1_000_000), args.timeout, args.split)
                    lines.append(f"| {kind}, as {args.split:,}-char files | {mb:g} | – | > {args.timeout:g} (stopped) "
                                 "| – | – |" if got3 is None else
                                 f"| {kind}, as {args.split:,}-char files | {mb:g} | {got3[2]} | {got3[0]:.1f} | "
                                 f"{got3[2] / got3[0]:.1f} | {got3[1]:.0f} |")
                    print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
