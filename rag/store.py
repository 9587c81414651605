"""The chunk store: a Chroma collection of chunks plus a registry of documents, embedded or on a server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.bm25 import ChunkInfo
from rag.config import Settings
from rag.errors import IndexMismatchError, IndexNotFoundError, StoreUnavailableError
from rag.text import search_tokens
from rag.types import Chunk, DocumentMeta, DocumentRecord

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

logger = logging.getLogger(__name__)

# The registry collection holds one record per document; Chroma wants a vector for each, so a constant one.
_REGISTRY_VECTOR = [1.0]
SCHEMA_VERSION = 1


def bm25_folder(settings: Settings) -> Path:
    """Where the keyword index is kept: beside the embedded index, or a per-server folder under it."""
    if settings.chroma_host:
        return settings.index / f"bm25-{settings.chroma_host}-{settings.chroma_port}-{settings.collection}"
    return settings.index / "bm25"


def make_client(settings: Settings, *, create: bool) -> ClientAPI:
    """A Chroma client: HttpClient when a server is configured, else PersistentClient in the index folder.

    Raises:
        IndexNotFoundError: ``create`` is False and the embedded index folder does not exist.
        StoreUnavailableError: the server cannot be reached.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectError here
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}); "
                "start it with `chroma run --path DIR --port PORT` or unset SECTORCHAT_CHROMA_HOST"
            ) from exc
    folder = settings.index / "chroma"
    if not create and not folder.is_dir():
        raise IndexNotFoundError(
            f"no index at {settings.index}: build it first with `python -m ingest corpus/ --index {settings.index}`"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)


def keyword_text(chunk: Chunk) -> str:
    """What keyword search matches a chunk on: its identity (title, company, tickers, date, file) and its text."""
    name = Path(chunk.source).stem.replace("-", " ").replace("_", " ")
    return " ".join((chunk.title, chunk.company, " ".join(chunk.tickers), chunk.date[:7], name, chunk.section,
                     chunk.text))


def _meta_to_chroma(chunk: Chunk, record_hash: str) -> dict[str, str | int | float | bool]:
    date_int = int(chunk.date.replace("-", "")) if chunk.date else 0
    return {
        "bm25": " ".join(search_tokens(keyword_text(chunk))),
        "source": chunk.source,
        "title": chunk.title,
        "doc_type": chunk.doc_type,
        "date": chunk.date,
        "date_int": date_int,
        "publisher": chunk.publisher,
        "company": chunk.company,
        "tickers": ",".join(chunk.tickers),
        "language": chunk.language,
        "page": chunk.page or 0,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "section": chunk.section,
        "ordinal": chunk.ordinal,
        "header_prefixed": chunk.header_prefixed,
        "doc_hash": record_hash,
    }


