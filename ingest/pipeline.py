"""The ingest run: find files, skip unchanged ones by hash, load, chunk, embed and write them to the store."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import Chunker
from ingest.loaders import LOADERS, load_document
from rag.config import Settings
from rag.embeddings import Embedder, make_embedder
from rag.errors import IngestError, SectorChatError
from rag.bm25 import BM25Cache
from rag.store import ChunkStore, bm25_folder
from rag.types import Chunk, DocumentRecord, IngestReport, LoadedDocument

logger = logging.getLogger(__name__)

IGNORE_FILE = ".sectorchatignore"
# Bump when loading or chunking changes what a file turns into, so that unchanged files are re-ingested.
PIPELINE_VERSION = "3"

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed in all)


@dataclass(frozen=True)
class _Prepared:
    path: Path
    display: str
    doc: LoadedDocument
    chunks: list[Chunk]
    existing: DocumentRecord | None
    content_hash: str
    ingest_key: str
    pages: int


def source_id(path: Path) -> str:
    """The identity of a file in the index: its absolute path, so the same file is one document however named."""
    return str(path.resolve())


def discover(paths: Sequence[Path]) -> tuple[list[tuple[Path, bool]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files under the given paths, folders walked recursively.

    Returns:
        (files with a flag telling whether the user named the file itself, failures, skipped files). A named
        file of an unsupported type is a failure; inside a folder it is skipped, as are hidden files and the
        patterns listed in a folder's ``.sectorchatignore``.
    """
    files: list[tuple[Path, bool]] = []
    failed: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            for file, reason in _walk(path):
                if reason:
                    skipped.append((str(file), reason))
                else:
                    files.append((file, False))
        elif path.is_file():
            files.append((path, True))
        elif path.exists():
            failed.append((str(path), "not a regular file"))
        else:
            failed.append((str(path), "no such file or folder"))
    seen: set[str] = set()
    unique = []
    for file, named in files:
        key = source_id(file)
        if key not in seen:
            seen.add(key)
            unique.append((file, named))
    return unique, failed, skipped


def _walk(root: Path) -> Iterable[tuple[Path, str]]:
    patterns: list[str] = []
    ignore = root / IGNORE_FILE
    if ignore.is_file():
        patterns = [
            line.strip() for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            file = Path(dirpath) / name
            rel = file.relative_to(root).as_posix()
            if name.startswith("."):
                continue
            if any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns):
                yield file, f"listed in {IGNORE_FILE}"
            elif file.suffix.lower() not in LOADERS:
                yield file, f"unsupported file type {file.suffix.lower() or '(no extension)'!r}"
            else:
                yield file, ""


