"""Crash consistency: a document is visible completely or not at all, whatever point an ingest dies at.

One test stops a write at every Chroma call in turn (what a kill -9 between two calls leaves behind); one
kills a real `python -m ingest` process with SIGKILL in the middle of a run. After each crash, a reader sees
every registered document whole (exactly its registered chunk count, of one version) and nothing else; the
next run removes the orphans and finishes the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from ingest.pipeline import Ingestor, Shard, source_id
from rag.bm25 import BM25Cache
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore


class _Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the pipeline catches it."""


def _visible_state(store: ChunkStore) -> dict[str, tuple[str, list[str]]]:
    """What a reader sees: per registered document, its content hash and the texts of its visible chunks."""
    infos, _tokens = store.bm25_rows()
    ids = [i.id for i in infos]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    texts: dict[str, list[str]] = {}
    for chunk in store.get_chunks(ids):
        texts.setdefault(chunk.source, []).append(chunk.text)
    out = {}
    for rec in store.list_documents():
        got = texts.pop(rec.source, [])
        assert len(got) == rec.chunks, f"{rec.source}: {len(got)} visible chunks, registered {rec.chunks}"
        out[rec.source] = (rec.content_hash, sorted(got))
    assert not texts, f"chunks visible without a registered document: {sorted(texts)}"
    return out


def _doc(i: int, version: int) -> str:
    """A document of several chunks; a new version changes its first paragraph only (the rest is shared)."""
    lead = (f"Company {i} (version {version}) reported revenue of RMB {i + version}.{i % 10} billion in 2025, "
            f"and paid {version * 10 + i} million US dollars upfront for licence number {i}.")
    body = "\n\n".join(f"Paragraph {p} of document {i} covers pipeline asset {p} in detail. " * 12 for p in range(3))
    return f"---\ntitle: Doc {i}\ndate: 2025-0{1 + i % 9}-01\n---\n{lead}\n\n{body}\n"


def _crash_after(store: ChunkStore, calls: int) -> Callable[[], int]:
    """Make the store's collections raise _Crash at the write call number ``calls`` (1-based)."""
    seen = [0]

    def wrap(col: Any) -> Any:
        class Dying:
            def __getattr__(self, name: str) -> Any:
                attr = getattr(col, name)
                if name not in {"upsert", "delete", "add", "update", "modify"}:
                    return attr

                def call(*args: Any, **kwargs: Any) -> Any:
                    seen[0] += 1
                    if seen[0] == calls:
                        raise _Crash
                    return attr(*args, **kwargs)

                return call

        return Dying()

    store._chunks = wrap(store.chunks)
    store._docs = wrap(store.documents)
    return lambda: seen[0]


def test_a_crash_at_any_write_leaves_whole_documents_and_the_next_run_finishes(
    tmp_path: Path, embedder: Embedder
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"doc{i}.md").write_text(_doc(i, 1), encoding="utf-8")
    # A small write batch, so one run switches documents in several groups.
    settings = Settings(index=tmp_path / "index", write_batch=4)

    def fresh() -> Ingestor:
        store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension)
        return Ingestor(settings, embedder, store)

    assert not fresh().run([docs]).failed
    before = _visible_state(fresh().store)
    assert len(before) == 3

    # Version 2: doc0 and doc1 change, doc2 goes away from the folder (stays indexed), doc3 and doc4 are new.
    for i in (0, 1):
        (docs / f"doc{i}.md").write_text(_doc(i, 2), encoding="utf-8")
    for i in (3, 4):
        (docs / f"doc{i}.md").write_text(_doc(i, 2), encoding="utf-8")

    clean = fresh()
    counter = _crash_after(clean.store, 10_000)
    clean_report = clean.run([docs])
    calls = counter()
    after = _visible_state(clean.store)
    assert sorted(Path(p).name for p in clean_report.updated) == ["doc0.md", "doc1.md"]
    assert sorted(Path(p).name for p in clean_report.added) == ["doc3.md", "doc4.md"]
    assert calls >= 10  # markers, chunks, records, deletes, unmarks per group, in several groups

    # Roll back to version 1 and crash at every write call of the same run in turn.
    for crash_at in range(1, calls + 1):
        index = tmp_path / f"index-{crash_at}"
        s = settings.model_copy(update={"index": index})
        for i in range(3):
            (docs / f"doc{i}.md").write_text(_doc(i, 1), encoding="utf-8")
        for i in (3, 4):
            (docs / f"doc{i}.md").unlink(missing_ok=True)
        first = Ingestor(s, embedder, ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension))
        first.run([docs])
        for i in (0, 1):
            (docs / f"doc{i}.md").write_text(_doc(i, 2), encoding="utf-8")
        for i in (3, 4):
            (docs / f"doc{i}.md").write_text(_doc(i, 2), encoding="utf-8")
        dying = Ingestor(s, embedder, ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension))
        _crash_after(dying.store, crash_at)
        with pytest.raises(_Crash):
            dying.run([docs])

        reader = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension, create=False)
        seen = _visible_state(reader)  # every registered document whole, nothing else visible
        for src, state in seen.items():
            assert state in (before.get(src), after.get(src)), (
                f"crash at write {crash_at}: {Path(src).name} is neither its old nor its new version"
            )
        assert {Path(s).name for s in seen} >= {"doc0.md", "doc1.md", "doc2.md"}

        again = Ingestor(s, embedder, ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension))
        report = again.run([docs])
        assert not report.failed
        assert _visible_state(again.store) == after, f"crash at write {crash_at}: second run did not finish"
        assert again.store.pending() == []
        assert again.store.count() == sum(r.chunks for r in again.store.list_documents())


