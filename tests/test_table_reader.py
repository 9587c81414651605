"""The table-cell reader: line item × period from a table in a chunk, arithmetic over cited cells, and the
independent check reading each cell's period from the table's own header rows."""

from __future__ import annotations

import pytest

from rag.query import analyze
from rag.readers import table
from rag.tables import table_rows
from rag.types import Chunk, RetrievedChunk
from rag.verify import check_figures

# A TAT-QA-style page: the label column's header blank, the unit in a second header row.
TEXT = """ |  | 2019 | 2018
 | Note | £m | £m
UK |  | 24.5 | 24.9
Ireland |  | 0.4 | 0.5
Total |  | 24.9 | 25.4

The maximum exposure to credit risk at 31 March 2019 was £59.1m (2018: £56.5m)."""
STATEMENT = """(In millions, except per share amounts) | Fiscal 2023 | Fiscal 2022
Total revenues | $ 49,954 | $ 42,440
Purchases of property, plant and equipment | (8,695) | (4,511)
Net income | $ 8,503 | $ 6,717"""


def _chunk(text: str, company: str = "") -> Chunk:
    return Chunk(id="c1", text=text, source="doc.txt", title="Annual report", doc_type="filing", date="",
                 publisher="", company=company, tickers=(), language="en", page=3, char_start=0, char_end=len(text))


def _ask(question: str, text: str = TEXT, company: str = "") -> tuple[str, list[tuple[str, float, str]]]:
    a = analyze(question)
    chunk = _chunk(text, company)
    ev = table.read(a, [RetrievedChunk(chunk)])
    assert ev is not None
    d = ev.draft
    figures = check_figures(d.text, list(d.cited), a, derived=d.arithmetic)
    return d.text, [(f.text, f.value, f.status) for f in figures]


def test_a_cell_is_stated_with_the_scale_its_header_gives_and_verified() -> None:
    text, figures = _ask("What was the amount for Ireland in 2019?")
    assert text == "Ireland, 2019 £m: 0.4 million [1]."
    assert figures == [("0.4 million", 4e5, "verified")]


@pytest.mark.parametrize("question, result, status", [
    ("What is the change in UK from 2018 to 2019?", ("-0.4 million", -4e5), "derived"),
    ("What is the percentage change in Ireland from 2018 to 2019?", ("-20%", -20.0), "derived"),
    ("What is the average Total for 2019 and 2018?", ("25.15 million", 25.15e6), "derived"),
])
def test_arithmetic_over_the_asked_row_and_years(question: str, result: tuple[str, float], status: str) -> None:
    text, figures = _ask(question)
    assert (*result, status) in figures
    assert all(s in ("verified", "derived") for _, _, s in figures), figures


def test_which_year_compares_the_row_across_its_columns() -> None:
    text, figures = _ask("In which year was the amount for UK larger?")
    assert text.startswith("UK was highest in 2018: 24.9 million (against 24.5 million in 2019) [1].")


def test_measure_synonyms_find_the_line_item_and_the_fiscal_column() -> None:
    text, figures = _ask("What was capex in fiscal 2022?", STATEMENT)
    assert text == "Purchases of property, plant and equipment, Fiscal 2022: -4,511 million [1]."
    assert figures == [("-4,511 million", -4511e6, "verified")]
    text, figures = _ask("What was revenue in fiscal 2023? Answer in USD billions.", STATEMENT)
    assert text == "Total revenues, Fiscal 2023: $49,954 million ($49.954 billion) [1]."
    assert [s for _, _, s in figures] == ["verified", "verified"]


def test_the_check_reads_the_cells_column_not_the_whole_row() -> None:
    chunk = _chunk(TEXT)
    wrong = check_figures("UK was 24.5 million in 2018 [1].", [chunk], analyze("What was UK in 2018?"))
    assert [(f.status, f.reason) for f in wrong] == [
        ("quoted", "[1] gives 24.5 for another period (its column is 2019; the question asks about 2018)")]


