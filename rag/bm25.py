"""Keyword search over the chunks with BM25 (bm25s), Chinese-aware tokens, persisted beside the index."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_FILE = "chunks.json"
_GENERATION = "generation"


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


class BM25Index:
    """A BM25 index over chunk tokens; ``generation`` names the store state it was built from."""

    def __init__(self, infos: Sequence[ChunkInfo], tokens: Sequence[Sequence[str]], generation: str) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every build
        self.infos = list(infos)
        self.ids = frozenset(i.id for i in self.infos)  # the chunks visible at this generation
        self.generation = generation
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
            "chunks": [[i.id, i.source, i.doc_type, i.company, i.tickers, i.date_int, i.language, i.years]
                       for i in self.infos],
            "tokens": [list(t) for t in tokens],
        }
        (tmp / _FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        (tmp / _GENERATION).write_text(self.generation, encoding="utf-8")
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
            return cls(infos, tokens, str(payload["generation"])), tokens
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Keyword index at %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None


class BM25Cache:
    """Keeps one BM25 index in step with the store: rebuilt when the store's generation changes.

    The tokens of each chunk are stored in Chroma with the chunk (metadata ``bm25``), so any process, also one
    sharing a Chroma server, rebuilds the same index from the store alone. When the store has moved on, the index
    saved beside it is loaded if it is of the new generation (an ingest on this machine saves it as it finishes);
    otherwise questions keep being answered from the previous index while a new one is built in the background
    (a rebuild reads every chunk's tokens: seconds at 100k chunks, and every write of a running ingest would
    otherwise make all users wait for one). Only the very first index of a process is built while the caller waits.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._index: BM25Index | None = None
        self._lock = threading.Lock()
        self._rebuild: threading.Thread | None = None

    def get(self, store: Any) -> BM25Index:
        generation = store.generation()
        with self._lock:
            current = self._index
            if current is not None and current.generation == generation:
                return current
            if self.folder is not None and saved_generation(self.folder) == generation:
                loaded = BM25Index.load(self.folder)
                if loaded is not None and loaded[0].generation == generation:
                    self._index = loaded[0]
                    return self._index
            if current is None and self.folder is not None:
                loaded = BM25Index.load(self.folder)  # an older generation: better than nothing while rebuilding
                if loaded is not None:
                    current = self._index = loaded[0]
                    if current.generation == generation:
                        return current
            if current is not None:
                if self._rebuild is None or not self._rebuild.is_alive():
                    self._rebuild = threading.Thread(target=self._build, args=(store, current),
                                                     name="bm25-rebuild", daemon=True)
                    self._rebuild.start()
                return current
        return self._build(store, None)

    def refresh(self, store: Any) -> BM25Index:
        """Build the index of the store's current state now, and save it (the end of an ingest or delete)."""
        return self._build(store, None, force=True)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild to finish (tests and benchmarks)."""
        thread = self._rebuild
        if thread is not None:
            thread.join(timeout)

    def _build(self, store: Any, replacing: BM25Index | None, *, force: bool = False) -> BM25Index:
        generation = store.generation()  # read before the rows: a write during the read shows as a newer one
        infos, tokens = store.bm25_rows()
        index = BM25Index(infos, tokens, generation)
        logger.info("Built the keyword index over %d chunks", len(infos))
        if self.folder is not None:
            try:
                index.save(self.folder, tokens)
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