def _invariants(index: Path, embedder: Embedder) -> dict[str, tuple[str, list[str]]]:
    s = Settings(index=index)
    return _visible_state(ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension, create=False))


def test_kill_9_in_the_middle_of_a_large_run_then_the_rerun_finishes(tmp_path: Path, embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(80):
        (docs / f"doc{i:03}.md").write_text(_doc(i, 1), encoding="utf-8")
    index = tmp_path / "index"
    env = {**os.environ, "SECTORCHAT_WRITE_BATCH": "12", "SECTORCHAT_INDEX": str(index)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(docs), "-v"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    added = 0
    deadline = time.monotonic() + 240
    for line in proc.stdout:  # the run logs "Added <file>" as each group is written
        if line.startswith("INFO ingest.pipeline: Added"):
            added += 1
            if added >= 12:
                proc.send_signal(signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "the ingest did not get going"
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    seen = _invariants(index, embedder)
    assert 12 <= len(seen) < 80  # part of the corpus is in, each document of it whole

    rerun = subprocess.run([sys.executable, "-m", "ingest", str(docs)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    summary = rerun.stdout.splitlines()[0]
    assert f"{80 - len(seen)} added, 0 updated, {len(seen)} unchanged, 0 failed" in summary
    final = _invariants(index, embedder)
    assert len(final) == 80
    store = ChunkStore(Settings(index=index), model_name=embedder.name, dimension=embedder.dimension, create=False)
    assert store.pending() == []
    assert store.count() == sum(r.chunks for r in store.list_documents())
    assert Counter(Path(s).name for s in final) == Counter(f"doc{i:03}.md" for i in range(80))
    bm25 = BM25Cache(None).get(store)
    assert len(bm25) == store.count()


def test_shards_split_the_files_between_them(tmp_path: Path, make_ingestor: Callable[..., Ingestor]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"doc{i:02}.md").write_text(_doc(i, 1), encoding="utf-8")
    ingestor = make_ingestor(Settings(index=tmp_path / "index"))
    one = ingestor.run([docs], shard=Shard.parse("1/2"))
    two = ingestor.run([docs], shard=Shard.parse("2/2"))
    assert one.unchanged == [] and two.unchanged == []
    assert sorted(one.added + two.added) == sorted(str(p) for p in docs.iterdir())
    assert 0 < len(one.added) < 12
    assert all(Shard(1, 2).owns(source_id(Path(p))) for p in one.added)
    assert all(Shard(2, 2).owns(source_id(Path(p))) for p in two.added)
    assert ingestor.store.count() == sum(r.chunks for r in ingestor.store.list_documents())


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "1"])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        Shard.parse(text)


def test_automatic_workers_start_processes_only_for_a_run_worth_it() -> None:
    from ingest.pipeline import AUTO_PARALLEL_BYTES, auto_workers

    assert auto_workers(AUTO_PARALLEL_BYTES - 1, 2) == 1
    assert auto_workers(AUTO_PARALLEL_BYTES, 2) == 2
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 8) == 8
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 1) == 1
    assert auto_workers(10 * AUTO_PARALLEL_BYTES, 8, encoder_scales=False) == 1  # torch already uses every core
    from rag.embeddings import SentenceTransformerEmbeddings
    from rag.use_embeddings import UniversalSentenceEncoderEmbeddings

    assert UniversalSentenceEncoderEmbeddings.scales_with_processes is True
    assert not hasattr(SentenceTransformerEmbeddings, "scales_with_processes")
