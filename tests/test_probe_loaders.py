"""What the adversarial probe found in the loaders: running lines, nested PDFs, entities, DTDs, zip bombs."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, write_pdf

from ingest import word, zipparts
from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from ingest.markup import strip_doctypes
from ingest.pdf import MAX_PDF_NESTING, drop_running_lines, pdf_nesting
from rag.config import Settings
from rag.errors import IngestError
from rag.types import LoadedDocument

BODIES = ["Revenue rose 38% to RMB 2.36 billion.", "Net loss narrowed to RMB 413 million.",
          "R&D spending was RMB 1.12 billion.", "Eleven products are on the market.",
          "Cash and equivalents were RMB 5.1 billion.", "Fourteen programmes are in clinical trials."]


def load(data: bytes, name: str) -> LoadedDocument:
    return load_document(data, source=name, file_name=name)


def load_error(data: bytes, name: str) -> str:
    with pytest.raises(IngestError) as info:
        load(data, name)
    return str(info.value)


def pdf_pages(tmp_path: Path, pages: list[list[str]]) -> list[str]:
    return [p.text for p in load(write_pdf(tmp_path / "doc.pdf", pages).read_bytes(), "doc.pdf").pages]


# -- running headers and footers -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_pages_that_are_one_shared_line_keep_it(tmp_path: Path, n: int) -> None:
    # Removing the line as a running header emptied every page, and the PDF was refused as a scan.
    assert pdf_pages(tmp_path, [["Same line on every page."]] * n) == ["Same line on every page."] * n


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_first_line_shared_by_few_pages_is_content(tmp_path: Path, n: int) -> None:
    pages = [["Hengrui quarterly report", body] for body in BODIES[:n]]
    assert pdf_pages(tmp_path, pages) == [f"Hengrui quarterly report\n{body}" for body in BODIES[:n]]


def test_a_running_header_and_page_footer_over_six_pages_are_removed(tmp_path: Path) -> None:
    pages = [["Hengrui Pharma - Annual Report 2025", body, BODIES[-i], f"Page {i} of 6"]
             for i, body in enumerate(BODIES, 1)]
    assert pdf_pages(tmp_path, pages) == [f"{body}\n{BODIES[-i]}" for i, body in enumerate(BODIES, 1)]


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("footer", ["Page {i} of {n}", "- {i} -", "Annual Report 2025 - {i}", "第 {i} 页 共 {n} 页"])
def test_a_page_number_footer_is_removed_on_few_pages(tmp_path: Path, n: int, footer: str) -> None:
    pages = [[body, footer.format(i=i, n=n)] for i, body in enumerate(BODIES[:n], 1)]
    font = "STSong-Light" if "页" in footer else "Helvetica"
    path = write_pdf(tmp_path / "doc.pdf", pages, font=font)
    assert [p.text for p in load(path.read_bytes(), "doc.pdf").pages] == BODIES[:n]


def test_a_page_holding_only_its_running_lines_keeps_them(tmp_path: Path) -> None:
    pages = [["Hengrui Pharma - Annual Report 2025", body, f"Page {i} of 6"] for i, body in enumerate(BODIES, 1)]
    pages[3] = ["Hengrui Pharma - Annual Report 2025", "Page 4 of 6"]  # a page left blank but for its running lines
    assert pdf_pages(tmp_path, pages) == [
        *BODIES[:3], "Hengrui Pharma - Annual Report 2025\nPage 4 of 6", *BODIES[4:]]


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        # Numbered headings at the top of pages do not follow the page number: content.
        ([f"Note {2 * i + 1} Revenue\n{b}" for i, b in enumerate(BODIES)], None),
        # Numbers that follow the page with another, fixed number beside them: a running line.
        ([f"{b}\nSection A, page {i + 10} of 99" for i, b in enumerate(BODIES)], BODIES),
        # A fixed number that changes once is no page number.
        ([f"{b}\nPage {i + 1} of {9 if i < 3 else 8}" for i, b in enumerate(BODIES)], None),
        # Recurring on fewer than half the pages: content.
        ([("Risk factors\n" if i < 2 else "") + b for i, b in enumerate(BODIES)], None),
        # Word for word on every one of five pages: a running header.
        ([f"CONFIDENTIAL DRAFT\n{b}" for b in BODIES[:5]], BODIES[:5]),
        # Blank pages are no evidence either way and stay blank.
        (["", "Same line", "", "Same line"], None),
        # A table row is never a running line.
        ([f"Item | 2025 | 2024\n{b}" for b in BODIES], None),
    ],
)
def test_drop_running_lines_layouts(pages: list[str], expected: list[str] | None) -> None:
    assert drop_running_lines(pages) == (pages if expected is None else expected)


def _image_only_pdf(path: Path, n_pages: int, text_pages: dict[int, list[str]] | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for i in range(1, n_pages + 1):
        for line_no, line in enumerate((text_pages or {}).get(i, [])):
            c.drawString(60, 800 - 16 * line_no, line)
        c.rect(50, 300, 200, 200, fill=1)
        c.showPage()
    c.save()
    return path.read_bytes()


@pytest.mark.parametrize("n", [1, 2, 3])
def test_only_a_pdf_without_any_text_is_called_a_scan(tmp_path: Path, n: int) -> None:
    assert load_error(_image_only_pdf(tmp_path / "scan.pdf", n), "scan.pdf") == (
        f"PDF has no text layer on any of its {n} page(s) (a scanned image?); run OCR on it first")


def test_scanned_pages_beside_pages_of_one_shared_line(tmp_path: Path) -> None:
    data = _image_only_pdf(tmp_path / "mixed.pdf", 3, {2: ["Same line"], 3: ["Same line"]})
    doc = load(data, "mixed.pdf")
    assert [(p.number, p.text) for p in doc.pages] == [(2, "Same line"), (3, "Same line")]
    assert doc.warnings == ("no text layer on page(s) 1 (scanned?); those pages are skipped",)


# -- deeply nested PDF objects -------------------------------------------------------------------------------
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 12 Tf 72 720 Td (Hello nested world) Tj ET"


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _raw_pdf(objects: list[bytes], *, version: bytes = b"1.4") -> bytes:
    """A PDF of objects 1..n (1 is the catalog) with a classic cross-reference table."""
    out = bytearray(b"%PDF-" + version + b"\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _page_objects(*, page_extra: bytes = b"", resources_extra: bytes = b"", catalog_extra: bytes = b"",
                  content: bytes = _TEXT) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> " + resources_extra + b" >> " + page_extra + b" >>",
        _stream(content),
        _FONT,
    ]


def _object_stream_pdf(page_extra: bytes) -> tuple[bytes, bytes]:
    """Catalog, page tree and page compressed in an object stream (PDF 1.5, cross-reference stream).

    Returns the PDF and the decoded object stream (the offsets of a refusal are counted in it).
    """
    inner = _page_objects(page_extra=page_extra)[:3]
    header, body = b"", b""
    for number, obj in enumerate(inner, 1):
        header += b"%d %d " % (number, len(body))
        body += obj + b"\n"
    decoded = header + body
    packed = zlib.compress(decoded)
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}
    for number, obj in ((4, _stream(_TEXT)), (5, _FONT),
                        (6, _stream(packed, b" /Type /ObjStm /N 3 /First %d /Filter /FlateDecode" % len(header)))):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00" + struct.pack(">IH", 0, 0xFFFF)]
    rows += [b"\x02" + struct.pack(">IH", 6, i) for i in range(3)]  # objects 1-3 in stream 6
    rows += [b"\x01" + struct.pack(">IH", offsets[n], 0) for n in (4, 5, 6)] + [b"\x01" + struct.pack(">IH", xref_at, 0)]
    table = zlib.compress(b"".join(rows))
    out += (b"7 0 obj\n" + _stream(table, b" /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode")
            + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at)
    return bytes(out), decoded


def _arrays(depth: int) -> bytes:
    return b"/Deep " + b"[" * depth + b"]" * depth


def _dicts(depth: int) -> bytes:
    return b"/Deep " + b"<< /A " * depth + b"1 " + b">> " * depth


NESTED: dict[str, Callable[[int], bytes]] = {
    "page array": lambda d: _raw_pdf(_page_objects(page_extra=_arrays(d))),
    "page dictionary": lambda d: _raw_pdf(_page_objects(page_extra=_dicts(d))),
    "resources array": lambda d: _raw_pdf(_page_objects(resources_extra=b"/ProcSet " + _arrays(d)[6:])),
    "catalog array": lambda d: _raw_pdf(_page_objects(catalog_extra=_arrays(d))),
    "catalog dictionary": lambda d: _raw_pdf(_page_objects(catalog_extra=_dicts(d))),
    "object stream array": lambda d: _object_stream_pdf(_arrays(d))[0],
    "object stream dictionary": lambda d: _object_stream_pdf(_dicts(d))[0],
}


# Levels the nest sits in (the catalog's or page's dictionary, and Resources for the resources array).
OUTER = {kind: 2 if kind.startswith("resources") else 1 for kind in NESTED}


def _refusal_offset(kind: str, depth: int) -> tuple[int, str]:
    """Where the scan must report the first level past the limit: (byte offset, ' of object stream N' or '')."""
    opener, nest = (b"<< /A ", _dicts(depth)) if "dictionary" in kind else (b"[", _arrays(depth))
    if kind.startswith("resources"):
        nest = nest[6:]
    start = 0 if kind.startswith("resources") else 6  # after "/Deep "
    levels = MAX_PDF_NESTING - OUTER[kind]  # of the nest, before the one past the limit
    if kind.startswith("object stream"):
        decoded = _object_stream_pdf(nest)[1]
        return decoded.index(nest) + start + levels * len(opener), " of object stream 6"
    return NESTED[kind](depth).index(nest) + start + levels * len(opener), ""


@pytest.mark.parametrize("over", [1, 500, 5000])
@pytest.mark.parametrize("kind", sorted(NESTED))
def test_deeply_nested_pdf_objects_are_unreadable_not_scans(kind: str, over: int) -> None:
    depth = MAX_PDF_NESTING - OUTER[kind] + over
    offset, where = _refusal_offset(kind, depth)
    assert load_error(NESTED[kind](depth), "deep.pdf") == (
        f"corrupt or unreadable PDF: arrays or dictionaries nested more than {MAX_PDF_NESTING} levels deep "
        f"(at byte {offset}{where}); a real PDF nests a few levels, and PDF readers cannot read parts this deep")


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_nesting_within_the_limit_still_loads(kind: str) -> None:
    doc = load(NESTED[kind](MAX_PDF_NESTING - OUTER[kind]), "nested.pdf")
    assert [(p.number, p.text) for p in doc.pages] == [(1, "Hello nested world")]


def test_a_content_stream_nested_too_deep_is_still_read_by_position() -> None:
    # pypdf's text stream gives up on this page (RecursionError); pdfium, which reads pages by position, does not
    content = b"[" * 3000 + b"]" * 3000 + b" pop " + _TEXT
    doc = load(_raw_pdf(_page_objects(content=content)), "deep.pdf")
    assert [(p.number, p.text) for p in doc.pages] == [(1, "Hello nested world")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"[ (a string [[[[ with brackets) ]", (1, 0)),
        (b"[ (nested (parens [[[) and \\) escapes [[) ]", (1, 0)),
        (b"% a comment [[[[[[\n[[ ]]", (2, 20)),
        (b"<< /Length 8 >>\nstream\n[[[[[[[[\nendstream\n[", (1, 0)),
        (b"]]]]] [[", (2, 7)),  # stray closers do not hide what follows
    ],
)
def test_pdf_nesting_scan_skips_strings_comments_and_streams(data: bytes, expected: tuple[int, int]) -> None:
    assert pdf_nesting(data) == expected


def test_a_run_survives_nested_pdfs_beside_good_files(tmp_path: Path, make_ingestor: Callable[..., Ingestor]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for kind, build in NESTED.items():
        (folder / f"{kind.replace(' ', '-')}.pdf").write_bytes(build(5000))
    (folder / "content-stream.pdf").write_bytes(
        _raw_pdf(_page_objects(content=b"[" * 3000 + b"]" * 3000 + b" pop " + _TEXT)))
    write_pdf(folder / "good.pdf", [["Hengrui revenue was RMB 23.57 billion."], ["Second page text."]])
    (folder / "good.md").write_text("# Note\n\nAkeso signed a deal worth US$500 million.\n", encoding="utf-8")
    report = make_ingestor(Settings(index=tmp_path / "index")).run([folder])
    # the deep content stream is read by position (pdfium), which pypdf's text stream could not
    assert sorted(Path(name).name for name in report.added) == ["content-stream.pdf", "good.md", "good.pdf"]
    failed = {Path(name).name: reason for name, reason in report.failed}
    assert sorted(failed) == sorted(f"{k.replace(' ', '-')}.pdf" for k in NESTED)
    for name, reason in failed.items():
        assert reason.startswith("corrupt or unreadable PDF: arrays"), (name, reason)


# -- entities and DTDs ---------------------------------------------------------------------------------------
def _docx(paragraphs: list[str] | None = None, *, heading: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs if paragraphs is not None else ["MARKER"]:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _replace_part(data: bytes, name: str, edit: Callable[[bytes], bytes], *,
                  compress_type: int = zipfile.ZIP_DEFLATED) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == name:
                z.writestr(info.filename, edit(part), compress_type=compress_type)
            else:
                z.writestr(info.filename, part)
    return out.getvalue()


def _with_dtd(xml: bytes, subset: bytes) -> bytes:
    declaration_end = xml.index(b"?>") + 2
    return xml[:declaration_end] + b"<!DOCTYPE w:document [" + subset + b"]>" + xml[declaration_end:]


LAUGHS = b'<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("XXESECRET-do-not-index", encoding="utf-8")
    (tmp_path / "evil.dtd").write_text('<!ENTITY xxe "XXESECRET-from-dtd">', encoding="utf-8")
    return path


def _entity_cases(secret: Path) -> dict[str, tuple[bytes, str]]:
    """Name -> (DTD internal subset or b'' for none, entity used in the text)."""
    return {
        "undeclared": (b"", "&xxe;"),
        "internal": (b'<!ENTITY xxe "INNER-TEXT">', "&xxe;"),
        "external file": (b'<!ENTITY xxe SYSTEM "%s">' % secret.as_uri().encode(), "&xxe;"),
        "external dtd": (b'<!ENTITY %% dtd SYSTEM "%s"> %%dtd;' % (secret.parent / "evil.dtd").as_uri().encode(),
                         "&xxe;"),
        "network": (b'<!ENTITY xxe SYSTEM "http://127.0.0.1:9/xxe">', "&xxe;"),
        "billion laughs": (LAUGHS, "&lol9;"),
    }


@pytest.mark.parametrize("case", ["undeclared", "internal", "external file", "external dtd", "network",
                                  "billion laughs"])
@pytest.mark.parametrize("where", ["paragraph", "heading", "table cell"])
def test_docx_entities_are_not_expanded_and_the_text_around_them_is_kept(
    secret_file: Path, case: str, where: str
) -> None:
    import docx

    subset, reference = _entity_cases(secret_file)[case]
    document = docx.Document()
    if where == "heading":
        document.add_heading("START-MARKER-END", level=1)
    elif where == "table cell":
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Revenue", "START-MARKER-END"
    else:
        document.add_paragraph("START-MARKER-END")
    buf = io.BytesIO()
    document.save(buf)

    def edit(xml: bytes) -> bytes:
        xml = xml.replace(b"-MARKER-", reference.encode())
        return _with_dtd(xml, subset) if subset else xml

    doc = load(_replace_part(buf.getvalue(), "word/document.xml", edit), "entities.docx")
    expected = {"paragraph": "STARTEND", "heading": "# STARTEND", "table cell": "Revenue | STARTEND"}[where]
    assert doc.pages[0].text == expected
    for leaked in ("XXESECRET", "INNER-TEXT", "lol"):
        assert leaked not in doc.pages[0].text and leaked not in doc.meta.title
    if case == "undeclared":
        assert doc.warnings == (
            "word/document.xml is not well-formed XML (Entity 'xxe' not defined, line 2, column "
            f"{_column_of(buf.getvalue(), reference)}); read what could be recovered, some text may be missing",)
    else:
        assert doc.warnings == (DTD_WARNING.format(part="word/document.xml"),)


DTD_WARNING = ("{part} declares a DTD, which Word files may not; it was ignored, its entities were not expanded "
               "and the references to them were left out")


def _column_of(data: bytes, reference: str) -> int:
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").replace(b"-MARKER-", reference.encode())
    line = xml.split(b"\n")[1]
    return line.index(reference.encode()) + len(reference) + 1  # libxml2 counts from 1


def test_docx_title_with_an_entity_keeps_its_text(secret_file: Path) -> None:
    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb"<dc:title>.*?</dc:title>|<dc:title/>", b"", xml)
        xml = xml.replace(b"</cp:coreProperties>", b"<dc:title>Hengrui &xxe;results</dc:title></cp:coreProperties>")
        return _with_dtd(xml, b'<!ENTITY xxe SYSTEM "%s">' % secret_file.as_uri().encode()).replace(
            b"w:document", b"cp:coreProperties", 1)

    doc = load(_replace_part(_docx(["Body text."]), "docProps/core.xml", edit), "titled.docx")
    assert doc.meta.title == "Hengrui results"
    assert doc.warnings == (DTD_WARNING.format(part="docProps/core.xml"),)


@pytest.mark.parametrize("part", ["word/styles.xml", "docProps/core.xml"])
def test_a_broken_styles_or_properties_part_costs_only_what_it_holds(part: str) -> None:
    def cut(xml: bytes) -> bytes:  # the root element's start tag, then an unclosed element
        return xml[: xml.index(b">", xml.index(b"<", xml.index(b"?>"))) + 1] + b"<dc:title>Broken"

    data = _replace_part(_docx(["Body text."], heading="Pipeline"), part, cut)
    doc = load(data, "half.docx")
    assert doc.pages[0].text == ("Pipeline\n\nBody text." if part == "word/styles.xml" else "# Pipeline\n\nBody text.")
    assert len(doc.warnings) == 1
    what = "headings were read as plain paragraphs" if part == "word/styles.xml" else "the document's title was not read from it"
    assert re.fullmatch(rf"{re.escape(part)} is not well-formed XML \(.+\); {what}", doc.warnings[0])


def test_docx_broken_beyond_recovery_is_refused() -> None:
    message = load_error(_replace_part(_docx(), "word/document.xml", lambda xml: xml[:200]), "cut.docx")
    assert message.startswith("not a valid Word .docx file (word/document.xml is not well-formed XML: ")


HTML_BODY = "<html><head><title>Deal news</title></head><body><p>Akeso signed a deal.</p></body></html>"


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE html [<!ENTITY x "a]b>c"> <!ENTITY y \'q">]\'>]>',  # ']' and '>' inside quoted values
        '<!doctype HTML [ <!-- a comment with ]> inside --> <!ENTITY z "v"> ]  >',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 [x]//EN" "http://www.w3.org/TR/x.dtd" [<!ENTITY a "b">]>',
        '<!DOCTYPEhtml[<!ENTITY a "b">]>',
        '\ufeff\n  <!DOCTYPE html [\n<!ENTITY a "b">\n]>\n',
    ],
)
def test_an_html_internal_dtd_subset_never_becomes_text(doctype: str) -> None:
    doc = load((doctype + HTML_BODY).encode("utf-8"), "page.html")
    assert (doc.meta.title, doc.pages[0].text) == ("Deal news", "Akeso signed a deal.")


def test_an_html_page_without_title_does_not_take_the_subset_as_title() -> None:
    page = '<!DOCTYPE html [<!ENTITY a "b">]><html><body><p>Akeso signed a deal &a; today.</p></body></html>'
    doc = load(page.encode(), "page.html")
    # The entity is not expanded: the HTML parser keeps an unknown reference as it is written, like a browser.
    assert (doc.meta.title, doc.pages[0].text) == ("Akeso signed a deal &a; today.", "Akeso signed a deal &a; today.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html><p>x</p>", "<!DOCTYPE html><p>x</p>"),  # no subset: left to the parser
        ("<!DOCTYPE html [ never closed <p>x</p>", "<!DOCTYPE html [ never closed <p>x</p>"),
        ('<p>a</p><!DOCTYPE x [<!ENTITY a "]">]><p>b</p>', "<p>a</p><p>b</p>"),
        ("<!DOCTYPE a [<!ENTITY a 'x'>]><!DOCTYPE b [<!ENTITY b 'y'>]>z", "z"),
        ("<!DOCTYPE html [<!ENTITY a 'x'>] junk><p>x</p>", "<!DOCTYPE html [<!ENTITY a 'x'>] junk><p>x</p>"),
    ],
)
def test_strip_doctypes(text: str, expected: str) -> None:
    assert strip_doctypes(text) == expected


# -- DOCX: zip bombs and huge documents -------------------------------------------------------------------------
_DOC_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
             b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOC_TAIL = b"</w:body></w:document>"


def _docx_streaming(body: Callable[[], object], *, level: int = 6) -> bytes:
    """A real .docx whose word/document.xml is written block by block (never held inflated in memory)."""
    source = zipfile.ZipFile(io.BytesIO(_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                with z.open("word/document.xml", "w", force_zip64=True) as f:
                    f.write(_DOC_HEAD)
                    for block in body():  # type: ignore[attr-defined]
                        f.write(block)
                    f.write(_DOC_TAIL)
            else:
                z.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def _set_directory_size(data: bytes, name: str, size: int) -> bytes:
    """Make the zip's central directory claim ``size`` inflated bytes for ``name`` (the local header is left)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    at = 0
    while True:  # find the central directory record of ``name``
        at = data.index(b"PK\x01\x02", at)
        name_len = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + name_len] == name.encode():
            break
        at += 4
    if info.file_size >= 0xFFFFFFFF or size >= 0xFFFFFFFF:
        raise ValueError("zip64 sizes are not patched here")
    return data[:at + 24] + struct.pack("<I", size) + data[at + 28:]


