"""Benchmark: all-MiniLM-L6-v2 on torch vs ONNX Runtime (fp32, 8-bit weights) vs OpenVINO, and USE for reference.

Run (the ONNX/OpenVINO backends need the optional extras):
    pip install -c requirements.lock -e '.[onnx,openvino]'
    python benchmarks/encoder_backends.py [--rounds 5] [--external-limit 40] [--out benchmarks/results/encoder_backends.md]

Encodes the same texts (the chunks of the bundled corpus, the eval questions, Chinese passages) with the same batch
size for each backend, interleaving the backends round by round so that a busy machine slows them alike; reports
texts/s, speed relative to torch (median of the per-round ratios), and how far each backend's vectors are from
torch's. Then runs the eval suites with each backend (every backend embeds its own index) and, for the backends
that keep the index's model identity, with an index embedded by torch and queries embedded by the backend.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from evals.runner import run_all  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from rag.config import MINILM, USE_MULTILINGUAL, Settings  # noqa: E402
from rag.embeddings import Embedder, make_embedder, missing_backend_packages  # noqa: E402
from rag.store import ChunkStore  # noqa: E402

SUITES = [str(p) for p in sorted((ROOT / "evals" / "suites").glob("*.jsonl"))]
# (label, embedding_model, embedding_backend)
BACKENDS = [
    ("MiniLM torch", MINILM, "torch"),
    ("MiniLM onnx", MINILM, "onnx"),
    ("MiniLM onnx-int8", MINILM, "onnx-int8"),
    ("MiniLM openvino", MINILM, "openvino"),
    ("USE (numpy)", USE_MULTILINGUAL, "torch"),
]
CHINESE = [
    "2024年，中国药企共达成94笔对外授权交易，交易总金额519亿美元，其中首付款41亿美元。",
    "第44届摩根大通医疗健康大会于1月12日至15日在美国举行，多家中国创新药企业参会，其中7家在主论坛演讲，"
    "17家在亚太分会场展示。",
    "1月12日，国内某头部CXO企业发布2025年业绩预告，预计实现营业收入约454.56亿元，同比增长15.84%；"
    "归母净利润约191.51亿元，同比增长102.65%。",
    "公司全年实现营业收入32.4亿元，研发投入18.7亿元，占营业收入的57.7%。核心产品的国际多中心III期临床试验"
    "已完成患者入组，预计于2026年下半年提交上市申请。",
    "创新药出海模式从单一产品授权逐步扩展到NewCo、合作开发与全球权益共享，首付款比例和里程碑结构也更趋多样。",
]


def machine() -> str:
    cpu = "unknown CPU"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown CPU":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = ", ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8") if f in flags)
    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (f"{os.cpu_count()} cores ({cpu}; {simd or 'no AVX2'}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, load average at start {load}")


def versions() -> str:
    out = []
    for mod in ("torch", "sentence_transformers", "transformers", "onnxruntime", "onnx", "openvino"):
        try:
            out.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            out.append(f"{mod} -")
    return ", ".join(out)


def bench_texts(chunk_texts: list[str]) -> list[str]:
    from evals.suite import load_suite

    questions = [q.question for s in SUITES for q in load_suite(Path(s))]
    return [*chunk_texts, *questions, *CHINESE]


def corpus_chunks(embedder: Embedder, work: Path) -> list[str]:
    settings = Settings(index=work / "chunks-index", embedding_model=MINILM)
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=True)
    Ingestor(settings, embedder, store).run([ROOT / "corpus"])
    docs = store.chunks.get(include=["documents"])["documents"] or []
    return [d for d in docs if d]


def speed(embedders: dict[str, Embedder], texts: list[str], rounds: int) -> dict[str, dict[str, Any]]:
    base = "MiniLM torch"
    for emb in embedders.values():  # load and warm up (includes the one-time ONNX export)
        emb.embed_documents(texts[:4])
    times: dict[str, list[float]] = {k: [] for k in embedders}
    cpu: dict[str, list[float]] = {k: [] for k in embedders}
    vectors: dict[str, np.ndarray] = {}
    for r in range(rounds):
        labels = list(embedders) if r % 2 == 0 else list(reversed(embedders))  # alternate the order too
        for label in labels:
            t0, c0 = time.perf_counter(), time.process_time()
            vecs = embedders[label].embed_documents(texts)
            times[label].append(time.perf_counter() - t0)
            cpu[label].append(time.process_time() - c0)
            vectors[label] = np.asarray(vecs, dtype=np.float32)
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    out: dict[str, dict[str, Any]] = {}
    ref = vectors.get(base)
    for label, ts in times.items():
        row: dict[str, Any] = {"median_s": statistics.median(ts), "texts_per_s": len(texts) / statistics.median(ts),
                               "min_s": min(ts), "cpu_s": statistics.median(cpu[label])}
        if base in times:
            row["speedup"] = statistics.median(b / t for b, t in zip(times[base], ts, strict=True))
            row["speedup_best"] = min(times[base]) / min(ts)
        v = vectors[label]
        if ref is not None and v.shape == ref.shape and label.startswith("MiniLM"):
            cos = (v * ref).sum(1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(ref, axis=1))
            row.update(max_abs=float(np.abs(v - ref).max()), min_cos=float(cos.min()), mean_cos=float(cos.mean()))
            # do the nearest neighbours among the texts stay the same?
            sims_ref, sims = ref @ ref.T, v @ v.T
            top_ref, top = np.argsort(-sims_ref, axis=1)[:, 1:6], np.argsort(-sims, axis=1)[:, 1:6]
            row["top5_overlap"] = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top_ref, top, strict=True)]))
        out[label] = row
    return out


def suite_quality(label: str, embedder: Embedder, settings: Settings, work: Path, suites: list[str],
                  limit: int | None, prebuilt: Path | None = None) -> dict[str, Any]:
    """Run the suites; the bundled ones over ``prebuilt`` (an index of corpus/) or a fresh index of corpus/."""
    index = prebuilt or work / f"index-{label.replace(' ', '_')}"
    s = settings.model_copy(update={"index": index})
    if prebuilt is None:
        store = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension, create=True)
        Ingestor(s, embedder, store).run([ROOT / "corpus"])
    t0 = time.perf_counter()
    sub = work / f"suites-{label.replace(' ', '_')}-{'mixed' if prebuilt else 'own'}"
    sub.mkdir(parents=True, exist_ok=True)
    report = run_all(suites, s, work=sub, limit=limit, embedder=embedder)
    seconds = time.perf_counter() - t0
    per_suite = {name: v["metrics"] for name, v in report["suites"].items()}
    return {"pooled": report["metrics"], "suites": per_suite, "seconds": seconds}


def fmt(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat-texts", type=int, default=2, help="encode the text set this many times per round")
    parser.add_argument("--external", nargs="*", default=["tatqa"], choices=["tatqa", "fineval_rigor"],
                        help="external suites to run too (fineval_rigor ingests ~250 documents per backend)")
    parser.add_argument("--external-limit", type=int, default=25, help="questions per external suite")
    parser.add_argument("--skip-suites", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "encoder_backends.md")
    args = parser.parse_args()

    started = dt.datetime.now()
    skipped: dict[str, str] = {}
    embedders: dict[str, Embedder] = {}
    for label, model, backend in BACKENDS:
        missing = missing_backend_packages(backend)
        if missing:
            skipped[label] = f"not installed: {', '.join(missing)}"
            continue
        s = Settings(embedding_model=model, embedding_backend=backend, embed_batch_size=args.batch_size)  # type: ignore[arg-type]
        embedders[label] = make_embedder(s)
    head = machine()
    print(head, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-enc-") as tmp:
        work = Path(tmp)
        chunks = corpus_chunks(embedders["MiniLM torch"], work)
        texts = bench_texts(chunks) * args.repeat_texts
        n_zh = sum(1 for t in texts if any("\u4e00" <= c <= "\u9fff" for c in t))
        print(f"{len(texts)} texts ({len(chunks)} corpus chunks, {n_zh} Chinese), batch {args.batch_size}", flush=True)
        speeds = speed(embedders, texts, args.rounds)

        quality: dict[str, dict[str, Any]] = {}
        mixed: dict[str, dict[str, Any]] = {}
        if not args.skip_suites:
            suites = SUITES + list(args.external)
            limit = args.external_limit
            for label, emb in embedders.items():
                model = MINILM if label.startswith("MiniLM") else USE_MULTILINGUAL
                settings = Settings(embedding_model=model, embed_batch_size=args.batch_size)
                quality[label] = suite_quality(label, emb, settings, work, suites, limit)
                print(f"suites {label}: {json.dumps({k: round(v, 3) for k, v in quality[label]['pooled'].items()})}",
                      flush=True)
            base_index = work / "index-MiniLM_torch"
            for label, emb in embedders.items():
                if label.startswith("MiniLM") and label != "MiniLM torch":
                    settings = Settings(embedding_model=MINILM, embed_batch_size=args.batch_size)
                    mixed[label] = suite_quality(label, emb, settings, work, SUITES, None, prebuilt=base_index)

    lines = [
        "# Encoder backends: all-MiniLM-L6-v2 on torch, ONNX Runtime, OpenVINO (and USE for reference)",
        "",
        f"Machine: {head}. **Measured on a shared busy machine** (other engineers' jobs running): absolute times "
        "swing between rounds, so compare the relative speeds, which are medians of per-round ratios with the "
        "backends interleaved (order alternating each round).",
        "",
        f"Date: {started:%Y-%m-%d %H:%M}. Versions: {versions()}.",
        "",
        f"Texts: {len(texts)} per round ({len(chunks)} chunks of the bundled corpus, the {len(texts) // args.repeat_texts - len(chunks) - len(CHINESE)} "
        f"eval questions, {len(CHINESE)} Chinese passages; the set {args.repeat_texts}x), batch size "
        f"{args.batch_size}, {args.rounds} rounds after a warm-up. Run: `python benchmarks/encoder_backends.py "
        f"--rounds {args.rounds} --external {' '.join(args.external)} --external-limit {args.external_limit}`.",
        "",
        "ONNX export: transformer + mean pooling + L2 norm in one graph (`torch.onnx.export`, opset 17), made once "
        "from the packaged weights into `~/.cache/sectorchat/onnx/`. onnx-int8: 8-bit block-wise weights "
        "(MatMulNBits, block 32, int8 compute, `accuracy_level=4`). OpenVINO runs the fp32 ONNX file with "
        "`INFERENCE_PRECISION_HINT=f32`.",
        "",
        "## Speed and vectors (vs MiniLM torch)",
        "",
        "| backend | median s / round | best s | CPU s (median) | texts/s (median) | speed vs torch (median of "
        "ratios) | speed vs torch (best rounds) | max abs diff | min cosine | mean cosine | top-5 neighbours kept |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, row in speeds.items():
        max_abs = f"{row['max_abs']:.1e}" if "max_abs" in row else "-"
        lines.append(
            f"| {label} | {row['median_s']:.2f} | {row['min_s']:.2f} | {row['cpu_s']:.2f} | {row['texts_per_s']:.1f} | "
            f"{fmt(row.get('speedup'), 2)}x | {fmt(row.get('speedup_best'), 2)}x | "
            f"{max_abs} | {fmt(row.get('min_cos'), 5)} | {fmt(row.get('mean_cos'), 5)} | "
            f"{fmt(row.get('top5_overlap'), 3)} |"
        )
    for label, why in skipped.items():
        lines.append(f"| {label} | skipped: {why} | | | | | | | | | |")
    if quality:
        lines += [
            "",
            "## Suite quality (each backend embeds its own index of corpus/; extractive answers)",
            "",
            "| backend | suite | n | recall@5 | MRR | pass rate | figure accuracy |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for label, q in quality.items():
            for name, m in [*q["suites"].items(), ("ALL", q["pooled"])]:
                lines.append(f"| {label} | {name} | {int(m.get('questions', 0))} | {fmt(m.get('recall_at_k'))} | "
                             f"{fmt(m.get('mrr'))} | {fmt(m.get('pass_rate'))} | {fmt(m.get('figure_accuracy'))} |")
    if mixed:
        lines += [
            "",
            "## Mixed: index embedded by MiniLM torch, questions embedded by the backend (bundled suites)",
            "",
            "| backend | n | recall@5 | MRR | pass rate |",
            "| --- | --- | --- | --- | --- |",
        ]
        for label, q in mixed.items():
            m = q["pooled"]
            lines.append(f"| {label} | {int(m.get('questions', 0))} | {fmt(m.get('recall_at_k'))} | "
                         f"{fmt(m.get('mrr'))} | {fmt(m.get('pass_rate'))} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
