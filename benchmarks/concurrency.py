"""Benchmark: 8 chat users at once against one `python app.py`, optionally while a 1,000-document ingest runs.

Run: .venv/bin/python benchmarks/concurrency.py --work /work/bench [--size 10000] [--users 8] [--per-user 6]
        [--with-ingest [--ingest-docs 1000]] [--out benchmarks/results/concurrency.md]

Uses WORK/corpus-<size> and WORK/index-<size> (as benchmarks/query_latency.py builds them). Each user is a thread
with its own gradio_client Client calling `/chat` with generated questions (different ones per user); every
answer is checked: no error, at least one citation, the expected figure quoted (and whether the expected
document is cited). Reports throughput, latency p50/p95, errors and the app's peak RSS.

--with-ingest: an embedded Chroma folder (PersistentClient) must not be shared by two processes (Chroma's
embedded mode is single-process: each keeps its own in-memory HNSW index and caches), so this mode copies the
index's Chroma folder to WORK/server-<size>, serves it with `chroma run --path ... --port ...`, points both the
app and `python -m ingest` at it (SECTORCHAT_CHROMA_HOST/PORT), generates a 1,000-document corpus with another
seed (WORK/corpus-ingest-<n>), and runs the ingest while the users ask. The users keep asking (at least
--per-user questions each) until the ingest has finished. Answers stay checkable because the original corpus
and its questions are unchanged; the ingest only adds documents.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ENV, PY, ROOT, AppProcess, free_port, label, load_questions, machine, pct, peak_rss_mib, rss_mib, today,
)


def start_chroma(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    chroma = Path(PY).parent / "chroma"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=ENV)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma run did not answer its heartbeat within 120 s")


def check(text: str, q: dict[str, Any]) -> dict[str, bool]:
    return {
        "error": text.startswith("**Error:**") or "Error:" in text[:200],
        "cited": "\n[1] " in text or text.startswith("[1] "),
        "figure": str(q["expected"]) in text,
        "doc": f"({q['doc']}" in text,
        "same": text == q.get("reference"),
    }


def pick_questions(url: str, questions: list[dict[str, Any]], n: int) -> tuple[list[dict[str, Any]], int]:
    """Ask questions one at a time until ``n`` are answered validly (cited, expected figure); keep those answers
    as the reference. Returns them and how many were asked (the others are the answerer's misses, not load's)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    keep: list[dict[str, Any]] = []
    asked = 0
    for q in questions:
        if len(keep) >= n:
            break
        text = str(client.predict(q["question"], api_name="/chat"))
        asked += 1
        res = check(text, q)
        if res["cited"] and res["figure"] and not res["error"]:
            keep.append({**q, "reference": text})
    return keep, asked


