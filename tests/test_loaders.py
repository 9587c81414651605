"""Loaders on real files made in tmp_path: encodings, front matter, HTML, DOCX, PDF, and PDF text repair."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from conftest import write_image_only_pdf, write_pdf

from ingest.encoding import decode_text
from ingest.loaders import load_document
from ingest.pdf import clean_page_text, drop_running_lines
from rag.errors import IngestError
from rag.types import LoadedDocument

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = ROOT.parent / "shared" / "seed" / "innovative-drug-sector-2026-01.txt"
ZH = "恒瑞医药2025年营业收入为315.6亿元。"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def load(path: Path) -> LoadedDocument:
    return load_document(path.read_bytes(), source=str(path), file_name=path.name)


def load_error(path: Path) -> str:
    with pytest.raises(IngestError) as info:
        load(path)
    return str(info.value)


def text_of(doc: LoadedDocument) -> str:
    assert [p.number for p in doc.pages] == [None]
    return doc.pages[0].text


# -- encodings -----------------------------------------------------------------------------------------------
def test_utf8_text(tmp_path: Path) -> None:
    assert text_of(load(write(tmp_path, "a.txt", f"{ZH}\nSecond line.\n"))) == f"{ZH}\nSecond line."


def test_utf8_bom_is_not_in_the_text(tmp_path: Path) -> None:
    text = text_of(load(write(tmp_path, "a.txt", b"\xef\xbb\xbf" + ZH.encode("utf-8"))))
    assert text == ZH
    assert "\ufeff" not in text


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_chinese_legacy_encodings_decode_to_the_same_characters(tmp_path: Path, encoding: str) -> None:
    data = ZH.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the GB fallback is what is tested
    doc = load(write(tmp_path, "a.txt", data))
    assert text_of(doc) == ZH
    assert doc.meta.language == "zh"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    data = ("\ufeff" if encoding == "utf-16-be" else "") + f"{ZH}\nRevenue line."
    assert text_of(load(write(tmp_path, "a.txt", data.encode(encoding)))) == f"{ZH}\nRevenue line."


def test_crlf_and_cr_newlines_are_normalised(tmp_path: Path) -> None:
    assert text_of(load(write(tmp_path, "a.txt", b"line one\r\nline two\rline three\r\n"))) == (
        "line one\nline two\nline three"
    )


def test_undecodable_bytes(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "a.txt", b"Revenue \x81\x20\xff rose"))
    assert message.startswith("undecodable text: neither UTF-8 (bad byte at offset 8)")


def test_binary_junk_named_txt(tmp_path: Path) -> None:
    rng = random.Random(0)
    junk = b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2048))
    assert "binary content" in load_error(write(tmp_path, "image.txt", junk))


def test_control_characters_without_nul_are_binary() -> None:
    with pytest.raises(IngestError, match=r"binary content \(10 control characters in the first 20\)"):
        decode_text(b"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0eabcdefghij")


# -- empty and unsupported files -----------------------------------------------------------------------------
def test_zero_byte_file(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "a.txt", b"")) == "empty file (0 bytes)"


def test_whitespace_only_file(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "a.md", b" \n\t\r\n  \n")) == "empty file (only white space)"


def test_unsupported_extension(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "report.xlsx", b"PK\x03\x04 not really a workbook"))
    assert message.startswith("unsupported file type '.xlsx'; supported: .docx, .htm, .html,")


# -- Markdown front matter and inferred metadata -------------------------------------------------------------
FULL_FRONT_MATTER = """---
title: "Hengrui: H1 results beat expectations"
date: 2025-08-19
source: Sina Finance
url: https://finance.example.com/hengrui-h1
doc_type: news
company: Jiangsu Hengrui Pharmaceuticals Co., Ltd.
tickers: {tickers}
language: zh
---
恒瑞医药上半年收入增长。
"""


@pytest.mark.parametrize("tickers", ["[600276.SH, 1276.HK]", "600276.SH, 1276.HK"])
def test_front_matter_fields_fill_the_metadata(tmp_path: Path, tickers: str) -> None:
    doc = load(write(tmp_path, "h1.md", FULL_FRONT_MATTER.format(tickers=tickers)))
    meta = doc.meta
    assert meta.title == "Hengrui: H1 results beat expectations"
    assert meta.date == "2025-08-19"
    assert meta.publisher == "Sina Finance"
    assert meta.url == "https://finance.example.com/hengrui-h1"
    assert meta.doc_type == "news"
    assert meta.company == "Jiangsu Hengrui Pharmaceuticals Co., Ltd."
    assert meta.tickers == ("600276.SH", "1276.HK")
    assert meta.language == "zh"
    assert text_of(doc) == "恒瑞医药上半年收入增长。"
    assert doc.warnings == ()


def test_broken_front_matter_keeps_the_body(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "a.md", "---\ntitle: [unclosed\ndate: 2026-01-01\n---\nBody text survives.\n"))
    assert text_of(doc) == "Body text survives."
    assert "unclosed" not in text_of(doc)
    assert len(doc.warnings) == 1
    assert doc.warnings[0].startswith("broken front matter (line 3): ")


def test_front_matter_without_closing_line_warns(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "a.md", "---\ntitle: never closed\nBody text here.\n"))
    assert doc.warnings == ("front matter has no closing '---' line; ingested the whole file as text",)
    assert text_of(doc) == "---\ntitle: never closed\nBody text here."


def test_invalid_doc_type_warns_and_is_inferred(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "a.md", "---\ntitle: Hengrui annual results announcement\ndoc_type: blog\n---\nBody.\n"))
    assert doc.warnings == ("doc_type 'blog' is not one of news, filing, other; inferred it instead",)
    assert doc.meta.doc_type == "filing"


def test_title_from_first_heading_without_front_matter(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "a.md", "Preamble line.\n\n# Innovative drugs rally\n\nBody text.\n"))
    assert doc.meta.title == "Innovative drugs rally"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("创新药板块持续走强，多家公司发布业绩预告。对外授权交易金额创新高。", "zh"),
        ("The innovative drug sector rallied as out-licensing deals hit a record.", "en"),
    ],
)
def test_language_is_inferred(tmp_path: Path, text: str, language: str) -> None:
    assert load(write(tmp_path, "a.txt", text)).meta.language == language


@pytest.mark.parametrize(
    ("name", "date"), [("hengrui-2025-08-19-news.md", "2025-08-19"), ("report_20240331.txt", "2024-03-31")]
)
def test_date_from_file_name(tmp_path: Path, name: str, date: str) -> None:
    assert load(write(tmp_path, name, "Some text without a date.\n")).meta.date == date


def test_bundled_markdown_article() -> None:
    doc = load(CORPUS / "innovative-drug-sector-2026-01.md")
    assert doc.meta.title == "China innovative drug sector: catalysts converge as out-licensing enters a harvest phase"
    meta = doc.meta
    assert (meta.date, meta.publisher, meta.doc_type, meta.language) == ("2026-01-13", "Sina Finance", "news", "en")
    assert doc.warnings == ()
    if not SEED.exists():
        pytest.skip(f"seed article {SEED} is absent; cannot compare the body with it")
    assert text_of(doc).rstrip("\n") == SEED.read_text(encoding="utf-8").rstrip("\n")


# -- HTML ----------------------------------------------------------------------------------------------------
ARTICLE_HTML = """<!DOCTYPE html><html><head><title>Hengrui results | Example News</title>
<meta property="article:published_time" content="2026-02-03T08:00:00Z">
<style>.menu { color: red }</style><script>var tracking = 1;</script></head>
<body><header>Example News masthead</header>
<nav><ul><li>Home</li><li>Markets menu</li></ul></nav>
<article><h1>Hengrui posts record revenue</h1>
<p>Revenue rose 22% to RMB 27.9 billion.</p><script>var adSlot = 2;</script>
<h2>Pipeline</h2><p>Eleven new drugs were approved.</p><nav>Related: More stories menu</nav>
<table><tr><th>Item</th><th>2025</th></tr><tr><td>Revenue</td><td>27.9</td></tr></table></article>
<footer>Copyright footer 2026</footer></body></html>"""


def test_html_article_text_and_meta(tmp_path: Path) -> None:
    doc = load(write(tmp_path, "hengrui.html", ARTICLE_HTML))
    text = text_of(doc)
    assert text == (
        "# Hengrui posts record revenue\n\nRevenue rose 22% to RMB 27.9 billion.\n\n## Pipeline\n\n"
        "Eleven new drugs were approved.\n\nItem | 2025\nRevenue | 27.9"
    )
    for chrome in ("masthead", "Markets menu", "tracking", "adSlot", "color: red", "Related", "Copyright"):
        assert chrome not in text
    assert doc.meta.title == "Hengrui results | Example News"
    assert doc.meta.date == "2026-02-03"


def test_html_name_with_plain_text_content(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "a.html", "Just plain text\nwith no tags.\n")) == (
        "not HTML: no HTML elements found"
    )


def test_gbk_html_page(tmp_path: Path) -> None:
    page = f'<html><head><meta charset="gbk"><title>恒瑞医药</title></head><body><p>{ZH}</p></body></html>'
    doc = load(write(tmp_path, "a.htm", page.encode("gbk")))
    assert text_of(doc) == ZH
    assert (doc.meta.title, doc.meta.language) == ("恒瑞医药", "zh")


def test_html_source_line_break_inside_paragraph_is_a_space(tmp_path: Path) -> None:
    doc = load(
        write(tmp_path, "a.html", "<html><body><p>Revenue was RMB\n   2,356.8 million in 2025.</p></body></html>")
    )
    assert text_of(doc) == "Revenue was RMB 2,356.8 million in 2025."


def test_html_article_header_keeps_the_headline(tmp_path: Path) -> None:
    page = "<html><body><article><header><h1>Real headline</h1></header><p>Body para.</p></article></body></html>"
    assert text_of(load(write(tmp_path, "a.html", page))) == "# Real headline\n\nBody para."


# -- DOCX ----------------------------------------------------------------------------------------------------
def test_docx_headings_paragraphs_and_table_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Pipeline update", level=1)
    document.add_paragraph("LT-101 entered Phase III in 2025.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "a", (0, 1): "b", (1, 0): "Revenue", (1, 1): "2,356.8"}.items():
        table.cell(r, c).text = value
    document.add_paragraph("Closing paragraph after the table.")
    buf = io.BytesIO()
    document.save(buf)
    doc = load(write(tmp_path, "update.docx", buf.getvalue()))
    assert text_of(doc) == (
        "# Pipeline update\n\nLT-101 entered Phase III in 2025.\n\na | b\nRevenue | 2,356.8\n\n"
        "Closing paragraph after the table."
    )
    assert doc.meta.title == "Pipeline update"


def test_junk_named_docx(tmp_path: Path) -> None:
    junk = bytes(random.Random(0).randrange(256) for _ in range(2048))
    assert load_error(write(tmp_path, "a.docx", junk)) == "not a valid Word .docx file (File is not a zip file)"


# -- PDF -----------------------------------------------------------------------------------------------------
def test_two_page_pdf(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "two.pdf",
        [["Revenue rose to RMB 120 million.", "Alpha section body"], ["Beta section body", "Net loss narrowed."]],
    )
    doc = load(path)
    assert [(p.number, p.text) for p in doc.pages] == [
        (1, "Revenue rose to RMB 120 million.\nAlpha section body"),
        (2, "Beta section body\nNet loss narrowed."),
    ]


def test_chinese_pdf_characters_come_back_exactly(tmp_path: Path) -> None:
    doc = load(write_pdf(tmp_path / "zh.pdf", [[ZH, "研发投入占比"]], font="STSong-Light"))
    assert [(p.number, p.text) for p in doc.pages] == [(1, f"{ZH}\n研发投入占比")]
    assert "(cid:" not in doc.pages[0].text and "\ufffd" not in doc.pages[0].text
    assert doc.meta.language == "zh"


@pytest.fixture(scope="module")
def lanting() -> LoadedDocument:
    return load(CORPUS / "lanting-biopharma-2025-annual-results.pdf")


def test_corpus_pdf_pages_table_and_wrap(lanting: LoadedDocument) -> None:
    pages = {p.number: p.text for p in lanting.pages}
    assert sorted(pages) == [1, 2, 3]
    assert (
        "\nItem | 2025 (RMB million) | 2024 (RMB million) | Change (%)\nRevenue | 2,356.8 | 1,705.4 | 38.2\n"
        in pages[1]
    )
    # the table runs on to page 2 without its header: the rows there are read under page 1's header
    assert pages[2].startswith("Item | 2025 (RMB million) | 2024 (RMB million) | Change (%)\n"
                               "Other expenses | (76.6) | (52.3) | 46.5\nFinance costs | (38.7) | (41.2) | (6.1)\n")
    assert "2024年中国创新药对外授权交易总额达519亿美元，其中首付款合计41亿美元。" in pages[3]
    for number, text in pages.items():
        assert "Illustrative sample — fictional company — page" not in text, number


def test_corpus_pdf_meta(lanting: LoadedDocument) -> None:
    meta = lanting.meta
    assert (meta.doc_type, meta.company, meta.date) == ("filing", "Lanting Biopharma Holdings Ltd", "2026-03-20")
    assert lanting.warnings == ()


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "full.pdf", [["Page one text."], ["Page two text."]]).read_bytes()
    message = load_error(write(tmp_path, "cut.pdf", data[: int(len(data) * 0.4)]))
    assert message.startswith("corrupt PDF: ")


def test_junk_named_pdf(tmp_path: Path) -> None:
    junk = bytes(random.Random(0).randrange(256) for _ in range(2048))
    assert load_error(write(tmp_path, "a.pdf", junk)) == "not a PDF: the file has no %PDF- header"


def test_password_protected_pdf(tmp_path: Path) -> None:
    message = load_error(write_pdf(tmp_path / "locked.pdf", [["Secret figures."]], encrypt="secret"))
    assert message == "encrypted PDF: it needs a password; save a decrypted copy and ingest that"


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    doc = load(write_pdf(tmp_path / "restricted.pdf", [["Open figures: RMB 5 million."]], encrypt=""))
    assert [(p.number, p.text) for p in doc.pages] == [(1, "Open figures: RMB 5 million.")]


def test_image_only_pdf_needs_ocr(tmp_path: Path) -> None:
    message = load_error(write_image_only_pdf(tmp_path / "scan.pdf"))
    assert message == "PDF has no text layer on any of its 1 page(s) (a scanned image?); run OCR on it first"


def test_two_page_pdf_keeps_body_lines_that_differ_only_in_digits(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "two.pdf",
        [
            ["Summary", "Revenue in 2025 was RMB 120 million.", "Footer text"],
            ["Outlook", "Revenue in 2024 was RMB 95 million.", "Other"],
        ],
    )
    assert [p.text for p in load(path).pages] == [
        "Summary\nRevenue in 2025 was RMB 120 million.\nFooter text",
        "Outlook\nRevenue in 2024 was RMB 95 million.\nOther",
    ]


def test_pdf_placeholder_title_is_ignored(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "results.pdf", [["Hengrui 2025 Annual Results", "Revenue rose."]])
    assert load(path).meta.title == "Hengrui 2025 Annual Results"


# -- PDF text repair -----------------------------------------------------------------------------------------
def test_ligature_characters_are_spelled_out() -> None:
    assert clean_page_text("\ufb00 \ufb01 \ufb02 \ufb03 \ufb04 \ufb05 \ufb06") == "ff fi fl ffi ffl st st"
    assert clean_page_text("For the \ufb01scal year, e\ufb00ective o\ufb03ce") == "For the fiscal year, effective office"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_a_pdf_text_layer_with_ligatures_reads_as_plain_letters(tmp_path: Path) -> None:
    """A font with ligature glyphs gives pypdf U+FB01 and co.; the loaded page spells them out."""
    if not DEJAVU.exists():
        pytest.skip(f"{DEJAVU} is missing (make test installs fonts-dejavu-core as root)")
    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
    path = tmp_path / "cover.pdf"
    c = canvas.Canvas(str(path), invariant=1)
    c.setFont("DejaVuSans", 11)
    c.drawString(60, 800, "For the \ufb01scal year ended May 31, 2023, o\ufb00ering \ufb02ows")
    c.showPage()
    c.save()
    assert "\ufb01scal" in PdfReader(str(path)).pages[0].extract_text()  # what the text layer holds
    assert load(path).pages[0].text == "For the fiscal year ended May 31, 2023, offering flows"


ORACLE_10K = ROOT.parent / "shared" / "filings" / "ORACLE_2023_10K.pdf"


@pytest.mark.skipif(not ORACLE_10K.exists(), reason=f"{ORACLE_10K} not found (a clone without ../shared)")
def test_a_real_10k_with_ligatures_reads_its_cover_page() -> None:
    doc = load(ORACLE_10K)
    assert "For the fiscal year ended May 31, 2023" in doc.pages[0].text
    assert not [c for p in doc.pages for c in p.text if "\ufb00" <= c <= "\ufb06"]


def test_number_rejoined_with_its_unit() -> None:
    assert clean_page_text("总额达519\n亿美元") == "总额达519亿美元"


def test_long_chinese_line_joined_to_the_next() -> None:
    first = "中国创新药出海持续提速，据行业统计对外授权交易的数量和金额"
    assert len(first) >= 20
    assert clean_page_text(f"{first}\n均创历史新高。\n下一段。") == f"{first}均创历史新高。\n下一段。"


def test_short_chinese_heading_not_joined() -> None:
    text = "管理层讨论与分析\n2025年公司实现营业收入23.57亿元，同比增长38.2%。"
    assert clean_page_text(text) == text


def test_english_lines_untouched() -> None:
    text = "Revenue for 2025 was RMB 2,356.8 million, an increase of 38.2%\nfrom RMB 1,705.4 million in 2024.\nLoss narrowed."
    assert clean_page_text(text) == text


def test_english_line_ending_in_number_not_glued() -> None:
    text = "The Group had 14 clinical-stage programmes at the end of 2025\n5 of them are in Phase III."
    assert clean_page_text(text) == text


def test_chinese_table_rows_not_merged() -> None:
    text = "营业收入 | 2,356.8 | 1,705.4 | 38.2\n研发费用 | 1,120.3 | 1,015.8 | 10.3"
    assert clean_page_text(text) == text


def test_page_x_of_y_footer_dropped() -> None:
    pages = [f"Body line {word}\nRevenue {word}\nPage {n} of 3" for n, word in enumerate(("one", "two", "three"), 1)]
    assert drop_running_lines(pages) == [
        "Body line one\nRevenue one",
        "Body line two\nRevenue two",
        "Body line three\nRevenue three",
    ]