def _spaces(mib: int) -> Callable[[], object]:
    """The shape of a zip bomb: a paragraph, then white space that inflates ~1000 times (no element to count)."""
    block = b"<w:p><w:r><w:t>Bomb.</w:t></w:r></w:p>" + b" " * (1 << 20)
    return lambda: (block for _ in range(mib))


@pytest.mark.parametrize("claimed", [129 * 1024 * 1024, 1 << 30, 3 << 30])
def test_a_part_the_directory_says_is_too_big_is_refused_before_inflating(claimed: int) -> None:
    data = _set_directory_size(_docx(["Body."]), "word/document.xml", min(claimed, 0xFFFFFFFE))
    size = min(claimed, 0xFFFFFFFE)
    shown = f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size / (1 << 20):.1f} MiB"
    assert load_error(data, "bomb.docx") == (
        f"word/document.xml inflates to {shown}, over the limit of 128.0 MiB for this part of a Word file "
        "(a zip bomb?)")


def test_a_ratio_the_directory_shows_is_refused_before_inflating() -> None:
    data = _docx_streaming(_spaces(20), level=9)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    assert info.file_size > zipparts.RATIO_GRACE_BYTES and info.file_size > zipparts.MAX_RATIO * info.compress_size
    assert load_error(data, "bomb.docx") == (
        f"word/document.xml inflates {info.file_size / info.compress_size:.0f} times "
        f"({zipparts.size_text(info.compress_size)} to {zipparts.size_text(info.file_size)}), over the limit of "
        f"{zipparts.MAX_RATIO} times for a Word file (a zip bomb?)")


