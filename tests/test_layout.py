"""PDF pages read by position (ingest.layout): unruled statement tables rebuilt as rows, their header and unit,
tables that run onto the next page, words that extraction splits, and the typed Table (rag.tabular)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.pdf import load_pdf_pages, repair_split_words
from rag.tabular import Column, Row, Table, column_period, parse_unit, tables_in
from rag.types import Page


def _statement_pdf(path: Path) -> Path:
    """Two pages of an unruled income statement laid out as real filings are: labels at the left margin (items
    indented), numbers right-aligned at fixed columns, a unit line and a spanning period header above; page 2
    goes on without a header."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    cols = (400, 470, 540)

    def row(y: float, label: str, cells: tuple[str, ...], indent: int = 0) -> None:
        c.drawString(50 + indent, y, label)
        for x, v in zip(cols, cells, strict=True):
            c.drawRightString(x, y, v)

    c.setFont("Helvetica-Bold", 10)
    c.drawCentredString(306, 740, "ACME CORPORATION")
    c.drawCentredString(306, 726, "CONSOLIDATED STATEMENTS OF OPERATIONS")
    c.setFont("Helvetica", 9)
    c.drawString(50, 700, "(In millions, except per share amounts)")
    c.drawCentredString(470, 700, "Years Ended December 31,")
    for x, year in zip(cols, ("2024", "2023", "2022"), strict=True):
        c.drawRightString(x, 688, year)
    row(672, "Revenues:", ("", "", ""))
    row(660, "Products", ("$ 1,250", "$ 1,100", "$ 980"), 12)
    row(648, "Services", ("310", "295", "—"), 12)
    row(636, "Total revenues", ("1,560", "1,395", "980"))
    row(620, "Purchases of property, plant and equipment, including", ("", "", ""))
    row(610, "capitalized software", ("(1,577)", "(1,201)", "(998)"), 8)
    row(594, "Restructuring (1)", ("42", "—", "7"))
    row(578, "Net income (loss)", ("$ (12)", "$ 88", "$ 101"))
    row(562, "Earnings (loss) per share — diluted", ("$ (0.04)", "$ 0.31", "$ 0.36"))
    c.drawString(50, 530, "(1) Restructuring charges relate to the 2024 plan.")
    c.showPage()
    c.setFont("Helvetica", 9)
    c.drawString(50, 740, "Other information")
    row(720, "Shares used — diluted", ("301", "288", "280"))
    row(708, "Dividends declared per share", ("$ 0.50", "$ 0.45", "$ 0.40"))
    c.drawString(50, 680, "See accompanying notes.")
    c.showPage()
    c.save()
    return path


def test_an_unruled_statement_reads_as_rows_under_its_header_and_unit(tmp_path: Path) -> None:
    pages, _, _ = load_pdf_pages(_statement_pdf(tmp_path / "acme.pdf").read_bytes())
    table = tables_in(pages[0].text)[0]
    assert (table.unit_text, table.currency, table.scale) == ("(In millions, except per share amounts)", "", 1e6)
    assert [(c.header, c.year, c.months) for c in table.columns] == [
        ("Years Ended December 31, 2024", 2024, 12), ("Years Ended December 31, 2023", 2023, 12),
        ("Years Ended December 31, 2022", 2022, 12)]
    assert [(r.label, r.cells, r.section) for r in table.rows] == [
        ("Revenues:", ("", "", ""), ""),
        ("Products", ("$1,250", "$1,100", "$980"), "Revenues"),
        ("Services", ("310", "295", "—"), "Revenues"),
        ("Total revenues", ("1,560", "1,395", "980"), "Revenues"),
        # a label wrapped onto a second line is one label, with its numbers
        ("Purchases of property, plant and equipment, including capitalized software", ("(1,577)", "(1,201)", "(998)"),
         "Revenues"),
        ("Restructuring", ("42", "—", "7"), "Revenues"),  # its footnote mark is not its name
        ("Net income (loss)", ("$(12)", "$88", "$101"), "Revenues"),
        ("Earnings (loss) per share — diluted", ("$(0.04)", "$0.31", "$0.36"), "Revenues"),
    ]
    eps = table.find("Earnings (loss) per share — diluted")
    assert eps is not None and table.row_scale(eps) == 1.0 and table.row_scale(table.rows[1]) == 1e6
    # the title and the footnote stay text around the table
    assert pages[0].text.startswith("ACME CORPORATION\nCONSOLIDATED STATEMENTS OF OPERATIONS\n")
    assert "(1) Restructuring charges relate to the 2024 plan." in pages[0].text


