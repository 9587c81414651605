"""The ingest run: find files, skip unchanged ones by hash, load, chunk, embed and write them to the store."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.chunking import Chunker
from ingest.encoding import describe_error
from ingest.corrections import Corrections, check_value, parse_assignment
from ingest.corrections import apply as apply_corrections
from ingest.loaders import LOADERS, load_document
from ingest.metadata import cap_warning
from rag.config import Settings
from rag.embeddings import Embedder, make_embedder
from rag.errors import IngestError, SectorChatError
from rag.bm25 import BM25Cache, saved_generation, saved_versions
from rag.store import ChunkStore, bm25_folder, chunk_keywords
from rag.types import Chunk, DocumentRecord, IngestReport, LoadedDocument

logger = logging.getLogger(__name__)

IGNORE_FILE = ".sectorchatignore"
# Bump when loading or chunking changes what a file turns into, so that unchanged files are re-ingested.
PIPELINE_VERSION = "12"

@dataclass(frozen=True)
class IngestProgress:
    """How far an ingest run is: files, pages and chunks done, and the time it has taken so far.

    A page counts as done when its chunks are embedded (reading is the quick part); a file that is not paged
    counts as one page. ``pages`` is known before the work starts (page counts are read up front).
    """

    files_done: int
    files: int
    pages_done: int
    pages: int
    chunks: int
    current: str  # the file being worked on ("" between files)
    elapsed: float  # seconds

    @property
    def fraction(self) -> float:
        if self.pages:
            return min(1.0, self.pages_done / self.pages)
        return self.files_done / self.files if self.files else 1.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far; None until there is a rate to go by."""
        f = self.fraction
        return None if f < 0.02 or self.elapsed <= 0 else self.elapsed * (1 - f) / f

    def describe(self) -> str:
        """"Ingesting 120/678 pages · 2/8 files · 1,024 chunks · about 40 s left (APPLE_2022_10K.pdf)"."""
        text = f"Ingesting {self.pages_done:,}/{self.pages:,} pages · {self.files_done}/{self.files} files · " \
               f"{self.chunks:,} chunks"
        if (eta := self.eta) is not None and self.fraction < 1:
            text += f" · about {eta:,.0f} s left"
        return text + (f" ({self.current})" if self.current else "")


Progress = Callable[[IngestProgress], None]
_PROGRESS_BATCH = 256  # chunks embedded per call when a run reports progress (one call per file otherwise)


def page_count(data: bytes, name: str) -> int:
    """Pages of a PDF (1 for anything else, or for a PDF that cannot be opened: the loader says why later)."""
    if not name.lower().endswith(".pdf"):
        return 1
    try:
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        try:
            return max(1, len(pdf))
        finally:
            pdf.close()
    except Exception:
        return 1


@dataclass(frozen=True)
class _Todo:
    """A file that is new or changed since the index last saw it."""

    path: Path
    display: str
    named: bool
    existing: DocumentRecord | None
    pages: int = 1  # as counted before loading (progress)


@dataclass(frozen=True)
class _Prepared:
    """A file loaded, chunked and (once ``vectors`` is set) embedded, ready to be written."""

    doc: LoadedDocument
    chunks: list[Chunk]
    content_hash: str
    ingest_key: str
    pages: int
    keywords: list[str]  # each chunk's keyword tokens: made by the loader (thread or worker), not the writer
    vectors: list[list[float]] | None = None


@dataclass(frozen=True)
class _Large:
    """A file with too many chunks to hold embedded at once: the writer embeds and writes it a group of chunks at a
    time (see ``Ingestor.stream_chunks``). ``head`` holds the chunks made so far and ``rest`` the chunker still
    running on the document, with ``notes`` its warnings; from a worker process (where a generator cannot be sent)
    both are empty and the writer chunks the document again."""

    doc: LoadedDocument
    content_hash: str
    ingest_key: str
    pages: int
    head: tuple[Chunk, ...] = ()
    rest: Iterator[Chunk] | None = None
    notes: list[str] = field(default_factory=list)


_Result = _Prepared | _Large | str  # what loading a file gives: ready to write, to stream, or why not