def test_a_directory_that_lies_about_the_size_does_not_hide_a_bomb() -> None:
    data = _set_directory_size(_docx_streaming(_spaces(20), level=9), "word/document.xml", 4096)
    message = load_error(data, "liar.docx")
    assert re.fullmatch(
        rf"word/document\.xml inflates more than {zipparts.MAX_RATIO} times \([\d.]+ KiB to over 16\.\d MiB; its zip "
        r"directory says 4\.0 KiB\), over the limit for a Word file \(a zip bomb\?\)", message), message


@pytest.mark.parametrize("stored", [False, True])
def test_a_part_past_the_size_limit_is_caught_while_reading(monkeypatch: pytest.MonkeyPatch, stored: bool) -> None:
    # Text that compresses ~2:1 (no ratio alarm) and a directory that claims 4 KiB: only the size stops it.
    import random

    rng = random.Random(12)
    words = [f"w{rng.randrange(10**6)}" for _ in range(50_000)]
    paragraph = ("<w:p><w:r><w:t>" + " ".join(words) + "</w:t></w:r></w:p>").encode()
    monkeypatch.setattr(zipparts, "MAX_PART_BYTES", 1 << 20)
    if stored:
        xml = _DOC_HEAD + paragraph * 3 + _DOC_TAIL
        data = _replace_part(_docx(), "word/document.xml", lambda _: xml, compress_type=zipfile.ZIP_STORED)
    else:
        data = _docx_streaming(lambda: [paragraph] * 3)
    data = _set_directory_size(data, "word/document.xml", 4096)
    assert load_error(data, "liar.docx") == (
        "word/document.xml holds more than 1.0 MiB (its zip directory says 4.0 KiB), over the limit for this part "
        "of a Word file" if stored else
        "word/document.xml inflates to more than 1.0 MiB (its zip directory says 4.0 KiB), over the limit for this "
        "part of a Word file (a zip bomb?)")


