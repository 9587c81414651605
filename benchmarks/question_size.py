"""Benchmark: time and peak memory of one over-long question, and of embedding one over-long text, before/after.

Run: .venv/bin/python benchmarks/question_size.py [--before /tmp/orig] [--sizes 10000 100000 1000000]
     [--out benchmarks/results/question_size.md]
Each measurement runs in a fresh process with the code of one tree (``--before``: a checkout without the question
limit and the encoder windows; this tree: with them): it builds a throw-away index of the bundled corpus with that
tree's ingest, warms up with a short question, then asks the long one through ``Assistant.ask`` (what the app and
``/chat`` call) and embeds the long text with each packaged model. Peak memory is the growth of the process's peak
RSS over its peak after the warm-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, PY, ROOT, machine, today  # noqa: E402

QUESTION = "What was Lanting Biopharma's revenue in 2025? "

# Runs in the child, with the tree under test as its working directory (so its packages are imported).
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from rag.config import Settings
from rag.assistant import build_assistant
from rag.embeddings import make_embedder

what, index, size = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
text = (sys.argv[4] * (size // len(sys.argv[4]) + 1))[:size]
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if what == "ask":
    assistant = build_assistant(Settings(index=index))
    assistant.ask("What was Lanting Biopharma's revenue in 2025?")
    before = peak()
    t = time.perf_counter()
    answer = assistant.ask(text)
    seconds = time.perf_counter() - t
    result = f"error: {answer.error.split(':')[0]}" if answer.error else ("refused" if answer.refused else "answered")
else:
    embedder = make_embedder(Settings(embedding_model=what))
    embedder.embed_query("warm up")
    before = peak()
    t = time.perf_counter()
    embedder.embed_query(text)
    seconds = time.perf_counter() - t
    result = "vector"
print(json.dumps({"seconds": seconds, "peak_mb": peak() - before, "result": result}))
"""


def measure(tree: Path, what: str, index: Path, size: int) -> dict[str, object]:
    out = subprocess.run([PY, "-c", CHILD, what, str(index), str(size), QUESTION], cwd=tree, env=ENV,
                         capture_output=True, text=True, timeout=3600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{what} {size} in {tree} failed:\n{out.stderr[-2000:]}")
    data: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return data


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, default=Path("/tmp/orig"), help="tree without the limits")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--models", nargs="+", default=["universal-sentence-encoder-multilingual-3", "all-MiniLM-L6-v2"])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "question_size.md")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sectorchat-qsize-") as tmp:
        for label, tree in (("before", args.before.resolve()), ("after", ROOT)):
            index = Path(tmp) / label
            built = subprocess.run([PY, "-m", "ingest", str(ROOT / "corpus"), "--index", str(index)], cwd=tree,
                                   env=ENV, capture_output=True, text=True, timeout=900, check=False)
            if built.returncode != 0:
                raise SystemExit(f"ingest in {tree} failed:\n{built.stderr[-2000:]}")
            for size in args.sizes:
                for what in ["ask", *args.models]:
                    m = measure(tree, what, index, size)
                    step = "Assistant.ask (USE index)" if what == "ask" else f"embed_query, {what}"
                    rows.append((label, step, size, m["seconds"], m["peak_mb"], m["result"]))
                    print(rows[-1], flush=True)
    lines = [
        "# One over-long question: time and memory before and after the question limit and encoder windows",
        "",
        f"Machine: {machine()}. Date: {today()}. Command: `.venv/bin/python benchmarks/question_size.py`.",
        "",
        "Each row is a fresh process running one tree's code: `before` is main without the limit "
        "(SECTORCHAT_MAX_QUESTION_CHARS, default 2000) and without the encoders' windows (USE: first 1024 tokens; "
        "sentence-transformers: 256 tokens, the text cut at 100 characters per token before tokenizing); `after` is "
        "this tree. The question is \"" + QUESTION.strip() + "\" repeated to the size. Peak MB is how much the "
        "process's peak RSS grew over its peak after a warm-up question. One run each on a machine shared with other "
        "work (see the load average): a time under a second is noise-dominated; the peak memory is not.",
        "",
        "| code | step | characters | ms | peak MB | result |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for label, step, size, seconds, peak_mb, result in rows:
        lines.append(f"| {label} | {step} | {size:,} | {seconds * 1000:,.1f} | {peak_mb:,.0f} | {result} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
