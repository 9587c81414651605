"""The independent figure check reads what a figure is about from its own passage: the part of the year its clause
or column covers, the date and quarter of its column, the measure its clause or row names, and whether it is a
change rather than an amount. Each case is a passage from a real filing of ../shared/filings, and each wrong
reading here was a ✅ on a wrong answer before the check read it."""

from __future__ import annotations

import pytest

from rag.query import analyze
from rag.types import Chunk
from rag.verify import check_figures

# Intel's Q4 2022 earnings release, page 1 (the highlights are bullets of one sentence).
INTEL = ("Full-year revenue was $63.1 billion, down 20 percent YoY and down 16 percent YoY on a non-GAAP basis. "
         "▪ Fourth-quarter earnings (loss) per share (EPS) was $(0.16); non-GAAP EPS was $0.10.")
# FedEx's 2023 annual report, the share repurchase paragraph.
FEDEX = ("In 2023, we repurchased 9.2 million shares of FedEx common stock at an average price of $163.39 per share "
         "for a total of $1.5 billion.")
# eBay's 10-Q for the quarter ended June 30, 2023, the cost of net revenues paragraph.
EBAY = ("Cost of net revenues, net of immaterial hedging activities, increased during the three months ended June 30, "
        "2023 compared to the same period in 2022 primarily driven by a $27 million increase related to the launch of "
        "eBay International Shipping.")
EBAY_TABLE = """(In millions, except percentages) | Three Months Ended June 30, 2023 | Three Months Ended June 30, 2022
Cost of net revenues | $ 718 | $ 691"""
# Salesforce's first-quarter fiscal 2024 release: the quarter ended April 30, 2023, columns dated 2023.
CRM_TABLE = """(in millions) | Three Months Ended April 30, 2023 | Three Months Ended April 30, 2022
Net income | $ 199 | $ 28"""


def _chunk(text: str, company: str, *, fiscal_year: int | None = None, period_end: str = "",
           period_type: str = "", title: str = "") -> Chunk:
    return Chunk(id="c1", text=text, source="filing.pdf", title=title or f"{company} filing", doc_type="filing", date="",
                 publisher="", company=company, tickers=(), language="en", page=1, char_start=0,
                 char_end=len(text), fiscal_year=fiscal_year, period_end=period_end, period_type=period_type)


def _check(question: str, answer: str, chunk: Chunk) -> list[tuple[str, str]]:
    return [(f.text, f.status) for f in check_figures(f"{answer} [1]", [chunk], analyze(question))]


def test_a_quarter_is_not_the_full_year_asked_for() -> None:
    chunk = _chunk(INTEL, "Intel Corporation", title="Intel Reports Fourth-Quarter and Full-Year 2022 Financial Results")
    got = _check("What was Intel's GAAP diluted earnings per share for full-year 2022?",
                 "Fourth-quarter earnings (loss) per share (EPS) was $(0.16)", chunk)
    assert got == [("(0.16)", "quoted")]
    figure = check_figures("Fourth-quarter EPS was $(0.16) [1]", [chunk],
                           analyze("What was Intel's GAAP diluted earnings per share for full-year 2022?"))[0]
    assert figure.reason.startswith("[1] gives (0.16) for another part of the year (its sentence is about 3 months")
    # the full-year clause of the same sentence is about the year asked
    assert _check("What was Intel's revenue for full-year 2022?", "Full-year revenue was $63.1 billion",
                  chunk) == [("$63.1 billion", "verified")]


def test_a_figure_whose_clause_names_no_asked_line_item_is_only_quoted() -> None:
    chunk = _chunk(FEDEX, "FedEx Corporation", title="FedEx Corporation 2023 Annual Report")
    got = check_figures("FedEx repurchased shares at an average price of $163.39 per share [1]", [chunk],
                        analyze("What were FedEx's diluted earnings per common share for fiscal 2023?"))
    assert [(f.text, f.status) for f in got] == [("$163.39", "quoted")]
    assert "about another measure (its passage names no earnings per share)" in got[0].reason
    # a measure no statement states ("employees") is not checked by name
    assert _check("How many shares did FedEx repurchase in 2023?", "9.2 million shares", chunk) == [
        ("9.2 million", "verified")]


def test_a_change_is_not_the_amount_a_lookup_asks_for() -> None:
    chunk = _chunk(EBAY, "eBay Inc.")
    got = check_figures("driven by a $27 million increase [1]", [chunk],
                        analyze("What was eBay's cost of revenue in the three months ended June 30, 2023?"))
    assert [(f.text, f.status) for f in got] == [("$27 million", "quoted")]
    assert "as a change, not the amount asked" in got[0].reason
    # the same figure answers a question about the change
    assert _check("By how much did eBay's cost of revenue increase in the three months ended June 30, 2023?",
                  "driven by a $27 million increase", chunk) == [("$27 million", "verified")]


def test_a_column_dated_at_another_month_is_another_period() -> None:
    chunk = _chunk(EBAY_TABLE, "eBay Inc.")
    assert _check("What was eBay's cost of revenue for the three months ended June 30, 2023?",
                  "Cost of net revenues: $718 million", chunk) == [("$718 million", "verified")]
    got = check_figures("Cost of net revenues: $718 million [1]", [chunk],
                        analyze("What was eBay's cost of revenue for the quarter ended September 30, 2023?"))
    assert [(f.text, f.status) for f in got] == [("$718 million", "quoted")]
    assert "its column is 'Three Months Ended June 30, 2023'" in got[0].reason


def test_a_fiscal_year_named_after_the_calendar_year_it_ends_in() -> None:
    # Salesforce's fiscal 2024 began on February 1, 2023: its first quarter's columns say 2023
    chunk = _chunk(CRM_TABLE, "Salesforce, Inc.", fiscal_year=2024, period_end="2023-04-30", period_type="Q1")
    assert _check("What was Salesforce's net income in Q1 fiscal 2024?", "Net income: $199 million", chunk) == [
        ("$199 million", "verified")]
    # ... and the first quarter's release does not answer for the second quarter
    got = check_figures("Net income: $199 million [1]", [chunk],
                        analyze("What was Salesforce's net income for the second quarter of fiscal 2024?"))
    assert [(f.text, f.status) for f in got] == [("$199 million", "quoted")]
    assert "for another quarter (its document reports Q1; the question asks about Q2)" in got[0].reason


@pytest.mark.parametrize("question", [
    "What was Salesforce's net income in Q1 fiscal 2023?",  # the prior year's column is fiscal 2023: 28, not 199
    "What was Salesforce's net income in the first quarter of 2021?",
])
def test_a_column_of_another_year_stays_another_period(question: str) -> None:
    chunk = _chunk(CRM_TABLE, "Salesforce, Inc.", fiscal_year=2024, period_end="2023-04-30", period_type="Q1")
    assert _check(question, "Net income: $199 million", chunk) == [("$199 million", "quoted")]
