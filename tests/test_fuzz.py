"""Property-based tests: loaders, chunker and figure parser on arbitrary input raise only the project's errors."""

from __future__ import annotations

import io
import math
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import write_pdf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.loaders import LOADERS, load_document
from ingest.metadata import (
    MAX_COMPANY,
    MAX_LANGUAGE,
    MAX_PUBLISHER,
    MAX_TICKER,
    MAX_TICKERS,
    MAX_TITLE,
    MAX_URL,
    MAX_WARNING,
)
from rag.embeddings import Embedder
from rag.errors import SectorChatError
from rag.figures import find_quantity, format_quantity, parse_figures, same_quantity
from rag.tables import figures_in
from rag.types import DocumentMeta, Figure, LoadedDocument, Page

# Deterministic (same examples on every run, no example database), bounded, no per-example deadline: the machine
# is shared and the first call of a loader imports its library. SECTORCHAT_FUZZ_SCALE=10 searches ten times longer.
_SCALE = float(os.environ.get("SECTORCHAT_FUZZ_SCALE", "1"))
FUZZ = settings(
    derandomize=True, database=None, deadline=None, max_examples=int(60 * _SCALE),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_FAST = settings(FUZZ, max_examples=int(250 * _SCALE))

UNITS = {"CNY", "USD", "HKD", "EUR", "%", "count", "code", ""}


def _good_pdf() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_pdf(Path(tmp) / "g.pdf", [["Hengrui revenue was RMB 23.57 billion in 2025.", "Second line."],
                                               ["Page two: 94 deals worth $51.9 billion."]])
        return path.read_bytes()


def _good_docx(paragraphs: list[str] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly update", level=1)
    for text in paragraphs or ["Akeso signed a deal worth US$500 million."]:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


GOOD_PDF = _good_pdf()
GOOD_DOCX = _good_docx()


def check_loaded(data: bytes, file_name: str) -> LoadedDocument | None:
    """Load; a SectorChatError is an accepted outcome, anything else escapes and fails the test."""
    try:
        doc = load_document(data, source=f"/fuzz/{file_name}", file_name=file_name)
    except SectorChatError as exc:
        assert str(exc), "an error must say what was wrong"
        return None
    assert doc.pages, "a loaded document has at least one page"
    for page in doc.pages:
        assert page.text.strip()
        assert "\r" not in page.text
    check_meta(doc)
    return doc


def check_meta(doc: LoadedDocument) -> None:
    """Every metadata field and every warning within its cap (every chunk carries the fields)."""
    m = doc.meta
    assert len(m.title) <= MAX_TITLE and len(m.company) <= MAX_COMPANY and len(m.publisher) <= MAX_PUBLISHER
    assert len(m.url) <= MAX_URL and len(m.tickers) <= MAX_TICKERS and all(len(t) <= MAX_TICKER for t in m.tickers)
    assert m.language and len(m.language) <= MAX_LANGUAGE
    assert m.date == "" or len(m.date) == 10
    assert all(isinstance(w, str) and w and len(w) <= MAX_WARNING for w in doc.warnings)


# -- loaders ---------------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=3000), ext=st.sampled_from(sorted(LOADERS)))
def test_loaders_on_arbitrary_bytes(data: bytes, ext: str) -> None:
    check_loaded(data, f"fuzz{ext}")


@FUZZ
@given(data=st.binary(max_size=500), prefix=st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>",
                                                             b"---\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
       ext=st.sampled_from(sorted(LOADERS)))
def test_loaders_on_bytes_that_start_like_a_known_format(data: bytes, prefix: bytes, ext: str) -> None:
    check_loaded(prefix + data, f"fuzz{ext}")


TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\n\n\n  \t|#-:。，！？；.!?%$¥€一二三十百千万亿元美港0123456789<>/\"'=&")),
    ),
    max_size=400,
)