@dataclass(frozen=True)
class Shard:
    """``--shard i/N``: this process ingests the files whose source id hashes to ``i`` (1-based) of ``N``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            i, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard takes i/N, like 1/4; got {text!r}") from None
        if not 1 <= i <= n:
            raise ValueError(f"--shard {text}: i must be between 1 and N")
        return cls(i, n)

    def owns(self, source: str) -> bool:
        return int(hashlib.sha256(source.encode("utf-8")).hexdigest()[:8], 16) % self.count == self.index - 1


# Chunks embedded in one call (across small files); Settings.write_batch chunks are written at a time.
EMBED_GROUP = 256
# A document of more chunks than this is streamed: embedded and written EMBED_GROUP chunks at a time, so memory does
# not grow with it (held whole, each chunk costs ~50 KB until the document's write: 2 MB of Chinese text, 11.6k
# chunks, peaked at 1.25 GB). Real 10-K filings make 800-1,400 chunks and stay whole: with --workers they are
# embedded in the worker processes, while a streamed document is embedded by the writer alone.
STREAM_CHUNKS = 4096
# From this many bytes to ingest, worker processes pay for their start (~3 s: a fresh interpreter and model).
AUTO_PARALLEL_BYTES = 256 * 1024
# A copy in INDEX/docs that no document refers to is removed once it is this old: a younger one may belong to a
# write of another process that kept its copy and has not switched the registry to it yet.
COPY_GRACE_SECONDS = 3600.0


def auto_workers(total_bytes: int, cpus: int, *, encoder_scales: bool = True) -> int:
    """``--workers 0``: one process per core for a run big enough to repay starting them, else one.

    Only for an encoder that gains from processes (``encoder_scales``): USE's numpy encoder and pure-Python
    tokenizer leave a core idle much of the time (two processes: 1.5x at 10k chunks); torch already spreads one
    encode over every core, and two processes were slower (MiniLM: 0.93x; benchmarks/results/ingest_throughput.md).
    """
    return cpus if encoder_scales and cpus > 1 and total_bytes >= AUTO_PARALLEL_BYTES else 1


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def printable(text: str) -> str:
    """Text as reports show it: control characters escaped, so a file name or a message cannot forge lines."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def display_name(path: Path) -> str:
    """A path as reports show it (see ``printable``)."""
    return printable(str(path))


def source_id(path: Path) -> str:
    """The identity of a file in the index: its absolute path, so the same file is one document however named."""
    return str(path.resolve())


