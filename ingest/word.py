"""Word .docx text: word/document.xml read as a stream of paragraphs and table rows, under limits."""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ingest import markup
from ingest.encoding import describe_error
from ingest.zipparts import ZipParts
from rag.errors import IngestError

logger = logging.getLogger(__name__)

# Relationships, styles and properties are small (styles.xml: ~0.4 MB); their elements are not streamed away.
MAX_SMALL_PART_BYTES = 8 * 1024 * 1024
# What one document may hold; past a limit the rest is cut with a warning. A 1,000-page report has ~40,000
# paragraphs and ~500,000 XML elements; half a million empty paragraphs fit in a 90 KB file.
MAX_BLOCKS = 200_000  # body paragraphs and table rows
MAX_ELEMENTS = 5_000_000  # XML elements of word/document.xml, read one by one
MAX_HELD = 200_000  # XML elements in one paragraph, table row or text box (held in memory until it ends)
MAX_TEXT_CHARS = 50_000_000  # characters of text, as much as the largest text file ingested by default

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "/officeDocument"
_STYLES = "/styles"
_CORE = "/core-properties"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_HEADING = re.compile(r"heading (\d)")
# Word allows 63 columns. A merged cell's text is repeated for each column it spans (as python-docx reads it),
# but never past the 63rd: a huge gridSpan would be a memory bomb in one attribute.
_MAX_COLUMNS = 63


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