def test_a_table_of_another_company_is_not_read() -> None:
    a = analyze("What was Akeso's revenue in fiscal 2023?")
    assert table.read(a, [RetrievedChunk(_chunk(STATEMENT, company="Oracle Corporation"))]) is None


# Intel's Q4 2022 earnings release, balance sheet (page 9): the inventories' total is a row with no label.
INTEL_BALANCE = """Consolidated Balance Sheets

(In Millions, Except Par Value; Unaudited) | Dec 31, 2022 | Dec 25, 2021
Current assets: |  |
Cash and cash equivalents | $11,144 | $4,827
Inventories |  |
Raw materials | 1,517 | 1,441
Work in process | 7,565 | 6,656
Finished goods | 4,142 | 2,679
 | 13,224 | 10,776
Assets held for sale | 45 | 6,942
Total current assets | 50,407 | 58,558"""


def test_the_unlabelled_sum_under_a_heading_is_the_headings_total() -> None:
    rows = table_rows(_chunk(INTEL_BALANCE, "Intel Corporation"))
    assert [(r.section, r.label, [f.text if f else None for f in r.figures]) for r in rows[3:6]] == [
        ("Inventories", "Finished goods", ["4,142", "2,679"]),
        ("Current assets:", "Total Inventories", ["13,224", "10,776"]),
        ("Current assets:", "Assets held for sale", ["45", "6,942"]),  # no longer under "Inventories"
    ]
    text, figures = _ask("By how much did Intel's total inventories increase between December 25, 2021 and "
                         "December 31, 2022?", INTEL_BALANCE, "Intel Corporation")
    assert text.startswith("The change in Current assets: — Total Inventories (13,224 million in 2022, 10,776 million "
                           "in 2021) is 2,448 million")
    assert ("2,448 million", 2.448e9, "derived") in figures


def test_a_fiscal_quarter_is_read_from_the_columns_of_the_calendar_year_it_falls_in() -> None:
    text = """(in millions) | Three Months Ended April 30, 2023 | Three Months Ended April 30, 2022
Net cash provided by operating activities | 4,491 | 3,676"""
    chunk = Chunk(id="c1", text=text, source="crm.pdf", title="Salesforce Announces First Quarter Fiscal 2024 Results",
                  doc_type="filing", date="2023-05-31", publisher="", company="Salesforce, Inc.", tickers=("CRM",),
                  language="en", page=9, char_start=0, char_end=len(text), fiscal_year=2024, period_end="2023-04-30",
                  period_type="Q1")
    a = analyze("What was Salesforce's operating cash flow in Q1 fiscal 2024?")
    ev = table.read(a, [RetrievedChunk(chunk)])
    assert ev is not None and ev.draft.text == ("Net cash provided by operating activities, Three Months Ended April 30, "
                                                "2023: 4,491 million [1].")
    assert [(f.text, f.status) for f in check_figures(ev.draft.text, list(ev.draft.cited), a)] == [
        ("4,491 million", "verified")]


def test_a_line_item_asked_for_two_years_is_stated_for_each() -> None:
    text, figures = _ask("What is the amount for UK for 2019 and 2018 respectively?")
    assert text == "UK: 24.5 million in 2019 and 24.9 million in 2018 [1]."
    assert figures == [("24.5 million", 24.5e6, "verified"), ("24.9 million", 24.9e6, "verified")]


def test_a_header_line_that_only_states_a_unit_gives_it_to_every_column() -> None:
    # TAT-QA, a related-party note: the unit centred over the middle column of three
    text = """ |  | Fiscal Year Ended June 30, |
 | 2019 | 2018 | 2017
 |  | (U.S. $ in thousands) |
Board of directors |  |  |
Cash remuneration | $430 | $362 | $388"""
    rows = table_rows(_chunk(text))
    assert [(f.text, f.quantity, f.unit) for f in rows[0].figures if f] == [
        ("$430", 430_000.0, "USD"), ("$362", 362_000.0, "USD"), ("$388", 388_000.0, "USD")]
