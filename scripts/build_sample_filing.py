"""Build corpus/lanting-biopharma-2025-annual-results.pdf, an illustrative fictional filing, deterministically."""

from __future__ import annotations

import argparse
import hashlib
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "corpus" / "lanting-biopharma-2025-annual-results.pdf"

EXPECTED_PAGES = 3
CJK_FONT = "STSong-Light"
MARGIN = 20 * mm

TITLE = (
    "Lanting Biopharma Holdings Ltd (fictional) — Annual Results Announcement "
    "for the year ended 31 December 2025"
)
DISCLAIMER = (
    "ILLUSTRATIVE SAMPLE — Lanting Biopharma Holdings Ltd is a fictional company; "
    "all company figures are invented for testing sectorchat."
)
FOOTER = "Illustrative sample — fictional company — page {page} of {total}"
# Page 3 restates two industry totals from the seed article; the footer says where they come from.
PAGE_3_FOOTER_NOTE = (
    "Company figures are fictional; the 2024 industry totals restate the Sina Finance article "
    "of 13 January 2026."
)

HIGHLIGHTS = [
    "Revenue for 2025 was RMB 2,356.8 million, an increase of 38.2% from RMB 1,705.4 million in 2024.",
    "Loss attributable to owners narrowed to RMB 412.6 million from RMB 688.9 million.",
    "R&amp;D expenses were RMB 1,120.3 million, up 10.3% from RMB 1,015.8 million.",
    "Cash and bank balances were RMB 5,870.1 million as at 31 December 2025.",
]

BUSINESS_REVIEW = [
    "LT-101, a PD-1/VEGF bispecific antibody, was out-licensed in September 2025 for an upfront "
    "payment of US$200 million and up to US$1.15 billion in milestones. The upfront payment was "
    "recognised as licence and collaboration revenue of RMB 1,428.6 million in 2025.",
    "Product sales were RMB 928.2 million, of which LT-203, an oral KRAS G12D inhibitor approved by "
    "the NMPA in June 2025, contributed RMB 318.5 million in its first six months on the market. "
    "At year end the Group had 14 clinical-stage programmes, 5 of them in Phase III.",
]

MDA_HEADING = "管理层讨论与分析"
MDA_PARAGRAPHS = [
    "2025年公司实现营业收入23.57亿元，同比增长38.2%。其中，授权及合作收入14.29亿元，"
    "产品销售收入9.28亿元。",
    "研发投入11.20亿元，占营业收入的47.5%。归属于母公司股东的亏损收窄至4.13亿元，"
    "上年同期为6.89亿元。截至2025年12月31日，现金及银行结余为58.70亿元。",
]
# Placed line by line so that "519" ends one line and its unit "亿美元" starts the next:
# ingestion has to re-join a number and its unit across a line wrap.
MDA_WRAPPED_LINES = [
    "中国创新药出海持续提速。据行业统计，2024年中国创新药对外授权交易总额达519",
    "亿美元，其中首付款合计41亿美元。公司将继续推进LT-101的全球临床开发。",
]


@dataclass(frozen=True)
class LineItem:
    """One row of the profit or loss statement; amounts are signed (costs negative)."""

    label: str
    fy2025: Decimal
    fy2024: Decimal
    comparable: bool = True  # False where the sign flips and a % change means nothing


