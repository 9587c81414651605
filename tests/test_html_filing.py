"""EDGAR .htm filings with inline XBRL: statements read into the same Table as PDFs, tagged facts kept per chunk.

The filing is Apple's fiscal 2022 10-K rebuilt in EDGAR's markup (tests/edgar_html.py) from the 210 hand-checked
cells of the real PDF (tests/data/filing_cells.yaml); each of them must come back from the HTML with its value,
its column's period and its unit, and each tagged figure as an XBRL fact with its concept, period and scale.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from edgar_html import apple_10k_html, statements

from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from rag.store import facts_from_json, facts_to_json
from rag.tabular import tables_in
from rag.types import LoadedDocument


@pytest.fixture(scope="module")
def apple() -> LoadedDocument:
    return load_document(apple_10k_html().encode("utf-8"), source="aapl-20220924.htm", file_name="aapl-20220924.htm")


def _norm(value: str) -> str:
    return re.sub(r"\s+", "", value)


def test_the_cover_facts_make_the_metadata(apple: LoadedDocument) -> None:
    m = apple.meta
    assert (m.title, m.company, m.tickers, m.cik) == (
        "Apple Inc. — Form 10-K for the fiscal year ended September 24, 2022", "Apple Inc.", ("AAPL",), "0000320193")
    assert (m.form, m.fiscal_year, m.period_end, m.period_type, m.doc_type) == ("10-K", 2022, "2022-09-24", "FY", "filing")
    assert m.date == "2022-10-27"  # signed on, from the signatures page (dei does not tag it)
    assert apple.warnings == ()


def test_printed_pages_follow_the_page_breaks(apple: LoadedDocument) -> None:
    assert [p.number for p in apple.pages] == [1, 2, 3, 4, 5, 6, 7]
    assert apple.pages[3].text.startswith("CONSOLIDATED STATEMENTS OF OPERATIONS")
    assert apple.pages[6].text.startswith("SIGNATURES")
    assert all("0000320193" not in p.text for p in apple.pages)  # the hidden ix:header is no text


def test_every_hand_checked_cell_is_read_from_the_html(apple: LoadedDocument) -> None:
    by_page = {4: "income statement", 5: "balance sheet", 6: "cash flow"}
    truth = {t["statement"]: t for t in statements()}
    checked = 0
    for number, kind in by_page.items():
        (table,) = tables_in(apple.pages[number - 1].text, number)
        t = truth[kind]
        assert table.unit_text == t["unit_text"] and table.scale == t["scale"]
        assert [c.year for c in table.columns] == [c["year"] for c in t["columns"]]
        assert [c.header for c in table.columns] == [c["header"] for c in t["columns"]]
        for cell in t["cells"]:
            row = table.find(cell["label"], cell["section"], cell["nth"]) or table.find(cell["label"], None, cell["nth"])
            assert row is not None, cell
            assert _norm(row.cells[cell["column"]]) == _norm(cell["value"]), cell
            if not cell["per_share"]:
                assert table.row_scale(row) == t["scale"], cell
            checked += 1
    assert checked == 210


def test_columns_carry_their_periods(apple: LoadedDocument) -> None:
    income, balance = tables_in(apple.pages[3].text)[0], tables_in(apple.pages[4].text)[0]
    assert [(c.period_end, c.months) for c in income.columns] == [
        ("2022-09-24", 12), ("2021-09-25", 12), ("2020-09-26", 12)]
    assert [(c.header, c.period_end) for c in balance.columns] == [
        ("September 24, 2022", "2022-09-24"), ("September 25, 2021", "2021-09-25")]


def test_tagged_figures_are_facts_at_their_place_in_the_text(apple: LoadedDocument) -> None:
    cash = apple.pages[5]
    capex = [f for f in cash.facts if f.concept == "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment"]
    # an outflow concept is positive though printed in parentheses; scale 6 makes millions dollars
    assert [(f.value, f.start, f.end, f.months, f.unit) for f in capex] == [
        (10_708e6, "2021-09-26", "2022-09-24", 12, "USD"), (11_085e6, "2020-09-27", "2021-09-25", 12, "USD"),
        (7_309e6, "2019-09-29", "2020-09-26", 12, "USD")]
    assert [cash.text[slice(*f.span)] for f in capex] == ["(10,708)", "(11,085)", "(7,309)"]
    income = apple.pages[3]
    other = [f for f in income.facts if f.concept == "aapl:OtherIncomeExpenseNet"]
    assert other[0].value == -334e6 and income.text[slice(*other[0].span)] == "(334)"  # sign="-"
    products = [f for f in income.facts if f.dims == ("srt:ProductOrServiceAxis=us-gaap:ProductMember",)]
    assert [f.value for f in products] == [316_199e6, 297_392e6, 220_747e6]
    eps = [f for f in income.facts if f.concept == "us-gaap:EarningsPerShareDiluted"]
    assert [(f.value, f.unit, f.decimals) for f in eps][0] == (6.11, "USD/shares", 2)
    shares = [f for f in income.facts if f.concept == "us-gaap:WeightedAverageNumberOfDilutedSharesOutstanding"]
    assert (shares[0].value, shares[0].unit) == (16_325_819e3, "shares")
    balance = apple.pages[4]
    assets = [f for f in balance.facts if f.concept == "us-gaap:Assets"]
    assert [(f.value, f.start, f.end, f.months) for f in assets] == [
        (352_755e6, "", "2022-09-24", 0), (351_002e6, "", "2021-09-25", 0)]
    assert len(income.facts) == 57 and len(balance.facts) == 54 and len(cash.facts) == 99
    prose = apple.pages[2]  # "total net sales were $394.3 billion": a fact in a sentence, scale 9
    (sales, _, _) = prose.facts
    assert (sales.value, prose.text[slice(*sales.span)]) == (394.3e9, "394.3")


def test_facts_go_with_their_chunks_into_the_index(tmp_path: Path, ingestor: Ingestor) -> None:
    path = tmp_path / "aapl-20220924.htm"
    path.write_text(apple_10k_html(), encoding="utf-8")
    report = ingestor.run([path])
    assert report.ok and len(report.added) == 1
    chunks = list(ingestor.store.all_chunks())
    tagged = [c for c in chunks if any(f.concept == "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment" for f in c.facts)]
    assert tagged and all(c.page == 6 for c in tagged)
    for c in chunks:  # every fact a chunk carries is shown in that chunk's text
        for f in c.facts:
            assert c.char_start <= f.span[0] < f.span[1] <= c.char_end
            assert f.shown in c.text
    assert sum(len(c.facts) for c in chunks) >= 210 + 3


def test_facts_round_trip_through_their_stored_form(apple: LoadedDocument) -> None:
    facts = apple.pages[3].facts
    assert facts_from_json(facts_to_json(facts)) == facts
    assert facts_from_json("not json") == () and facts_from_json('[["x"]]') == ()


PLAIN_EDGAR = """<html><body>
<p>CONSOLIDATED STATEMENTS OF INCOME</p><p>(In thousands, except per share data)</p>
<table>
<tr><td></td><td colspan="3">Fiscal Year Ended</td></tr>
<tr><td></td><td>June 30, 2023</td><td></td><td>June 30, 2022</td></tr>
<tr><td>Revenues</td><td>$&nbsp;1,250</td><td></td><td>$&nbsp;1,100</td></tr>
<tr><td>Cost of revenues</td><td>(400</td><td>)</td><td>(380</td><td>)</td></tr>
<tr><td>Net income</td><td>&#8212;</td><td></td><td>12</td></tr>
</table></body></html>"""


def test_an_html_table_without_xbrl_is_read_into_the_same_table(tmp_path: Path) -> None:
    doc = load_document(PLAIN_EDGAR.encode(), source="x.htm", file_name="x.htm")
    (table,) = tables_in(doc.pages[0].text)
    assert table.unit_text == "(In thousands, except per share data)" and table.scale == 1e3
    assert [(c.year, c.period_end) for c in table.columns] == [(2023, "2023-06-30"), (2022, "2022-06-30")]
    assert [(r.label, r.cells) for r in table.rows] == [
        ("Revenues", ("$1,250", "$1,100")), ("Cost of revenues", ("(400)", "(380)")), ("Net income", ("—", "12"))]
    assert doc.pages[0].facts == ()


def test_a_fact_with_no_context_is_left_out_and_the_rest_is_read() -> None:
    broken = apple_10k_html().replace('contextRef="FY2022" decimals="-8" name="us-gaap:StockRepurchasedDuringPeriodValue"',
                                      'contextRef="missing" decimals="-8" name="us-gaap:StockRepurchasedDuringPeriodValue"')
    doc = load_document(broken.encode(), source="b.htm", file_name="b.htm")
    assert [f.concept for f in doc.pages[2].facts] == [
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "us-gaap:PaymentsOfDividends"]
    assert "$90.2 billion" in doc.pages[2].text  # the figure's text stays


# -- a real EDGAR filing -----------------------------------------------------------------------------------------
# Synovus Financial Corp.'s Form 8-K of 2023-09-18 as filed on EDGAR (inline XBRL, Workiva), the public filing kept
# as a viewer test file in Arelle/EdgarRenderer (ixviewer-plus-src/cypress/e2e/factModal/syn-20230918.htm).
REAL_8K = Path(__file__).parent / "data" / "edgar" / "syn-20230918.htm"


def test_a_real_edgar_8k_reads_its_cover_facts_and_text() -> None:
    doc = load_document(REAL_8K.read_bytes(), source=str(REAL_8K), file_name=REAL_8K.name)
    m = doc.meta
    assert (m.title, m.company, m.tickers, m.form, m.doc_type, m.date, m.cik, m.fiscal_year) == (
        "Synovus Financial Corp. — Form 8-K", "Synovus Financial Corp.", ("SNV",), "8-K", "filing", "2023-09-18",
        "0000018349", None)
    assert doc.warnings == () and len(doc.pages) == 3
    text = "\n".join(p.text for p in doc.pages)
    assert "Common Stock, $1.00 Par Value | SNV | New York Stock Exchange" in text
    assert "(Exact Name of Registrant as Specified in its Charter)" in text
    assert "dei:" not in text and "0000018349" not in text.split("Synovus")[0]  # the hidden ix:header is no text


# AEON Biopharma's Form 10-Q for the quarter ended 2023-09-30 as filed on EDGAR (inline XBRL, 1,002 tagged
# amounts), kept as a test file in dgunning/edgartools (data/xbrl/datafiles/aeon/aeon-20230930x10q.htm).
REAL_10Q = Path(__file__).parent / "data" / "edgar" / "aeon-20230930x10q.htm"


@pytest.fixture(scope="module")
def aeon() -> LoadedDocument:
    return load_document(REAL_10Q.read_bytes(), source=str(REAL_10Q), file_name=REAL_10Q.name)


def test_a_real_edgar_10q_reads_its_cover_facts(aeon: LoadedDocument) -> None:
    m = aeon.meta
    assert (m.title, m.company, m.tickers, m.form, m.fiscal_year, m.period_end, m.period_type, m.cik, m.date) == (
        "AEON Biopharma, Inc. — Form 10-Q for the quarterly period ended September 30, 2023",
        "AEON Biopharma, Inc.", ("AEON",), "10-Q", 2023, "2023-09-30", "Q3", "0001837607", "2023-11-13")
    assert aeon.warnings == () and len(aeon.pages) == 66


def test_every_tagged_amount_of_a_real_10q_is_where_its_text_shows_it(aeon: LoadedDocument) -> None:
    # The XBRL facts are an independent reading of the same figures: each fact's span in the page text must
    # show the amount the fact tags (873 facts sit in table cells and prose; those inside a row's label are words).
    facts = [(p, f) for p in aeon.pages for f in p.facts]
    assert len(facts) == 873
    wrong = [(f.concept, f.shown, p.text[f.span[0]:f.span[1]]) for p, f in facts
             if f.shown.replace(",", "") not in p.text[f.span[0]:f.span[1]].replace(",", "")]
    assert wrong == []


def test_a_real_10q_balance_sheet_is_one_table_with_periods_and_unit(aeon: LoadedDocument) -> None:
    page = aeon.pages[4]
    (sheet,) = [t for t in tables_in(page.text, page.number) if t.find("Total assets") is not None]
    assert sheet.scale == 1e3 and sheet.unit_text.startswith("(In thousands")
    periods = [(c.year, c.period_end) for c in sheet.columns if c.header]
    assert periods == [(2023, "2023-09-30"), (2022, "2022-12-31")]
    assert [c for c in sheet.find("Total assets").cells if c] == ["$17,619", "$10,778"]  # type: ignore[union-attr]
    assert [c for c in sheet.find("Total current liabilities").cells if c] == ["14,177", "82,574"]  # type: ignore[union-attr]
    label = ("Current portion of convertible notes at fair value, including related party amount of $ 0 and $ 38,834 "
             "at September 30, 2023 and December 31, 2022, respectively")
    assert [c for c in sheet.find(label).cells if c] == ["—", "70,866"]  # type: ignore[union-attr]
