"""Central value types that cross module boundaries (frozen dataclasses, never bare dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rag import filters as _check
from rag.filters import DOC_TYPES as DOC_TYPES

DocType = Literal["news", "filing", "other"]


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
    # What a filing says it is (ingest.filing): "" / None where the document does not say
    form: str = ""  # "10-K", "10-Q", "8-K", "earnings release", "annual report", "年度报告", "业绩公告" ...
    fiscal_year: int | None = None
    period_end: str = ""  # ISO date the period covered ends
    period_type: str = ""  # FY | Q1..Q4 | H1 | H2 | 9M
    cik: str = ""
    corrected: tuple[str, ...] = ()  # the fields a person set (python -m ingest --set), which ingest keeps


# The fields ``python -m ingest --set`` and the Documents tab's edit form may correct, as they are written there.
EDITABLE_FIELDS = ("title", "company", "tickers", "form", "doc_type", "fiscal_year", "period_end", "period_type",
                   "date", "language")


@dataclass(frozen=True)
class XbrlFact:
    """A figure that an inline-XBRL filing tags (``ix:nonFraction``): the most reliable source of that figure.

    ``value`` is the quantity (scale and sign applied: "(1,577)" tagged scale 6, sign "-" -> -1_577_000_000.0),
    or None for a nil fact. ``start`` is "" for an instant (a balance-sheet date). ``dims`` are the context's
    "axis=member" pairs: a fact with none is the company's consolidated figure. ``span`` locates the figure as
    shown in its page's text (start, end offsets), so each chunk carries the facts of its own text.
    """

    concept: str  # "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment"
    value: float | None
    shown: str  # as printed: "1,577"
    unit: str = ""  # "USD", "shares", "USD/shares", "pure"
    start: str = ""  # ISO date the period starts ("" for an instant)
    end: str = ""  # ISO date the period ends, or the instant
    dims: tuple[str, ...] = ()
    decimals: int | None = None  # None for INF or not stated
    span: tuple[int, int] = (0, 0)

    @property
    def months(self) -> int:
        """Months the period covers (3, 6, 9, 12 ...), 0 for an instant."""
        if not self.start or not self.end:
            return 0
        import datetime as dt

        days = (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days + 1
        return max(0, round(days / 30.44))


@dataclass(frozen=True)
class Page:
    """Text of one PDF page (number from 1), or of a whole non-paged document (number None)."""

    text: str
    number: int | None = None
    facts: tuple[XbrlFact, ...] = ()  # the inline-XBRL facts shown on the page (HTML filings), by position


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
    form: str = ""
    fiscal_year: int | None = None
    period_end: str = ""
    period_type: str = ""
    facts: tuple[XbrlFact, ...] = ()  # the inline-XBRL facts shown in ``text`` (spans relative to the page)
    unit_note: str = ""  # the unit its page states for tables whose header states none ("(in thousands")

    def embedding_text(self) -> str:
        """The text that is embedded: the document's identity and section, then the passage."""
        name = self.source.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
        head = " | ".join(p for p in (self.title, self.company, self.date[:7], name, self.section) if p)
        return f"{head[:240]}\n{self.text}" if head else self.text


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
    chunks_recovered: int = 0  # orphaned chunks of an interrupted earlier run, removed at the start
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


FigureUnit = Literal["CNY", "USD", "HKD", "EUR", "%", "count", "code", ""]


@dataclass(frozen=True)
class Figure:
    """A quantity found in text.

    ``value`` is the number as written (sign applied, "(370)" -> -370), ``scale`` the multiplier its words give
    (million 1e6, billion 1e9, 万 1e4, 亿 1e8, 万亿 1e12; 1 when none), so the quantity is ``value * scale``.
    ``unit`` is the currency, "%", "count" (a bare number or a count of things), "code" (fund/stock code: never
    compared as a quantity) or "" when unknown. ``decimals`` is how many decimals were written, which sets the
    precision the figure claims. ``start``/``end`` locate ``text`` in the string it was parsed from.
    """

    text: str
    value: float
    unit: FigureUnit
    scale: float = 1.0
    decimals: int = 0
    start: int = 0
    end: int = 0

    @property
    def quantity(self) -> float:
        return self.value * self.scale