def test_a_huge_grid_span_repeats_a_cell_no_further_than_the_last_column() -> None:
    row = (b'<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="100000000"/></w:tcPr><w:p><w:r><w:t>Wide</w:t></w:r>'
           b"</w:p></w:tc><w:tc><w:p><w:r><w:t>Next</w:t></w:r></w:p></w:tc></w:tr></w:tbl>")
    doc = load(_docx_streaming(lambda: [row]), "wide.docx")
    assert doc.pages[0].text == " | ".join(["Wide"] * 63 + ["Next"])


def test_text_past_the_character_limit_is_cut_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word, "MAX_TEXT_CHARS", 100)
    doc = load(_docx([f"Paragraph {i:02d}." for i in range(1, 21)]), "long.docx")
    # Each paragraph counts its 13 characters and 3 for the separator: 6 fit in 100.
    assert doc.pages[0].text == "\n\n".join(f"Paragraph {i:02d}." for i in range(1, 7))
    assert doc.warnings == ("word/document.xml has more than 100 characters of text; only the text before that was "
                            "read, the rest of the document was cut",)


def test_a_dtd_longer_than_a_read_block_is_cut_out_whole() -> None:
    subset = b"".join(b'<!ENTITY e%d "%s">' % (i, b"]>" * 20) for i in range(3000))  # ~150 KB
    doc = load(_replace_part(_docx(["START-MARKER-END"]), "word/document.xml",
                             lambda xml: _with_dtd(xml.replace(b"-MARKER-", b"&e7;"), subset)), "long-dtd.docx")
    assert doc.pages[0].text == "STARTEND"
    assert doc.warnings == (DTD_WARNING.format(part="word/document.xml"),)