@FUZZ_FAST
@given(text=TEXTS, ext=st.sampled_from([".txt", ".md", ".html"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]))
def test_text_loaders_on_any_unicode_text_in_each_encoding(text: str, ext: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    check_loaded(data, f"fuzz{ext}")


_YAML_LINE = st.one_of(
    st.tuples(st.sampled_from(["title", "date", "source", "url", "doc_type", "company", "tickers", "language", "x"]),
              st.sampled_from(["", " ", ": ", ":"]),
              st.one_of(st.sampled_from(["2025-13-45", "2026-01-13", "2025-02-30 10:00", "[a, b", "{a: 1}", "- x",
                                         "&a [*a]", "*a", "&x 1", "[&y a, *y]", "!!binary zz",
                                         "!!python/object:os.system x", "99999999999999999", "9" * 5000,
                                         "0x" + "f" * 2000, "[[a, b], c]",
                                         "'unterminated", "null", "yes", "|", ">", "2026年1月13日", "news"]),
                        st.text(max_size=30))).map("".join),
    st.text(max_size=40),
)


@FUZZ_FAST
@given(lines=st.lists(_YAML_LINE, max_size=6), close=st.sampled_from(["---\n", "...\n", "", "--- \n"]),
       body=TEXTS)
def test_markdown_with_generated_front_matter(lines: list[str], close: str, body: str) -> None:
    text = "---\n" + "\n".join(lines) + "\n" + close + body
    doc = check_loaded(text.encode("utf-8"), "fuzz.md")
    if doc is not None:
        assert doc.meta.date == "" or len(doc.meta.date) == 10


@FUZZ
@given(field=st.sampled_from(["title", "date", "source", "url", "doc_type", "company", "tickers", "language", "x"]),
       value=st.one_of(st.text(min_size=1, max_size=30).map(lambda t: t * 400), st.integers(0, 5000).map(
           lambda n: "[" + ", ".join(["600276.SH"] * n) + "]"), st.integers(0, 3000).map(lambda n: "Z" * n)),
       header=st.sampled_from(["", "title: Fine\n", "tickers: 1276.HK\n"]))
def test_front_matter_values_of_any_length_stay_within_the_caps(field: str, value: str, header: str) -> None:
    quoted = value if value.startswith("[") else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = f"---\n{header}{field}: {quoted}\n---\nBody text.\n"
    check_loaded(text.encode("utf-8", "surrogatepass"), "fuzz.md")


_TAGS = ["div", "p", "span", "script", "style", "article", "main", "table", "tr", "td", "th", "h1", "h3", "pre",
         "nav", "header", "footer", "br", "li", "ul", "a", "title", "meta", "template", "svg", "noscript", "b"]


@st.composite
def html_documents(draw: st.DrawFn) -> str:
    parts: list[str] = []
    depth: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        action = draw(st.sampled_from(["open", "open", "close", "text", "text", "junk"]))
        if action == "open":
            tag = draw(st.sampled_from(_TAGS))
            attrs = draw(st.sampled_from(["", ' class="x"', ' property="og:title" content="T"',
                                          ' name="date" content="2025-99-99"', ' datetime="2026-01-13"', " x=>"]))
            parts.append(f"<{tag}{attrs}>")
            depth.append(tag)
        elif action == "close" and depth:
            parts.append(f"</{depth.pop()}>")
        elif action == "text":
            parts.append(draw(TEXTS))
        else:
            parts.append(draw(st.sampled_from(["<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xD800;", "<",
                                               ">", "</", "<!DOCTYPE html>", "<?xml ?>", "\x00", "\x0c"])))
    if draw(st.booleans()):
        parts.extend(f"</{t}>" for t in reversed(depth))
    return "<html><body>" + "".join(parts)


@FUZZ
@given(html=html_documents())
def test_html_loader_on_generated_markup(html: str) -> None:
    doc = check_loaded(html.encode("utf-8"), "fuzz.html")
    if doc is not None and "<script>" in html:
        for page in doc.pages:
            assert "<script" not in page.text


@FUZZ
@example(cut=len(GOOD_PDF), flips=[(GOOD_PDF.index(b"841.8898") + 3, 1)])  # "841/8898": pdfplumber's close raised
@given(cut=st.integers(0, len(GOOD_PDF)), flips=st.lists(st.tuples(st.integers(0, len(GOOD_PDF) - 1),
                                                                   st.integers(1, 255)), max_size=8))
def test_pdf_loader_on_damaged_pdfs(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD_PDF)
    for pos, mask in flips:
        data[pos] ^= mask
    check_loaded(bytes(data[: max(cut, 1)]), "fuzz.pdf")


@FUZZ
@given(cut=st.integers(0, len(GOOD_DOCX)), flips=st.lists(st.tuples(st.integers(0, len(GOOD_DOCX) - 1),
                                                                    st.integers(1, 255)), max_size=4))
def test_docx_loader_on_damaged_files(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD_DOCX)
    for pos, mask in flips:
        data[pos] ^= mask
    check_loaded(bytes(data[: max(cut, 1)]), "fuzz.docx")


@FUZZ
@given(member=st.sampled_from(["word/document.xml", "[Content_Types].xml", "word/styles.xml"]),
       content=st.binary(max_size=300))
def test_docx_loader_with_a_junk_part(member: str, content: bytes) -> None:
    src = zipfile.ZipFile(io.BytesIO(GOOD_DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == member else src.read(info))
    check_loaded(out.getvalue(), "fuzz.docx")


_XML_SAFE = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=200)


@FUZZ
@given(paragraphs=st.lists(_XML_SAFE, max_size=5))
def test_docx_loader_on_generated_documents(paragraphs: list[str]) -> None:
    doc = check_loaded(_good_docx(paragraphs), "fuzz.docx")
    assert doc is not None  # a heading is always there
    assert doc.pages[0].text.startswith("# Quarterly update")


# -- chunker ---------------------------------------------------------------------------------------------------
PAGE_TEXTS = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(list("\n\n\n\n    \t\t|||#.。!?！？；:：,，-") + [" | ", "# ", "\n| a | b |\n", "---|---",
                                                                     "Revenue 2025 (RMB million)", "恒瑞医药", "Dr. "]),
    ),
    max_size=300,
).map("".join)


