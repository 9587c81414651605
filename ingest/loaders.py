"""File loaders: bytes of a PDF, HTML, Markdown, text or Word file -> pages of clean text plus metadata."""

from __future__ import annotations

import logging
import re
import warnings as warnings_module
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from dataclasses import replace
from typing import Any

from ingest.encoding import decode_text_with_warnings, describe_error
from ingest.markup import strip_doctypes
from ingest import xbrl
from ingest.filing import FilingFacts, recognise, with_cover
from ingest.html_table import ReadTable, read_table
from ingest.metadata import build_meta, parse_date, split_front_matter
from ingest.pdf import load_pdf_pages
from ingest.word import read_docx
from rag.errors import IngestError
from rag.types import LoadedDocument, Page, XbrlFact

logger = logging.getLogger(__name__)

Loader = Callable[[bytes, str, str], LoadedDocument]


def load_document(data: bytes, *, source: str, file_name: str) -> LoadedDocument:
    """Load one file's bytes with the loader its extension names, checking the content matches.

    Raises:
        IngestError: unsupported type, content that is not what the name says, or unreadable content.
    """
    ext = Path(file_name).suffix.lower()
    loader = LOADERS.get(ext)
    if loader is None:
        raise IngestError(f"unsupported file type {ext or '(no extension)'!r}; supported: {', '.join(sorted(LOADERS))}")
    if not data:
        raise IngestError("empty file (0 bytes)")
    if not data.strip():
        raise IngestError("empty file (only white space)")
    return loader(data, source, file_name)


def _text_doc(text: str, source: str, file_name: str, fields: dict[str, object] | None = None,
              warnings: tuple[str, ...] = (), title: str = "", date: str = "") -> LoadedDocument:
    text = text.strip("\n")
    if not text.strip():
        raise IngestError("no text in the file")
    fields = dict(fields or {})
    # An EDGAR filing saved as HTML or text has its cover; a news item (front matter doc_type: news) is none.
    filing = recognise([text[:100_000]], releases=False) if fields.get("doc_type") != "news" else None
    meta, meta_warnings = build_meta(
        fields, text=text, file_name=file_name, fallback_title=title or _md_title(text), fallback_date=date,
        filing=filing,
    )
    return LoadedDocument(source, meta, (Page(text, None),), tuple(warnings) + tuple(meta_warnings))


def _md_title(text: str) -> str:
    m = re.search(r"^#\s+(\S.*)$", text, re.MULTILINE)
    return m[1].strip() if m else ""


def load_text(data: bytes, source: str, file_name: str) -> LoadedDocument:
    text, warnings = decode_text_with_warnings(data)
    return _text_doc(text, source, file_name, warnings=warnings)


def load_markdown(data: bytes, source: str, file_name: str) -> LoadedDocument:
    text, warnings = decode_text_with_warnings(data)
    fm = split_front_matter(text)
    if fm.fields and not fm.body.strip():
        raise IngestError("no text in the file: it holds only front matter")
    return _text_doc(fm.body, source, file_name, fm.fields, warnings + fm.warnings)


# -- HTML ----------------------------------------------------------------------------------------------------
_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
              "button", "template", "object", "embed", "canvas", "select", "input")
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff，。、；：])\s+(?=[\u4e00-\u9fff，。、；：])")
_SPACES = re.compile(r"\s+")
_BLOCK_TAGS = ("p", "div", "section", "article", "li", "ul", "ol", "blockquote", "pre", "br", "dd", "dt",
               "figcaption", "tr", "main", "body")


