"""The chunk store: a Chroma collection of chunks plus a registry of documents, embedded or on a server."""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.bm25 import ChunkInfo, KeywordRows, Versions
from rag.config import Settings
from rag.errors import IndexMismatchError, IndexNotFoundError, StoreUnavailableError
from rag.text import YEAR_IN_TEXT, search_tokens
from rag.types import Chunk, DocumentMeta, DocumentRecord, XbrlFact

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


def remote_server_warning(host: str) -> str | None:
    """A warning for a Chroma server reached over the network (None for this machine).

    chromadb has advisories without a fixed release (1.5.9 is the latest; scripts/audit.py lists them), one of
    them pre-authentication code execution on the server (CVE-2026-45829): its port must reach trusted hosts only.
    """
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "::1") or name.startswith("127."):
        return None
    return (f"the Chroma server {host} is reached over the network; chromadb has unfixed advisories that let anyone "
            "who reaches its port run code on it (CVE-2026-45829): keep that port reachable from trusted hosts only "
            "(a private network or an SSH tunnel; see README \"Scaling\")")


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
        warning = remote_server_warning(settings.chroma_host)
        if warning:
            logger.warning(warning)
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


def chunk_years(chunk: Chunk) -> str:
    """The years a chunk's text writes (else its title's), space-separated: the period its figures are about."""
    years = YEAR_IN_TEXT.findall(chunk.text) or YEAR_IN_TEXT.findall(chunk.title)
    return " ".join(sorted(set(years)))


def chunk_keywords(chunk: Chunk) -> str:
    """The chunk's keyword tokens as stored with it (metadata ``bm25``), space-separated."""
    return " ".join(search_tokens(keyword_text(chunk)))


def _meta_to_chroma(chunk: Chunk, record: DocumentRecord, keywords: str | None = None
                    ) -> dict[str, str | int | float | bool]:
    date_int = int(chunk.date.replace("-", "")) if chunk.date else 0
    return {
        "bm25": chunk_keywords(chunk) if keywords is None else keywords,
        "years": chunk_years(chunk),
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
        "form": chunk.form,
        "fiscal_year": chunk.fiscal_year or 0,
        "period_end": chunk.period_end,
        "period_type": chunk.period_type,
        "doc_hash": record.content_hash,
        "doc_key": record.ingest_key,
        **({"facts": facts_to_json(chunk.facts)} if chunk.facts else {}),
        **({"unit_note": chunk.unit_note} if chunk.unit_note else {}),
    }


def facts_to_json(facts: Sequence[XbrlFact]) -> str:
    """A chunk's inline-XBRL facts as compact JSON (a list of lists, one per fact, fields in declared order)."""
    return json.dumps([[f.concept, f.value, f.shown, f.unit, f.start, f.end, list(f.dims), f.decimals,
                        list(f.span)] for f in facts], ensure_ascii=False, separators=(",", ":"))


def facts_from_json(text: str) -> tuple[XbrlFact, ...]:
    """The facts ``facts_to_json`` wrote (none when the text is not that list)."""
    try:
        rows = json.loads(text)
        return tuple(XbrlFact(str(c), None if v is None else float(v), str(sh), str(u), str(st), str(e),
                              tuple(str(d) for d in dims), None if dec is None else int(dec), (int(sp[0]), int(sp[1])))
                     for c, v, sh, u, st, e, dims, dec, sp in rows)
    except (ValueError, TypeError, IndexError):
        return ()


WRITE_ROWS = 512  # rows per Chroma write call at most (see ChunkStore._batch)
_READ_PAGE = 1000  # rows read per Chroma get (5000 grew native memory ~+345 MB with no speed gain)
PENDING = "pending:"  # id prefix of the registry's write markers (see ChunkStore.write_documents)


def visible(meta: dict[str, Any], registry: dict[str, DocumentRecord]) -> bool:
    """Whether a chunk belongs to the registered version of its document.

    Chunks of a version being written (or left behind by a crash) are invisible until the registry points at
    their version, so a reader sees a document completely or not at all.
    """
    rec = registry.get(str(meta.get("source", "")))
    if rec is None:
        return False
    key = meta.get("doc_key")
    return key == rec.ingest_key if key else meta.get("doc_hash") == rec.content_hash


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
        form=str(meta.get("form", "")),
        fiscal_year=int(meta.get("fiscal_year", 0) or 0) or None,
        period_end=str(meta.get("period_end", "")),
        period_type=str(meta.get("period_type", "")),
        facts=facts_from_json(str(meta["facts"])) if meta.get("facts") else (),
        unit_note=str(meta.get("unit_note", "")),
    )


