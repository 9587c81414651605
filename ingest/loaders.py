"""File loaders: bytes of a PDF, HTML, Markdown, text or Word file -> pages of clean text plus metadata."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.encoding import decode_text_with_warnings, describe_error
from ingest.markup import strip_doctypes
from ingest.filing import recognise
from ingest.metadata import build_meta, parse_date, split_front_matter
from ingest.pdf import load_pdf_pages
from ingest.word import read_docx
from rag.errors import IngestError
from rag.types import LoadedDocument, Page

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
    soup = BeautifulSoup(text, "lxml")
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
    for tag in soup.find_all(_DROP_TAGS):
        # An article's own <header> holds its headline: only page-level headers and footers are chrome.
        if tag.name in ("header", "footer") and tag.find_parent(["article", "main"]) is not None:
            continue
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    for table in root.find_all("table"):
        if table.decomposed:
            continue  # a table inside a table: its rows were written with the outer one
        rows = []
        for tr in table.find_all("tr"):
            cells = [_squeeze(c.get_text(" ")) for c in tr.find_all(["th", "td"])]
            if any(cells):
                rows.append(" | ".join(cells))
        if not rows:  # text put straight into <table>, outside any cell, is still text
            rows = [_squeeze(table.get_text(" "))]
        table.replace_with(_written()("\n\n" + "\n".join(rows) + "\n\n")).decompose()
    for level in range(1, 7):
        for h in root.find_all(f"h{level}"):
            if not h.decomposed:
                h.replace_with(_written()(f"\n\n{'#' * level} {_squeeze(h.get_text(' '))}\n\n")).decompose()
    raw = _block_text(root)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not body:
        raise IngestError("no text in the HTML body (only scripts, navigation or markup)")
    return _text_doc(body, source, file_name, warnings=warnings, title=title or _md_title(body), date=date)


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