def load_html(data: bytes, source: str, file_name: str) -> LoadedDocument:
    from bs4 import BeautifulSoup

    text, warnings = decode_text_with_warnings(data)
    text = strip_doctypes(text)
    if not re.search(r"<\s*(html|body|p|div|article|h[1-6]|table|span|title)\b", text[:200000], re.IGNORECASE):
        raise IngestError("not HTML: no HTML elements found")
    with warnings_module.catch_warnings():  # an XHTML filing starts with <?xml …?>: read as HTML all the same
        warnings_module.simplefilter("ignore")
        soup = BeautifulSoup(text, "lxml")
    title, date = _html_title_date(soup)
    inline = xbrl.is_inline_xbrl(soup)
    cover = xbrl.cover_facts(soup) if inline else FilingFacts()
    fact_of: dict[int, XbrlFact] = {}
    if inline:
        ctxs, unit_names = xbrl.contexts(soup), xbrl.units(soup)
        for el in xbrl.fact_elements(soup):
            if (fact := xbrl.read_fact(el, ctxs, unit_names)) is not None:
                fact_of[id(el)] = fact
        # the hidden header holds the contexts, units and hidden facts: no text a reader sees
        for tag in soup.find_all(lambda t: xbrl.local(t.name) == "header" and ":" in (t.name or "")):
            tag.decompose()
    for tag in soup.find_all(_DROP_TAGS):
        # An article's own <header> holds its headline: only page-level headers and footers are chrome.
        if tag.name in ("header", "footer") and tag.find_parent(["article", "main"]) is not None:
            continue
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    written = _written()
    placed: list[tuple[str, dict[tuple[int, int], tuple[XbrlFact, ...]], dict[tuple[int, int], tuple[int, int]]]] = []
    for table in root.find_all("table"):
        if table.decomposed:
            continue  # a table inside a table: its rows were written with the outer one
        read = read_table(table, fact_of, _texts_before(table))
        if isinstance(read, ReadTable):
            placed.append((read.table.to_text(), read.facts, read.table.cell_spans()))
            table.replace_with(written(f"\n\n{_TABLE_MARK}{len(placed) - 1}{_TABLE_MARK}\n\n")).decompose()
            continue
        rows = read or [_squeeze(table.get_text(" "))]  # text put straight into <table> is still text
        table.replace_with(written("\n\n" + "\n".join(rows) + "\n\n")).decompose()
    prose: list[XbrlFact] = []
    for el in xbrl.fact_elements(root):
        if (fact := fact_of.get(id(el))) is not None and not el.decomposed:
            prose.append(fact)
            el.replace_with(written(f"{_FACT_OPEN}{len(prose) - 1}{_FACT_MID}{_squeeze(el.get_text(' '))}{_FACT_CLOSE}"))
    breaks = _page_breaks(root) if inline or "page-break" in text[:2_000_000] else []
    if len(breaks) >= 2:
        for el, after in breaks:
            mark = written(f"\n\n{_PAGE_MARK}\n\n")
            el.insert_after(mark) if after else el.insert_before(mark)
    for level in range(1, 7):
        for h in root.find_all(f"h{level}"):
            if not h.decomposed:
                h.replace_with(written(f"\n\n{'#' * level} {_squeeze(h.get_text(' '))}\n\n")).decompose()
    raw = _block_text(root)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    parts = body.split(_PAGE_MARK) if len(breaks) >= 2 else [body]
    pages = [_placed_page(part, i + 1 if len(parts) > 1 else None, placed, prose) for i, part in enumerate(parts)]
    pages = [p for p in pages if p.text.strip()]
    if not pages:
        raise IngestError("no text in the HTML body (only scripts, navigation or markup)")
    first = pages[0].text
    filing = recognise([p.text[:100_000] for p in pages], releases=False)
    xbrl_cover = with_cover(filing, cover)
    meta, meta_warnings = build_meta(
        {}, text="\n".join(p.text for p in pages), file_name=file_name,
        fallback_title=title or _md_title(first), fallback_date=date, filing=xbrl_cover,
    )
    return LoadedDocument(source, meta, tuple(pages), tuple(warnings) + tuple(meta_warnings))


# Marks the loader writes into the text and takes out again: a table's place, a tagged figure, a page break
_TABLE_MARK, _FACT_OPEN, _FACT_MID, _FACT_CLOSE, _PAGE_MARK = "\ue003", "\ue000", "\ue002", "\ue001", "\ue005"
_MARKS = re.compile("\ue003(\\d+)\ue003|\ue000(\\d+)\ue002([^\ue001]*)\ue001")
_BREAK_STYLE = re.compile(r"page-break-(before|after)\s*:\s*always|break-(before|after)\s*:\s*page", re.IGNORECASE)


def _html_title_date(soup: Any) -> tuple[str, str]:
    title = ""
    og = soup.find("meta", attrs={"property": "og:title"})
    if og and og.get("content"):
        title = str(og["content"]).strip()
    elif soup.title and soup.title.string:
        title = soup.title.string.strip()
    date = ""
    for attrs in ({"property": "article:published_time"}, {"name": "date"}, {"name": "pubdate"},
                  {"itemprop": "datePublished"}):
        tag = soup.find("meta", attrs=attrs)  # type: ignore[arg-type]
        if tag and tag.get("content"):
            date = parse_date(str(tag["content"])[:10]) or ""
            if date:
                break
    if not date:
        t = soup.find("time", attrs={"datetime": True})
        if t:
            date = parse_date(str(t["datetime"])[:10]) or ""
    return title, date