class Ingestor:
    """Runs ingestion against one store; cheap to build, the model loads when the first chunk is embedded.

    Args:
        settings: chunk sizes, file size limit.
        embedder: the embedding model (also counts tokens for the chunker).
        store: where chunks and document records go.
    """

    def __init__(self, settings: Settings, embedder: Embedder, store: ChunkStore) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.chunker = Chunker(
            embedder.count_tokens,
            embedder.token_offsets,
            max_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> Ingestor:
        embedder = make_embedder(settings)
        store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=create)
        return cls(settings, embedder, store)

    def ingest_key(self, content_hash: str) -> str:
        s = self.settings
        raw = f"{content_hash}|{self.embedder.name}|{s.chunk_tokens}|{s.chunk_overlap}|{PIPELINE_VERSION}"
        return hashlib.sha256(raw.encode()).hexdigest()

    def run(self, paths: Sequence[Path], *, progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders; one bad file is reported and skipped, never fatal.

        Raises:
            SectorChatError: the store cannot be opened or written (nothing can be ingested then).
        """
        started = time.perf_counter()
        report = IngestReport()
        files, report.failed, report.skipped = discover(paths)
        _ = self.store.chunks  # open (and check the model of) the index before any work
        prepared: list[_Prepared] = []
        for path, named in files:
            display = str(path)
            try:
                item = self._prepare(path, display)
            except IngestError as exc:
                if not named and str(exc).startswith("unsupported file type"):
                    report.skipped.append((display, str(exc)))
                else:
                    report.failed.append((display, str(exc)))
                logger.warning("Could not ingest %s: %s; skipping it", display, exc)
                continue
            except SectorChatError:
                raise
            except Exception as exc:  # a loader bug must not stop the other files
                logger.exception("Unexpected error while reading %s", display)
                report.failed.append((display, f"unexpected error: {type(exc).__name__}: {exc}"))
                continue
            if item is None:
                report.unchanged.append(display)
            else:
                report.warnings.extend((display, w) for w in item.doc.warnings)
                prepared.append(item)
        total = sum(len(p.chunks) for p in prepared)
        done = 0
        if progress and total:
            progress(0, total)
        for item in prepared:
            vectors: list[list[float]] = []
            texts = [c.embedding_text() for c in item.chunks]
            step = max(self.settings.embed_batch_size * 4, 64)
            for i in range(0, len(texts), step):
                vectors.extend(self.embedder.embed_documents(texts[i : i + step]))
                done += len(texts[i : i + step])
                if progress:
                    progress(done, total)
            now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
            record = DocumentRecord(
                source=item.doc.source,
                content_hash=item.content_hash,
                ingest_key=item.ingest_key,
                meta=item.doc.meta,
                pages=item.pages,
                chunks=len(item.chunks),
                added_at=item.existing.added_at if item.existing else now,
                updated_at=now,
                file_name=item.path.name,
            )
            written, deleted = self.store.replace_document(record, item.chunks, vectors)
            self._keep_copy(item.path, item.content_hash)
            report.chunks_written += written
            report.chunks_deleted += deleted
            (report.updated if item.existing else report.added).append(item.display)
            logger.info("%s %s: %d chunks", "Updated" if item.existing else "Added", item.display, written)
        if prepared:
            self.refresh_keyword_index()
        report.seconds = time.perf_counter() - started
        return report

    def copy_path(self, content_hash: str, file_name: str) -> Path:
        """Where the index keeps its own copy of a document (the web app opens PDFs from there)."""
        return self.settings.index / "docs" / f"{content_hash}{Path(file_name).suffix.lower()}"

    def _keep_copy(self, path: Path, content_hash: str) -> None:
        dest = self.copy_path(content_hash, path.name)
        if dest.exists():
            return
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(dest)
        except OSError as exc:  # the copy is a convenience; the index itself is complete without it
            logger.warning("Could not keep a copy of %s in %s: %s", path, dest.parent, exc)

    def refresh_keyword_index(self) -> None:
        """Bring the BM25 index beside the store up to date (after writes or deletes)."""
        BM25Cache(bm25_folder(self.settings)).get(self.store)

    def _prepare(self, path: Path, display: str) -> _Prepared | None:
        size = path.stat().st_size
        limit = self.settings.max_file_mb * 1024 * 1024
        if size > limit:
            raise IngestError(
                f"file is {size / 1024 / 1024:.1f} MB, over the limit of {self.settings.max_file_mb:g} MB "
                "(SECTORCHAT_MAX_FILE_MB)"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read the file: {exc.strerror or exc}") from exc
        content_hash = hashlib.sha256(data).hexdigest()
        key = self.ingest_key(content_hash)
        source = source_id(path)
        existing = self.store.get_document(source)
        if existing is not None and existing.ingest_key == key:
            return None
        doc = load_document(data, source=source, file_name=path.name)
        chunks = self.chunker.chunk(doc)
        if not chunks:
            raise IngestError("no text to index in the file")
        pages = max((p.number or 0) for p in doc.pages) if doc.pages else 0
        return _Prepared(path, display, doc, chunks, existing, content_hash, key, pages)

    def delete(self, source: str) -> tuple[str, int]:
        """Delete a document named by its source id, its path, or its unique file name.

        Returns:
            (the source id deleted, chunks removed)

        Raises:
            IngestError: no document (or more than one) matches.
        """
        records = self.store.list_documents()
        by_source = {r.source: r for r in records}
        target = source if source in by_source else source_id(Path(source))
        if target not in by_source:
            named = [r for r in records if r.file_name == source or Path(r.source).name == source]
            if len(named) > 1:
                raise IngestError(
                    f"{source!r} names {len(named)} documents; give the full path: "
                    + ", ".join(r.source for r in named)
                )
            if not named:
                raise IngestError(f"no document {source!r} in the index; `python -m ingest --list` shows them")
            target = named[0].source
        record = next(r for r in records if r.source == target)
        removed = self.store.delete_document(target)
        self.refresh_keyword_index()
        if not any(r.content_hash == record.content_hash for r in records if r.source != target):
            self.copy_path(record.content_hash, record.file_name).unlink(missing_ok=True)
        return target, removed

    def known_sources(self) -> list[str]:
        return [r.source for r in self.store.list_documents()]
