"""Large documents are streamed: chunked, embedded and written a group at a time, with the same result as whole.

A document of more chunks than ``Ingestor.stream_chunks`` is never held chunked and embedded at once (a 50 MB line
is 250k chunks: ~4 GB of vectors as Python lists). These tests check what that promises, on the real model and a
real Chroma: the same chunks, records and answers as the whole-document path; no embedding call and no Chroma write
larger than a group; a failure half-way leaves the previous version and no trace of the new one. Memory against
input size is measured in benchmarks/results/input_size.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import Ingestor
from rag.assistant import build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import WRITE_ROWS, ChunkStore
from rag.types import Chunk, LoadedDocument


class CountingEmbedder:
    """The real model, with the size of every embedding call recorded."""

    def __init__(self, model: Embedder) -> None:
        self._model = model
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return self._model.embed_documents(texts)


def _report_text(revenue: str) -> str:
    """A long filing-like text: 60 paragraphs, one of them stating the revenue."""
    paras = [f"Section {i}. The pipeline programme number {i} advanced in trials across several sites, and the "
             f"company expanded manufacturing capacity for asset {i} during the year." for i in range(60)]
    paras[37] = f"Lanting Biopharma reported revenue of RMB {revenue} million in 2025, up from a year earlier."
    return "---\ntitle: Lanting Biopharma annual report 2025\ndate: 2026-03-20\ndoc_type: filing\n---\n" + \
        "\n\n".join(paras) + "\n"


def _ingestor(settings: Settings, model: Any, **options: int) -> Ingestor:
    return Ingestor(settings, model, ChunkStore(settings, model_name=model.name, dimension=model.dimension),
                    **options)


def _stored(store: ChunkStore) -> list[tuple[str, str, int | None, int, int]]:
    return sorted((c.id, c.text, c.page, c.char_start, c.char_end) for c in store.all_chunks())


def test_a_streamed_document_is_stored_exactly_as_a_whole_one(tmp_path: Path, embedder: Embedder) -> None:
    file = tmp_path / "docs" / "lanting-2025-annual.md"
    file.parent.mkdir()
    file.write_text(_report_text("4,470.5"), encoding="utf-8")
    whole = _ingestor(Settings(index=tmp_path / "whole"), embedder)
    counting = CountingEmbedder(embedder)
    streamed = _ingestor(Settings(index=tmp_path / "streamed"), counting, stream_chunks=2, stream_group=3)

    a, b = whole.run([file]), streamed.run([file])
    assert a.added == b.added == [str(file)]
    assert a.chunks_written == b.chunks_written > 6
    assert _stored(whole.store) == _stored(streamed.store)
    rec_a, rec_b = whole.store.list_documents()[0], streamed.store.list_documents()[0]
    assert (rec_b.chunks, rec_b.pages, rec_b.meta, rec_b.ingest_key) == (rec_a.chunks, rec_a.pages, rec_a.meta,
                                                                        rec_a.ingest_key)
    # Embedded three chunks at a time: nothing held beyond a group.
    assert counting.calls == [3] * (b.chunks_written // 3) + ([b.chunks_written % 3] if b.chunks_written % 3 else [])

    answer = build_assistant(Settings(index=tmp_path / "streamed"), embedder=embedder).ask(
        "What was Lanting Biopharma's revenue in 2025?")
    assert [f.text for f in answer.figures if f.status == "verified"] == ["RMB 4,470.5 million"]
    assert answer.citations[0].source == str(file)


def test_worker_processes_hand_a_large_document_to_the_writer_to_stream(tmp_path: Path, embedder: Embedder) -> None:
    """With ``--workers 2`` the workers load a large file and the main process streams it: same index as whole."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lanting-2025-annual.md").write_text(_report_text("4,470.5"), encoding="utf-8")
    (docs / "short.md").write_text("---\ntitle: Short\n---\nJunshi Biosciences paid 12 million US dollars upfront.\n",
                                   encoding="utf-8")
    files = sorted(docs.iterdir())
    whole = _ingestor(Settings(index=tmp_path / "whole"), embedder)
    counting = CountingEmbedder(embedder)
    parallel = _ingestor(Settings(index=tmp_path / "parallel"), counting, stream_chunks=2, stream_group=4)

    a, b = whole.run(files), parallel.run(files, workers=2)
    assert sorted(a.added) == sorted(b.added) == [str(f) for f in files] and not b.failed
    assert _stored(whole.store) == _stored(parallel.store)
    # Only the large file was embedded here (the short one in a worker), four chunks at a time.
    large = next(r.chunks for r in parallel.store.list_documents() if r.source.endswith("annual.md"))
    assert sum(counting.calls) == large and max(counting.calls) == 4


