"""Scale probe: a large index made from a built one by replicating its chunks, when a real ingest is too slow.

Run: .venv/bin/python benchmarks/replicate_index.py /work/bench/index-10k /work/bench/index-100k-replica --copies 10

Copies SRC (an index folder built by `python -m ingest`) to DST, then adds copies-1 replicas of every chunk and
document record: new ids, the source path under a `replica-<k>/` folder, the same text and keyword tokens, and the
same embedding plus a little Gaussian noise (so HNSW holds distinct points). The keyword index is rebuilt from the
store. Query latency on DST shows how Chroma and BM25 scale with the number of chunks; it is NOT a substitute for
ingesting the generated 100k corpus (answers are duplicated ten times, which changes retrieval quality).
Embedding 100k chunks with the packaged model takes ~50 CPU-minutes; use this only when that is not available.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def replicate(src: Path, dst: Path, copies: int, noise: float, seed: int) -> int:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from rag.bm25 import BM25Cache
    from rag.config import Settings
    from rag.embeddings import make_embedder
    from rag.store import ChunkStore, bm25_folder

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("bm25*"))
    settings = Settings(index=dst)
    client = chromadb.PersistentClient(path=str(dst / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    chunks = client.get_collection(settings.chunks_collection, embedding_function=None)  # type: ignore[arg-type]
    docs = client.get_collection(settings.documents_collection, embedding_function=None)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    got = chunks.get(include=["embeddings", "documents", "metadatas"])  # type: ignore[list-item]
    ids, vecs = got["ids"], np.asarray(got["embeddings"], dtype=np.float32)
    texts, metas = got["documents"] or [], got["metadatas"] or []
    reg = docs.get(include=["embeddings", "documents", "metadatas"])  # type: ignore[list-item]

    def moved(source: str, k: int) -> str:
        p = Path(source)
        return str(p.parent / f"replica-{k}" / p.name)

    step = 5000
    for k in range(1, copies):
        noisy = vecs + rng.normal(0.0, noise, vecs.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for i in range(0, len(ids), step):
            part = slice(i, i + step)
            chunks.add(
                ids=[f"{cid}-r{k}" for cid in ids[part]],
                embeddings=noisy[part].tolist(),  # type: ignore[arg-type]
                documents=list(texts[part]),
                metadatas=[{**m, "source": moved(str(m["source"]), k)} for m in metas[part]],  # type: ignore[misc]
            )
        rmetas = [{**m, "source": moved(str(m["source"]), k)} for m in (reg["metadatas"] or [])]
        for i in range(0, len(rmetas), step):
            docs.add(ids=[str(m["source"]) for m in rmetas[i : i + step]],
                     embeddings=[[1.0]] * len(rmetas[i : i + step]),  # type: ignore[arg-type]
                     documents=list((reg["documents"] or [])[i : i + step]),
                     metadatas=rmetas[i : i + step])  # type: ignore[arg-type]
        print(f"replica {k}: {chunks.count()} chunks", flush=True)
    docs.modify(metadata={**(docs.metadata or {}), "generation": uuid.uuid4().hex})
    del client
    embedder = make_embedder(settings)
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=False)
    t0 = time.perf_counter()
    BM25Cache(bm25_folder(settings)).get(store)
    print(f"keyword index over {store.count()} chunks built in {time.perf_counter() - t0:.1f} s")
    return store.count()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    p.add_argument("--copies", type=int, default=10, help="total copies, the original included (default 10)")
    p.add_argument("--noise", type=float, default=0.01, help="std-dev of the noise added to each vector component")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    n = replicate(args.src, args.dst, args.copies, args.noise, args.seed)
    print(f"{args.dst}: {n} chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