def test_a_table_that_goes_on_without_a_header_takes_the_header_it_continues(tmp_path: Path) -> None:
    pages, _, _ = load_pdf_pages(_statement_pdf(tmp_path / "acme.pdf").read_bytes())
    first, cont = tables_in(pages[0].text)[0], tables_in(pages[1].text)[0]
    assert cont.columns == first.columns and cont.unit_text == first.unit_text
    assert [(r.label, r.cells) for r in cont.rows] == [("Other information", ("", "", "")),
                                                       ("Shares used — diluted", ("301", "288", "280")),
                                                       ("Dividends declared per share", ("$0.50", "$0.45", "$0.40"))]


def _raw_pdf(content: bytes) -> bytes:
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
            b"/Contents 5 0 R >>", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offsets:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def test_words_split_by_a_kerning_gap_are_joined_again() -> None:
    # "for" -180 "ums": a gap of two thirds of a space inside the word, which text extraction reads as a space
    content = (b"BT /F1 10 Tf 72 700 Td [(The public for) -180 (ums are held in t) -180 (he hall.)] TJ ET "
               b"BT /F1 10 Tf 72 680 Td (The forums of the city and the forums of the state go on in to the night.) "
               b"Tj ET")
    pages, _, _ = load_pdf_pages(_raw_pdf(content))
    assert pages[0].text == ("The public forums are held in the hall.\n"
                             "The forums of the city and the forums of the state go on in to the night.")


@pytest.mark.parametrize(("text", "repaired"), [
    ("the t he the", "the the the"),  # "t" is no word
    ("pick up and pickup and pickup", "pick up and pickup and pickup"),  # both are words
    ("Alder Lake N and nand nand", "Alder Lake N and nand nand"),  # a capital letter is a name
    ("A p p e n d i x, appendix, appendix", "A p p e n d i x, appendix, appendix"),  # letter-spaced: left alone
    ("once a b once ab ab", "once a b once ab ab"),
])
def test_split_word_repair_joins_only_fragments(text: str, repaired: str) -> None:
    assert repair_split_words([Page(text, 1)])[0].text == repaired


def test_a_table_is_one_typed_object_that_its_text_gives_back() -> None:
    table = Table(columns=(Column("Three Months Ended June 30, 2023", 2023, "2023-06-30", 3),
                           Column("Six Months Ended June 30, 2023", 2023, "2023-06-30", 6)),
                  rows=(Row("Net revenues", ("$2,540", "$5,050")), Row("Operating expenses:", ("", "")),
                        Row("Sales and marketing", ("566", "1,077"), "Operating expenses")),
                  unit_text="(In millions, except per share amounts)", currency="", scale=1e6)
    text = table.to_text()
    assert text.split("\n")[0] == ("(In millions, except per share amounts) | Three Months Ended June 30, 2023 | "
                                   "Six Months Ended June 30, 2023")
    assert Table.from_text(text) == table
    assert tables_in(f"Some prose.\n{text}\nMore prose.") == [table]


@pytest.mark.parametrize(("line", "unit"), [
    ("(In millions, except per share amounts)", ("", 1e6, True)),
    ("(in thousands)", ("", 1e3, True)),
    ("(Dollars in millions)", ("USD", 1e6, True)),
    ("单位：人民币百万元", ("CNY", 1e6, True)),
    ("单位：元  币种：人民币", ("CNY", 1.0, True)),
    ("单位：万元", ("CNY", 1e4, True)),
    ("人民币千元", ("CNY", 1e3, True)),
    ("HK$'000", ("HKD", 1e3, True)),
    ("Net revenues", ("", 1.0, False)),
])
def test_the_unit_line_gives_the_scale_and_currency(line: str, unit: tuple[str, float, bool]) -> None:
    assert parse_unit(line) == unit


@pytest.mark.parametrize(("header", "period"), [
    ("Years ended September 24, 2022", (2022, "2022-09-24", 12)),
    ("Three Months Ended Dec 31, 2022", (2022, "2022-12-31", 3)),
    ("Six Months Ended June 30, 2023", (2023, "2023-06-30", 6)),
    ("Fiscal 2023", (2023, "", 12)),
    ("FY24", (2024, "", 0)),
    ("2025年", (2025, "", 0)),
    ("截至6月30日止六个月 2025年", (2025, "", 6)),
    ("2025年6月30日", (2025, "2025-06-30", 0)),
    ("本期", (None, "", 0)),
])
def test_a_column_header_names_its_period(header: str, period: tuple[int | None, str, int]) -> None:
    assert column_period(header) == period
