"""Statement tables of real filings read as tables: line item x period cells checked against the PDFs by hand.

``data/filing_cells.yaml`` (1,304 cells: the income statement, balance sheet and cash flow statement of Apple,
Oracle and McDonald's 10-Ks, the eBay 10-Q, the Intel and Salesforce earnings releases) and
``data/filing_cells_heldout.yaml`` (253 cells of FedEx's statements, which the reader was not tuned on) were
written from page images rendered with pypdfium2 and looked at cell by cell; their headers say how. A cell is read
right when the row with its label (under its section) holds its value in its column, the column names its year
and the table's unit gives its scale.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FILINGS
from zh_filings import build_all

from ingest.pdf import load_pdf_pages
from rag.tabular import Table, tables_in

DATA = Path(__file__).parent / "data"
needs_filings = pytest.mark.skipif(not (FILINGS / "APPLE_2022_10K.pdf").is_file(),
                                   reason=f"the shared filings are not in {FILINGS} (a clone without ../shared)")


@cache
def page_tables(name: str) -> dict[int, list[Table]]:
    pages, _, _ = load_pdf_pages((FILINGS / name).read_bytes())
    return {p.number or 0: tables_in(p.text, p.number) for p in pages}


def _norm(value: str) -> str:
    return re.sub(r"\s+", "", value).replace("$(", "($")


def score(truth: list[dict[str, Any]]) -> tuple[int, Counter[str], list[tuple[Any, ...]]]:
    """(cells read right, failures by kind, the failures)."""
    right, kinds, failures = 0, Counter[str](), []
    for table_truth in truth:
        tables = page_tables(table_truth["file"]).get(table_truth["page"], [])
        for cell in table_truth["cells"]:
            where = (table_truth["file"], table_truth["page"], cell["label"], cell["column"])
            found = next(((t, r) for t in tables if (r := t.find(cell["label"], cell["section"], cell["nth"]))), None)
            found = found or next(((t, r) for t in tables if (r := t.find(cell["label"], None, cell["nth"]))), None)
            if found is None:
                kinds["row not found"] += 1
                failures.append(("row not found", *where))
                continue
            table, row = found
            j = cell["column"]
            got = row.cells[j] if j < len(row.cells) else ""
            if _norm(got) != _norm(cell["value"]):
                kinds["wrong value"] += 1
                failures.append(("wrong value", *where, cell["value"], got))
            elif table.columns[j].year != table_truth["columns"][j]["year"]:
                kinds["wrong period"] += 1
                failures.append(("wrong period", *where, table.columns[j].header))
            elif not cell["per_share"] and table.row_scale(row) != table_truth["scale"]:
                kinds["wrong scale"] += 1
                failures.append(("wrong scale", *where, table.unit_text))
            else:
                right += 1
    return right, kinds, failures


@needs_filings
@pytest.mark.parametrize(("file_name", "cells", "least"), [("filing_cells.yaml", 1304, 1302),
                                                             ("filing_cells_heldout.yaml", 253, 250)])
def test_statement_cells_are_read_with_their_value_period_and_unit(file_name: str, cells: int, least: int) -> None:
    truth = yaml.safe_load((DATA / file_name).read_text(encoding="utf-8"))
    assert sum(len(t["cells"]) for t in truth) == cells
    right, kinds, failures = score(truth)
    assert right / cells >= 0.98, failures[:20]
    # what is missed is a row not found (a label the reader splits or joins otherwise), never a wrong number
    assert set(kinds) <= {"row not found"}, failures[:20]
    assert right >= least, failures


@needs_filings
def test_a_statement_reads_as_rows_of_label_and_periods() -> None:
    apple = page_tables("APPLE_2022_10K.pdf")[36][0]  # the cash flow statement
    assert apple.unit_text == "(In millions)" and (apple.scale, apple.currency) == (1e6, "")
    assert [(c.header, c.year, c.period_end, c.months) for c in apple.columns] == [
        ("Years ended September 24, 2022", 2022, "2022-09-24", 12),
        ("Years ended September 25, 2021", 2021, "2021-09-25", 12),
        ("Years ended September 26, 2020", 2020, "2020-09-26", 12)]
    capex = apple.find("Payments for acquisition of property, plant and equipment", "Investing activities")
    assert capex is not None and capex.cells == ("(10,708)", "(11,085)", "(7,309)")
    ebay = page_tables("EBAY_2023Q2_10Q.pdf")[5][0]
    assert [(c.header, c.months) for c in ebay.columns] == [
        ("Three Months Ended June 30, 2023", 3), ("Three Months Ended June 30, 2022", 3),
        ("Six Months Ended June 30, 2023", 6), ("Six Months Ended June 30, 2022", 6)]
    eps = ebay.find("Continuing operations", "Income (loss) per share - basic")
    assert eps is not None and eps.cells == ("$0.32", "$(0.96)", "$1.38", "$(3.28)") and ebay.row_scale(eps) == 1.0
    oracle = page_tables("ORACLE_2023_10K.pdf")[67][0]
    hardware = oracle.find("Hardware", "Operating expenses")  # "Hardware (1)" with its footnote mark raised
    assert hardware is not None and hardware.cells == ("1,040", "972", "972")


@needs_filings
def test_a_statement_that_runs_onto_the_next_page_keeps_its_header() -> None:
    first, cont = page_tables("EBAY_2023Q2_10Q.pdf")[8][-1], page_tables("EBAY_2023Q2_10Q.pdf")[9][0]
    assert [c.header for c in cont.columns] == [c.header for c in first.columns]
    assert cont.unit_text == first.unit_text


def test_chinese_statements_are_read_row_by_row(tmp_path: Path) -> None:
    for path, filing in build_all(tmp_path):
        pages, _, _ = load_pdf_pages(path.read_bytes())
        by_page = {p.number: tables_in(p.text, p.number) for p in pages}
        for want in filing.tables:
            got = next(t for t in by_page[want.page] if t.find(want.rows[0][0]) is not None)
            assert (got.currency, got.scale) == (want.currency, want.scale), (path.name, want.title, got.unit_text)
            assert [c.header.endswith(h) for c, h in zip(got.columns, want.columns, strict=True)] == \
                [True] * len(want.columns), (path.name, want.title, [c.header for c in got.columns])
            rows = [(r.label, r.cells) for r in got.rows]
            assert rows == [(label, tuple(cells)) for label, cells in want.rows], (path.name, want.title)