P, R, T, TAB, PTAB, BR, CR, HYPHEN = (_w(t) for t in ("p", "r", "t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
TBL, TR, TC, TXBX = (_w(t) for t in ("tbl", "tr", "tc", "txbxContent"))
# What a paragraph's text is read through: runs and the inline wrappers around them. Not w:pPr (its tab stops are
# w:tab too), w:del / w:moveFrom (deleted text), drawings (text boxes) or markup-compatibility fallbacks.
_RUN_CONTAINERS = frozenset(_w(t) for t in ("r", "hyperlink", "ins", "moveTo", "smartTag", "sdt", "sdtContent",
                                            "fldSimple", "customXml", "dir", "bdo"))


@dataclass(frozen=True)
class WordText:
    """What a .docx holds for the index: its blocks of text in reading order, its title, and warnings."""

    blocks: tuple[str, ...]
    title: str
    warnings: tuple[str, ...]


def read_docx(data: bytes) -> WordText:
    """The text of a Word document: paragraphs (headings as Markdown ``#``) and tables (``a | b`` rows) in order.

    Entity references are never expanded (no external entities, no entity bombs); the text around them is kept.

    Raises:
        IngestError: not a zip or not a Word document, a part over the size or ratio limit, or broken XML.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))  # shares the bytes, no copy
    except zipfile.BadZipFile as exc:
        raise IngestError(f"not a valid Word .docx file ({describe_error(exc).split(': ', 1)[-1]})") from exc
    except (ValueError, OSError, EOFError) as exc:
        raise IngestError(f"not a valid Word .docx file ({describe_error(exc)})") from exc
    package = ZipParts(data, archive)
    main = _target(package, "", _OFFICE_DOCUMENT) or ("word/document.xml" if package.has("word/document.xml") else "")
    if not main:
        raise IngestError("not a valid Word .docx file: a ZIP archive without a Word document in it "
                          "(no officeDocument relationship in _rels/.rels and no word/document.xml)")
    if not package.has(main):
        raise IngestError(f"not a valid Word .docx file: its main part {main} is missing from the archive")
    warnings: list[str] = []
    styles = _paragraph_styles(package, _target(package, main, _STYLES) or "word/styles.xml", warnings)
    core = _target(package, "", _CORE)
    title = _core_title(package, core, warnings) if core and package.has(core) else ""
    try:
        blocks = list(_Body(package, main, styles, warnings, recover=False).blocks())
    except _NotWellFormed as strict_error:
        # Word offers to recover such a file; the recovering parser does the same, and the report says so.
        warnings.append(f"{main} is not well-formed XML ({strict_error}); read what could be recovered, "
                        "some text may be missing")
        try:
            blocks = list(_Body(package, main, styles, warnings, recover=True).blocks())
        except _NotWellFormed:
            blocks = []
        if not any(b.strip() for b in blocks):
            raise IngestError(f"not a valid Word .docx file ({main} is not well-formed XML: {strict_error})") from None
    return WordText(tuple(blocks), title, tuple(dict.fromkeys(warnings)))  # a warning of both passes once


class _NotWellFormed(Exception):
    """The XML of a part does not parse (the message is lxml's first error)."""


def _target(package: ZipParts, source: str, rel_type: str) -> str:
    """The part a relationship of ``source`` ('' for the package) of the given type points to, or ''."""
    folder, base = posixpath.split(source)
    rels = posixpath.join(folder, "_rels", f"{base}.rels")
    if not package.has(rels):
        return ""
    try:
        for element in _elements(package, rels, f"{{{_REL}}}Relationship", []):
            if element.get("Type", "").endswith(rel_type) and element.get("TargetMode") != "External":
                target = element.get("Target", "")
                path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
                return posixpath.normpath(path)
    except _NotWellFormed as exc:
        raise IngestError(f"not a valid Word .docx file ({rels} is not well-formed XML: {exc})") from None
    return ""


def _parser(*, recover: bool, tag: Any) -> Any:
    """A pull parser that expands no entity, loads no DTD and no network resource, and caps depth and text nodes."""
    from lxml import etree

    return etree.XMLPullParser(events=("end",), tag=tag, resolve_entities=False, load_dtd=False, no_network=True,
                               huge_tree=False, recover=recover, remove_comments=True, remove_pis=True)


def _feed(package: ZipParts, name: str, warnings: list[str], *, tag: Any = None, recover: bool = False,
          limit: int | None = None) -> Iterator[tuple[str, Any]]:
    """Parser events of a part, inflating only as far as they are consumed; last ("close", root element).

    A document type declaration is cut out before parsing, with a warning; the rest is then read in recovery mode,
    since the references to its entities are left undeclared.
    """
    from lxml import etree

    cut: list[tuple[int, int]] = []
    parser = None
    # A feed parser's errors land in the thread's log with those of earlier parses (HTML pages too): start empty.
    etree.clear_error_log()
    try:
        for chunk in markup.without_doctype(package.chunks(name, limit), name, cut):
            if parser is None:
                parser = _parser(recover=recover or bool(cut), tag=tag)
                if cut:
                    warnings.append(f"{name} declares a DTD, which Word files may not; it was ignored, its entities "
                                    "were not expanded and the references to them were left out")
            parser.feed(chunk)
            yield from parser.read_events()
        parser = parser if parser is not None else _parser(recover=recover, tag=tag)
        root = parser.close()
        yield from parser.read_events()
        yield "close", root
    except markup.PrologTooLong as exc:
        raise IngestError(f"not a valid Word .docx file: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        # The first error logged is the cause; the exception's own message is often a consequence of it.
        first = next((e for e in exc.error_log if e.domain_name == "PARSER"), None)
        where = f"line {first.line}, column {first.column}" if first is not None else ""
        raise _NotWellFormed(f"{first.message}, {where}" if first is not None else str(exc)) from exc


def _elements(package: ZipParts, name: str, tag: str, warnings: list[str]) -> Iterator[Any]:
    """Each finished ``tag`` element of a small part (relationships, styles, properties), dropped after use.

    Raises:
        _NotWellFormed: the part does not parse.
    """
    for event, element in _feed(package, name, warnings, tag=tag, limit=MAX_SMALL_PART_BYTES):
        if event == "end":
            yield element
            _drop(element)


def plain_text(element: Any) -> str:
    """The text of an element and its descendants; entity references (never expanded) are left out, not their tails."""
    parts = [element.text or ""]
    for child in element.iterdescendants():
        if isinstance(child.tag, str):  # not an entity reference, a comment or a processing instruction
            parts.append(child.text or "")
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraph_styles(package: ZipParts, name: str, warnings: list[str]) -> dict[str, str]:
    """Style id -> lower-case style name of the paragraph styles; '' -> the default paragraph style's name."""
    styles: dict[str, str] = {}
    if not package.has(name):
        return styles
    try:
        for style in _elements(package, name, _w("style"), warnings):
            if style.get(_w("type")) != "paragraph":
                continue
            named = style.find(_w("name"))
            label = (named.get(_w("val"), "") if named is not None else "").strip().lower()
            style_id = style.get(_w("styleId"), "")
            styles[style_id] = label
            if style.get(_w("default")) in ("1", "true", "on"):
                styles[""] = label
    except _NotWellFormed as exc:
        warnings.append(f"{name} is not well-formed XML ({exc}); headings were read as plain paragraphs")
        return {}
    return styles


def _core_title(package: ZipParts, name: str, warnings: list[str]) -> str:
    try:
        for element in _elements(package, name, _DC_TITLE, warnings):
            return " ".join(plain_text(element).split())
    except _NotWellFormed as exc:
        warnings.append(f"{name} is not well-formed XML ({exc}); the document's title was not read from it")
    return ""


class _Body:
    """One pass over word/document.xml: body paragraphs and table rows are read and dropped as they end."""

    def __init__(self, package: ZipParts, name: str, styles: dict[str, str], warnings: list[str], *,
                 recover: bool) -> None:
        self.package, self.name, self.styles, self.warnings, self.recover = package, name, styles, warnings, recover

    def blocks(self) -> Iterator[str]:
        rows: list[str] = []
        above: dict[int, str] = {}  # grid column -> text of the cell a vertical merge continues
        blocks = elements = held = chars = 0
        root_checked = False
        # Every element is counted (not only paragraphs): the limits bound memory and time whatever the markup.
        for event, element in _feed(self.package, self.name, self.warnings, recover=self.recover):
            if not root_checked:
                root = element if event == "close" else element.getroottree().getroot()
                if root is None or root.tag != _w("document"):
                    what = f"its root element is {getattr(root, 'tag', None)!r}"
                    if self.recover:  # what recovery made of a broken part
                        raise _NotWellFormed(what)
                    raise IngestError(f"not a valid Word .docx file: its main part {self.name} is not a Word "
                                      f"document ({what})")
                root_checked = True
            if event == "close":
                break
            elements += 1
            held += 1
            tag = element.tag
            block = tag in (P, TR, TBL) and _at_body_level(element)
            cut = self._over_limit(blocks + (1 if block and tag != TBL else 0), elements, held)
            if not cut and block and tag != TBL:
                blocks += 1
                parts = [self._paragraph(element)] if tag == P else _row_cells(element, above)
                size = sum(map(len, parts)) + 3 * len(parts)
                if chars + size > MAX_TEXT_CHARS:
                    cut = f"has more than {MAX_TEXT_CHARS:,} characters of text"
                chars += size
            if cut:
                self.warnings.append(f"{self.name} {cut}; only the text before that was read, the rest of the "
                                     "document was cut")
                break
            if not block:
                continue  # inside a block, or read with the table row that holds it (text boxes: not at all)
            if tag == P:
                if parts[0]:
                    yield parts[0]
            elif tag == TR:
                if any(parts):
                    rows.append(" | ".join(parts))
            else:  # the end of a table
                if rows:
                    yield "\n".join(rows)
                rows, above = [], {}
            _drop(element)
            held = 0
        if rows:  # a table cut by a limit
            yield "\n".join(rows)

    @staticmethod
    def _over_limit(blocks: int, elements: int, held: int) -> str:
        if blocks > MAX_BLOCKS:
            return f"has more than {MAX_BLOCKS:,} paragraphs and table rows"
        if elements > MAX_ELEMENTS:
            return f"has more than {MAX_ELEMENTS:,} XML elements"
        if held > MAX_HELD:
            return f"has a paragraph, table row or text box of more than {MAX_HELD:,} XML elements"
        return ""

    def _paragraph(self, p: Any) -> str:
        text = paragraph_text(p).strip()
        if not text:
            return ""
        style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
        name = self.styles.get(style.get(_w("val"), "") if style is not None else "", self.styles.get("", ""))
        if name == "title":
            return f"# {text}"
        heading = _HEADING.match(name)
        return f"{'#' * int(heading[1])} {text}" if heading else text


def _at_body_level(element: Any) -> bool:
    """Not inside a table cell or a text box (those are read with their row; text boxes not at all)."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag in (TC, TXBX):
            return False
        parent = parent.getparent()
    return True


def _drop(element: Any) -> None:
    """Free an element once read, with the siblings before it (the tree never holds more than one block)."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def paragraph_text(p: Any) -> str:
    """A paragraph's visible text: its runs, also inside hyperlinks, insertions, fields and content controls.

    Text boxes (paragraphs inside a run's drawing) and deleted text are not part of it.
    """
    out: list[str] = []
    stack = list(reversed(p))
    while stack:
        node = stack.pop()
        tag = node.tag  # entity references and comments have a function as their tag: they match nothing here
        if tag == T:
            out.append(plain_text(node))
        elif tag in (TAB, PTAB):
            out.append("\t")
        elif tag == BR:
            out.append("\n" if node.get(_w("type"), "textWrapping") == "textWrapping" else "")
        elif tag == CR:
            out.append("\n")
        elif tag == HYPHEN:
            out.append("-")
        elif tag in _RUN_CONTAINERS:
            stack.extend(reversed(node))
    return "".join(out)


def _cell_paragraphs(tc: Any) -> Iterator[Any]:
    """The paragraphs of a cell, nested tables' included, text boxes' not."""
    for p in tc.iter(P):
        if not any(a.tag == TXBX for a in p.iterancestors()):
            yield p


def _row_cells(tr: Any, above: dict[int, str]) -> list[str]:
    """A row's cell texts, one per grid column a cell spans; a vertically merged cell repeats the one above it."""
    cells: list[str] = []
    column = _int_val(tr.find(f"{_w('trPr')}/{_w('gridBefore')}"), 0)
    for tc in tr.iterchildren(TC):
        props = tc.find(_w("tcPr"))
        span = max(1, min(_MAX_COLUMNS - column, _int_val(props.find(_w("gridSpan")) if props is not None else None, 1)))
        merge = props.find(_w("vMerge")) if props is not None else None
        if merge is not None and merge.get(_w("val"), "continue") == "continue":
            text = above.get(column, "")
        else:
            text = " ".join("\n".join(paragraph_text(p) for p in _cell_paragraphs(tc)).split())
            for c in range(column, column + span):
                above[c] = text
        cells.extend([text] * span)
        column += span
    return cells


def _int_val(element: Any, default: int) -> int:
    if element is None:
        return default
    try:
        return int(element.get(_w("val"), default))
    except ValueError:
        return default
