"""Retrieval on a shelf of look-alike filings: the question's company, period, form and statement decide which
filing is searched (issue 15). Real PDFs (reportlab), the real USE model, a real Chroma and the real pipeline."""

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
from rag.rerank import period_fit
from rag.store import ChunkStore
from rag.types import Chunk

# (file, company, ticker, fiscal year, revenues (FY, FY-1), net loss (FY, FY-1)): statement pages that differ only
# in their figures, as a shelf of biotech 10-Ks does to an embedding model and to BM25.
FILINGS = [
    ("alpha_2023.pdf", "Alpha Therapeutics, Inc.", "ALPH", 2023, (120_500, 98_000), (30_100, 41_200)),
    ("alpha_2022.pdf", "Alpha Therapeutics, Inc.", "ALPH", 2022, (98_000, 77_300), (41_200, 52_800)),
    ("beta_2023.pdf", "Beta Biologics Corp.", "BETB", 2023, (64_250, 51_900), (12_700, 18_300)),
    ("gamma_2023.pdf", "Gamma Pharmaceuticals, Inc.", "GAMP", 2023, (210_800, 187_600), (5_400, 9_900)),
]
NEWS = ["Sector news", "Biotech shares rose in January 2024 as investors returned to the sector.",
        "Analysts said Beta Biologics was among the most watched names after its data readout."]


def _cover(name: str, fy: int) -> list[str]:
    return ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "Washington, D.C. 20549", "FORM 10-K",
            "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
            f"For the fiscal year ended December 31, {fy}", "Commission File Number 001-12345", name,
            "(Exact name of registrant as specified in its charter)",
            "The company develops medicines for patients with cancer and immune diseases."]


def _statements(fy: int, revenue: tuple[int, int], loss: tuple[int, int]) -> list[tuple[str, str, str]]:
    """The statement page as (label, this year, last year) rows, drawn in columns."""
    return [("CONSOLIDATED STATEMENTS OF OPERATIONS", "", ""), ("(In thousands)", "", ""),
            ("", "Year Ended December 31,", ""), ("", str(fy), str(fy - 1)),
            ("Total revenues", f"{revenue[0]:,}", f"{revenue[1]:,}"),
            ("Research and development", "52,100", "48,900"),
            ("Net loss", f"({loss[0]:,})", f"({loss[1]:,})")]