def statement_rows() -> list[LineItem]:
    """Return the statement rows with every subtotal computed, so the table is internally consistent.

    Raises:
        ValueError: If a computed subtotal drifts from a figure quoted in the announcement text.
    """
    revenue = LineItem("Revenue", Decimal("2356.8"), Decimal("1705.4"))
    cost_of_sales = LineItem("Cost of sales", Decimal("-412.5"), Decimal("-330.1"))
    gross = LineItem(
        "Gross profit",
        revenue.fy2025 + cost_of_sales.fy2025,
        revenue.fy2024 + cost_of_sales.fy2024,
    )
    operating = [
        LineItem("Other income and gains", Decimal("168.4"), Decimal("142.7")),
        LineItem("Research and development expenses", Decimal("-1120.3"), Decimal("-1015.8")),
        LineItem("Selling and distribution expenses", Decimal("-986.5"), Decimal("-842.6")),
        LineItem("Administrative expenses", Decimal("-296.4"), Decimal("-271.9")),
        LineItem("Other expenses", Decimal("-76.6"), Decimal("-52.3")),
        LineItem("Finance costs", Decimal("-38.7"), Decimal("-41.2")),
    ]
    before_tax = LineItem(
        "Loss before tax",
        gross.fy2025 + sum(i.fy2025 for i in operating),
        gross.fy2024 + sum(i.fy2024 for i in operating),
    )
    tax = LineItem("Income tax (expense)/credit", Decimal("-6.8"), Decimal("16.9"), comparable=False)
    loss = LineItem(
        "Loss for the year",
        before_tax.fy2025 + tax.fy2025,
        before_tax.fy2024 + tax.fy2024,
    )
    # No non-controlling interests: the whole loss is attributable to owners.
    owners = LineItem("Loss attributable to owners of the Company", loss.fy2025, loss.fy2024)
    weighted_shares_m = (Decimal("1332.4"), Decimal("1324.8"))
    eps = LineItem(
        "Basic loss per share (RMB)",
        (loss.fy2025 / weighted_shares_m[0]).quantize(Decimal("0.01"), ROUND_HALF_UP),
        (loss.fy2024 / weighted_shares_m[1]).quantize(Decimal("0.01"), ROUND_HALF_UP),
    )

    quoted = {
        "gross profit 2025": (gross.fy2025, Decimal("1944.3")),
        "loss before tax 2025": (before_tax.fy2025, Decimal("-405.8")),
        "loss for the year 2025": (loss.fy2025, Decimal("-412.6")),
        "loss for the year 2024": (loss.fy2024, Decimal("-688.9")),
        "basic loss per share 2025": (eps.fy2025, Decimal("-0.31")),
        "basic loss per share 2024": (eps.fy2024, Decimal("-0.52")),
    }
    for name, (computed, expected) in quoted.items():
        if computed != expected:
            raise ValueError(f"{name} computes to {computed}, but the text quotes {expected}.")

    return [revenue, cost_of_sales, gross, *operating, before_tax, tax, loss, owners, eps]


def _filing_number(value: Decimal, places: int = 1) -> str:
    """Format as a filing does: thousands separators, negatives in parentheses."""
    text = f"{abs(value):,.{places}f}"
    return f"({text})" if value < 0 else text


def _change_percent(item: LineItem) -> str:
    """Percentage change in the size of the amount, e.g. a loss that shrinks shows as a fall."""
    if not item.comparable or item.fy2024 == 0:
        return "n/m"
    change = (abs(item.fy2025) - abs(item.fy2024)) / abs(item.fy2024) * 100
    return _filing_number(change.quantize(Decimal("0.1"), ROUND_HALF_UP))


def statement_table_data() -> list[list[str]]:
    """Return the header row and one row of strings per line item."""
    header = ["Item", "2025 (RMB million)", "2024 (RMB million)", "Change (%)"]
    rows = [header]
    for item in statement_rows():
        places = 2 if "per share" in item.label else 1
        rows.append(
            [
                item.label,
                _filing_number(item.fy2025, places),
                _filing_number(item.fy2024, places),
                _change_percent(item),
            ]
        )
    return rows


class PlacedLines(Flowable):
    """Draws the given lines exactly as given, one drawString per line, so the line breaks are ours."""

    def __init__(self, lines: list[str], *, font: str, size: float, leading: float) -> None:
        super().__init__()
        self.lines = lines
        self.font = font
        self.size = size
        self.leading = leading

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        widest = max(pdfmetrics.stringWidth(line, self.font, self.size) for line in self.lines)
        if widest > avail_width:
            raise ValueError(
                f"A placed line is {widest:.1f}pt wide but the frame is {avail_width:.1f}pt; shorten it."
            )
        self.width = avail_width
        self.height = self.leading * len(self.lines)
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setFont(self.font, self.size)
        # Same baseline offset as a Paragraph with this leading, so the block lines up with its neighbours.
        for number, line in enumerate(self.lines, start=1):
            self.canv.drawString(0, self.height - number * self.leading + (self.leading - self.size), line)


