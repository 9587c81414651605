"""Keyword search over the chunks with BM25 (bm25s), Chinese-aware tokens, persisted beside the index."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_FILE = "chunks.json"
_GENERATION = "generation"
_VERSIONS = "versions.json"  # the registry the saved index was built from, readable without loading the index
# A build whose chunk rows do not add up to the registry's counts read them while a writer changed them: read again.
_BUILD_ATTEMPTS = 3
# How often an index in memory is checked against the registry while the generation stays (see BM25Cache).
RECHECK_SECONDS = 30.0

Versions = Mapping[str, str]  # source -> ingest key of each registered document: what the visible chunks follow from


@dataclass(frozen=True)
class ChunkInfo:
    """What BM25 keeps of a chunk besides its tokens: enough to apply filters without asking Chroma."""

    id: str
    source: str
    doc_type: str
    company: str
    tickers: str
    date_int: int
    language: str
    years: str = ""  # years its text writes (see rag.store.chunk_years); "" in indexes saved before it existed


@dataclass(frozen=True)
class KeywordRows:
    """What a keyword index is built from: the visible chunks' facts and tokens, read from the store.

    ``versions`` is the registry they were read against; None when the chunks did not add up to it (every
    registered document contributing exactly its registered number of chunks): a read that overlapped a write.
    """

    infos: list[ChunkInfo]
    tokens: list[list[str]]
    versions: dict[str, str] | None


class BM25Index:
    """A BM25 index over chunk tokens; ``generation`` names the store state it was built from, ``versions`` the
    registry (None when unknown: such an index is never trusted from disk)."""

    def __init__(self, infos: Sequence[ChunkInfo], tokens: Sequence[Sequence[str]], generation: str,
                 versions: Versions | None = None) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every build
        self.infos = list(infos)
        self.ids = frozenset(i.id for i in self.infos)  # the chunks visible at this generation
        self.positions = {i.id: n for n, i in enumerate(self.infos)}  # chunk id -> its position (filter arrays)
        self.generation = generation
        self.versions = dict(versions) if versions is not None else None
        self.checked_at = time.monotonic()  # when it was last known to match the registry
        self._vocab: set[str] = {t for toks in tokens for t in toks}
        self._model: Any = None
        self._year_masks: dict[str, np.ndarray] = {}
        if self.infos:
            model = bm25s.BM25()
            # An empty token list would make bm25s drop the row; a placeholder keeps rows aligned with ids.
            model.index([list(t) or ["\x00"] for t in tokens], show_progress=False)
            self._model = model

    def __len__(self) -> int:
        return len(self.infos)

    def year_mask(self, years: Sequence[str]) -> np.ndarray:
        """0/1 per chunk: whether its text writes one of ``years`` (cached per year; numbers, no loop per query)."""
        out = np.zeros(len(self.infos), dtype=np.float32)
        for year in years:
            mask = self._year_masks.get(year)
            if mask is None:
                mask = np.fromiter((year in i.years for i in self.infos), dtype=np.float32, count=len(self.infos))
                self._year_masks[year] = mask
            np.maximum(out, mask, out=out)
        return out

    def search(self, tokens: Sequence[str], *, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The best ``k`` chunks (positions in ``infos``) with their scores; ``mask`` (0/1 per chunk) filters."""
        query = [t for t in tokens if t in self._vocab]
        if self._model is None or not query:
            return []
        k = min(k, len(self.infos))
        docs, scores = self._model.retrieve(
            [query], k=k, show_progress=False, weight_mask=mask, n_threads=0, return_as="tuple"
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    # -- persistence ------------------------------------------------------------------------------------------
    def save(self, folder: Path, tokens: Sequence[Sequence[str]]) -> None:
        """Write the tokens and chunk facts (the index is rebuilt from them on load, which takes little time)."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        payload = {
            "generation": self.generation,
            "versions": self.versions,
            "chunks": [[i.id, i.source, i.doc_type, i.company, i.tickers, i.date_int, i.language, i.years]
                       for i in self.infos],
            "tokens": [list(t) for t in tokens],
        }
        (tmp / _FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        (tmp / _GENERATION).write_text(self.generation, encoding="utf-8")
        (tmp / _VERSIONS).write_text(json.dumps(self.versions, ensure_ascii=False), encoding="utf-8")
        # Swap in whole, so a reader never sees half an index.
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> tuple[BM25Index, list[list[str]]] | None:
        path = folder / _FILE
        if not path.is_file():
            return None
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            infos = [ChunkInfo(*row) for row in payload["chunks"]]
            tokens = payload["tokens"]
            versions = payload.get("versions")  # absent in indexes saved before it existed
            return cls(infos, tokens, str(payload["generation"]), _versions(versions)), tokens
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Keyword index at %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None


class BM25Cache:
    """Keeps one BM25 index in step with the store: rebuilt when the store's generation changes.

    The tokens of each chunk are stored in Chroma with the chunk (metadata ``bm25``), so any process, also one
    sharing a Chroma server, rebuilds the same index from the store alone. When the store has moved on, the index
    saved beside it is loaded if it is of the new generation (an ingest on this machine saves it as it finishes)
    and was built from the registry the store holds (``ChunkStore.matches_registry``: a write killed after it
    switched documents and before it moved the generation must not leave readers without them). Otherwise an index
    in memory keeps answering while a new one is built in the background (a rebuild reads every chunk's tokens:
    seconds at 100k chunks, and every write of a running ingest would otherwise make all users wait for one); a
    process with no usable index builds its first one while the caller waits. An index in memory is checked
    against the registry every ``recheck`` seconds too, for a write that died without moving the generation.
    """

    def __init__(self, folder: Path | None, *, recheck: float = RECHECK_SECONDS) -> None:
        self.folder = folder
        self.recheck = recheck
        self._index: BM25Index | None = None
        self._lock = threading.Lock()
        self._rebuild: threading.Thread | None = None

    def get(self, store: Any) -> BM25Index:
        generation = store.generation()
        with self._lock:
            current = self._index
            if current is not None and current.generation == generation and self._still_matches(store, current):
                return current
            if self.folder is not None and saved_generation(self.folder) == generation:
                loaded = self._load_checked(self.folder, store, generation)
                if loaded is not None:
                    self._index = loaded
                    return loaded
            if current is not None:
                if self._rebuild is None or not self._rebuild.is_alive():
                    self._rebuild = threading.Thread(target=self._build, args=(store, current),
                                                     name="bm25-rebuild", daemon=True)
                    self._rebuild.start()
                return current
        return self._build(store, None)

    def _still_matches(self, store: Any, index: BM25Index) -> bool:
        now = time.monotonic()
        if index.versions is None or now - index.checked_at < self.recheck:
            return True
        index.checked_at = now
        if store.matches_registry(index.versions):
            return True
        logger.warning("The registry changed without the store's generation (a write was interrupted); "
                       "rebuilding the keyword index")
        return False

    def _load_checked(self, folder: Path, store: Any, generation: str) -> BM25Index | None:
        """The index saved in ``folder`` (of ``generation``) if it was built from the registry the store holds."""
        versions = saved_versions(folder)
        if versions is None:
            return None
        if not store.matches_registry(versions):
            logger.warning("The keyword index saved at %s was not built from the documents the index registers "
                           "(a write was interrupted); rebuilding it", folder)
            return None
        loaded = BM25Index.load(folder)
        if loaded is None or loaded[0].versions != versions or loaded[0].generation != generation:
            return None  # replaced between the two reads: the next question loads the new one
        return loaded[0]

    def refresh(self, store: Any) -> BM25Index:
        """Build the index of the store's current state now, and save it (the end of an ingest or delete)."""
        return self._build(store, None, force=True)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild to finish (tests and benchmarks)."""
        thread = self._rebuild
        if thread is not None:
            thread.join(timeout)

    def _build(self, store: Any, replacing: BM25Index | None, *, force: bool = False) -> BM25Index:
        for _attempt in range(_BUILD_ATTEMPTS):
            generation = store.generation()  # read before the rows: a write during the read shows as a newer one
            rows: KeywordRows = store.keyword_rows()
            if rows.versions is not None:
                break
            logger.info("The chunks changed while the keyword index read them; reading them again")
        else:
            logger.warning("The chunks in the store do not add up to the documents it registers; the keyword index "
                           "is built from what is there (if this persists, run `python -m ingest --rebuild`)")
        index = BM25Index(rows.infos, rows.tokens, generation, rows.versions)
        logger.info("Built the keyword index over %d chunks", len(rows.infos))
        if self.folder is not None:
            try:
                index.save(self.folder, rows.tokens)
            except OSError as exc:
                logger.warning("Could not save the keyword index to %s: %s", self.folder, exc)
        with self._lock:
            # A background build replaces only the index it was started for (a newer one may have been loaded).
            if force or self._index is None or self._index is replacing:
                self._index = index
        return index


def saved_generation(folder: Path) -> str | None:
    """The generation of the index saved in ``folder`` (read from a small file beside it), or None."""
    try:
        return (folder / _GENERATION).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def saved_versions(folder: Path) -> dict[str, str] | None:
    """The registry (source -> ingest key) the index saved in ``folder`` was built from, or None if unknown."""
    try:
        return _versions(json.loads((folder / _VERSIONS).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _versions(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): str(v) for k, v in value.items()}