def test_a_prolog_over_its_limit_is_refused() -> None:
    def edit(xml: bytes) -> bytes:
        head = xml.index(b"?>") + 2
        return xml[:head] + b"<!--" + b"x" * (2 << 20) + b"-->" + xml[head:]

    assert load_error(_replace_part(_docx(), "word/document.xml", edit), "prolog.docx") == (
        "not a valid Word .docx file: the XML prolog of word/document.xml (before its first element) is over 1.0 MiB")


@pytest.mark.parametrize("part", ["word/styles.xml", "_rels/.rels", "docProps/core.xml"])
def test_small_parts_have_a_small_limit(part: str) -> None:
    data = _set_directory_size(_docx(["Body."]), part, 9 * 1024 * 1024)
    assert load_error(data, "bomb.docx") == (
        f"{part} inflates to 9.0 MiB, over the limit of 8.0 MiB for this part of a Word file (a zip bomb?)")


def test_a_part_whose_crc_does_not_match_is_refused() -> None:
    data = _docx(["Body."])
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    broken = data.replace(struct.pack("<I", info.CRC), struct.pack("<I", info.CRC ^ 1))
    assert load_error(broken, "crc.docx") == (
        "not a valid Word .docx file: word/document.xml is damaged (its CRC-32 does not match)")


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_paragraphs_past_the_limit_are_cut_with_a_warning(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(word, "MAX_BLOCKS", limit)
    doc = load(_docx([f"Paragraph {i}." for i in range(1, 21)]), "long.docx")
    assert doc.pages[0].text == "\n\n".join(f"Paragraph {i}." for i in range(1, limit + 1))
    assert doc.warnings == (f"word/document.xml has more than {limit:,} paragraphs and table rows; only the text "
                            "before that was read, the rest of the document was cut",)


def test_exactly_the_limit_of_paragraphs_is_no_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word, "MAX_BLOCKS", 20)
    doc = load(_docx([f"Paragraph {i}." for i in range(1, 21)]), "long.docx")
    assert doc.pages[0].text.endswith("Paragraph 20.") and doc.warnings == ()


