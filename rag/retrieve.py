"""Hybrid retrieval: dense search in Chroma plus BM25, fused by reciprocal rank, filtered, then reranked."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.bm25 import BM25Cache, BM25Index, ChunkInfo
from rag.companies import mentions
from rag.context import part_of_year_document
from rag.lexicon import Lexicon
from rag.lineitems import LineItemHit, LineItemIndex
from rag.query import QueryAnalysis
from rag.store import ChunkStore, chunk_from_chroma
from rag.types import Chunk, Filters, RetrievedChunk

logger = logging.getLogger(__name__)

RRF_K = 60


class Reranker(Protocol):
    name: str

    def rerank(self, intent: QueryAnalysis, candidates: Sequence[RetrievedChunk]) -> list[RetrievedChunk]: ...


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> list[float]: ...


class FilterColumns:
    """The chunks' filter facts as arrays, built once per keyword index: a filter is then a few numpy operations.

    Same rules as ``_matches``, which took 120-240 ms per filtered question at 100k chunks (now ~10 ms).
    """

    def __init__(self, infos: Sequence[ChunkInfo]) -> None:
        self.date = np.fromiter((i.date_int for i in infos), dtype=np.int64, count=len(infos))
        self.doc_types, self.doc_type_code = _codes([i.doc_type for i in infos])
        self.hays, self.hay_code = _codes([f"{i.company},{i.tickers}".lower() for i in infos])
        self.sources, self.source_code = _codes([i.source for i in infos])
        # documents searched whichever company a question names: no company's (notes), or no filing (news)
        self.shared = _pick([h == "," for h in self.hays], self.hay_code) | _pick(
            [t != "filing" for t in self.doc_types], self.doc_type_code)

    def owned_by(self, entities: Sequence[str]) -> np.ndarray:
        """A boolean array: the chunks of documents whose company or ticker is one of the entities (by any of its
        names, ``rag.companies.mentions``: 恒瑞医药 finds "Jiangsu Hengrui Pharmaceuticals")."""
        return _pick([h != "," and any(mentions(e, h) for e in entities) for h in self.hays], self.hay_code)

    def mask(self, filters: Filters) -> np.ndarray:
        """A boolean array: which chunks pass the filters."""
        ok = np.ones(len(self.date), dtype=bool)
        if filters.doc_types:
            ok &= _pick([t in filters.doc_types for t in self.doc_types], self.doc_type_code)
        if filters.companies:
            wanted = [c.lower() for c in filters.companies]
            ok &= _pick([any(c in h for c in wanted) for h in self.hays], self.hay_code)
        if filters.sources:
            ok &= _pick([_source_matches(s, filters.sources) for s in self.sources], self.source_code)
        if filters.date_from:
            ok &= self.date >= int(filters.date_from.replace("-", ""))
        if filters.date_to:
            ok &= (self.date != 0) & (self.date <= int(filters.date_to.replace("-", "")))
        return ok


def _codes(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values and, for each item, the position of its value among them."""
    distinct: dict[str, int] = {}
    codes = np.fromiter((distinct.setdefault(v, len(distinct)) for v in values), dtype=np.int64, count=len(values))
    return list(distinct), codes


def _pick(per_value: list[bool], codes: np.ndarray) -> np.ndarray:
    return np.asarray(per_value, dtype=bool)[codes] if per_value else np.zeros(len(codes), dtype=bool)


def _source_matches(source: str, wanted: Sequence[str]) -> bool:
    name = Path(source).name
    return any(s == source or s == name or s in source for s in wanted)


def _matches(info: ChunkInfo, filters: Filters) -> bool:
    if filters.doc_types and info.doc_type not in filters.doc_types:
        return False
    if filters.companies:
        hay = f"{info.company},{info.tickers}".lower()
        if not any(c.lower() in hay for c in filters.companies):
            return False
    if filters.sources:
        name = Path(info.source).name
        if not any(s == info.source or s == name or s in info.source for s in filters.sources):
            return False
    if filters.date_from and info.date_int < int(filters.date_from.replace("-", "")):
        return False
    return not (filters.date_to and (not info.date_int or info.date_int > int(filters.date_to.replace("-", ""))))