def test_a_streamed_document_is_written_in_calls_of_a_bounded_size(tmp_path: Path, embedder: Embedder) -> None:
    file = tmp_path / "long.txt"
    # One line of about 1,200 chunks without a sentence end: the probe's shape, cut by the chunker's windows.
    file.write_text("恒瑞医药创新药授权交易首付款里程碑" * 20_000, encoding="utf-8")
    ingestor = _ingestor(Settings(index=tmp_path / "index"), embedder, stream_chunks=100)
    rows: list[int] = []
    upsert = ingestor.store.chunks.upsert

    def counted(**kwargs: Any) -> Any:
        rows.append(len(kwargs["ids"]))
        return upsert(**kwargs)

    ingestor.store._chunks = _Wrapped(ingestor.store.chunks, upsert=counted)
    report = ingestor.run([file])
    assert report.added == [str(file)] and not report.failed
    assert report.chunks_written == sum(rows) == ingestor.store.count() > 1000
    assert max(rows) <= min(WRITE_ROWS, ingestor.stream_group)
    assert ingestor.store.list_documents()[0].chunks == report.chunks_written


class _Wrapped:
    """A Chroma collection with some methods replaced (to count what reaches it)."""

    def __init__(self, col: Any, **methods: Any) -> None:
        self._col = col
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        return self._methods.get(name) or getattr(self._col, name)


@pytest.mark.parametrize("fail_after", [0, 3, 5])  # 0: while deciding to stream; 3, 5: while streaming
def test_a_streamed_document_that_fails_half_way_keeps_its_previous_version(
    tmp_path: Path, embedder: Embedder, fail_after: int
) -> None:
    file = tmp_path / "lanting-2025-annual.md"
    file.write_text(_report_text("4,470.5"), encoding="utf-8")
    other = tmp_path / "other.md"
    other.write_text("---\ntitle: Other\n---\nJunshi Biosciences paid 12 million US dollars upfront in 2025.\n",
                     encoding="utf-8")
    settings = Settings(index=tmp_path / "index")
    assert not _ingestor(settings, embedder).run([file]).failed
    before = _stored(ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension))

    file.write_text(_report_text("5,120.0"), encoding="utf-8")
    ingestor = _ingestor(settings, embedder, stream_chunks=2, stream_group=2)
    real = ingestor.chunker.iter_chunks

    def breaks(doc: LoadedDocument, **kwargs: Any) -> Iterator[Chunk]:
        for n, chunk in enumerate(real(doc, **kwargs)):
            if n == fail_after and doc.source == str(file):
                raise RuntimeError("chunker bug")
            yield chunk

    ingestor.chunker.iter_chunks = breaks  # type: ignore[method-assign]
    report = ingestor.run([file, other])
    assert report.failed == [(str(file), "unexpected error: RuntimeError: chunker bug")]
    assert report.added == [str(other)]
    store = ingestor.store
    assert store.pending() == []
    assert [c for c in _stored(store) if "Junshi" not in c[1]] == before  # the old version, whole, nothing else
    assert store.count() == sum(r.chunks for r in store.list_documents())
    answer = build_assistant(settings, embedder=embedder).ask("What was Lanting Biopharma's revenue in 2025?")
    assert [f.text for f in answer.figures if f.status == "verified"] == ["RMB 4,470.5 million"]


def test_stream_options_are_checked(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(index=tmp_path / "index")
    with pytest.raises(ValueError, match="stream_chunks and stream_group must be at least 1"):
        _ingestor(settings, embedder, stream_chunks=0)
    with pytest.raises(ValueError, match="stream_chunks and stream_group must be at least 1"):
        _ingestor(settings, embedder, stream_group=0)