def test_elements_past_the_limits_are_cut_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = b"<w:p>" + b"<w:r><w:t>a</w:t></w:r>" * 50 + b"</w:p>"
    data = _docx_streaming(lambda: [b"<w:p><w:r><w:t>First.</w:t></w:r></w:p>", runs, runs])
    monkeypatch.setattr(word, "MAX_HELD", 60)
    doc = load(data, "runs.docx")
    assert doc.pages[0].text == "First."
    assert doc.warnings == ("word/document.xml has a paragraph, table row or text box of more than 60 XML "
                            "elements; only the text before that was read, the rest of the document was cut",)
    monkeypatch.setattr(word, "MAX_HELD", 10**6)
    monkeypatch.setattr(word, "MAX_ELEMENTS", 160)  # the second paragraph ends at element 154
    doc = load(data, "runs.docx")
    assert doc.pages[0].text == "First.\n\n" + "a" * 50
    assert doc.warnings == ("word/document.xml has more than 160 XML elements; only the text before that was "
                            "read, the rest of the document was cut",)


def test_half_a_million_paragraphs_in_a_small_file_are_cut_at_the_limit(tmp_path: Path) -> None:
    # The probe's file: 89 KB, 500,000 paragraphs; python-docx took over 300 s and 1.5 GB. Run in a child
    # process with a generous hang guard; what is asserted is what was kept and said.
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n"
        "from ingest.loaders import load_document\n"
        "from test_probe_loaders import _docx_streaming\n"
        "para = b'<w:p><w:r><w:t>x</w:t></w:r></w:p>'\n"
        "data = _docx_streaming(lambda: [para * 1000] * 500, level=9)\n"
        "doc = load_document(data, source='big.docx', file_name='big.docx')\n"
        "print(len(data), doc.pages[0].text.count('x'), *doc.warnings, sep='\\n')\n",
        encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    size, kept, *warnings = run.stdout.splitlines()
    assert int(size) < 100_000
    assert int(kept) == word.MAX_BLOCKS
    assert warnings == [f"word/document.xml has more than {word.MAX_BLOCKS:,} paragraphs and table rows; only the "
                        "text before that was read, the rest of the document was cut"]


