"""Benchmark: the adversarial probe's small files (backtracking patterns, YAML alias bombs), time and memory each.

Run: .venv/bin/python benchmarks/regex_probes.py [--repo DIR] [--label TEXT] [--timeout 120]
        [--out benchmarks/results/regex_probes.md]

Each file is loaded with ingest.loaders.load_document and chunked with the ingest chunker (default encoder's
tokenizer, 200 tokens, 40 overlap) in a fresh child process started from --repo (default: this checkout; pass an
untouched checkout of an older commit for "before"). The child prints the seconds taken, its peak RSS
(resource.getrusage), the longest warning and the longest metadata field it produced. A child still running after
--timeout seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ENV, PY, ROOT, machine, today  # noqa: E402

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from ingest.chunking import Chunker
from ingest.loaders import load_document
from rag.config import Settings
from rag.embeddings import make_embedder

emb = make_embedder(Settings())
emb.count_tokens(["warm up"])
chunker = Chunker(emb.count_tokens, emb.token_offsets, max_tokens=200, overlap=40)
path = Path(sys.argv[1])
t0 = time.perf_counter()
doc = load_document(path.read_bytes(), source=str(path), file_name=path.name)
chunks = chunker.chunk(doc)
seconds = time.perf_counter() - t0
m = doc.meta
fields = {"title": m.title, "company": m.company, "tickers": ",".join(m.tickers), "publisher": m.publisher}
field = max(fields, key=lambda k: len(fields[k]))
print(json.dumps({"seconds": seconds, "chunks": len(chunks), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "warning": max((len(w) for w in doc.warnings), default=0), "field": field,
                  "field_len": len(fields[field])}))
"""


def _bomb(levels: int, field: str) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "---\n" + "\n".join(lines) + f"\n{field}: *a{levels - 1}\n---\n# Body\n\nText.\n"


def _docx(heading: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def probes() -> dict[str, bytes]:
    words = " ".join(["Word"] * 36_000)
    return {
        "heading, 1000 spaces (.md)": ("# a" + " " * 1000 + "b").encode(),
        "heading, 3000 spaces (.md)": ("# a" + " " * 3000 + "b").encode(),
        "heading, 3000 spaces (.docx)": _docx("a" + " " * 3000 + "b"),
        "heading, 3000 U+3000 (.txt)": ("# a" + "\u3000" * 3000 + "b").encode(),
        "heading, 3000 tabs (.md)": ("# a" + "\t" * 3000 + "b").encode(),
        "title of 36,000 capitalised words (.md)": f"# {words}\n\nBody.".encode(),
        "YAML aliases, 8 levels into date (.md)": _bomb(8, "date").encode(),
        "YAML aliases, 7 levels into tickers (.md)": _bomb(7, "tickers").encode(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=ROOT)
    ap.add_argument("--label", default="")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    repo = args.repo.resolve()
    work = Path(tempfile.mkdtemp(prefix="regex-probes-"))
    lines = [f"### {args.label or repo}", "", f"Measured {today()} on {machine()}.", "",
             "| file | bytes | load + chunk (s) | peak RSS (MB) | chunks | longest warning (chars) | longest field |",
             "|---|---|---|---|---|---|---|"]
    try:
        for i, (name, data) in enumerate(probes().items()):
            ext = name.rsplit("(", 1)[1].rstrip(")")
            path = work / f"probe{i}{ext}"
            path.write_bytes(data)
            try:
                done = subprocess.run([PY, "-c", _CHILD, str(path)], capture_output=True, text=True,
                                      timeout=args.timeout, env=dict(ENV, PYTHONPATH=str(repo)), cwd=repo)
            except subprocess.TimeoutExpired:
                lines.append(f"| {name} | {len(data):,} | > {args.timeout:g} (stopped) | – | – | – | – |")
                print(lines[-1], flush=True)
                continue
            if done.returncode != 0:
                lines.append(f"| {name} | {len(data):,} | failed: {done.stderr.strip().splitlines()[-1][:80]} "
                             "| – | – | – | – |")
            else:
                got = json.loads(done.stdout.strip().splitlines()[-1])
                lines.append(f"| {name} | {len(data):,} | {got['seconds']:.2f} | {got['rss_mb']:.0f} | "
                             f"{got['chunks']} | {got['warning']:,} | {got['field']}: {got['field_len']:,} chars |")
            print(lines[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