class Retriever:
    """Finds the chunks for a question.

    Args:
        store: the chunk store.
        embedder: embeds the query (the index's model).
        bm25: the keyword index cache kept in step with the store.
        reranker: orders the fused candidates.
        candidates: how many each retriever contributes before fusion.
    """

    def __init__(self, store: ChunkStore, embedder: QueryEmbedder, bm25: BM25Cache, reranker: Reranker, *,
                 candidates: int = 30, lexicon: Lexicon | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.bm25 = bm25
        self.reranker = reranker
        self.candidates = candidates
        self.lexicon = lexicon  # when set, the rows that name an asked measure are a candidate list of their own
        self._columns: tuple[BM25Index, FilterColumns] | None = None
        self._line_items: tuple[BM25Index, LineItemIndex] | None = None

    def retrieve(self, intent: QueryAnalysis, *, k: int, filters: Filters | None = None,
                 timings: dict[str, float] | None = None) -> list[RetrievedChunk]:
        """The ``k`` best chunks for the question, best first."""
        t0 = time.perf_counter()
        filters = filters or Filters()
        index = self.bm25.get(self.store)
        t_keyword = time.perf_counter()
        allowed: np.ndarray | None = None
        allowed_ids: list[str] | None = None
        ok = self._filter_columns(index).mask(filters) if filters else None
        if ok is not None and not ok.any():
            return []
        scope = self._scope(index, intent, ok)
        if scope is not None:
            ok = scope
        wide = False
        if ok is not None:
            allowed = ok.astype(np.float32)
            # A scope that keeps most chunks (a company's filings and all the news) is searched in Chroma without an
            # id list, its hits filtered here: an id list of 80k chunks made the dense search 8 -> 80 ms at 88k.
            wide = scope is not None and float(allowed.mean()) > 0.5
            allowed_ids = None if wide else [index.infos[i].id for i in np.flatnonzero(ok)]
        t_index = time.perf_counter()
        # Chroma may also hold chunks of a version still being written: only the index's (visible) ones count.
        keep = ok if wide else None
        dense = [d for d in self._dense(intent.question, allowed_ids, index, timings, wider=2 if wide else 1)
                 if d[0] in index.ids and (keep is None or keep[index.positions[d[0]]])][:self.candidates]
        t_dense = time.perf_counter()
        sparse = self._sparse(index, intent, allowed)
        dated = self._dated(index, intent, allowed)
        # The rows that name an asked measure (or an input of an asked ratio): within one company's documents they
        # are candidates of their own (its statement page, which neither search ranks reliably), and so within the
        # one document a source filter picks. Across a shelf of documents no company owns every report has a "Net
        # income" row: there they only add noise (TAT-QA with distractors: recall@5 0.670 -> 0.643 when they even
        # just boost the candidates found).
        wanted = tuple(dict.fromkeys(intent.measures + intent.inputs)) if (
            self.lexicon is not None and intent.wants_figure) else ()  # "Which regions ... total revenues": words
        narrowed = scope is not None or bool(filters.companies) or (
            ok is not None and np.unique(self._filter_columns(index).source_code[ok]).size == 1)
        items, item_chunks = self._items(intent, wanted, filters) if wanted and narrowed else ([], {})
        t1 = time.perf_counter()
        fused = self._fuse(dense, sparse, index, dated, items, item_chunks)
        ranked = self.reranker.rerank(intent, fused)[:k]
        t2 = time.perf_counter()
        if timings is not None:
            timings["retrieve"] = (t1 - t0) * 1000
            timings["keyword_index"] = (t_keyword - t0) * 1000  # generation check (and a rebuild when it changed)
            timings["filter"] = (t_index - t_keyword) * 1000
            timings["dense"] = (t_dense - t_index) * 1000  # query embedding + Chroma search
            timings["sparse"] = (t1 - t_dense) * 1000
            timings["rerank"] = (t2 - t1) * 1000
        return ranked

    def _items(self, intent: QueryAnalysis, measures: Sequence[str], filters: Filters,
               limit: int = 8) -> tuple[list[tuple[str, float]], dict[str, Chunk]]:
        """(chunk id, fit) of the chunks with a row naming one of the measures, best first, and those chunks; the
        fit counts a row in the measure's own statement a quarter more, up to 1."""
        assert self.lexicon is not None
        hits = self._item_hits(intent, measures, self.lexicon, filters, limit,
                               asked=self.lexicon.asked_words(intent.question))
        fits = {h.chunk_id: min(1.0, h.fit + (0.25 if h.statement else 0.0)) for h in hits}
        chunks = {c.id: c for c in self.store.get_chunks(list(fits))}
        if intent.years and not any(p.months < 12 for p in intent.periods):
            # a whole year asked: an interim or quarterly report's row counts half ("2024 Interim Results" dates
            # its first-half columns "2023"), so the annual report's row comes first where there is one
            for chunk in chunks.values():
                if part_of_year_document(chunk):
                    fits[chunk.id] *= 0.5
        return sorted(fits.items(), key=lambda p: -p[1]), chunks

    def _scope(self, index: BM25Index, intent: QueryAnalysis, allowed: np.ndarray | None) -> np.ndarray | None:
        """Where a question that names a company is searched: the documents that company owns (its filings, by their
        company and ticker metadata) and every document that is no filing (news, which may be about it whichever
        company its metadata names: a deal's news may carry the partner's name); the other companies' filings are
        left out. On a shelf of filings every statement page looks alike to both searches
        ("Total revenues ... 2022 2021"); what separates them is whose filing a page is. None (search everywhere
        the filters allow) when no indexed document is the named company's, so that a name only news writes, or a
        name the metadata does not know, never empties the search."""
        if not intent.entities:
            return None
        columns = self._filter_columns(index)
        owned = columns.owned_by(intent.entities)
        if allowed is not None:
            owned &= allowed
        if not owned.any():
            return None
        scope = owned | columns.shared
        if allowed is not None:
            scope &= allowed
        return None if scope.all() else scope

    def _filter_columns(self, index: BM25Index) -> FilterColumns:
        """The filter arrays of this keyword index, built once per index."""
        if self._columns is None or self._columns[0] is not index:
            self._columns = (index, FilterColumns(index.infos))
        return self._columns[1]

    def line_items(self, intent: QueryAnalysis, lexicon: Lexicon, *, filters: Filters | None = None,
                   limit: int = 8) -> list[RetrievedChunk]:
        """The chunks with a table row that names one of the asked measures for the asked years (see
        rag.lineitems), among those the filters and the asked companies allow, best fit first; [] when the question
        names no measure. The line-item index is built on first use and again when the keyword index changes."""
        hits = self._item_hits(intent, intent.measures, lexicon, filters, limit)
        return [RetrievedChunk(c) for c in self.store.get_chunks([h.chunk_id for h in hits])]

    def _item_hits(self, intent: QueryAnalysis, measures: Sequence[str], lexicon: Lexicon, filters: Filters | None,
                   limit: int, asked: frozenset[str] | None = None) -> list[LineItemHit]:
        if not measures:
            return []
        index = self.bm25.get(self.store)
        items = self._line_items
        if items is None or items[0] is not index:
            t0 = time.perf_counter()
            items = self._line_items = (index, LineItemIndex.build(self.store.all_chunks(), index.positions, lexicon))
            logger.info("line-item index: %d rows in %.2f s", len(items[1]), time.perf_counter() - t0)
        columns = self._filter_columns(index)
        mask = columns.mask(filters) if filters else None
        if intent.entities:
            own = columns.mask(Filters(companies=tuple(intent.entities)))
            if mask is not None:
                own &= mask
            # documents without a company in their metadata (news) are read when no filing is the company's
            mask = own if own.any() else mask
        return items[1].find(measures, years=intent.years, mask=mask, limit=limit, asked=asked)

    def _dense(self, question: str, allowed_ids: list[str] | None, index: BM25Index,
               timings: dict[str, float] | None = None, *,
               wider: int = 1) -> list[tuple[str, float, str, dict[str, Any]]]:
        n = min(self.candidates * wider, len(index))  # the keyword index counts the same chunks as Chroma (no call)
        if n == 0:
            return []
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(question)
        if timings is not None:
            timings["embed_query"] = (time.perf_counter() - t0) * 1000
        kwargs: dict[str, Any] = {}
        if allowed_ids is not None:
            kwargs["ids"] = allowed_ids
            n = min(n, len(allowed_ids))
        got = self.store.chunks.query(
            query_embeddings=[vector],  # type: ignore[arg-type]
            n_results=n, include=["documents", "metadatas", "distances"], **kwargs
        )
        ids = got["ids"][0]
        docs = (got["documents"] or [[]])[0]
        metas = (got["metadatas"] or [[]])[0]
        dists = (got["distances"] or [[]])[0]
        return [(i, float(d), doc or "", dict(m or {})) for i, d, doc, m in zip(ids, dists, docs, metas, strict=True)]

    def _sparse(self, index: BM25Index, intent: QueryAnalysis, mask: np.ndarray | None) -> list[tuple[str, float]]:
        tokens = list(intent.terms)
        hits = index.search(tokens, k=self.candidates, mask=mask)
        return [(index.infos[pos].id, score) for pos, score in hits]

    def _dated(self, index: BM25Index, intent: QueryAnalysis, mask: np.ndarray | None) -> list[tuple[str, float]]:
        """Keyword search among the chunks whose text writes an asked year.

        News restates a company's figures of earlier years ("In 2024, X reported revenue of ..."); when a question
        asks about 2025, hundreds of such passages can outrank the one filing paragraph about 2025 in both the
        dense and the keyword list. This third list gives the passages about the asked period a place.
        """
        allowed = len(index) if mask is None else int(mask.sum())
        if not intent.years or allowed <= self.candidates:
            return []  # few chunks (one filing, a filtered question): all are candidates already
        years = index.year_mask(intent.years)
        if mask is not None:
            years = years * mask
        return self._sparse(index, intent, years) if years.any() else []

    def _fuse(self, dense: list[tuple[str, float, str, dict[str, Any]]], sparse: list[tuple[str, float]],
              index: BM25Index, dated: Sequence[tuple[str, float]] = (),
              items: Sequence[tuple[str, float]] = (), known: dict[str, Chunk] | None = None) -> list[RetrievedChunk]:
        scores: dict[str, float] = {}
        for rank, (cid, *_rest) in enumerate(dense):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for ranked in (sparse, dated, items):
            for rank, (cid, _s) in enumerate(ranked):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        chunks = {cid: chunk_from_chroma(cid, doc, meta) for cid, _d, doc, meta in dense}
        chunks.update(known or {})  # the line items' chunks, already read
        missing = [cid for cid in scores if cid not in chunks]
        for chunk in self.store.get_chunks(missing):
            chunks[chunk.id] = chunk
        dist = {cid: d for cid, d, _doc, _m in dense}
        bm = dict(sparse)
        fits = dict(items)
        out = [
            RetrievedChunk(chunks[cid], dense_distance=dist.get(cid), bm25=bm.get(cid), fused=score,
                           line_item=fits.get(cid, 0.0))
            for cid, score in scores.items() if cid in chunks
        ]
        out.sort(key=lambda r: r.fused, reverse=True)
        return out