# -- DOCX: the text is what python-docx reads (and a little more) -----------------------------------------------
def test_docx_tables_read_like_python_docx_with_merged_cells() -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=4, cols=4)
    for r in range(4):
        for c in range(4):
            table.cell(r, c).text = f"r{r}c{c}"
    table.cell(0, 0).merge(table.cell(0, 2))  # a header spanning three columns
    table.cell(1, 3).merge(table.cell(3, 3))  # a column merged down three rows
    inner = table.cell(2, 1).add_table(rows=1, cols=2)  # a table inside a cell
    inner.cell(0, 0).text, inner.cell(0, 1).text = "in1", "in2"
    buf = io.BytesIO()
    document.save(buf)
    reread = docx.Document(io.BytesIO(buf.getvalue())).tables[0]
    oracle = [" | ".join(" ".join(c.text.split()) for c in row.cells) for row in reread.rows]
    got = load(buf.getvalue(), "merged.docx").pages[0].text.split("\n")
    assert got[0] == oracle[0] == "r0c0 r0c1 r0c2 | r0c0 r0c1 r0c2 | r0c0 r0c1 r0c2 | r0c3"
    assert got[1] == oracle[1] == "r1c0 | r1c1 | r1c2 | r1c3 r2c3 r3c3"
    assert got[3] == oracle[3]
    # python-docx leaves out a nested table's text; it is kept here, after the cell's own text.
    assert oracle[2] == "r2c0 | r2c1 | r2c2 | r1c3 r2c3 r3c3"
    assert got[2] == "r2c0 | r2c1 in1 in2 | r2c2 | r1c3 r2c3 r3c3"