@dataclass(frozen=True)
class Filters:
    """Restrictions on what retrieval may return; empty fields restrict nothing.

    Checked when built, whoever builds it (inline filters, the command line, the app's boxes): document types
    are lower-cased and must be one of DOC_TYPES; names must not be blank; a date may be written YYYY, YYYY-MM or
    YYYY-MM-DD and is kept as the first (``date_from``) or last (``date_to``) day it covers, and from must not be
    after to. Anything else raises ``FilterError`` (see ``rag.filters``).
    """

    doc_types: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()  # matched against company and tickers, case-insensitive substring
    sources: tuple[str, ...] = ()  # matched against the source path or its file name
    date_from: str = ""  # ISO date YYYY-MM-DD, inclusive, on the document's date
    date_to: str = ""

    def __post_init__(self) -> None:
        date_from = _check.date_bound(self.date_from, end=False, label=f"from date {self.date_from!r}") \
            if self.date_from else ""
        date_to = _check.date_bound(self.date_to, end=True, label=f"to date {self.date_to!r}") if self.date_to else ""
        _check.date_range(date_from, date_to)
        # Frozen: the checked, normalised values are set once, here.
        object.__setattr__(self, "doc_types",
                           tuple(_check.doc_type(t, label=f"doc_type {t!r}") for t in self.doc_types))
        object.__setattr__(self, "companies", tuple(
            _check.name(c, label="a company filter", what="a company name or ticker") for c in self.companies))
        object.__setattr__(self, "sources", tuple(
            _check.name(s, label="a source filter", what="a document path or file name") for s in self.sources))
        object.__setattr__(self, "date_from", date_from)
        object.__setattr__(self, "date_to", date_to)

    def __bool__(self) -> bool:
        return bool(self.doc_types or self.companies or self.sources or self.date_from or self.date_to)


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk with the scores retrieval gave it (None where that retriever did not find it)."""

    chunk: Chunk
    dense_distance: float | None = None
    bm25: float | None = None
    fused: float = 0.0
    rerank: float = 0.0
    line_item: float = 0.0  # how well a table row of it names an asked measure (rag.lineitems), 0 when none does


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` of an answer: the chunk it points to and the sentence(s) quoted from it."""

    n: int
    chunk_id: str
    source: str
    title: str
    page: int | None
    quote: str
    doc_type: str = "other"
    date: str = ""
    section: str = ""
    chunk_text: str = ""


FigureStatus = Literal["verified", "quoted", "derived", "unverified"]


@dataclass(frozen=True)
class CheckedFigure:
    """A figure stated in an answer and what the check found: quoted in its cited chunk, computed, or neither."""

    text: str
    value: float
    unit: str
    status: FigureStatus
    citation: int | None
    reason: str = ""
    arithmetic: str = ""


@dataclass(frozen=True)
class Answer:
    """What ``ask`` returns: text with [n] markers, its citations and its checked figures."""

    question: str
    answer: str
    citations: tuple[Citation, ...] = ()
    figures: tuple[CheckedFigure, ...] = ()
    grounded: bool = False
    refused: bool = False
    refusal_reason: str = ""
    refusal_code: str = ""  # no_passage | no_entity | no_period | no_figure | low_score | no_answer | error
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str = ""
    backend: str = "extractive"
    notice: str = ""  # why the answer shown is not the one the configured backend gave
    retrieved: tuple[str, ...] = ()  # chunk ids in rank order, for retrieval metrics

    def to_json(self) -> dict[str, object]:
        """The Answer object of DESIGN.md's JSON contract."""
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": [
                {"n": c.n, "source": c.source, "title": c.title, "page": c.page, "chunk_id": c.chunk_id,
                 "quote": c.quote, "doc_type": c.doc_type, "date": c.date, "section": c.section}
                for c in self.citations
            ],
            "figures": [
                {"text": f.text, "value": f.value, "unit": f.unit, "status": f.status, "citation": f.citation,
                 **({"reason": f.reason} if f.reason else {}), **({"arithmetic": f.arithmetic} if f.arithmetic else {})}
                for f in self.figures
            ],
            "grounded": self.grounded,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "refusal_code": self.refusal_code,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "backend": self.backend,
            "retrieved": list(self.retrieved),
            **({"error": self.error} if self.error else {}),
            **({"notice": self.notice} if self.notice else {}),
        }
