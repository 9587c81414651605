"""Central value types that cross module boundaries (frozen dataclasses, never bare dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DocType = Literal["news", "filing", "other"]
DOC_TYPES: tuple[str, ...] = ("news", "filing", "other")


@dataclass(frozen=True)
class DocumentMeta:
    """What is known about a document as a whole (front matter, HTML meta, or inferred)."""

    title: str
    doc_type: DocType = "other"
    date: str = ""  # ISO YYYY-MM-DD, or "" when unknown
    publisher: str = ""  # front matter `source:` (e.g. "Sina Finance")
    url: str = ""
    company: str = ""
    tickers: tuple[str, ...] = ()
    language: str = "en"  # "en" | "zh"


@dataclass(frozen=True)
class Page:
    """Text of one PDF page (number from 1), or of a whole non-paged document (number None)."""

    text: str
    number: int | None = None


@dataclass(frozen=True)
class LoadedDocument:
    """A file turned into pages plus its metadata, and the warnings met on the way."""

    source: str
    meta: DocumentMeta
    pages: tuple[Page, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with its provenance.

    ``text`` is the exact slice ``page.text[char_start:char_end]``, except for a table chunk that does not
    start at its table's header: then the header line is put in front of the slice (``header_prefixed``).
    """

    id: str
    text: str
    source: str
    title: str
    doc_type: DocType
    date: str
    publisher: str
    company: str
    tickers: tuple[str, ...]
    language: str
    page: int | None
    char_start: int
    char_end: int
    section: str = ""
    ordinal: int = 0
    header_prefixed: bool = False

    def embedding_text(self) -> str:
        """The text that is embedded: the document's identity and section, then the passage."""
        head = " | ".join(p for p in (self.title, self.company, self.section) if p)
        return f"{head[:200]}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class DocumentRecord:
    """One ingested document as the index remembers it."""

    source: str
    content_hash: str
    ingest_key: str
    meta: DocumentMeta
    pages: int
    chunks: int
    added_at: str
    updated_at: str
    file_name: str = ""


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed
