"""A folder of hostile and broken files beside good ones, ingested for real: each file gets its exact outcome."""

from __future__ import annotations

import io
import os
import random
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, write_image_only_pdf, write_pdf

from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore
from rag.types import IngestReport

EN = (
    "Chinese drug makers signed 157 license-out deals in 2025, with a total deal value of $135.655 billion. "
    "Upfront payments reached $7 billion.\n"
)
ZH = "2025年中国创新药对外授权交易达到157笔，总金额为1356.55亿美元。首付款合计70亿美元。\n"
SECRET = "SCRIPTSECRET"  # must never reach the index
HUGE_MB = 5


@dataclass
class Corpus:
    folder: Path
    good: dict[str, list[str]] = field(default_factory=dict)  # file name -> warnings expected (exact)
    bad: dict[str, str] = field(default_factory=dict)  # file name -> reason (a regular expression, matched whole)
    skipped: dict[str, str] = field(default_factory=dict)  # file name -> reason (exact)

    def shown(self, name: str) -> str:
        """The file as reports show it (control characters escaped)."""
        escaped = "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in name)
        return f"{self.folder}/{escaped}"


def _pdf_bytes(tmp: Path, pages: list[list[str]]) -> bytes:
    return write_pdf(tmp, pages).read_bytes()


def _encrypted(pdf: bytes, user: str, owner: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _nested_pdf(depth: int) -> bytes:
    """A one-page PDF whose page dictionary holds arrays nested ``depth`` deep (pypdf dropped its resources)."""
    content = b"BT /F1 12 Tf 72 720 Td (Nested text) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources "
               b"<< /ProcSet " + b"[" * depth + b"]" * depth + b" /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _docx_parts(edit: dict[str, object]) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("MARKER")
    buf = io.BytesIO()
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in source.namelist():
            change = edit.get(name)
            z.writestr(name, change(source.read(name)) if callable(change) else source.read(name))
    return out.getvalue()


def _entity_docx(secret_uri: str) -> bytes:
    def edit(xml: bytes) -> bytes:
        head = xml.index(b"?>") + 2
        dtd = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "%s">]>' % secret_uri.encode()
        return xml[:head] + dtd + xml[head:].replace(b"MARKER", b"The entity file: Zai Lab&xxe; signed 9 deals.")

    return _docx_parts({"word/document.xml": edit})


def _bomb_docx() -> bytes:
    """A small .docx whose zip directory says word/document.xml inflates to 1 GiB."""
    data = _docx_parts({})
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_len] == b"word/document.xml":
            return data[:at + 24] + (1 << 30).to_bytes(4, "little") + data[at + 28:]
        at += 4


def build_corpus(base: Path) -> Corpus:
    folder = base / "hostile"
    folder.mkdir()
    outside = base / "outside"
    outside.mkdir()
    c = Corpus(folder)
    rng = random.Random(20260113)

    def good(name: str, data: bytes | str, *warnings: str) -> None:
        (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        c.good[name] = list(warnings)

    def bad(name: str, data: bytes | str, reason: str) -> None:
        (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        c.bad[name] = reason

    # -- good files, English and Chinese ----------------------------------------------------------------------
    good("deals-2026-01-13.md", "---\ntitle: License-out deals\ndate: 2026-01-13\n---\n# Deals\n\n" + EN)
    good("创新药-对外授权.md", "# 对外授权\n\n" + ZH)
    good("notes en.txt", EN)
    good("中文笔记.txt", ZH)
    pdf = _pdf_bytes(base / "good.pdf", [["Hengrui revenue was RMB 23.57 billion in 2025."],
                                         ["Page two: 94 deals worth $51.9 billion in 2024."]])
    good("good-report.pdf", pdf)
    good("utf16-bom.txt", ZH.encode("utf-16"))
    good("gb18030.txt", ZH.encode("gb18030"))
    # -- PDFs: truncated, corrupt, encrypted, no text layer, one damaged page ---------------------------------
    bad("truncated.pdf", pdf[: len(pdf) // 2],
        r"corrupt PDF: truncated, the file ends before its %%EOF marker \(an incomplete download or copy\?\): "
        r"PdfStreamError: Stream has ended unexpectedly")
    bad("corrupt-xref.pdf", pdf.replace(b"xref", b"xxxx"), r"corrupt PDF: PdfReadError: startxref not found")
    bad("encrypted.pdf", _encrypted(pdf, "secret", "owner"),
        re.escape("encrypted PDF: it needs a password; save a decrypted copy and ingest that"))
    good("owner-password-only.pdf", _encrypted(pdf, "", "owner"))  # opens without a password
    bad("scanned.pdf", write_image_only_pdf(base / "scan.pdf").read_bytes(),
        re.escape("PDF has no text layer on any of its 1 page(s) (a scanned image?); run OCR on it first"))
    damaged = bytearray(pdf)
    first_stream = pdf.index(b"stream") + 20
    for i in range(first_stream, first_stream + 40):
        damaged[i] ^= 0x5A
    good("damaged-page.pdf", bytes(damaged),
         "page 1: text could not be read, page skipped (damaged PDF? ValueError: Non-Ascii85 digit found: \\x1b)")
    # -- empty files and binary junk with text extensions -----------------------------------------------------
    for ext in (".pdf", ".txt", ".md", ".html", ".docx"):
        bad(f"empty{ext}", b"", re.escape("empty file (0 bytes)"))
    bad("blank.md", " \n\t\n", re.escape("empty file (only white space)"))
    junk = bytes(rng.randrange(256) for _ in range(4000))
    for ext in (".txt", ".md", ".html"):
        bad(f"junk{ext}", junk, re.escape("binary content (NUL bytes), not text"))
    bad("junk-without-nul.txt", junk.replace(b"\x00", b"\x01"),
        r"binary content \(\d+ control characters in the first \d+\), not text")
    bad("junk.docx", junk, re.escape("not a valid Word .docx file (File is not a zip file)"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "not a Word document")
    bad("zip-not-word.docx", archive.getvalue(),
        re.escape("not a valid Word .docx file: a ZIP archive without a Word document in it "
                  "(no officeDocument relationship in _rels/.rels and no word/document.xml)"))
    bad("junk.pdf", junk, re.escape("not a PDF: the file has no %PDF- header"))
    bad("undecodable.txt", b"Revenue \x81\x20\xff rose \xfe\xfe",
        r"undecodable text: neither UTF-8 \(bad byte at offset 8\) nor GB18030/GBK \(bad byte at offset 8\)")
    # -- HTML: deep nesting, scripts and styles ---------------------------------------------------------------
    depth = 20000
    good("deep-nesting.html",
         "<html><body>" + "<div>" * depth + "<p>Deeply nested: Akeso signed a deal worth US$500 million.</p>"
         + "</div>" * depth + "</body></html>")
    good("scripts.html",
         f"<html><head><title>Deal news</title><style>body {{color: red}} /* STYLE{SECRET} */</style>"
         f"<script>var s = '{SECRET}';</script></head><body><article><p>BeiGene reported revenue of "
         f"$3.8 billion.</p><script type='text/javascript'>document.write('{SECRET}2')</script>"
         f"<noscript>NO{SECRET}</noscript><p>Second paragraph about Akeso.</p></article></body></html>")
    bad("scripts-only.html", f"<html><body><script>var a = '{SECRET}';</script><style>p {{}}</style></body></html>",
        re.escape("no text in the HTML body (only scripts, navigation or markup)"))
    # -- a huge single line (over the size limit), a long line and a long run without spaces -----------------
    huge = ("Revenue grew 5 percent in 2025 and deals rose. " * (HUGE_MB * 1024 * 1024 // 47 + 1)).encode()
    bad("huge-line.txt", huge[: HUGE_MB * 1024 * 1024],
        re.escape(f"file is {HUGE_MB}.0 MB, over the limit of 1 MB (SECTORCHAT_MAX_FILE_MB)"))
    good("long-line.txt", ("Akeso signed a deal worth US$500 million with Summit in 2025. " * 120).strip())
    good("no-spaces.txt", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 120)
    # -- mixed encodings ---------------------------------------------------------------------------------------
    mixed = (EN * 19 + ZH).encode("utf-8") + "恒瑞医药2025年营业收入为315.6亿元。\n".encode("gbk") + b"Caf\xe9 in latin-1.\n"
    good("mixed-encodings.txt", mixed,
         "mixed encodings: 1 line(s) read as GB18030/GBK, the others as UTF-8",
         "1 byte(s) valid in neither UTF-8 nor GB18030/GBK replaced with '\ufffd' (line 22)")
    # -- Markdown with broken front matter ---------------------------------------------------------------------
    good("fm-unterminated.md", "---\ntitle: Never closed\n\n# Body\n\n" + EN,
         "front matter has no closing '---' line; ingested the whole file as text")
    good("fm-invalid-yaml.md", "---\ntitle: [unclosed\ndate: :\n---\n# Body\n\n" + EN,
         "broken front matter (line 3): expected ',' or ']', but got ':'; ingested the body without it")
    good("fm-list.md", "---\n- a\n- b\n---\n# Body\n\n" + EN,
         "front matter is a list, not key: value pairs; ignored it")
    good("fm-nonsense-date.md", "---\ntitle: Dates\ndate: 2025-13-45\n---\n# Body\n\n" + EN,
         "front matter date '2025-13-45' is not a date; inferred it instead")
    good("fm-word-date.md", "---\ntitle: Dates\ndate: yesterday\ncompany: [a, b]\n---\n# Body\n\n" + EN,
         "front matter field 'company' is a list, not text; ignored it",
         "front matter date 'yesterday' is not a date; inferred it instead")
    bad("fm-only.md", "---\ntitle: Nothing else\n---\n", re.escape("no text in the file: it holds only front matter"))
    # -- what the adversarial probe found (tests/test_probe_loaders.py covers each class) ----------------------
    good("one-line-pages.pdf", _pdf_bytes(base / "one-line.pdf", [["Hansoh signed 2 deals in 2025."]] * 3))
    bad("nested-objects.pdf", _nested_pdf(5000),
        r"corrupt or unreadable PDF: arrays or dictionaries nested more than 100 levels deep \(at byte \d+\); "
        r"a real PDF nests a few levels, and PDF readers cannot read parts this deep")
    good("entity.docx", _entity_docx((outside / "secret.md").as_uri()),
         "word/document.xml declares a DTD, which Word files may not; it was ignored, its entities were not "
         "expanded and the references to them were left out")
    good("dtd.html", '<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body><p>The DTD file: '
         "Innovent signed 8 deals.</p></body></html>")
    bad("bomb.docx", _bomb_docx(),
        re.escape("word/document.xml inflates to 1.0 GiB, over the limit of 128.0 MiB for this part of a Word "
                  "file (a zip bomb?)"))
    # -- odd file names ----------------------------------------------------------------------------------------
    good("bell\x07name.md", "# Bell\n\nThe bell file: Hansoh signed 3 deals.\n")
    good("new\nline.md", "# Newline\n\nThe newline file: Innovent signed 4 deals.\n")
    good("back\\slash.txt", "The backslash file: Zai Lab signed 5 deals.\n")
    good("-leading-dash.md", "# Dash\n\nThe dash file: Hutchmed signed 6 deals.\n")
    good("spaces and ünïcödé 名字.md", "# Unicode\n\nThe unicode file: Kelun signed 7 deals.\n")
    # -- symbolic links ----------------------------------------------------------------------------------------
    (outside / "secret.md").write_text("# Outside\n\nOUTSIDESECRET must not be ingested.\n", encoding="utf-8")
    os.symlink(outside / "secret.md", folder / "outside-link.md")
    c.skipped["outside-link.md"] = "symbolic link to a file outside the folder"
    os.symlink(folder / "notes en.txt", folder / "zz-inside-link.txt")  # sorts after its target: deduplicated
    os.symlink(folder / "missing.md", folder / "dangling-link.md")
    c.skipped["dangling-link.md"] = "broken symbolic link (its target does not exist)"
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    c.skipped["sheet.xlsx"] = "unsupported file type '.xlsx'"
    return c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def ingested(corpus: Corpus, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[IngestReport, ChunkStore]:
    settings = Settings(index=tmp_path_factory.mktemp("idx") / "index", max_file_mb=1)
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=True)
    report = Ingestor(settings, embedder, store).run([corpus.folder])
    return report, store


def test_every_good_file_is_added_once(corpus: Corpus, ingested: tuple[IngestReport, ChunkStore]) -> None:
    report, store = ingested
    assert sorted(report.added) == sorted(corpus.shown(n) for n in corpus.good)
    assert report.updated == [] and report.unchanged == []
    # The link inside the folder to a file inside it is the same document: ingested once, under the target.
    sources = sorted(r.source for r in store.list_documents())
    assert sources == sorted(str((corpus.folder / n).resolve()) for n in corpus.good)


def test_every_bad_file_fails_with_its_reason(corpus: Corpus, ingested: tuple[IngestReport, ChunkStore]) -> None:
    report, _ = ingested
    failed = dict(report.failed)
    assert len(failed) == len(report.failed), "a file is reported twice"
    assert sorted(failed) == sorted(corpus.shown(n) for n in corpus.bad)
    for name, reason in corpus.bad.items():
        assert re.fullmatch(reason, failed[corpus.shown(name)]), (name, failed[corpus.shown(name)])


def test_links_outside_dangling_links_and_other_types_are_skipped(
    corpus: Corpus, ingested: tuple[IngestReport, ChunkStore]
) -> None:
    report, store = ingested
    assert dict(report.skipped) == {corpus.shown(n): why for n, why in corpus.skipped.items()}
    assert not any("OUTSIDESECRET" in c.text for c in store.all_chunks())


def test_warnings_name_what_was_wrong(corpus: Corpus, ingested: tuple[IngestReport, ChunkStore]) -> None:
    report, _ = ingested
    got: dict[str, list[str]] = {}
    for name, warning in report.warnings:
        got.setdefault(name, []).append(warning)
    assert got == {corpus.shown(n): w for n, w in corpus.good.items() if w}


def test_index_is_consistent_and_holds_no_script_text(corpus: Corpus, ingested: tuple[IngestReport, ChunkStore],
                                                      embedder: Embedder) -> None:
    report, store = ingested
    records = store.list_documents()
    chunks = list(store.all_chunks())
    assert store.count() == sum(r.chunks for r in records) == len(chunks) == report.chunks_written
    assert {c.source for c in chunks} == {r.source for r in records}
    assert not any(SECRET in c.text for c in chunks)
    by_name = {Path(r.source).name: r for r in records}
    scripts = [c.text for c in chunks if c.source == by_name["scripts.html"].source]
    assert scripts == ["BeiGene reported revenue of $3.8 billion.", "Second paragraph about Akeso."]
    deep = [c.text for c in chunks if c.source == by_name["deep-nesting.html"].source]
    assert deep == ["Deeply nested: Akeso signed a deal worth US$500 million."]
    # The long line and the run without spaces are cut into chunks within the token limit, losing nothing.
    for name in ("long-line.txt", "no-spaces.txt"):
        mine = sorted((c for c in chunks if c.source == by_name[name].source), key=lambda c: c.ordinal)
        assert len(mine) > 1
        assert max(embedder.count_tokens([c.text for c in mine])) <= 200
        whole = (corpus.folder / name).read_text(encoding="utf-8")
        covered: set[int] = set()
        for c in mine:
            assert c.text == whole[c.char_start : c.char_end]
            covered.update(range(c.char_start, c.char_end))
        assert {i for i, ch in enumerate(whole) if ch != " "} <= covered
    mixed = next(c.text for c in chunks if c.source == by_name["mixed-encodings.txt"].source and "恒瑞" in c.text)
    assert "恒瑞医药2025年营业收入为315.6亿元。" in mixed and "Caf\ufffd in latin-1." in mixed
    assert by_name["owner-password-only.pdf"].pages == 2
    assert by_name["damaged-page.pdf"].pages == 2
    assert by_name["fm-nonsense-date.md"].meta.title == "Dates"
    assert by_name["bell\x07name.md"].file_name == "bell\x07name.md"
    # The probe's files: the text around an entity and a page of one shared line are indexed, a DTD is not.
    text_of = {name: [c.text for c in chunks if c.source == by_name[name].source]
               for name in ("entity.docx", "dtd.html", "one-line-pages.pdf")}
    assert text_of == {"entity.docx": ["The entity file: Zai Lab signed 9 deals."],
                       "dtd.html": ["The DTD file: Innovent signed 8 deals."],
                       "one-line-pages.pdf": ["Hansoh signed 2 deals in 2025."] * 3}
    assert not any("]>" in c.text or "passwd" in c.text for c in chunks)


def test_a_second_run_changes_nothing_and_fails_the_same_files(
    corpus: Corpus, ingested: tuple[IngestReport, ChunkStore], embedder: Embedder
) -> None:
    first, store = ingested
    count = store.count()
    again = Ingestor(store.settings, embedder, store).run([corpus.folder])
    assert sorted(again.unchanged) == sorted(first.added)
    assert again.added == [] and again.updated == [] and again.chunks_written == 0
    assert sorted(again.failed) == sorted(first.failed)
    assert store.count() == count


def test_deeply_nested_html_loads_in_linear_time() -> None:
    # Inserting separators around 50,000 nested block elements took 4 minutes (quadratic); a walk takes a second.
    started = time.perf_counter()
    for tag, depth in (("div", 30000), ("p", 10000), ("li", 10000), ("table", 10000), ("h2", 10000)):
        html = f"<html><body>{f'<{tag}>' * depth}<b>Deep text</b> about Akeso.{f'</{tag}>' * depth}</body></html>"
        doc = load_document(html.encode(), source="deep.html", file_name="deep.html")
        assert doc.pages[0].text == ("## " if tag == "h2" else "") + "Deep text about Akeso."
    assert time.perf_counter() - started < 60


def test_a_huge_single_line_loads_as_one_page(corpus: Corpus) -> None:
    data = (corpus.folder / "huge-line.txt").read_bytes()
    doc = load_document(data, source="huge-line.txt", file_name="huge-line.txt")
    assert len(doc.pages) == 1 and len(doc.pages[0].text) == HUGE_MB * 1024 * 1024 and "\n" not in doc.pages[0].text


def test_the_command_line_names_each_bad_file_and_its_reason(corpus: Corpus, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus.folder), "--index", str(tmp_path / "idx")], cwd=ROOT,
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "SECTORCHAT_MAX_FILE_MB": "1", "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout
    assert (f"{len(corpus.good)} added, 0 updated, 0 unchanged, {len(corpus.bad)} failed, "
            f"{len(corpus.skipped)} skipped;") in out
    lines = out.splitlines()
    for name, reason in corpus.bad.items():
        prefix = f"  FAILED    {corpus.shown(name)}: "
        line = next((x for x in lines if x.startswith(prefix)), None)
        assert line is not None and re.fullmatch(reason, line[len(prefix):]), (name, line)
    for name, reason in corpus.skipped.items():
        assert f"  skipped   {corpus.shown(name)}: {reason}" in lines
    for name in corpus.good:
        assert f"  added     {corpus.shown(name)}" in lines
    # A file name cannot forge a report line: its control characters are escaped.
    assert f"  added     {corpus.folder}/new\\nline.md" in lines
    assert f"  added     {corpus.folder}/bell\\x07name.md" in lines
    assert "\x07" not in out and not any(x.startswith("line.md") for x in lines)
