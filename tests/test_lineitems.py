"""The line-item index over a real filing: a measure's statement row is found by its name, whatever the search
ranks, and the answer is read from it with its column's period (AEON Biopharma's 10-Q as filed on EDGAR)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.lexicon import default_lexicon
from rag.query import analyze
from rag.store import ChunkStore
from rag.tables import table_rows
from rag.types import Filters

REAL_10Q = Path(__file__).parent / "data" / "edgar" / "aeon-20230930x10q.htm"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    s = Settings(index=tmp_path_factory.mktemp("lineitems") / "index")
    store = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)
    report = Ingestor(s, embedder, store).run([REAL_10Q])
    assert not report.failed
    yield build_assistant(s, embedder=embedder)


def test_a_measures_rows_are_found_by_name_statement_first(assistant: Assistant) -> None:
    lexicon = default_lexicon()
    found = assistant.retriever.line_items(analyze("What were AEON Biopharma's total assets in 2023?"), lexicon)
    assert found, "the balance sheet's 'Total assets' row"
    first = found[0].chunk
    assert (first.page, first.section) == (5, "CONDENSED CONSOLIDATED BALANCE SHEETS")
    rows = [r for r in table_rows(first) if r.label == "Total assets"]
    assert [(r.years, [f.text if f else None for f in r.figures]) for r in rows] == [
        ((2023, 2022), ["$17,619", "$10,778"])]
    # a year no column is dated with, a filter that leaves the filing out, a question naming no measure: nothing
    assert assistant.retriever.line_items(analyze("What were AEON's total assets in 2019?"), lexicon) == []
    assert assistant.retriever.line_items(analyze("What were AEON's total assets in 2023?"), lexicon,
                                          filters=Filters(sources=("other.htm",))) == []
    assert assistant.retriever.line_items(analyze("Who is AEON's chief executive?"), lexicon) == []


def test_a_balance_sheet_line_is_answered_for_the_asked_date_only(assistant: Assistant) -> None:
    a = assistant.ask("What were AEON Biopharma's total assets as of September 30, 2023?")
    assert a.answer == ("Current assets: — Total assets, Successor September 30, 2023 (Unaudited): $17,619 thousand "
                        "[1].")
    assert [(f.text, f.value, f.status) for f in a.figures] == [("$17,619 thousand", 17_619_000.0, "verified")]
    assert [(c.page, c.section) for c in a.citations] == [(5, "CONDENSED CONSOLIDATED BALANCE SHEETS")]
    # the balance sheet is dated September 30 and December 31: June 30 is not in it
    r = assistant.ask("What were AEON Biopharma's total assets as of June 30, 2023?")
    assert r.refused and r.figures == ()