def chunk_from_chroma(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a Chunk from what Chroma returns for it."""
    return Chunk(
        id=chunk_id,
        text=text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        doc_type=meta.get("doc_type", "other"),
        date=str(meta.get("date", "")),
        publisher=str(meta.get("publisher", "")),
        company=str(meta.get("company", "")),
        tickers=tuple(t for t in str(meta.get("tickers", "")).split(",") if t),
        language=str(meta.get("language", "en")),
        page=int(meta.get("page", 0)) or None,
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        section=str(meta.get("section", "")),
        ordinal=int(meta.get("ordinal", 0)),
        header_prefixed=bool(meta.get("header_prefixed", False)),
    )


def _record_to_chroma(rec: DocumentRecord) -> dict[str, str | int | float | bool]:
    meta = asdict(rec.meta)
    out: dict[str, str | int | float | bool] = {f"meta_{k}": v for k, v in meta.items() if k != "tickers"}
    out["meta_tickers"] = ",".join(rec.meta.tickers)
    out.update(
        source=rec.source,
        content_hash=rec.content_hash,
        ingest_key=rec.ingest_key,
        pages=rec.pages,
        chunks=rec.chunks,
        added_at=rec.added_at,
        updated_at=rec.updated_at,
        file_name=rec.file_name,
    )
    return out


def _record_from_chroma(meta: dict[str, Any]) -> DocumentRecord:
    dm = DocumentMeta(
        title=str(meta.get("meta_title", "")),
        doc_type=meta.get("meta_doc_type", "other"),
        date=str(meta.get("meta_date", "")),
        publisher=str(meta.get("meta_publisher", "")),
        url=str(meta.get("meta_url", "")),
        company=str(meta.get("meta_company", "")),
        tickers=tuple(t for t in str(meta.get("meta_tickers", "")).split(",") if t),
        language=str(meta.get("meta_language", "en")),
    )
    return DocumentRecord(
        source=str(meta["source"]),
        content_hash=str(meta.get("content_hash", "")),
        ingest_key=str(meta.get("ingest_key", "")),
        meta=dm,
        pages=int(meta.get("pages", 0)),
        chunks=int(meta.get("chunks", 0)),
        added_at=str(meta.get("added_at", "")),
        updated_at=str(meta.get("updated_at", "")),
        file_name=str(meta.get("file_name", "")),
    )


class ChunkStore:
    """Chunks and the document registry in Chroma; the constructor is cheap, Chroma opens on first use.

    Args:
        settings: where the index lives (folder or server) and the collection name.
        model_name: identity of the embedding model; stored with a new index, checked against an existing one.
        dimension: embedding size, stored and checked the same way.
        create: make the index when it does not exist (ingest) or raise IndexNotFoundError (read-only users).
    """

    def __init__(self, settings: Settings, *, model_name: str, dimension: int, create: bool = True) -> None:
        self.settings = settings
        self.model_name = model_name
        self.dimension = dimension
        self.create = create
        self._client: ClientAPI | None = None
        self._chunks: Collection | None = None
        self._docs: Collection | None = None

    # -- opening -------------------------------------------------------------------------------------------
    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            self._client = make_client(self.settings, create=self.create)
        return self._client

    def _existing(self, name: str) -> Collection | None:
        client = self.client
        try:
            # embedding_function=None: Chroma's default one would try to download a model.
            return client.get_collection(name, embedding_function=None)  # type: ignore[arg-type]
        except Exception as exc:
            if "does not exist" in str(exc) or "not found" in str(exc).lower():
                return None
            raise StoreUnavailableError(f"cannot open Chroma collection {name!r}: {exc}") from exc

    @property
    def chunks(self) -> Collection:
        if self._chunks is None:
            name = self.settings.chunks_collection
            col = self._existing(name)
            if col is None:
                if not self.create:
                    raise IndexNotFoundError(
                        f"the index at {self._where()} holds no collection {name!r}: "
                        "build it with `python -m ingest corpus/`"
                    )
                col = self.client.create_collection(
                    name,
                    embedding_function=None,  # type: ignore[arg-type]
                    metadata={
                        "embedding_model": self.model_name,
                        "embedding_dim": self.dimension,
                        "schema_version": SCHEMA_VERSION,
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                )
                logger.info("Created collection %s for model %s (%d-d)", name, self.model_name, self.dimension)
            else:
                self._check_model(col)
            self._chunks = col
        return self._chunks

    def _check_model(self, col: Collection) -> None:
        meta = col.metadata or {}
        stored_model, stored_dim = meta.get("embedding_model"), meta.get("embedding_dim")
        if stored_model != self.model_name or stored_dim != self.dimension:
            raise IndexMismatchError(
                f"the index at {self._where()} was built with embedding model {stored_model} ({stored_dim}-d), "
                f"but the settings use {self.model_name} ({self.dimension}-d); re-embed everything with "
                "`python -m ingest --rebuild` (or point SECTORCHAT_INDEX at another folder)"
            )

    @property
    def documents(self) -> Collection:
        if self._docs is None:
            name = self.settings.documents_collection
            col = self._existing(name)
            if col is None:
                if not self.create:
                    raise IndexNotFoundError(
                        f"the index at {self._where()} holds no documents yet: "
                        "build it with `python -m ingest corpus/`"
                    )
                col = self.client.create_collection(name, embedding_function=None)  # type: ignore[arg-type]
            self._docs = col
        return self._docs

    def _where(self) -> str:
        s = self.settings
        return f"{s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.index)

    # -- reading -------------------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.chunks.count())

    def get_document(self, source: str) -> DocumentRecord | None:
        got = self.documents.get(ids=[source], include=["metadatas"])  # type: ignore[list-item]
        metas = got.get("metadatas") or []
        return _record_from_chroma(dict(metas[0])) if metas and metas[0] else None

    def list_documents(self) -> list[DocumentRecord]:
        got = self.documents.get(include=["metadatas"])  # type: ignore[list-item]
        recs = [_record_from_chroma(dict(m)) for m in (got.get("metadatas") or []) if m]
        return sorted(recs, key=lambda r: (r.meta.date, r.source), reverse=True)

    def chunk_ids(self, source: str) -> list[str]:
        got = self.chunks.get(where={"source": source}, include=[])
        return list(got["ids"])

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids, in the given order (missing ids are left out)."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])  # type: ignore[list-item]
        by_id = {
            cid: chunk_from_chroma(cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def all_chunks(self, *, page_size: int = 5000) -> Iterable[Chunk]:
        """Every chunk, page by page (for side indexes built from the store)."""
        offset = 0
        while True:
            got = self.chunks.get(
                include=["documents", "metadatas"], limit=page_size, offset=offset  # type: ignore[list-item]
            )
            ids = got["ids"]
            if not ids:
                return
            for cid, doc, meta in zip(ids, got["documents"] or [], got["metadatas"] or [], strict=True):
                yield chunk_from_chroma(cid, doc or "", dict(meta or {}))
            offset += len(ids)

    def generation(self) -> str:
        """A token that changes whenever chunks are written or deleted (by any process sharing the store)."""
        col = self._existing(self.settings.documents_collection)
        if col is None:
            return "empty"
        return str((col.metadata or {}).get("generation", "0"))

    def _bump_generation(self) -> None:
        self.documents.modify(metadata={"generation": uuid.uuid4().hex})

    def bm25_rows(self, *, page_size: int = 5000) -> tuple[list[ChunkInfo], list[list[str]]]:
        """Every chunk's keyword tokens and filter facts, read from the store."""
        infos: list[ChunkInfo] = []
        tokens: list[list[str]] = []
        if self._existing(self.settings.chunks_collection) is None:
            return infos, tokens
        offset = 0
        while True:
            got = self.chunks.get(include=["metadatas"], limit=page_size, offset=offset)  # type: ignore[list-item]
            ids = got["ids"]
            if not ids:
                break
            for cid, meta in zip(ids, got["metadatas"] or [], strict=True):
                m: dict[str, Any] = dict(meta or {})
                infos.append(ChunkInfo(cid, str(m.get("source", "")), str(m.get("doc_type", "")),
                                       str(m.get("company", "")), str(m.get("tickers", "")),
                                       int(m.get("date_int", 0) or 0), str(m.get("language", ""))))
                tokens.append(str(m.get("bm25", "")).split())
            offset += len(ids)
        return infos, tokens

    # -- writing -------------------------------------------------------------------------------------------
    def _batch(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 5000))
        except Exception:
            return 1000

    def replace_document(
        self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]
    ) -> tuple[int, int]:
        """Write a document's chunks, drop its chunks that are no longer there, then register it.

        The registry record is written last, so a document is listed only once all its chunks are stored.

        Returns:
            (chunks written, stale chunks deleted)
        """
        if len(chunks) != len(embeddings):
            raise ValueError("chunks and embeddings must have the same length.")
        old_ids = set(self.chunk_ids(record.source))
        step = self._batch()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            self.chunks.upsert(
                ids=[c.id for c in part],
                embeddings=[list(e) for e in embeddings[i : i + step]],  # type: ignore[arg-type]
                documents=[c.text for c in part],
                metadatas=[_meta_to_chroma(c, record.content_hash) for c in part],  # type: ignore[misc]
            )
        stale = sorted(old_ids - {c.id for c in chunks})
        for i in range(0, len(stale), step):
            self.chunks.delete(ids=stale[i : i + step])
        self.documents.upsert(
            ids=[record.source],
            embeddings=[_REGISTRY_VECTOR],  # type: ignore[arg-type]
            documents=[record.meta.title],
            metadatas=[_record_to_chroma(record)],  # type: ignore[list-item]
        )
        self._bump_generation()
        return len(chunks), len(stale)

    def delete_document(self, source: str) -> int:
        """Remove a document and all its chunks; returns how many chunks went."""
        ids = self.chunk_ids(source)
        step = self._batch()
        # The registry record goes first so that a half-finished delete never lists a document without chunks.
        self.documents.delete(ids=[source])
        for i in range(0, len(ids), step):
            self.chunks.delete(ids=ids[i : i + step])
        self._bump_generation()
        return len(ids)

    def reset(self) -> None:
        """Drop both collections (``--rebuild``)."""
        for name in (self.settings.chunks_collection, self.settings.documents_collection):
            if self._existing(name) is not None:
                self.client.delete_collection(name)
        self._chunks = None
        self._docs = None