def _record_to_chroma(rec: DocumentRecord) -> dict[str, str | int | float | bool]:
    meta = asdict(rec.meta)
    out: dict[str, str | int | float | bool] = {
        f"meta_{k}": v for k, v in meta.items() if k not in ("tickers", "corrected", "fiscal_year")}
    out["meta_tickers"] = ",".join(rec.meta.tickers)
    out["meta_corrected"] = ",".join(rec.meta.corrected)
    out["meta_fiscal_year"] = rec.meta.fiscal_year or 0
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
        form=str(meta.get("meta_form", "")),
        fiscal_year=int(meta.get("meta_fiscal_year", 0) or 0) or None,
        period_end=str(meta.get("meta_period_end", "")),
        period_type=str(meta.get("meta_period_type", "")),
        cik=str(meta.get("meta_cik", "")),
        corrected=tuple(t for t in str(meta.get("meta_corrected", "")).split(",") if t),
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

    def _create(self, name: str, **kwargs: Any) -> Collection:
        """Create a collection; if another process sharing the server created it first, open theirs."""
        try:
            col = self.client.create_collection(name, embedding_function=None, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            if "already exists" not in str(exc).lower():
                raise
            return self.client.get_collection(name, embedding_function=None)  # type: ignore[arg-type]
        logger.info("Created collection %s", name)
        return col

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
                col = self._create(
                    name,
                    metadata={
                        "embedding_model": self.model_name,
                        "embedding_dim": self.dimension,
                        "schema_version": SCHEMA_VERSION,
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                )
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
                col = self._create(name)
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

    def documents_with_hash(self, content_hash: str) -> list[DocumentRecord]:
        """The registered documents whose file has these bytes (one lookup, not a scan of the registry)."""
        got = self.documents.get(where={"content_hash": content_hash}, include=["metadatas"])  # type: ignore[list-item]
        return [_record_from_chroma(dict(m)) for m in (got.get("metadatas") or []) if m and not m.get("pending")]

    def list_documents(self) -> list[DocumentRecord]:
        got = self.documents.get(include=["metadatas"])  # type: ignore[list-item]
        recs = [_record_from_chroma(dict(m)) for m in (got.get("metadatas") or []) if m and not m.get("pending")]
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

    def all_chunks(self, *, page_size: int = _READ_PAGE) -> Iterable[Chunk]:
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

    def bump_generation(self) -> None:
        """Move the generation on, so that every reader rebuilds its keyword index (after a write, or a repair)."""
        self.documents.modify(metadata={"generation": uuid.uuid4().hex})

    def matches_registry(self, versions: Versions) -> bool:
        """Whether the registry holds exactly these versions (source -> ingest key) of documents.

        Checked cheaply (the ids of the registry, then the records of the documents with a write marker): a write
        marks its documents before it switches any, and moves the generation before it removes the markers, so a
        registry that changed without the generation differs from ``versions`` in a marked document.
        """
        if self._existing(self.settings.documents_collection) is None:
            return not versions
        ids = self.documents.get(include=[])["ids"]
        sources = {i for i in ids if not i.startswith(PENDING)}
        if sources != versions.keys():
            return False
        marked = [s for s in (i[len(PENDING):] for i in ids if i.startswith(PENDING)) if s in sources]
        if not marked:
            return True
        got = self.documents.get(ids=marked, include=["metadatas"])  # type: ignore[list-item]
        keys = {str((m or {}).get("source", "")): str((m or {}).get("ingest_key", "")) for m in got["metadatas"] or []}
        return all(keys.get(s) == versions[s] for s in marked)

    def bm25_rows(self, *, page_size: int = _READ_PAGE) -> tuple[list[ChunkInfo], list[list[str]]]:
        """Every visible chunk's keyword tokens and filter facts, read from the store."""
        rows = self.keyword_rows(page_size=page_size)
        return rows.infos, rows.tokens

    def keyword_rows(self, *, page_size: int = _READ_PAGE) -> KeywordRows:
        """Every visible chunk's keyword tokens and filter facts, with the registry they were read against.

        The registry is read first: a version registered after this read is picked up at the next generation.
        """
        infos: list[ChunkInfo] = []
        tokens: list[list[str]] = []
        if self._existing(self.settings.chunks_collection) is None:
            return KeywordRows(infos, tokens, {})
        registry = {r.source: r for r in self.list_documents()} if self._existing(
            self.settings.documents_collection) is not None else {}
        seen: dict[str, int] = {}
        # One str object per distinct token: split() makes one per occurrence, and a keyword index of 16k Chinese
        # chunks held 430 MB of them instead of 170 MB.
        words: dict[str, str] = {}
        offset = 0
        while True:
            got = self.chunks.get(include=["metadatas"], limit=page_size, offset=offset)  # type: ignore[list-item]
            ids = got["ids"]
            if not ids:
                break
            for cid, meta in zip(ids, got["metadatas"] or [], strict=True):
                m: dict[str, Any] = dict(meta or {})
                if not visible(m, registry):
                    continue
                source = str(m.get("source", ""))
                seen[source] = seen.get(source, 0) + 1
                # Facts shared by a document's chunks are stored once, like the tokens.
                facts = [words.setdefault(v, v) for v in (source, str(m.get("doc_type", "")), str(m.get("company", "")),
                                                          str(m.get("tickers", "")), str(m.get("language", "")),
                                                          str(m.get("years", "")))]
                infos.append(ChunkInfo(cid, facts[0], facts[1], facts[2], facts[3], int(m.get("date_int", 0) or 0),
                                       facts[4], facts[5]))
                tokens.append([words.setdefault(t, t) for t in str(m.get("bm25", "")).split()])
            offset += len(ids)
        # Pages read by offset can skip or repeat rows when a writer deletes or adds chunks meanwhile.
        complete = len({i.id for i in infos}) == len(infos) and all(
            seen.get(source, 0) == rec.chunks for source, rec in registry.items())
        versions = {source: rec.ingest_key for source, rec in registry.items()}
        return KeywordRows(infos, tokens, versions if complete else None)

    # -- writing -------------------------------------------------------------------------------------------
    def _batch(self) -> int:
        """Rows per Chroma call: memory per call grows with it (an upsert of 5,000 chunks raised the process by
        170 MB, one of 512 by 60 MB) while the time per chunk stays the same (1.3 ms from 256 to 5,000 rows)."""
        try:
            return max(1, min(int(self.client.get_max_batch_size()), WRITE_ROWS))
        except Exception:
            return WRITE_ROWS

    def replace_document(
        self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]
    ) -> tuple[int, int]:
        """Write one document (see ``write_documents``); returns (chunks written, old chunks deleted)."""
        return self.write_documents([(record, chunks, embeddings)])

    def write_documents(
        self, items: Sequence[tuple[DocumentRecord, Sequence[Chunk], Sequence[Sequence[float]]]],
        keywords: Sequence[Sequence[str]] | None = None,
    ) -> tuple[int, int]:
        """Write new versions of documents, in as few Chroma calls as the client's batch size allows.

        A document switches versions all at once. The order is: a marker per document in the registry, the
        new version's chunks (their ids are new, see ``visible``), the registry records (the switch), the old
        versions' chunks deleted, the generation moved on, the markers removed. A crash anywhere leaves the old or
        the new version visible, never a mix, and leaves the markers until the generation has moved (so that
        ``recover`` moves it, and readers rebuild their keyword index, whatever the crash left behind).

        Args:
            items: (record, chunks, embeddings) per document.
            keywords: per document, its chunks' keyword tokens (``chunk_keywords``) when computed already.

        Returns:
            (chunks written, old chunks deleted)
        """
        if not items:
            return 0, 0
        for record, chunks, embeddings in items:
            if len(chunks) != len(embeddings):
                raise ValueError(f"{record.source}: chunks and embeddings must have the same length.")
        self.begin_write([r.source for r, _c, _e in items])
        # The rows of all documents in shared calls: several small files cost one upsert, not one each.
        self._upsert_rows(
            (record, chunk, vector, keywords[n][i] if keywords is not None else None)
            for n, (record, chunks, embeddings) in enumerate(items)
            for i, (chunk, vector) in enumerate(zip(chunks, embeddings, strict=True))
        )
        deleted = self.finish_write([r for r, _c, _e in items])
        return sum(len(c) for _r, c, _e in items), deleted

    # The steps of a write, for a document too large to hold at once (ingest writes its chunks as they are
    # embedded): begin_write, put_chunks as often as needed, then finish_write (or abandon_write).
    def begin_write(self, sources: Sequence[str]) -> None:
        """Mark documents as being written: from here a crash is seen and repaired by ``recover``."""
        self._mark(sources)

    def put_chunks(self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]],
                   keywords: Sequence[str] | None = None) -> None:
        """Add chunks of a new version of ``record``'s document (invisible until ``finish_write``), a bounded
        number of rows per Chroma call, each call's rows built just before it."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{record.source}: chunks and embeddings must have the same length.")
        self._upsert_rows((record, chunk, vector, keywords[i] if keywords is not None else None)
                          for i, (chunk, vector) in enumerate(zip(chunks, embeddings, strict=True)))

    def _upsert_rows(self, rows: Iterable[tuple[DocumentRecord, Chunk, Sequence[float], str | None]]) -> None:
        """Upsert chunk rows, at most ``_batch()`` per call, each call's lists built just before it."""
        step = self._batch()
        it = iter(rows)
        while part := list(itertools.islice(it, step)):
            self.chunks.upsert(
                ids=[c.id for _r, c, _v, _w in part],
                embeddings=[list(v) for _r, _c, v, _w in part],  # type: ignore[arg-type]
                documents=[c.text for _r, c, _v, _w in part],
                metadatas=[_meta_to_chroma(c, r, w) for r, c, _v, w in part],  # type: ignore[misc]
            )

    def finish_write(self, records: Sequence[DocumentRecord]) -> int:
        """Switch documents to the versions put since ``begin_write``: register them, drop their other versions'
        chunks, move the generation, remove the markers. Returns the old chunks deleted."""
        step = self._batch()
        for i in range(0, len(records), step):
            part = list(records[i : i + step])
            self.documents.upsert(
                ids=[r.source for r in part],
                embeddings=[_REGISTRY_VECTOR] * len(part),  # type: ignore[arg-type]
                documents=[r.meta.title for r in part],
                metadatas=[_record_to_chroma(r) for r in part],  # type: ignore[misc]
            )
        sources = [r.source for r in records]
        deleted = self._drop_invisible(sources, {r.source: r for r in records})
        self.bump_generation()
        self._unmark(sources)
        return deleted

    def update_metadata(self, record: DocumentRecord, meta: DocumentMeta) -> DocumentRecord:
        """Give a registered document new metadata in place (its chunks keep their text and vectors).

        The chunks are updated first, then the registry: a crash between leaves the chunks ahead of the record,
        and the next ``--set`` or re-ingest writes both again. Returns the new record.
        """
        new = replace(record, meta=meta)
        ids = [i for i in self.chunk_ids(record.source)]
        step = self._batch()
        for i in range(0, len(ids), step):
            got = self.chunks.get(ids=ids[i : i + step], include=["documents", "metadatas"])  # type: ignore[list-item]
            metas = []
            for cid, text, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                chunk = replace(chunk_from_chroma(cid, text or "", dict(m or {})), title=meta.title,
                                doc_type=meta.doc_type, date=meta.date, company=meta.company, tickers=meta.tickers,
                                language=meta.language, form=meta.form, fiscal_year=meta.fiscal_year,
                                period_end=meta.period_end, period_type=meta.period_type)
                row = dict(m or {})
                row.update(_meta_to_chroma(chunk, new))
                row["doc_hash"], row["doc_key"] = m.get("doc_hash", ""), m.get("doc_key", "")  # type: ignore[union-attr]
                metas.append(row)
            self.chunks.update(ids=list(got["ids"]), metadatas=metas)  # type: ignore[arg-type]
        self.documents.upsert(ids=[new.source], embeddings=[_REGISTRY_VECTOR],  # type: ignore[arg-type]
                              documents=[meta.title], metadatas=[_record_to_chroma(new)])  # type: ignore[list-item]
        self.bump_generation()
        return new

    def abandon_write(self, sources: Sequence[str]) -> int:
        """Give up a write begun with ``begin_write``: its chunks go, the registered versions stay (as ``recover``
        does after a crash). Returns the chunks removed."""
        registry = {r.source: r for r in (self.get_document(s) for s in sources) if r is not None}
        removed = self._drop_invisible(sources, registry)
        self.bump_generation()
        self._unmark(sources)
        return removed

    def _mark(self, sources: Sequence[str]) -> None:
        step = self._batch()
        for i in range(0, len(sources), step):
            part = sources[i : i + step]
            self.documents.upsert(
                ids=[PENDING + s for s in part],
                embeddings=[_REGISTRY_VECTOR] * len(part),  # type: ignore[arg-type]
                metadatas=[{"pending": True, "source": s} for s in part],
            )

    def _unmark(self, sources: Sequence[str]) -> None:
        step = self._batch()
        for i in range(0, len(sources), step):
            self.documents.delete(ids=[PENDING + s for s in sources[i : i + step]])

    def _drop_invisible(self, sources: Sequence[str], registry: dict[str, DocumentRecord]) -> int:
        """Delete the chunks of these documents that are not of their registered version."""
        stale: list[str] = []
        step = 500  # sources per `$in` filter
        for i in range(0, len(sources), step):
            part = list(sources[i : i + step])
            where: dict[str, Any] = {"source": part[0]} if len(part) == 1 else {"source": {"$in": part}}
            # Page by page: a chunk's metadata carries its keyword tokens, and a large document's all at once took
            # 150 MB for 5,000 chunks. Nothing is deleted until all pages are read, so the offsets hold.
            offset = 0
            while True:
                got = self.chunks.get(where=where, include=["metadatas"], limit=_READ_PAGE,  # type: ignore[list-item]
                                      offset=offset)
                for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                    if not visible(dict(meta or {}), registry):
                        stale.append(cid)
                if len(got["ids"]) < _READ_PAGE:
                    break
                offset += _READ_PAGE
        batch = self._batch()
        for i in range(0, len(stale), batch):
            self.chunks.delete(ids=stale[i : i + batch])
        return len(stale)

    def pending(self) -> list[str]:
        """Documents whose write or delete was interrupted (their markers are still in the registry)."""
        if self._existing(self.settings.documents_collection) is None:
            return []
        got = self.documents.get(where={"pending": True}, include=["metadatas"])  # type: ignore[list-item]
        return sorted(str((m or {}).get("source", "")) for m in got.get("metadatas") or [])

    def recover(self, owns: Callable[[str], bool] | None = None) -> int:
        """Finish what an interrupted write or delete left: remove the chunks of unregistered versions, and move
        the generation (the write may have switched documents without moving it).

        Args:
            owns: limits recovery to the documents this process is responsible for (``--shard``), so that a
                concurrent writer's work in progress is left alone.

        Returns:
            chunks removed
        """
        sources = [s for s in self.pending() if owns is None or owns(s)]
        if not sources:
            return 0
        registry = {r.source: r for r in self.list_documents() if r.source in set(sources)}
        removed = self._drop_invisible(sources, registry)
        self.bump_generation()  # before the markers go, as in write_documents
        self._unmark(sources)
        logger.warning("Recovered %d interrupted document write(s); removed %d orphaned chunk(s)",
                       len(sources), removed)
        return removed

    def delete_document(self, source: str) -> int:
        """Remove a document and all its chunks; returns how many chunks went."""
        ids = self.chunk_ids(source)
        step = self._batch()
        self._mark([source])
        # The registry record goes first: its chunks turn invisible at once, then they are removed.
        self.documents.delete(ids=[source])
        for i in range(0, len(ids), step):
            self.chunks.delete(ids=ids[i : i + step])
        self.bump_generation()  # before the marker goes, as in write_documents
        self._unmark([source])
        return len(ids)

    def reset(self) -> None:
        """Drop both collections (``--rebuild``)."""
        for name in (self.settings.chunks_collection, self.settings.documents_collection):
            if self._existing(name) is not None:
                self.client.delete_collection(name)
        self._chunks = None
        self._docs = None