def test_docx_headings_title_style_breaks_and_hyperlinks() -> None:
    import docx
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    document = docx.Document()
    document.add_heading("Annual results", level=0)
    document.add_heading("Pipeline", level=2)
    para = document.add_paragraph("Line one")
    para.runs[0].add_break()
    para.add_run("line two\tafter a tab")
    link = OxmlElement("w:hyperlink")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = " (linked text)"
    text.set(qn("xml:space"), "preserve")
    run.append(text)
    link.append(run)
    para._p.append(link)
    buf = io.BytesIO()
    document.save(buf)
    expected = docx.Document(io.BytesIO(buf.getvalue())).paragraphs[2].text
    assert load(buf.getvalue(), "styled.docx").pages[0].text == (
        f"# Annual results\n\n## Pipeline\n\n{expected}")
    assert expected == "Line one\nline two\tafter a tab (linked text)"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda z: {n: b for n, b in z.items() if n not in ("_rels/.rels", "word/document.xml")},
         "not a valid Word .docx file: a ZIP archive without a Word document in it (no officeDocument "
         "relationship in _rels/.rels and no word/document.xml)"),
        (lambda z: {n: b for n, b in z.items() if n != "word/document.xml"},
         "not a valid Word .docx file: its main part word/document.xml is missing from the archive"),
        (lambda z: {**z, "word/document.xml": b'<?xml version="1.0"?><p:presentation xmlns:p="urn:x"/>'},
         "not a valid Word .docx file: its main part word/document.xml is not a Word document (its root element "
         "is '{urn:x}presentation')"),
    ],
)
def test_archives_that_are_not_word_documents(edit: Callable[[dict[str, bytes]], dict[str, bytes]],
                                              message: str) -> None:
    source = zipfile.ZipFile(io.BytesIO(_docx()))
    parts = edit({n: source.read(n) for n in source.namelist()})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, part in parts.items():
            z.writestr(name, part)
    assert load_error(out.getvalue(), "x.docx") == message