@pytest.fixture(scope="module")
def chunker(embedder: Embedder) -> Chunker:
    return Chunker(embedder.count_tokens, embedder.token_offsets, max_tokens=32, overlap=8)


@FUZZ
@given(pages=st.lists(PAGE_TEXTS, min_size=1, max_size=3), numbered=st.booleans())
def test_chunker_on_arbitrary_text(chunker: Chunker, pages: list[str], numbered: bool) -> None:
    if not numbered:
        pages = pages[:1]  # a text file: one page without a number
    doc = LoadedDocument("/fuzz/doc.txt", DocumentMeta(title="Fuzz"),
                         tuple(Page(t, i + 1 if numbered else None) for i, t in enumerate(pages)))
    chunks = chunker.chunk(doc)
    by_page = {p.number: p.text for p in doc.pages}
    for c in chunks:
        text = by_page[c.page]
        assert 0 <= c.char_start < c.char_end <= len(text)
        assert c.text.strip(), "a chunk of only white space"
        piece = text[c.char_start : c.char_end]
        if c.header_prefixed:
            assert c.text.endswith("\n" + piece)
        else:
            assert c.text == piece
    assert len({c.id for c in chunks}) == len(chunks)
    if chunks and not any("|" in t or "\t" in t for t in pages):  # a table chunk may exceed: it repeats its header
        assert max(chunker.count_tokens([c.text for c in chunks])) <= chunker.max_tokens
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    # Nothing is lost: every visible character of every page is in some chunk.
    for number, text in by_page.items():
        covered: set[int] = set()
        for c in chunks:
            if c.page == number:
                covered.update(range(c.char_start, c.char_end))
        missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
        assert not missing, f"characters {[text[i] for i in missing[:10]]} of page {number} are in no chunk"


@FUZZ
@example(seed="0..0", length=246)  # two pieces whose token counts summed to 32 made 33 tokens together
@given(seed=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=40),
       length=st.integers(100, 3000))