def _write(path: Path, cover: list[str], mdna: list[str], rows: list[tuple[str, str, str]]) -> None:
    """A real three-page PDF: cover and MD&A as lines, the statement with its figures right-aligned in columns."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for lines in (cover, mdna):
        c.setFont("Helvetica", 11)
        for i, line in enumerate(lines):
            c.drawString(60, 800 - 16 * i, line)
        c.showPage()
    c.setFont("Helvetica", 10)
    for i, (label, this, last) in enumerate(rows):
        y = 800 - 16 * i
        c.drawString(60, y, label)
        if this.startswith("Year"):
            c.drawString(360, y, this)
            continue
        c.drawRightString(420, y, this)
        c.drawRightString(510, y, last)
    c.showPage()
    c.save()


def _mdna(name: str, fy: int) -> list[str]:
    return ["MANAGEMENT'S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION AND RESULTS OF OPERATIONS",
            f"{name.split(',')[0]} continued to invest in its clinical programs during {fy}.",
            "Revenues consist of collaboration revenue and product revenue from our partners.",
            f"We expect total revenues and research and development expenses to increase in {fy + 1}."]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    folder = tmp_path_factory.mktemp("shelf")
    for file, name, _ticker, fy, revenue, loss in FILINGS:
        _write(folder / file, _cover(name, fy), _mdna(name, fy), _statements(fy, revenue, loss))
    (folder / "sector-news-2024-01.md").write_text("# " + NEWS[0] + "\n\n" + " ".join(NEWS[1:]) + "\n")
    s = Settings(index=tmp_path_factory.mktemp("shelf-index") / "index")
    store = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)
    report = Ingestor(s, embedder, store).run([folder])
    assert not report.failed and len(report.added) == 5
    yield build_assistant(s, embedder=embedder)


def _where(assistant: Assistant, question: str, k: int = 5) -> list[tuple[str, int | None]]:
    return [(Path(rc.chunk.source).name, rc.chunk.page) for rc in assistant.search(question, k=k)]


def test_the_companys_filing_is_searched_among_look_alike_statement_pages(shelf: Assistant) -> None:
    found = _where(shelf, "What were Beta Biologics' total revenues in 2023?")
    assert found[0] == ("beta_2023.pdf", 3), found  # its statement page first
    # the other companies' filings are left out; the news (no company's) stays searchable
    assert {f for f, _ in found} <= {"beta_2023.pdf", "sector-news-2024-01.md"}
    a = shelf.ask("What were Beta Biologics' total revenues in 2023?")
    assert [(f.value, f.status) for f in a.figures] == [(64_250_000.0, "verified")]
    assert [(Path(c.source).name, c.page) for c in a.citations] == [("beta_2023.pdf", 3)]
    # by ticker too
    assert _where(shelf, "What was GAMP's net loss in 2023?")[0] == ("gamma_2023.pdf", 3)


def test_the_asked_fiscal_year_picks_the_filing_of_that_year(shelf: Assistant) -> None:
    # both of Alpha's 10-Ks state fiscal 2022 (the 2023 one as its comparative column): the 2022 filing first
    assert _where(shelf, "What were Alpha Therapeutics' total revenues in fiscal 2022?")[0] == ("alpha_2022.pdf", 3)
    assert _where(shelf, "What were Alpha Therapeutics' total revenues in fiscal 2023?")[0] == ("alpha_2023.pdf", 3)
    a = shelf.ask("What were Alpha Therapeutics' total revenues in fiscal 2022?")
    assert [(f.value, f.status) for f in a.figures] == [(98_000_000.0, "verified")]


def test_a_company_no_document_owns_is_searched_everywhere(shelf: Assistant) -> None:
    # no filing is Delta's: the search is not narrowed to nothing
    found = _where(shelf, "What were Delta Oncology's total revenues in 2023?", k=10)
    assert len({f for f, _ in found}) >= 3
    # a question naming no company searches every filing
    assert len({f for f, _ in _where(shelf, "What were total revenues in 2023?", k=10)}) >= 3


def _chunk(**meta: object) -> Chunk:
    base: dict[str, object] = dict(id="c", text="", source="x.pdf", title="", doc_type="filing", date="",
                                   publisher="", company="", tickers=(), language="en", page=1, char_start=0,
                                   char_end=0)
    base.update(meta)
    return Chunk(**base)  # type: ignore[arg-type]


def test_period_fit_reads_the_documents_fiscal_year_and_period() -> None:
    fy22 = _chunk(fiscal_year=2022, period_end="2022-12-31", period_type="FY")
    fy23 = _chunk(fiscal_year=2023, period_end="2023-12-31", period_type="FY")
    q2 = _chunk(fiscal_year=2023, period_end="2023-06-30", period_type="Q2")
    news = _chunk(doc_type="news")
    assert [period_fit(analyze("revenue in fiscal 2022?"), c) for c in (fy22, fy23, q2, news)] == [1.0, 0.0, 0.0, 0.0]
    # a change over two years: the filing of the later year states both
    assert [period_fit(analyze("revenue growth from 2022 to 2023?"), c) for c in (fy22, fy23)] == [0.5, 1.0]
    assert [period_fit(analyze("revenue in Q2 2023?"), c) for c in (fy23, q2)] == [0.5, 1.0]
    assert period_fit(analyze("What does the company do?"), fy22) == 0.0
    # Salesforce's Q1 of fiscal 2024 ended April 30, 2023: the year its period ends counts too
    crm = _chunk(fiscal_year=2024, period_end="2023-04-30", period_type="Q1")
    assert period_fit(analyze("revenue for the quarter ended April 30, 2023?"), crm) == 1.0


def test_query_analysis_names_forms_statements_and_a_ratios_inputs() -> None:
    lex = default_lexicon()
    a = analyze("Per the cash flow statement in Oracle's 10-K, what was capex in fiscal 2023?", lexicon=lex)
    assert (a.statement, a.measures) == ("cash_flow", ("capex",))
    assert "10-K" in a.forms and "10-Q" not in a.forms
    assert analyze("恒瑞医药2024年年报中合并利润表的营业收入是多少", lexicon=lex).statement == "income"
    assert "年度报告" in analyze("恒瑞医药2024年年报中的营业收入是多少", lexicon=lex).forms
    assert analyze("What was eBay's revenue in its quarterly report for Q2 2023?", lexicon=lex).forms == (
        "10-Q", "10-Q/A", "季度报告")
    assert analyze("What was Salesforce's current ratio on April 30, 2023?", lexicon=lex).inputs == (
        "current_assets", "current_liabilities")
    # a plural name's possessive is the name ("Biologics'" would match no passage and refuse every table)
    assert analyze("What were Beta Biologics' total revenues in 2023?", lexicon=lex).hints == ("Beta", "Biologics")
    plain = analyze("What was Apple's revenue in 2022?", lexicon=lex)
    assert (plain.forms, plain.statement, plain.inputs) == ((), "", ())
