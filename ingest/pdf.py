"""PDF pages to text: pypdf for the text layer, pdfplumber for pages with ruled tables, then line-wrap repair."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from ingest.encoding import describe_error
from rag.errors import IngestError
from rag.text import is_table_line
from rag.types import Page

logger = logging.getLogger(__name__)

_UNIT_AFTER_WRAP = re.compile(r"(\d)[ \t]*\n[ \t]*(?=万亿|亿|万|元|美元|港元|人民币|%|％|倍|笔|家|个)")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_CJK_CHAR = re.compile(rf"[{_CJK}，、：“”（）《》]")
_CJK_LINE_END = re.compile(r"[。！？；：]$")


def clean_page_text(text: str) -> str:
    """Repair what PDF line wrapping breaks: a number cut from its unit, and Chinese lines cut mid-sentence.

    "519\\n亿美元" becomes "519亿美元"; a long Chinese line that does not end a sentence is joined to the next
    line without a space. Short lines (headings) are left alone.
    """
    text = text.replace("\r", "\n").replace("\u00a0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _UNIT_AFTER_WRAP.sub(r"\1", text)
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if out and _joins_previous(out[-1], line):
            out[-1] = out[-1] + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out).strip("\n")


def _joins_previous(prev: str, line: str) -> bool:
    """A Chinese line cut by the page width continues on the next line (never for tables or English)."""
    p, n = prev.strip(), line.strip()
    if len(p) < 20 or not n or _CJK_LINE_END.search(p) or is_table_line(p) or is_table_line(n):
        return False
    last, first = p[-1], n[0]
    if _CJK_CHAR.match(last):
        return bool(_CJK_CHAR.match(first) or first.isdigit())
    # "…增长" / "13.2%。": a number ending a Chinese line, continued by Chinese text.
    return (last.isdigit() or last == "%") and bool(_CJK_CHAR.match(first)) and bool(_CJK_CHAR.search(p[-12:]))


def load_pdf_pages(data: bytes) -> tuple[list[Page], str, list[str]]:
    """Text of each page of a PDF (1-based numbers), the PDF's own title, and warnings.

    Raises:
        IngestError: not a PDF, corrupt, or encrypted with a password.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise IngestError("not a PDF: the file has no %PDF- header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise IngestError(f"encrypted PDF that cannot be opened ({describe_error(exc)}); decrypt it first") from exc
            if not opened:
                raise IngestError("encrypted PDF: it needs a password; save a decrypted copy and ingest that")
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on damaged files
        if b"%%EOF" not in data[-1024:]:
            raise IngestError(
                "corrupt PDF: truncated, the file ends before its %%EOF marker (an incomplete download or "
                f"copy?): {describe_error(exc)}"
            ) from exc
        raise IngestError(f"corrupt PDF: {describe_error(exc)}") from exc
    if n_pages == 0:
        raise IngestError("corrupt PDF: no pages")
    warnings: list[str] = []
    title = ""
    try:
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
        if re.fullmatch(r"(?i)untitled|anonymous|none|microsoft (word|powerpoint) - .*|.*\.(pdf|docx?|pptx?)", title):
            title = ""  # placeholders that PDF writers fill in
    except Exception:  # broken info dictionaries are common and harmless
        title = ""
    plumber = _open_plumber(data, encrypted=reader.is_encrypted)
    raw_pages: list[str] = []
    unreadable: list[int] = []
    first_error = ""
    for i in range(n_pages):
        text = ""
        try:
            text = reader.pages[i].extract_text() or ""
        except Exception as exc:
            unreadable.append(i + 1)
            first_error = first_error or describe_error(exc)
            warnings.append(f"page {i + 1}: text could not be read, page skipped (damaged PDF? "
                            f"{describe_error(exc)})")
        if plumber is not None:
            tabled = _plumber_text_with_tables(plumber, i)
            if tabled is not None:
                text = tabled
        raw_pages.append(text)
    if plumber is not None:
        try:
            plumber.close()
        except Exception as exc:  # closing parses the page tree again, and a damaged one raises
            logger.debug("pdfplumber could not close the PDF cleanly (%s)", exc)
    pages = [Page(clean_page_text(t), i + 1) for i, t in enumerate(drop_running_lines(raw_pages))]
    empty = [p.number for p in pages if not p.text.strip() and p.number not in unreadable]
    if unreadable and all(not p.text.strip() for p in pages):
        raise IngestError(f"corrupt PDF: the text of {'its only page' if n_pages == 1 else 'every page'} "
                          f"could not be read ({first_error})")
    if empty and len(empty) < len(pages):
        warnings.append(f"no text layer on page(s) {', '.join(map(str, empty))} (scanned?); those pages are skipped")
    return pages, title, warnings


def drop_running_lines(pages: list[str]) -> list[str]:
    """Remove running headers and footers: lines at the top or bottom of a page that recur on most pages.

    Digits are ignored when comparing ("page 1 of 3" = "page 2 of 3"), so only the first and last two lines of
    each page are candidates, and a two-page document needs the lines to be equal or to name a page.
    """
    if len(pages) < 2:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()))

    def edges(text: str) -> list[str]:
        lines = [line for line in text.split("\n") if line.strip()]
        return lines[:2] + lines[-2:] if len(lines) > 4 else lines

    counts: dict[str, int] = {}
    exact: dict[str, set[str]] = {}
    for text in pages:
        for line in edges(text):
            if len(line.strip()) > 120 or is_table_line(line):
                continue
            exact.setdefault(key(line), set()).add(" ".join(line.split()))
        for k in {key(line) for line in edges(text)}:
            counts[k] = counts.get(k, 0) + 1
    running = {
        k for k, n in counts.items()
        if k in exact and n >= max(2, (len(pages) + 1) // 2)
        and (len(pages) >= 3 or len(exact[k]) == 1 or re.search(r"page|页", k, re.IGNORECASE))
    }
    if not running:
        return pages
    out = []
    for text in pages:
        edge = set(edges(text))
        out.append("\n".join(line for line in text.split("\n") if not (line in edge and key(line) in running)))
    return out


def _open_plumber(data: bytes, *, encrypted: bool) -> Any:
    if encrypted:
        return None  # pdfplumber cannot open what pypdf had to decrypt; pypdf's text is used
    try:
        import pdfplumber

        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        logger.debug("pdfplumber could not open the PDF (%s); using pypdf text only", exc)
        return None


def _plumber_text_with_tables(pdf: Any, index: int) -> str | None:
    """The page's text with each ruled table written as ' | ' rows, in reading order; None if no table."""
    try:
        page = pdf.pages[index]
        tables = page.find_tables()
        if not tables:
            return None
        boxes = [t.bbox for t in tables]

        def outside(obj: dict[str, Any]) -> bool:
            cx = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
            cy = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
            return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

        items: list[tuple[float, str]] = []
        for line in page.filter(outside).extract_text_lines():
            items.append((float(line["top"]), line["text"]))
        for table in tables:
            rows = []
            for row in table.extract():
                cells = [" ".join((c or "").split()) for c in row]
                if any(cells):
                    rows.append(" | ".join(cells))
            items.append((float(table.bbox[1]), "\n" + "\n".join(rows) + "\n"))
        items.sort(key=lambda it: it[0])
        return "\n".join(text for _, text in items)
    except Exception as exc:
        logger.debug("pdfplumber failed on page %d (%s); using pypdf text", index + 1, exc)
        return None