def test_chunker_cuts_long_runs_without_spaces_within_the_token_limit(chunker: Chunker, seed: str,
                                                                     length: int) -> None:
    text = (seed * length)[:length].strip()
    doc = LoadedDocument("/fuzz/run.txt", DocumentMeta(title="Run"), (Page(text, None),))
    chunks = chunker.chunk(doc)
    assert max(chunker.count_tokens([c.text for c in chunks]), default=0) <= chunker.max_tokens
    covered: set[int] = set()
    for c in chunks:
        assert c.text == text[c.char_start : c.char_end]
        covered.update(range(c.char_start, c.char_end))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


# -- figures ---------------------------------------------------------------------------------------------------
FIGURE_TEXTS = st.lists(
    st.one_of(
        st.sampled_from(list("0123456789" * 3 + ".,%()-+$€¥£ \n\t|:：;。，、") +
                        ["一", "二", "三", "十", "百", "千", "万", "亿", "元", "美元", "港元", "人民币", "笔", "家", "个",
                         "年", "月", "日", "季度", "第", "US$", "HK$", "RMB", "USD", " billion", " million", "bn", "m",
                         "k", " percent", " per cent", "Code: ", "Phase ", "January ", ".SH", ".HK", " to ", "至", "～",
                         "０", "９", "．", "％", "（", "）", "−", "\u3000", "\u00a0", " | "]),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=80,
).map("".join)


def check_figures(text: str, figures: list[Figure]) -> None:
    last_end = 0
    for f in figures:
        assert text[f.start : f.end] == f.text
        assert f.start >= last_end
        last_end = f.end
        assert f.unit in UNITS
        assert math.isfinite(f.value) and math.isfinite(f.quantity), f
        assert f.scale > 0 and f.decimals >= 0
        assert same_quantity(f, f)


@FUZZ_FAST
@given(text=FIGURE_TEXTS)
def test_parse_figures_on_arbitrary_text(text: str) -> None:
    figures = parse_figures(text)
    check_figures(text, figures)
    for f in figures:
        assert find_quantity(f, text) is not None


@FUZZ_FAST
@given(seed=st.text(st.sampled_from("0123456789"), min_size=1, max_size=12), length=st.integers(1, 800),
       around=st.sampled_from(["{}", "${} billion", "{}亿元", "({})", "{}%", "RMB {} million", "{}.5", "1,{}"]))
def test_parse_figures_on_long_numbers(seed: str, length: int, around: str) -> None:
    text = around.format((seed * length)[:length])
    check_figures(text, parse_figures(text))


def test_a_number_too_large_for_a_float_is_not_a_figure() -> None:
    assert parse_figures("9" * 400) == []
    assert parse_figures("$" + "9" * 300 + " billion") == []
    assert [f.text for f in parse_figures("9" * 400 + " and 12 deals")] == ["12"]
    huge_cell = figures_in("Item | 2025 (RMB billion)\nRevenue | " + "9" * 305)
    assert len(huge_cell) == 1 and math.isfinite(huge_cell[0].quantity)


@FUZZ
@given(rows=st.lists(st.lists(FIGURE_TEXTS.map(lambda s: s.replace("\n", " ").replace("|", "/")), min_size=1,
                              max_size=4), max_size=5),
       header=st.sampled_from(["Item | 2025 (RMB million) | 2024 (RMB million) | Change (%)",
                               "项目 | 2025年（亿元）| 占比 %", "Name | Value", "| a | b |"]))
def test_table_figures_on_generated_tables(header: str, rows: list[list[str]]) -> None:
    text = "\n".join([header] + [" | ".join(r) for r in rows])
    check_figures(text, figures_in(text))


@FUZZ_FAST
@given(value=st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
       unit=st.sampled_from(["USD", "CNY", "HKD", "EUR", "%", "count", ""]),
       hint=st.sampled_from([1.0, 1e3, 1e4, 1e6, 1e8, 1e9]))
def test_format_quantity_reads_back_as_the_same_quantity(value: float, unit: str, hint: float) -> None:
    try:
        written = format_quantity(value, unit, hint)
    except ValueError:
        return  # a documented refusal of a hint that does not fit the unit
    back = parse_figures(written)
    assert back, written
    stated = Figure(written, value, unit or "count", decimals=3)  # type: ignore[arg-type]
    assert same_quantity(back[0], stated), (written, back[0])


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_format_quantity_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_quantity(value, "USD")