def _draw_footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
    page_width, _ = A4
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.drawCentredString(page_width / 2, 12 * mm, FOOTER.format(page=doc.page, total=EXPECTED_PAGES))
    if doc.page == EXPECTED_PAGES:
        canvas.drawCentredString(page_width / 2, 8 * mm, PAGE_3_FOOTER_NOTE)
    canvas.restoreState()


class FilingTemplate(BaseDocTemplate):
    """One-frame A4 pages with the footer; records where the statement table was drawn."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        # Footer drawn at page end, so text extractors read it after the body, as in a real filing.
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=_draw_footer)])
        self.table_parts: list[tuple[int, int]] = []

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab's hook name)
        if isinstance(flowable, Table):
            self.table_parts.append((self.page, len(flowable._cellvalues)))


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=14, spaceAfter=6)
    return {
        "disclaimer": ParagraphStyle(
            "disclaimer",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=9,
            alignment=TA_CENTER,
            borderWidth=1,
            borderColor=colors.black,
            borderPadding=6,
            spaceAfter=18,
        ),
        "title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=15, leading=19),
        "meta": ParagraphStyle("meta", parent=body, spaceAfter=2),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName="Helvetica-Bold", fontSize=12, leading=16, spaceBefore=10
        ),
        "body": body,
        "zh_heading": ParagraphStyle(
            "zh_heading", parent=body, fontName=CJK_FONT, fontSize=14, leading=20, spaceAfter=8
        ),
        "zh_body": ParagraphStyle(
            "zh_body", parent=body, fontName=CJK_FONT, fontSize=11, leading=18, wordWrap="CJK"
        ),
    }


def _statement_table() -> Table:
    table = Table(
        statement_table_data(),
        colWidths=[70 * mm, 35 * mm, 35 * mm, 25 * mm],
        repeatRows=0,  # a real filing's continuation has no header; ingestion must carry it over
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def story() -> list[Flowable]:
    """Return the flowables of all three pages in order."""
    s = _styles()
    return [
        Paragraph(DISCLAIMER, s["disclaimer"]),
        Paragraph(TITLE, s["title"]),
        Spacer(1, 6),
        Paragraph("Stock code: HKEX: 9999 (fictional)", s["meta"]),
        Paragraph("Published 2026-03-20", s["meta"]),
        Paragraph("Financial Highlights", s["heading"]),
        *(Paragraph(sentence, s["body"]) for sentence in HIGHLIGHTS),
        # Pushes the statement down so that about half of its rows spill onto page 2.
        Spacer(1, 270),
        Paragraph("Consolidated Statement of Profit or Loss", s["heading"]),
        _statement_table(),
        Paragraph("Business Review", s["heading"]),
        *(Paragraph(text, s["body"]) for text in BUSINESS_REVIEW),
        PageBreak(),
        Paragraph(MDA_HEADING, s["zh_heading"]),
        *(Paragraph(text, s["zh_body"]) for text in MDA_PARAGRAPHS),
        PlacedLines(MDA_WRAPPED_LINES, font=CJK_FONT, size=11, leading=18),
    ]


def build(output: Path) -> str:
    """Write the PDF and return its sha256.

    Raises:
        RuntimeError: If the layout no longer gives three pages with the table split across pages 1 and 2.
    """
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    output.parent.mkdir(parents=True, exist_ok=True)
    doc = FilingTemplate(
        str(output),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,
        title=TITLE,
        author="sectorchat (illustrative sample)",
        subject="Illustrative sample filing of a fictional company",
        invariant=1,  # fixed dates and document id, so every run writes the same bytes
    )
    doc.build(story())

    pages = {page: rows for page, rows in doc.table_parts}
    if doc.page != EXPECTED_PAGES or sorted(pages) != [1, 2]:
        raise RuntimeError(
            f"Layout drifted: {doc.page} pages, table parts {doc.table_parts}; "
            f"expected {EXPECTED_PAGES} pages and the table split across pages 1 and 2."
        )
    logger.info("Statement table rows per page (page 1 includes the header): %s", pages)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    logger.info("Wrote %s (%d pages, sha256 %s)", output, doc.page, digest)
    return digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the PDF")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    digest = build(args.output)
    print(f"{args.output} sha256={digest}")


if __name__ == "__main__":
    main()