def discover(paths: Sequence[Path]) -> tuple[list[tuple[Path, bool]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files under the given paths, folders walked recursively.

    Returns:
        (files with a flag telling whether the user named the file itself, failures, skipped files). A named
        file of an unsupported type is a failure; inside a folder it is skipped, as are hidden files, the
        patterns listed in a folder's ``.sectorchatignore`` and symbolic links that lead out of the folder.
    """
    files: list[tuple[Path, bool]] = []
    failed: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            for file, reason in _walk(path):
                if reason:
                    skipped.append((display_name(file), reason))
                else:
                    files.append((file, False))
        elif path.is_file():
            files.append((path, True))
        elif path.is_symlink():
            failed.append((display_name(path), "broken symbolic link (its target does not exist)"))
        elif path.exists():
            failed.append((display_name(path), "not a regular file"))
        else:
            failed.append((display_name(path), "no such file or folder"))
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
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        for d in sorted(dirnames):
            if not d.startswith(".") and (Path(dirpath) / d).is_symlink():
                yield Path(dirpath) / d, "symbolic link to a folder (not followed)"
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (Path(dirpath) / d).is_symlink())
        for name in sorted(filenames):
            file = Path(dirpath) / name
            rel = file.relative_to(root).as_posix()
            if name.startswith("."):
                continue
            if any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns):
                yield file, f"listed in {IGNORE_FILE}"
                continue
            if file.is_symlink():
                try:
                    target = file.resolve(strict=True)
                except (OSError, RuntimeError):
                    yield file, "broken symbolic link (its target does not exist)"
                    continue
                if not target.is_relative_to(real_root):
                    yield file, "symbolic link to a file outside the folder"
                    continue
                if not target.is_file():
                    yield file, "symbolic link to something that is not a regular file"
                    continue
            elif not file.is_file():
                yield file, "not a regular file"
                continue
            if file.suffix.lower() not in LOADERS:
                yield file, f"unsupported file type {file.suffix.lower() or '(no extension)'!r}"
            else:
                yield file, ""


def _versioned(chunks: list[Chunk], ingest_key: str) -> list[Chunk]:
    """Chunk ids that name the document version too, so a new version never overwrites the visible one."""
    return [
        replace(c, id=hashlib.sha256(f"{ingest_key}:{c.id}".encode()).hexdigest()[:32]) for c in chunks
    ]


class Ingestor:
    """Runs ingestion against one store; cheap to build, the model loads when the first chunk is embedded.

    Args:
        settings: chunk sizes, file size limit.
        embedder: the embedding model (also counts tokens for the chunker).
        store: where chunks and document records go.
        stream_chunks: a document of more chunks than this is streamed (embedded and written ``stream_group``
            chunks at a time) instead of held whole.
        stream_group: chunks per group of a streamed document.
    """

    def __init__(self, settings: Settings, embedder: Embedder, store: ChunkStore, *,
                 stream_chunks: int = STREAM_CHUNKS, stream_group: int = EMBED_GROUP) -> None:
        if stream_chunks < 1 or stream_group < 1:
            raise ValueError("stream_chunks and stream_group must be at least 1.")
        self.settings = settings
        self._tick: Callable[[_Todo, int, int], None] | None = None  # progress of embedding, during a run
        self.stream_chunks = stream_chunks
        self.stream_group = stream_group
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

    def run(self, paths: Sequence[Path], *, progress: Progress | None = None, workers: int = 1,
            shard: Shard | None = None) -> IngestReport:
        """Ingest files and folders; one bad file is reported and skipped, never fatal.

        Files stream through load → chunk → embed → write: loading runs ahead of embedding (in a thread, or in
        ``workers`` processes that also embed), chunks of small files are embedded together, and documents are
        written to Chroma in groups, each document switching versions at once (see ChunkStore.write_documents).

        Args:
            progress: called with (files finished, files to ingest).
            workers: processes that load, chunk and embed in parallel (the cores are split among them); 0 picks
                one per core when there is enough to ingest (see ``auto_workers``).
            shard: ingest only this shard's files (N processes, e.g. on several machines, sharing a server).

        Raises:
            SectorChatError: the store cannot be opened or written (nothing can be ingested then).
        """
        started = time.perf_counter()
        report = IngestReport()
        files, report.failed, report.skipped = discover(paths)
        if shard is not None:
            files = [(f, named) for f, named in files if shard.owns(source_id(f))]
        _ = self.store.chunks  # open (and check the model of) the index before any work
        report.chunks_recovered = self.store.recover(shard.owns if shard else None)
        existing = {r.source: r for r in self.store.list_documents()}
        todo: list[_Todo] = []
        for path, named in files:
            display = display_name(path)
            try:
                data, content_hash = self._read(path)
            except IngestError as exc:
                report.failed.append((display, printable(str(exc))))
                logger.warning("Could not ingest %s: %s; skipping it", display, exc)
                continue
            record = existing.get(source_id(path))
            if record is not None and record.ingest_key == self.ingest_key(content_hash):
                report.unchanged.append(display)
                self._restore_copy(record, data)
            else:
                todo.append(_Todo(path, display, named, record, page_count(data, path.name) if progress else 1))
            del data  # not kept for the whole run
        writer = _Writer(self, report, todo, progress)
        self._tick = writer.embedded if progress else None
        if workers == 0:
            workers = auto_workers(sum(_size(t.path) for t in todo), _cpu_count(),
                                   encoder_scales=bool(getattr(self.embedder, "scales_with_processes", False)))
            logger.info("Ingesting %d file(s) with %d process(es)", len(todo), workers)
        if workers > 1 and len(todo) > 1:
            stream = self._parallel(todo, workers)
        else:
            stream = self._embedded(self._loaded(todo))
        for item, result in stream:
            if isinstance(result, _Prepared):
                writer.add(item, result)
            elif isinstance(result, _Large):
                writer.add_large(item, result)
            else:
                writer.fail(item, result)
        writer.flush()
        if writer.wrote:
            self.refresh_keyword_index()
        else:
            self._repair_keyword_index(existing.values())
        self._tick = None
        self.sweep_copies(known={**existing, **writer.written}.values())
        report.seconds = time.perf_counter() - started
        return report

    # -- the stream ----------------------------------------------------------------------------------------
    def _loaded(self, todo: Sequence[_Todo]) -> Iterator[tuple[_Todo, _Result]]:
        """Load and chunk files in a thread that runs ahead of the caller (embedding releases the GIL)."""
        out: queue.Queue[tuple[_Todo, _Result] | BaseException | None] = queue.Queue(maxsize=32)
        stop = threading.Event()
        # A large file waits here until the one before it is written: at most two are held in memory at once.
        large = threading.Semaphore(1)

        def produce() -> None:
            try:
                for item in todo:
                    if stop.is_set():
                        return
                    result = _prepare_or_reason(self, item)
                    if isinstance(result, _Large):
                        while not large.acquire(timeout=0.1):
                            if stop.is_set():
                                return
                    out.put((item, result))
                out.put(None)
            except BaseException as exc:  # a store or settings error: fatal, re-raised in the caller
                out.put(exc)

        thread = threading.Thread(target=produce, name="ingest-loader", daemon=True)
        thread.start()
        try:
            while (got := out.get()) is not None:
                if isinstance(got, BaseException):
                    raise got
                yield got
                if isinstance(got[1], _Large):  # written by now: the next large file may be loaded
                    large.release()
        finally:
            stop.set()
            while thread.is_alive():  # let a blocked producer finish its put
                try:
                    out.get(timeout=0.1)
                except queue.Empty:
                    pass

    def _embedded(self, loaded: Iterable[tuple[_Todo, _Result]]) -> Iterator[tuple[_Todo, _Result]]:
        """Embed the chunks of several small files in one call (per-call overhead dominates small batches)."""
        group: list[tuple[_Todo, _Prepared]] = []
        size = 0
        for item, result in loaded:
            if not isinstance(result, _Prepared):  # a failure, or a large file the writer embeds as it goes
                yield item, result
                continue
            group.append((item, result))
            size += len(result.chunks)
            if size >= EMBED_GROUP:
                yield from self._embed_group(group)
                group, size = [], 0
        yield from self._embed_group(group)

    def _embed_group(self, group: list[tuple[_Todo, _Prepared]]) -> Iterator[tuple[_Todo, _Result]]:
        if not group:
            return
        texts = [c.embedding_text() for _item, p in group for c in p.chunks]
        tick = self._tick
        if tick is None:
            vectors = self.embedder.embed_documents(texts)
        else:  # in calls of _PROGRESS_BATCH chunks, each reported with the file it belongs to
            owners = [(item, j, len(p.chunks)) for item, p in group for j in range(len(p.chunks))]
            vectors = []
            for i in range(0, len(texts), _PROGRESS_BATCH):
                vectors.extend(self.embedder.embed_documents(texts[i : i + _PROGRESS_BATCH]))
                item, j, n = owners[min(i + _PROGRESS_BATCH, len(texts)) - 1]
                tick(item, j + 1, n)
        at = 0
        for item, p in group:
            n = len(p.chunks)
            yield item, replace(p, vectors=vectors[at : at + n])
            at += n

    def _parallel(self, todo: Sequence[_Todo], workers: int) -> Iterator[tuple[_Todo, _Result]]:
        """Load, chunk and embed in worker processes (each with its share of the cores); write here."""
        import multiprocessing as mp

        groups: list[list[_Todo]] = []
        size = 0
        for item in todo:  # groups of about EMBED_GROUP chunks' worth of bytes, so each call embeds a batch
            if not groups or size >= 256 * 1024:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += max(_size(item.path), 1024)
        threads = max(1, _cpu_count() // workers)
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited Chroma client or BLAS thread pools
        with ctx.Pool(workers, initializer=_worker_init,
                      initargs=(self.settings, threads, self.stream_chunks, self.stream_group)) as pool:
            for results in pool.imap(_worker_run, groups):
                yield from results

    # -- one file ------------------------------------------------------------------------------------------
    def _read(self, path: Path) -> tuple[bytes, str]:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise IngestError(f"cannot read the file: {exc.strerror or exc}") from exc
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
        return data, hashlib.sha256(data).hexdigest()

    def _prepare(self, path: Path) -> _Prepared | _Large:
        data, content_hash = self._read(path)
        key = self.ingest_key(content_hash)
        doc = load_document(data, source=source_id(path), file_name=path.name)
        del data
        corrected = Corrections(self.settings.index).for_source(doc.source)
        if corrected:  # a person's corrections (python -m ingest --set) outlive the file's re-ingests
            doc = replace(doc, meta=apply_corrections(doc.meta, corrected))
        pages = max((p.number or 0) for p in doc.pages) if doc.pages else 0
        notes: list[str] = []
        stream = self.chunker.iter_chunks(doc, warnings=notes)
        chunks = list(itertools.islice(stream, self.stream_chunks + 1))
        if len(chunks) > self.stream_chunks:
            return _Large(doc, content_hash, key, pages, tuple(chunks), stream, notes)
        if notes:  # e.g. a section heading cut to its cap: the report says so, like the loader's warnings
            doc = replace(doc, warnings=(*doc.warnings, *notes))
        if not chunks:
            raise IngestError("no text to index in the file")
        versioned = _versioned(chunks, key)
        return _Prepared(doc, versioned, content_hash, key, pages, [chunk_keywords(c) for c in versioned])

    def copy_path(self, content_hash: str, file_name: str) -> Path:
        """Where the index keeps its own copy of a document (the web app opens PDFs from there)."""
        return self.settings.index / "docs" / f"{content_hash}{Path(file_name).suffix.lower()}"

    def record_copy(self, record: DocumentRecord) -> Path:
        """Where the copy of a registered document is (records of old indexes have no file name: the source's)."""
        return self.copy_path(record.content_hash, record.file_name or Path(record.source).name)

    def _keep_copy(self, path: Path, content_hash: str) -> None:
        """Keep the index's copy of a file, before its document is registered.

        Copies are named by content, so a crash between the copy and the switch leaves an orphan copy (removed by
        ``sweep_copies``), never a registered document without its copy.
        """
        dest = self.copy_path(content_hash, path.name)
        try:
            if dest.exists():
                os.utime(dest)  # young again, so that a sweep by another process leaves it until the switch
                return
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != content_hash:
                logger.warning("%s changed while it was being ingested; its copy is kept when it is ingested again",
                               display_name(path))
                return
            self._write_copy(dest, data)
        except OSError as exc:  # the copy is a convenience; the index itself is complete without it
            logger.warning("Could not keep a copy of %s in %s: %s", display_name(path), dest.parent, exc)

    def _restore_copy(self, record: DocumentRecord, data: bytes) -> None:
        """Put back the copy of an unchanged document when it is missing (``data`` is the file, of its hash)."""
        dest = self.record_copy(record)
        if dest.exists():
            return
        try:
            self._write_copy(dest, data)
        except OSError as exc:
            logger.warning("Could not restore the copy of %s in %s: %s", printable(record.source), dest.parent, exc)
            return
        logger.info("Restored the index's copy of %s", printable(record.source))

    def _write_copy(self, dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")  # whole or absent under its real name
        tmp.write_bytes(data)
        tmp.replace(dest)

    def sweep_copies(self, *, grace: float = COPY_GRACE_SECONDS, known: Iterable[DocumentRecord] = ()) -> int:
        """Remove the copies in INDEX/docs that no registered document refers to, and leftovers of interrupted copies.

        Args:
            grace: seconds a file must be unmodified before it goes (see ``COPY_GRACE_SECONDS``).
            known: documents known to be registered (their copies are kept without reading the registry).

        Returns:
            files removed
        """
        folder = self.settings.index / "docs"
        cutoff = time.time() - grace
        kept = {self.record_copy(r).name for r in known}
        try:  # listed before the registry is read: a copy kept after this is young (see _keep_copy)
            old = [p for p in folder.iterdir() if p.name not in kept and _is_copy_name(p.name) and p.is_file()
                   and p.stat().st_mtime <= cutoff]
        except OSError:
            return 0
        if not old:
            return 0  # the common case: no read of the registry
        try:
            wanted = {self.record_copy(r).name for r in self.store.list_documents()}
        except SectorChatError as exc:
            logger.warning("Could not sweep unused copies in %s: %s", folder, exc)
            return 0
        removed = 0
        for path in old:
            if path.name in wanted:
                continue
            try:
                if path.stat().st_mtime > cutoff:  # kept again meanwhile
                    continue
                path.unlink()
            except OSError as exc:
                logger.warning("Could not remove the unused copy %s: %s", path, exc)
                continue
            removed += 1
        if removed:
            logger.info("Removed %d copies in %s that no document refers to", removed, folder)
        return removed

    def _repair_keyword_index(self, records: Iterable[DocumentRecord]) -> None:
        """Rebuild the saved keyword index unless it was built from this registry (``records``) at this generation.

        A run killed after a switch and before the keyword index was saved leaves one that misses documents (as
        does one of an earlier version, killed after it removed its markers and before it moved the generation).
        """
        folder = bm25_folder(self.settings)
        saved = saved_versions(folder)
        generation = self.store.generation()
        if saved == {r.source: r.ingest_key for r in records}:
            if saved_generation(folder) != generation:
                self.refresh_keyword_index()  # the same documents: saved again under the generation readers look for
            return
        if saved is not None:
            logger.warning("The keyword index at %s does not match the documents the index registers (an earlier "
                           "run was interrupted); rebuilding it", folder)
        if saved_generation(folder) == generation:
            self.store.bump_generation()  # it claims the current state: readers holding it must drop it
        self.refresh_keyword_index()

    def refresh_keyword_index(self) -> None:
        """Bring the BM25 index beside the store up to date (after writes or deletes)."""
        BM25Cache(bm25_folder(self.settings)).refresh(self.store)

    def resolve(self, source: str, records: Sequence[DocumentRecord] | None = None) -> DocumentRecord:
        """The document a user names by its source id, its path, or its unique file name.

        Raises:
            IngestError: no document (or more than one) matches.
        """
        records = self.store.list_documents() if records is None else records
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
        return by_source[target]

    def set_fields(self, source: str, assignments: Sequence[str] | dict[str, str]) -> DocumentRecord:
        """Correct a document's metadata (``FIELD=VALUE`` each, or a mapping): checked, kept in the index
        folder's corrections so that re-ingesting keeps them, and applied to the stored document at once.

        Raises:
            IngestError: the document is unknown, or a field or value is not one that can be set (nothing is
                changed then).
        """
        record = self.resolve(source)
        pairs = list(assignments.items()) if isinstance(assignments, dict) else [
            parse_assignment(a) for a in assignments]
        if not pairs:
            raise IngestError("give at least one FIELD=VALUE to set")
        typed = {field: check_value(field, value) for field, value in pairs}
        Corrections(self.settings.index).set(record.source, typed)
        new = self.store.update_metadata(record, apply_corrections(record.meta, typed))
        self.refresh_keyword_index()
        return new

    def delete(self, source: str) -> tuple[str, int]:
        """Delete a document named by its source id, its path, or its unique file name.

        Returns:
            (the source id deleted, chunks removed)

        Raises:
            IngestError: no document (or more than one) matches.
        """
        records = self.store.list_documents()
        record = self.resolve(source, records)
        target = record.source
        removed = self.store.delete_document(target)
        self.refresh_keyword_index()
        Corrections(self.settings.index).drop(target)
        # Last: a crash before it leaves an unused copy for sweep_copies, never a listed document without one.
        copy = self.record_copy(record)
        if not any(self.record_copy(r) == copy for r in records if r.source != target):
            copy.unlink(missing_ok=True)
        return target, removed

    def known_sources(self) -> list[str]:
        return [r.source for r in self.store.list_documents()]


def _prepare_or_reason(ingestor: Ingestor, item: _Todo) -> _Result:
    """A prepared file, or the reason it cannot be ingested (store and settings errors propagate)."""
    try:
        return ingestor._prepare(item.path)
    except IngestError as exc:
        return printable(str(exc))
    except SectorChatError:
        raise
    except Exception as exc:  # a loader bug must not stop the other files
        logger.exception("Unexpected error while reading %s", item.display)
        return f"unexpected error: {describe_error(exc)}"


class _Writer:
    """Collects embedded documents and writes them to the store in groups; keeps the report."""

    def __init__(self, ingestor: Ingestor, report: IngestReport, todo: Sequence[_Todo],
                 progress: Progress | None) -> None:
        self.ingestor = ingestor
        self.report = report
        self.total = len(todo)
        self.progress = progress
        self.done = 0
        self.pages = sum(t.pages for t in todo)
        self._pages_done = 0.0  # of the files finished
        self._partial: dict[Path, tuple[float, int]] = {}  # (pages, chunks) embedded of files not finished yet
        self._current = ""
        self._started = time.perf_counter()
        self.wrote = False
        self.written: dict[str, DocumentRecord] = {}  # source -> the record written for it
        self._items: list[tuple[_Todo, _Prepared]] = []
        self._chunks = 0
        if progress and self.total:
            self._report()

    def add(self, item: _Todo, prepared: _Prepared) -> None:
        self.report.warnings.extend((item.display, printable(cap_warning(w))) for w in prepared.doc.warnings)
        self._items.append((item, prepared))
        self._chunks += len(prepared.chunks)
        self._partial[item.path] = (float(item.pages), len(prepared.chunks))  # embedded; written at the flush
        self._report()
        if self._chunks >= self.ingestor.settings.write_batch:
            self.flush()

    def fail(self, item: _Todo, reason: str) -> None:
        if not item.named and reason.startswith("unsupported file type"):
            self.report.skipped.append((item.display, reason))
        else:
            self.report.failed.append((item.display, reason))
        logger.warning("Could not ingest %s: %s; skipping it", item.display, reason)
        self._advance(1, [item])

    def flush(self) -> None:
        if not self._items:
            return
        batch = []
        keywords = []
        for item, p in self._items:
            keywords.append(p.keywords)
            batch.append((_record(item, p.doc, p.content_hash, p.ingest_key, p.pages, len(p.chunks)), p.chunks,
                          p.vectors or []))
        for item, p in self._items:
            self.ingestor._keep_copy(item.path, p.content_hash)  # before the switch (see _keep_copy)
        written, deleted = self.ingestor.store.write_documents(batch, keywords)
        self.wrote = True
        self.report.chunks_written += written
        self.report.chunks_deleted += deleted
        for (item, _p), (record, _c, _v) in zip(self._items, batch, strict=True):
            self._wrote(item, record)
        items = [item for item, _p in self._items]
        self._items, self._chunks = [], 0
        self._advance(len(items), items)

    def add_large(self, item: _Todo, large: _Large) -> None:
        """Write a large document as it is chunked and embedded, a group at a time, then switch to it at once.

        The chunks are invisible until the switch (as in ChunkStore.write_documents); a crash on the way leaves the
        document's markers, and the next run's ``recover`` removes what was written.
        """
        self.flush()  # the smaller documents collected so far go first, in their own write
        ingestor, store = self.ingestor, self.ingestor.store
        record = _record(item, large.doc, large.content_hash, large.ingest_key, large.pages, 0)
        notes = large.notes
        count = 0
        store.begin_write([record.source])
        try:
            chunks = (itertools.chain(large.head, large.rest) if large.rest is not None
                      else ingestor.chunker.iter_chunks(large.doc, warnings=notes))
            while group := list(itertools.islice(chunks, ingestor.stream_group)):
                group = _versioned(group, large.ingest_key)
                vectors = ingestor.embedder.embed_documents([c.embedding_text() for c in group])
                store.put_chunks(record, group, vectors, [chunk_keywords(c) for c in group])
                count += len(group)
                self.streamed(item, group[-1].page or 0, len(group))
        except SectorChatError:
            raise  # the store or the model is unusable: nothing else can be ingested either
        except Exception as exc:  # a chunker bug must not stop the other files
            logger.exception("Unexpected error while chunking %s", item.display)
            store.abandon_write([record.source])
            self.fail(item, f"unexpected error: {describe_error(exc)}")
            return
        if not count:
            store.abandon_write([record.source])
            self.fail(item, "no text to index in the file")
            return
        ingestor._keep_copy(item.path, large.content_hash)  # before the switch (see _keep_copy)
        record = replace(record, chunks=count)
        deleted = store.finish_write([record])
        self.wrote = True
        self.report.chunks_written += count
        self.report.chunks_deleted += deleted
        self.report.warnings.extend((item.display, printable(cap_warning(w)))
                                    for w in (*large.doc.warnings, *notes))
        self._wrote(item, record)
        self._advance(1, [item])

    def _wrote(self, item: _Todo, record: DocumentRecord) -> None:
        """Report one document as written (added or updated)."""
        self.written[record.source] = record
        (self.report.updated if item.existing else self.report.added).append(item.display)
        logger.info("%s %s: %d chunks", "Updated" if item.existing else "Added", item.display, record.chunks)

    def embedded(self, item: _Todo, done: int, of: int) -> None:
        """``done`` of the ``of`` chunks of a file are embedded (called between embedding calls)."""
        self._partial[item.path] = (item.pages * done / max(of, 1), done)
        self._current = item.display
        self._report()

    def streamed(self, item: _Todo, page: int, chunks: int) -> None:
        """A group of a streamed file's chunks is written; they reach ``page``."""
        _, before = self._partial.get(item.path, (0.0, 0))
        self._partial[item.path] = (float(min(page, item.pages)), before + chunks)
        self._current = item.display
        self._report()

    def _advance(self, n: int, items: Sequence[_Todo] = ()) -> None:
        self.done += n
        for item in items:
            self._partial.pop(item.path, None)
            self._pages_done += item.pages
        self._current = ""
        self._report()

    def _report(self) -> None:
        if not self.progress:
            return
        pages = self._pages_done + sum(p for p, _ in self._partial.values())
        chunks = self.report.chunks_written + sum(c for _, c in self._partial.values())
        self.progress(IngestProgress(self.done, self.total, min(self.pages, round(pages)), self.pages, chunks,
                                     self._current, time.perf_counter() - self._started))


def _record(item: _Todo, doc: LoadedDocument, content_hash: str, ingest_key: str, pages: int, chunks: int
            ) -> DocumentRecord:
    """The registry record of a document version about to be written."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return DocumentRecord(
        source=doc.source, content_hash=content_hash, ingest_key=ingest_key, meta=doc.meta, pages=pages,
        chunks=chunks, added_at=item.existing.added_at if item.existing else now, updated_at=now,
        file_name=item.path.name,
    )


def _is_copy_name(name: str) -> bool:
    """Whether a file name in INDEX/docs is one ``copy_path`` or ``_write_copy`` makes: a sha256, then suffixes."""
    digest = name.split(".", 1)[0]
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_WORKER: Ingestor | None = None


def _worker_init(settings: Settings, threads: int, stream_chunks: int, stream_group: int) -> None:
    """In a worker process: an Ingestor without a store, its model limited to ``threads`` cores. A large document
    comes back loaded but not chunked (``_Large``): the writer streams it in the main process."""
    global _WORKER
    os.environ["SECTORCHAT_EMBED_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    embedder = make_embedder(settings)
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension)  # never opened here
    _WORKER = Ingestor(settings, embedder, store, stream_chunks=stream_chunks, stream_group=stream_group)


def _worker_run(group: list[_Todo]) -> list[tuple[_Todo, _Result]]:
    assert _WORKER is not None
    return [(item, replace(r, head=(), rest=None, notes=[]) if isinstance(r, _Large) else r)  # chunked again there
            for item, r in _WORKER._embedded((item, _prepare_or_reason(_WORKER, item)) for item in group)]