class User(threading.Thread):
    def __init__(self, n: int, url: str, questions: list[dict[str, Any]], per_user: int,
                 keep_going: threading.Event, start_gate: threading.Barrier) -> None:
        super().__init__(name=f"user-{n}", daemon=True)
        self.n, self.url, self.questions, self.per_user = n, url, questions, per_user
        self.keep_going, self.start_gate = keep_going, start_gate
        self.results: list[dict[str, Any]] = []

    def run(self) -> None:
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        self.start_gate.wait()
        i = 0
        while i < self.per_user or self.keep_going.is_set():
            q = self.questions[(self.n * self.per_user + i) % len(self.questions)]
            t0 = time.perf_counter()
            try:
                text = str(client.predict(q["question"], api_name="/chat"))
                res = check(text, q)
            except Exception as exc:  # a transport or server failure is an error of the run
                text, res = f"{type(exc).__name__}: {exc}", {"error": True, "cited": False, "figure": False,
                                                            "doc": False, "same": False}
            t1 = time.perf_counter()
            self.results.append({"user": self.n, "q": q["question"], "start": t0, "end": t1,
                                 "ms": (t1 - t0) * 1000, **res, "text": text[:300]})
            i += 1


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = args.work / f"corpus-{label(args.size)}"
    index = args.work / f"index-{label(args.size)}"
    if not (index / "chroma").is_dir():
        raise SystemExit(f"no index at {index}: build it with benchmarks/query_latency.py --sizes {args.size}")
    questions = load_questions(corpus)
    env = dict(ENV)
    chroma_proc = None
    app_index = index
    info: dict[str, Any] = {"mode": "with ingest" if args.with_ingest else "chat only"}
    if args.with_ingest:
        server_dir = args.work / f"server-{label(args.size)}"
        shutil.rmtree(server_dir, ignore_errors=True)
        shutil.copytree(index / "chroma", server_dir)
        port = free_port()
        chroma_proc = start_chroma(server_dir, port, args.work / "chroma-server.log")
        env.update(SECTORCHAT_CHROMA_HOST="127.0.0.1", SECTORCHAT_CHROMA_PORT=str(port))
        app_index = args.work / f"side-{label(args.size)}"  # side files (keyword index) of the server mode
        shutil.rmtree(app_index, ignore_errors=True)
        extra = args.work / f"corpus-ingest-{args.ingest_docs}-w{args.seed}"  # company figures of the base corpus
        if not (extra / "docs").is_dir():
            subprocess.run([PY, str(ROOT / "benchmarks" / "gen_corpus.py"), str(extra), "--docs",
                            str(args.ingest_docs), "--chunks", "100000000", "--seed", str(args.seed + 1),
                            "--world-seed", str(args.seed)],
                           check=True, env=ENV)
        info["ingest_docs"] = len(list((extra / "docs").glob("*.md")))
    app = AppProcess(app_index, env=env, log=args.work / f"app-concurrency-{label(args.size)}.log")
    ingest_proc = None
    try:
        app.wait_ready(questions[0]["question"])
        info["startup_s"] = app.first_answer_s
        questions, asked = pick_questions(app.url, questions, args.pool)
        info["pool"] = f"{len(questions)} of the first {asked} generated questions answered validly by a single user"
        keep_going = threading.Event()
        gate = threading.Barrier(args.users + 1)
        users = [User(n, app.url, questions, args.per_user, keep_going, gate) for n in range(args.users)]
        for u in users:
            u.start()
        if args.with_ingest:
            keep_going.set()
            ingest_log = open(args.work / "ingest-concurrent.log", "w")  # noqa: SIM115
            ingest_proc = subprocess.Popen(
                [PY, "-m", "ingest", str(extra / "docs"), "--index", str(app_index)],
                cwd=ROOT, env=env, stdout=ingest_log, stderr=subprocess.STDOUT)
        gate.wait()
        t0 = time.perf_counter()
        rss_samples = []
        if ingest_proc is not None:
            deadline = time.monotonic() + args.max_seconds
            while ingest_proc.poll() is None and time.monotonic() < deadline:
                rss_samples.append(rss_mib(app.proc.pid))
                time.sleep(1)
            info["ingest_rc"] = ingest_proc.poll()
            info["ingest_s"] = time.perf_counter() - t0
            if ingest_proc.poll() is None:
                info["ingest_note"] = f"ingest still running after {args.max_seconds} s; stopped the users"
            keep_going.clear()
        for u in users:
            u.join()
        wall = time.perf_counter() - t0
        info["peak_rss_mib"] = peak_rss_mib(app.proc.pid)
        results = [r for u in users for r in u.results]
        info.update(wall_s=wall, results=results)
        if ingest_proc is not None and ingest_proc.poll() is None:
            ingest_proc.wait()
            info["ingest_s_total"] = time.perf_counter() - t0
            info["ingest_rc"] = ingest_proc.returncode
        return info
    finally:
        app.stop()
        if ingest_proc is not None and ingest_proc.poll() is None:
            ingest_proc.terminate()
        if chroma_proc is not None:
            chroma_proc.terminate()
            chroma_proc.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/work/bench"))
    p.add_argument("--size", type=int, default=10000, help="index WORK/index-<size> (default 10000)")
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--per-user", type=int, default=6, help="questions per user (at least, with --with-ingest)")
    p.add_argument("--pool", type=int, default=16,
                   help="questions the users share: the first ones a single user gets a valid answer to")
    p.add_argument("--with-ingest", action="store_true", help="run a 1,000-document ingest meanwhile (Chroma server)")
    p.add_argument("--ingest-docs", type=int, default=1000)
    p.add_argument("--max-seconds", type=float, default=3600, help="stop the users after this long with --with-ingest")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--note", default="provisional: the machine is shared with other engineers and was busy")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "concurrency.md")
    args = p.parse_args()
    started, header = today(), machine()
    info = run(args)
    res = info.pop("results")
    lat = [r["ms"] for r in res]
    errors = sum(r["error"] for r in res)
    cited = sum(r["cited"] for r in res)
    fig = sum(r["figure"] for r in res)
    doc = sum(r["doc"] for r in res)
    same = sum(r["same"] for r in res)
    valid = sum(r["cited"] and r["figure"] and not r["error"] for r in res)
    span = (max(r["end"] for r in res) - min(r["start"] for r in res)) if res else float("nan")
    (args.work / f"concurrency-{'ingest' if args.with_ingest else 'chat'}.json").write_text(
        json.dumps({**info, "results": res}, indent=1, default=str), encoding="utf-8")
    row = (f"| {info['mode']} | {label(args.size)} | {args.users} | {len(res)} | {len(res) / span:.2f} "
           f"| {statistics.median(lat):.0f} / {pct(lat, 95):.0f} / {max(lat):.0f} | {errors} "
           f"| {valid}/{len(res)} (cited {cited}, figure {fig}, expected doc {doc}, same as single-user {same}) | {info['peak_rss_mib']:.0f} MiB "
           f"| {info.get('ingest_docs', '-')} docs, {info['ingest_s']:.0f} s, exit {info.get('ingest_rc')} |"
           if args.with_ingest else
           f"| {info['mode']} | {label(args.size)} | {args.users} | {len(res)} | {len(res) / span:.2f} "
           f"| {statistics.median(lat):.0f} / {pct(lat, 95):.0f} / {max(lat):.0f} | {errors} "
           f"| {valid}/{len(res)} (cited {cited}, figure {fig}, expected doc {doc}, same as single-user {same}) | {info['peak_rss_mib']:.0f} MiB "
           "| - |")
    print(row)
    failing = [r for r in res if r["error"] or not (r["cited"] and r["figure"])]
    for r in failing[:10]:
        print("NOT VALID:", r["q"], "->", r["text"][:200].replace("\n", " "))
    head = [
        "# Concurrent chat users against one app process",
        "",
        "Generated by `benchmarks/concurrency.py`; each user is a thread with its own gradio_client `Client` calling "
        "`/chat` (the app queues with `default_concurrency_limit=4`). Latency is per answer as the user sees it "
        "(ms: p50 / p95 / max). Valid = no error, a citation, and the generated expected figure quoted. "
        "Throughput = answers / (last answer end − first question start).",
        "",
        "| mode | index | users | answers | answers/s | latency p50 / p95 / max | errors | valid | app peak RSS "
        "| concurrent ingest |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines: list[str] = []
    if args.out.exists():
        old = args.out.read_text(encoding="utf-8").split("\n## Notes")[0].splitlines()
        lines = [ln for ln in old if ln.startswith("| ") and not ln.startswith(("| mode", "| ---"))
                 and not ln.startswith(f"| {info['mode']} |")]
    run_line = f"- {info['mode']}: {header}; run {started}; app start-up to first answer {info['startup_s']:.1f} s. " \
               f"Questions: {info['pool']}. **{args.note}.**"
    notes: list[str] = []
    if args.out.exists():
        old_text = args.out.read_text(encoding="utf-8")
        notes = [ln for ln in old_text.split("\n## Notes")[0].splitlines()
                 if ln.startswith("- ") and not ln.startswith(f"- {info['mode']}:")]
        if "\n## Notes" in old_text:
            tail = old_text[old_text.index("\n## Notes"):]
        else:
            tail = ""
    else:
        tail = ""
    text = "\n".join(head + sorted(lines + [row]) + ["", "Runs:", "", *sorted(notes + [run_line])]) + "\n" + tail
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
