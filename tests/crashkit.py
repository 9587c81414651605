"""Helpers of the crash tests: write steps counted and stopped, documents with a word of their own, readers."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.query import analyze
from rag.store import ChunkStore


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the pipeline catches it."""


_CHROMA_WRITES = frozenset({"upsert", "delete", "add", "update", "modify"})
# File operations a write step can be made of: (owner, name, position of the path argument it changes).
_FILE_OPS: tuple[tuple[Any, str, int], ...] = (
    (Path, "mkdir", 0), (Path, "write_text", 0), (Path, "write_bytes", 0), (Path, "rename", 0),
    (Path, "replace", 0), (Path, "unlink", 0), (Path, "touch", 0), (Path, "rmdir", 0),
    (shutil, "rmtree", 0), (shutil, "copyfile", 1), (shutil, "copy", 1), (shutil, "copy2", 1), (shutil, "move", 0),
    (os, "utime", 0), (os, "replace", 0), (os, "rename", 0), (os, "remove", 0), (os, "unlink", 0),
    (os, "rmdir", 0), (os, "mkdir", 0), (os, "makedirs", 0),
)


class Steps:
    """Records the write steps of whatever runs while installed; raises Crash before step ``crash_at`` (1-based).

    A step is a Chroma write call, or a file operation on a path under the index folder outside Chroma's own
    files (nested calls, like the os.rename under Path.rename, count once).
    """

    def __init__(self, index: Path, crash_at: int = 0) -> None:
        self.index = os.path.abspath(index)
        self.chroma = os.path.join(self.index, "chroma")
        self.crash_at = crash_at
        self.labels: list[str] = []
        self._local = threading.local()

    def step(self, label: str) -> None:
        self.labels.append(label)
        if len(self.labels) == self.crash_at:
            raise Crash(label)

    @contextmanager
    def installed(self, *stores: ChunkStore) -> Iterator[Steps]:
        with pytest.MonkeyPatch.context() as mp:
            for store in stores:
                mp.setattr(store, "_chunks", self._chroma(store.chunks, "chunks"))
                mp.setattr(store, "_docs", self._chroma(store.documents, "documents"))
            for owner, name, arg in _FILE_OPS:
                mp.setattr(owner, name, self._file_op(getattr(owner, name), name, arg))
            yield self

    def _ours(self, target: Any) -> str | None:
        try:
            path = os.path.abspath(os.fspath(target))
        except TypeError:
            return None
        inside = path.startswith(self.index + os.sep) and not (path + os.sep).startswith(self.chroma + os.sep)
        return os.path.relpath(path, self.index) if inside else None

    def _file_op(self, real: Callable[..., Any], name: str, arg: int) -> Callable[..., Any]:
        steps = self

        @functools.wraps(real)
        def op(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(steps._local, "depth", 0)
            if depth == 0 and len(args) > arg and (where := steps._ours(args[arg])) is not None:
                steps.step(f"{name} {where}")
            steps._local.depth = depth + 1
            try:
                return real(*args, **kwargs)
            finally:
                steps._local.depth = depth

        return op

    def _chroma(self, col: Any, which: str) -> Any:
        steps = self

        class Dying:
            def __getattr__(self, name: str) -> Any:
                attr = getattr(col, name)
                if name not in _CHROMA_WRITES:
                    return attr

                def call(*args: Any, **kwargs: Any) -> Any:
                    steps.step(f"chroma {which}.{name}")
                    return attr(*args, **kwargs)

                return call

        return Dying()


def step_kinds(labels: list[str]) -> Counter[str]:
    """The kinds of write steps a run made, counted: Chroma calls; files written, renamed or removed among the
    keyword index's files and among the copies (folders made and emptied are steps too, not counted here)."""
    kinds: Counter[str] = Counter()
    for label in labels:
        op, where = label.split(" ", 1)
        if op == "chroma":
            kinds[label] += 1
            continue
        area = "keyword index" if where.startswith("bm25") else "copy" if where.startswith("docs/") else where
        if op in ("write_text", "write_bytes", "copyfile", "copy", "copy2"):
            kinds[f"{area} written"] += 1
        elif op in ("rename", "replace", "move") and area == "keyword index":
            kinds[f"{area} renamed"] += 1
        elif op in ("unlink", "remove"):
            kinds[f"{area} removed"] += 1
    return kinds


def at_least(counts: Counter[str], wanted: dict[str, int]) -> bool:
    return all(counts[k] >= n for k, n in wanted.items())


def token(i: int, version: int) -> str:
    """A word only version ``version`` of document ``i`` contains."""
    return "zq" + "".join("abcdefghij"[int(d)] for d in f"{i:02}{version}")


def doc(i: int, version: int) -> str:
    """A document of several chunks; a new version changes its first paragraph only (the rest is shared)."""
    lead = (f"Company {i} (version {version}) reported revenue of RMB {i + version}.{i % 10} billion in 2025, "
            f"and paid {version * 10 + i} million US dollars upfront for licence {token(i, version)}.")
    body = "\n\n".join(f"Paragraph {p} of document {i} covers pipeline asset {p} in detail. " * 12 for p in range(3))
    return f"---\ntitle: Doc {i}\ndate: 2025-0{1 + i % 9}-01\n---\n{lead}\n\n{body}\n"


def content_hash(i: int, version: int) -> str:
    return hashlib.sha256(doc(i, version).encode("utf-8")).hexdigest()


def question(i: int, version: int) -> str:
    return f"What did the company pay upfront for licence {token(i, version)}?"


def visible_state(store: ChunkStore) -> dict[str, tuple[str, list[str]]]:
    """What the store shows: per registered document, its content hash and the texts of its visible chunks."""
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


class Remembering:
    """The session's real embedding model, remembering what it embedded: the crash tests embed the same few
    documents and questions hundreds of times, always to the same vectors."""

    def __init__(self, model: Embedder) -> None:
        self._model = model
        self._vectors: dict[tuple[str, str], list[float]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if ("doc", t) not in self._vectors]
        for text, vector in zip(missing, self._model.embed_documents(missing) if missing else [], strict=True):
            self._vectors["doc", text] = vector
        return [self._vectors["doc", t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if ("query", text) not in self._vectors:
            self._vectors["query", text] = self._model.embed_query(text)
        return self._vectors["query", text]


def check_reader(assistant: Assistant, when: str, *, ask: bool = False) -> dict[str, int]:
    """Check a reader against what the index lists; returns the version it answers from, per listed file name.

    Every listed document: its chunks, exactly, in the keyword index the reader loads (and in Chroma), its copy
    in INDEX/docs, and, for the question only its version can answer, the chunk that answers it among the five
    retrieved (``ask``: cited by the answer).
    """
    known = {content_hash(i, v): (i, v) for i in range(8) for v in (1, 2)}
    store = assistant.store
    records = store.list_documents()
    index = assistant.retriever.bm25.get(store)
    assert Counter(i.source for i in index.infos) == Counter({r.source: r.chunks for r in records}), (
        f"{when}: the reader's keyword index does not hold the listed documents")
    assert len(store.get_chunks(sorted(index.ids))) == len(index.ids), f"{when}: indexed chunks missing in Chroma"
    versions = {}
    for rec in records:
        name = Path(rec.source).name
        i, v = known[rec.content_hash]
        assert (assistant.settings.index / "docs" / f"{rec.content_hash}.md").is_file(), (
            f"{when}: {name} is listed without its copy in INDEX/docs")
        if ask:
            answer = assistant.ask(question(i, v))
            found = [c.source for c in answer.citations if token(i, v) in c.chunk_text]
        else:
            hits = assistant.retriever.retrieve(analyze(question(i, v)), k=5)
            found = [r.chunk.source for r in hits if token(i, v) in r.chunk.text]
        assert found == [rec.source], f"{when}: {name} is listed but {question(i, v)!r} finds {found}"
        versions[name] = v
    return versions


def new_reader(settings: Settings, embedder: Embedder) -> Assistant:
    """A reader as `python -m rag ask` builds it (a new process: nothing in memory, the saved keyword index)."""
    return build_assistant(settings, embedder=embedder)


def live_reader(settings: Settings, embedder: Embedder) -> Assistant:
    """A reader running all along, like the web app, its keyword index loaded now; it checks its index against
    the registry at every question (every rag.bm25.RECHECK_SECONDS in the app)."""
    reader = build_assistant(settings, embedder=embedder)
    reader.retriever.bm25.recheck = 0.0
    reader.retriever.bm25.get(reader.store)
    return reader


def settled(reader: Assistant) -> Assistant:
    """The reader once the rebuild its first question started (if any) is done."""
    reader.retriever.bm25.get(reader.store)
    reader.retriever.bm25.wait(timeout=60)
    return reader


def ingestor_for(settings: Settings, embedder: Embedder, **options: int) -> Ingestor:
    """An Ingestor over the index of ``settings``; ``options`` as Ingestor takes them (stream_chunks, stream_group)."""
    return Ingestor(settings, embedder, ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension),
                    **options)


def age(folder: Path) -> None:
    """Date the files of a folder back a day, beyond the grace period of the sweep, as if written long ago."""
    old = time.time() - 86400
    for path in folder.iterdir():
        os.utime(path, (old, old))


def copies(settings: Settings) -> tuple[set[str], set[str]]:
    """(files in INDEX/docs, files the listed documents refer to)."""
    store = ChunkStore(settings, model_name="", dimension=0, create=False)
    wanted = {f"{r.content_hash}{Path(r.file_name).suffix}" for r in store.list_documents()}
    return {p.name for p in (settings.index / "docs").iterdir()}, wanted


def versions_of(update: tuple[int, ...], add: tuple[int, ...]) -> tuple[dict[str, int], dict[str, int]]:
    before = {f"doc{i}.md": 1 for i in range(3)}
    return before, {**before, **{f"doc{i}.md": 2 for i in update + add}}


V1, V2 = versions_of((0, 1), (3, 4))


def v1_index(tmp_path: Path, name: str, embedder: Embedder, *, update: tuple[int, ...] = (0, 1),
              add: tuple[int, ...] = (3, 4)) -> tuple[Settings, Path]:
    """An index of version 1 (doc0-doc2, written long ago, its keyword index saved); then version 2 on disk:
    by default doc0 and doc1 change, doc2 stays, doc3 and doc4 are new."""
    docs = tmp_path / f"docs-{name}"
    docs.mkdir()
    for i in range(3):
        (docs / f"doc{i}.md").write_text(doc(i, 1), encoding="utf-8")
    # Two documents (8 chunks) per write group, so one run switches documents in several groups.
    settings = Settings(index=tmp_path / f"index-{name}", write_batch=8)
    assert not ingestor_for(settings, embedder).run([docs]).failed
    age(settings.index / "docs")
    for i in update + add:
        (docs / f"doc{i}.md").write_text(doc(i, 2), encoding="utf-8")
    return settings, docs


def copy_index(settings: Settings, to: Path) -> Settings:
    """A copy of an index folder (Chroma's files, the keyword index, the copies with their dates)."""
    shutil.copytree(settings.index, to)
    return settings.model_copy(update={"index": to})