def _texts_before(table: Any, limit: int = 3) -> list[str]:
    """Up to ``limit`` short texts printed just above ``table`` (nearest last): where its unit line is."""
    out: list[str] = []
    node = table
    for _ in range(4):  # the table's earlier siblings, then its parent's, as a filing wraps tables in divs
        for sib in node.find_previous_siblings(limit=limit * 2):
            text = _squeeze(sib.get_text(" ")) if hasattr(sib, "get_text") else _squeeze(str(sib))
            if text:
                out.append(text[-300:])
            if len(out) >= limit:
                return out[::-1]
        node = node.parent
        if node is None or node.name in ("body", "html", "[document]"):
            break
    return out[::-1]


def _page_breaks(root: Any) -> list[tuple[Any, bool]]:
    """Elements that break the printed page ("page-break-after: always"), with whether the break comes after."""
    out: list[tuple[Any, bool]] = []
    for el in root.find_all(style=_BREAK_STYLE):
        m = _BREAK_STYLE.search(str(el.get("style", "")))
        if m is not None:
            out.append((el, (m[1] or m[2]).lower() == "after"))
    return out


def _placed_page(text: str, number: int | None, placed: list[Any], prose: list[XbrlFact]) -> Page:
    """A page with its tables put in place and its tagged figures' marks taken out, each fact at its span."""
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n").strip()
    out: list[str] = []
    facts: list[XbrlFact] = []
    at = 0
    pos = 0
    for m in _MARKS.finditer(text):
        out.append(text[pos:m.start()])
        at += m.start() - pos
        pos = m.end()
        if m[1] is not None:
            table_text, cell_facts, spans = placed[int(m[1])]
            for key, fs in cell_facts.items():
                if key in spans:
                    s, e = spans[key]
                    facts.extend(replace(f, span=(at + s, at + e)) for f in fs)
            out.append(table_text)
            at += len(table_text)
        else:
            shown = m[3]
            facts.append(replace(prose[int(m[2])], span=(at, at + len(shown))))
            out.append(shown)
            at += len(shown)
    out.append(text[pos:])
    return Page("".join(out), number, tuple(facts))


def _squeeze(text: str) -> str:
    """Source line breaks and runs of white space are one space (none between Chinese characters)."""
    return " ".join(_CJK_GAP.sub("", text).split())


@lru_cache(maxsize=1)
def _written() -> type:
    """NavigableString for text the loader writes into the tree (a table's rows, a heading): kept as it is."""
    from bs4 import NavigableString

    return type("Written", (NavigableString,), {})


def _block_text(root: Any) -> str:
    """The text under ``root``: blank lines around block elements, white space squeezed outside <pre>.

    A walk with its own stack, touching each node once: a page nested thousands of elements deep must neither
    recurse nor take quadratic time (inserting separators into such a tree does).
    """
    from bs4 import CData, NavigableString, Tag

    written = _written()
    out: list[str] = []
    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]  # (node, closing its block, inside <pre>)
    while stack:
        node, closing, in_pre = stack.pop()
        if closing:
            out.append("\n\n")
        elif isinstance(node, Tag):
            if node.name in _BLOCK_TAGS:
                out.append("\n\n")
                stack.append((node, True, in_pre))
            inner = in_pre or node.name == "pre"
            stack.extend((child, False, inner) for child in reversed(node.contents))
        elif isinstance(node, written):
            out.append(str(node))
        elif type(node) in (NavigableString, CData):  # not comments, doctypes or processing instructions
            # Source line breaks inside a paragraph are spaces (none between Chinese characters).
            out.append(str(node) if in_pre else _SPACES.sub(" ", _CJK_GAP.sub("", str(node))))
    return "".join(out)


# -- DOCX ----------------------------------------------------------------------------------------------------
def load_docx(data: bytes, source: str, file_name: str) -> LoadedDocument:
    word = read_docx(data)
    return _text_doc("\n\n".join(word.blocks), source, file_name, warnings=tuple(word.warnings), title=word.title)


# -- PDF -----------------------------------------------------------------------------------------------------
def load_pdf(data: bytes, source: str, file_name: str) -> LoadedDocument:
    try:
        pages, pdf_title, warnings = load_pdf_pages(data)
    except RecursionError as exc:  # a structure pypdf or pdfminer recurse into without end: this file only
        raise IngestError(f"corrupt or unreadable PDF: objects nested too deeply to read ({describe_error(exc)})") from exc
    all_text = "\n".join(p.text for p in pages)
    if not all_text.strip():  # load_pdf_pages refuses a PDF without text; cleaning never empties one
        raise IngestError("no text left in the PDF after removing its running headers and footers")
    meta, meta_warnings = build_meta(
        {}, text=all_text, file_name=file_name, fallback_title=pdf_title, filing=recognise([p.text for p in pages])
    )
    return LoadedDocument(source, meta, tuple(p for p in pages if p.text.strip()), tuple(warnings + meta_warnings))


LOADERS: dict[str, Loader] = {
    ".pdf": load_pdf,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
}
