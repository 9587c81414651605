"""A unit a page states once for its tables ("(Tabular amounts in millions, unless otherwise disclosed)", a caption
"(in thousands):" printed after its table) is the unit of a table whose header states none: at ingest each chunk
carries its page's note, and the readers and the figure check read the cells with it."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Ingestor
from ingest.units import notes_of, page_notes
from rag.assistant import build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore
from rag.tables import figures_in
from rag.types import Filters, Page

# A TAT-QA page (an annual report's note): the table first, its caption with the unit after it.
SALES = """ | 2019 | 2018 | 2017
Net sales: |  |  |
United States  | $1,197,665 | $1,000,680 | $984,773
Malaysia  | 1,138,380 | 1,118,032 | 940,045
Growth | 2% | 3% | 4%

11. Reportable Segments, Geographic Information and Major Customers

The following table presents net sales for fiscal 2019, 2018 and 2017. Net sales were based on the Company's location
providing the product or service (in thousands):
"""


def test_notes_are_read_and_a_page_takes_one_scale_or_none() -> None:
    assert notes_of("NOTES TO CONSOLIDATED FINANCIAL STATEMENTS (Tabular amounts in millions, unless otherwise "
                    "disclosed)") == ["(Tabular amounts in millions, unless otherwise disclosed"]
    assert notes_of("单位：人民币万元") == ["单位：人民币万元"]
    assert notes_of("revenue grew in millions of homes") == []  # prose, not a note
    pages = [Page("(in thousands) | 2019\nA | 1", 1), Page("B | 2", 2),
             Page("(in millions, except per share data)\n(in thousands of shares)", 3)]
    # page 3 states two scales: none; page 2 states none: the document's (thousands twice, millions once: none)
    assert page_notes(pages) == ["(in thousands", "", ""]
    assert page_notes(pages[:2]) == ["(in thousands", "(in thousands"]


def test_a_header_without_a_unit_takes_the_pages_note() -> None:
    read = [(f.text, f.quantity, f.unit) for f in figures_in(SALES, "(in thousands")]
    assert read[:2] == [("$1,197,665", 1_197_665_000.0, "USD"), ("$1,000,680", 1_000_680_000.0, "USD")]
    assert ("940,045", 940_045_000.0, "count") in read or ("940,045", 940_045_000.0, "") in read
    assert ("2%", 2.0, "%") in read  # a percentage is not scaled
    assert [f.quantity for f in figures_in(SALES)][:1] == [1_197_665.0]  # no note: as written
    own = "(In millions) | 2019\nRevenue | 5"
    assert [f.quantity for f in figures_in(own, "(in thousands")] == [5e6]  # a header's own unit comes first


def test_a_table_read_with_its_pages_unit_through_ingest_and_answer(tmp_path: Path, embedder: Embedder) -> None:
    doc = tmp_path / "segments.txt"
    doc.write_text(SALES, encoding="utf-8")
    s = Settings(index=tmp_path / "index")
    Ingestor(s, embedder, ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)).run([doc])
    assistant = build_assistant(s, embedder=embedder)
    table = [c for c in assistant.store.all_chunks() if "Malaysia" in c.text]
    assert [c.unit_note for c in table] == ["(in thousands"]
    a = assistant.ask("What was the net sales from Malaysia in 2017?", filters=Filters(sources=("segments.txt",)))
    assert [(f.text, f.value, f.status) for f in a.figures] == [("940,045,000", 940_045_000.0, "verified")]
