"""Metadata stays small: front matter with YAML anchors or aliases is refused, every field and warning is capped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import write_pdf
from probe import Loaded, load_and_chunk

from ingest.loaders import load_document
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
from ingest.pipeline import Ingestor
from rag.types import LoadedDocument

BODY = "# Body heading\n\nHengrui signed a licence deal worth US$500 million in 2025.\n"
REFUSED = ("front matter uses a YAML anchor or alias (&name or *name) on line {line}, which is not allowed (aliases "
           "can expand to gigabytes); write the value out instead. Ingested the body without it")


def _bomb(levels: int, field: str) -> str:
    """The probe's "billion laughs": each level lists the one before nine times (474 bytes, 9**8 items)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "---\n" + "\n".join(lines) + f"\n{field}: *a{levels - 1}\n---\n" + BODY


YAML_CASES = {
    "bomb-date.md": (_bomb(8, "date"), 2),  # 115 s, 3.3 GB and a 312-million-character warning before
    "bomb-tickers.md": (_bomb(7, "tickers"), 2),  # a 34.7 MB tickers string before
    "bomb-title.md": (_bomb(6, "title"), 2),
    "alias-source.md": ("---\ntitle: &t Hengrui results\nsource: *t\n---\n" + BODY, 2),
    "merge-key.md": ("---\nbase: &b {company: Hengrui}\n<<: *b\n---\n" + BODY, 2),
    "anchor-only.md": ("---\ntitle: Fine\ndate: &d 2026-01-13\n---\n" + BODY, 3),
    "flow-alias.md": ("---\ntitle: Fine\ntickers: [&x 600276.SH, *x]\n---\n" + BODY, 3),
    "nested-alias.md": ("---\ntitle: Fine\nextra:\n  deep:\n    - &z [1, 2]\n    - *z\n---\n" + BODY, 5),
}


@pytest.fixture(scope="module")
def yaml_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Loaded]:
    folder = tmp_path_factory.mktemp("yaml")
    for name, (text, _line) in YAML_CASES.items():
        (folder / name).write_text(text, encoding="utf-8")
    # Generous hang guard: these load in seconds; the 8-level bomb alone took 115 s before.
    return load_and_chunk([folder / name for name in YAML_CASES], timeout=240)


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_front_matter_with_anchors_or_aliases_is_refused_and_the_body_kept(yaml_results: dict[str, Loaded],
                                                                         name: str) -> None:
    got = yaml_results[name]
    assert got["warnings"] == [REFUSED.format(line=YAML_CASES[name][1])]
    assert got["pages"] == [BODY.strip("\n")]
    assert (got["title"], got["date"], got["tickers"], got["publisher"]) == ("Body heading", "", [], "")
    assert [c[5] for c in got["chunks"]] == [BODY.strip("\n")]  # type: ignore[attr-defined]


def _md(front_matter: str, name: str = "a.md") -> LoadedDocument:
    return load_document(f"---\n{front_matter}\n---\n{BODY}".encode(), source=name, file_name=name)


@pytest.mark.parametrize(
    ("field", "limit", "attr"),
    [("title", MAX_TITLE, "title"), ("company", MAX_COMPANY, "company"), ("source", MAX_PUBLISHER, "publisher"),
     ("url", MAX_URL, "url"), ("language", MAX_LANGUAGE, "language")],
)
@pytest.mark.parametrize("size", [1, 10, 1000])
def test_a_long_front_matter_field_is_cut_with_a_warning_naming_it(field: str, limit: int, attr: str,
                                                                 size: int) -> None:
    value = "Xy" * ((limit + size) // 2 + 1)
    doc = _md(f"{field}: {value}")
    assert getattr(doc.meta, attr) == value[:limit].lower() if field == "language" else value[:limit]
    assert doc.warnings == (f"{field} is {len(value):,} characters long, more than {limit:,}; kept its first {limit:,}",)


def test_a_value_at_the_limit_is_kept_whole_without_a_warning() -> None:
    doc = _md(f"title: {'T' * MAX_TITLE}\ncompany: {'C' * MAX_COMPANY}")
    assert (doc.meta.title, doc.meta.company, doc.warnings) == ("T" * MAX_TITLE, "C" * MAX_COMPANY, ())


@pytest.mark.parametrize(
    ("tickers", "kept", "warnings"),
    [
        ("[" + ", ".join(f"{i:06d}.SH" for i in range(50)) + "]", [f"{i:06d}.SH" for i in range(MAX_TICKERS)],
         ["tickers has 50 entries, more than 20; kept its first 20"]),
        (", ".join(f"{i:04d}.HK" for i in range(30)), [f"{i:04d}.HK" for i in range(MAX_TICKERS)],
         ["tickers has 30 entries, more than 20; kept its first 20"]),
        ("[600276.SH, " + "Z" * 100 + "]", ["600276.SH"],
         [f"ticker {'Z' * 40!r}… (100 characters) is longer than {MAX_TICKER} characters; ignored it"]),
        ("[[a, b], 600276.SH, {x: 1}]", ["600276.SH"],
         ["front matter field 'tickers' has an entry that is a list of 2 items, not text; ignored it",
          "front matter field 'tickers' has an entry that is a mapping of 1 items, not text; ignored it"]),
    ],
)
def test_tickers_are_capped_in_number_and_length(tickers: str, kept: list[str], warnings: list[str]) -> None:
    doc = _md(f"tickers: {tickers}")
    assert list(doc.meta.tickers) == kept
    assert list(doc.warnings) == warnings


def test_warnings_quote_a_long_value_only_in_part() -> None:
    doc = _md(f"date: {'x' * 100_000}\n? {'k' * 50_000}\n: 1")  # (an explicit key: YAML caps plain ones)
    assert doc.warnings == (
        f"front matter field {'k' * 60!r}… (50,000 characters) is not used",
        f"front matter date {'x' * 80!r}… (100,000 characters) is not a date; inferred it instead",
    )
    assert all(len(w) <= MAX_WARNING for w in doc.warnings)


def test_many_unused_fields_are_counted_not_listed() -> None:
    doc = _md("\n".join(f"field{i}: {i}" for i in range(50)))
    assert list(doc.warnings) == [f"front matter field 'field{i}' is not used" for i in range(10)] + [
        "front matter has 40 more fields that are not used"
    ]


@pytest.mark.parametrize(
    ("front_matter", "warning"),
    [
        ("date: " + "9" * 5000, "broken front matter: Exceeds the limit (4300 digits) for integer string conversion:"
                                " value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit; "
                                "ingested the body without it"),
        ("title: 0x" + "f" * 5000, "front matter field 'title' is a number of 20000 bits, not text; ignored it"),
        ("date: 0x" + "f" * 5000, "front matter field 'date' is a number of 20000 bits, not text; ignored it"),
    ],
)
def test_a_number_too_large_to_write_is_a_warning_not_a_crash(front_matter: str, warning: str) -> None:
    doc = _md(front_matter)
    assert doc.warnings == (warning,)
    assert doc.meta.title == "Body heading" and doc.pages[0].text == BODY.strip("\n")


def _docx(title: str) -> bytes:
    """A Word file whose core properties hold ``title`` (python-docx itself refuses more than 255 characters)."""
    import zipfile
    from xml.sax.saxutils import escape

    import docx

    document = docx.Document()
    document.core_properties.title = "PLACEHOLDER"
    document.add_paragraph("Hengrui signed a licence deal.")
    buf = io.BytesIO()
    document.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = data.replace(b"PLACEHOLDER", escape(title).encode())
            dst.writestr(info, data)
    return out.getvalue()


def _pdf(tmp: Path, title: str) -> bytes:
    from reportlab.pdfgen import canvas

    path = tmp / "t.pdf"
    c = canvas.Canvas(str(path), invariant=1)
    c.setTitle(title)
    c.drawString(60, 800, "Hengrui signed a licence deal.")
    c.showPage()
    c.save()
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["html-og", "html-title", "docx", "pdf", "md-heading"])
def test_titles_from_every_source_are_capped(tmp_path: Path, kind: str) -> None:
    long = "Title " * 1000  # 6,000 characters
    makers = {
        "html-og": lambda: ("a.html", f'<html><head><meta property="og:title" content="{long}"></head>'
                                      "<body><p>Text.</p></body>".encode()),
        "html-title": lambda: ("a.html", f"<html><head><title>{long}</title></head><body><p>Text.</p></body>".encode()),
        "docx": lambda: ("a.docx", _docx(long)),
        "pdf": lambda: ("a.pdf", _pdf(tmp_path, long)),
        "md-heading": lambda: ("a.md", f"# {long}\n\nText.".encode()),
    }
    name, data = makers[kind]()
    doc = load_document(data, source=name, file_name=name)
    assert doc.meta.title == long.strip()[:MAX_TITLE]
    assert f"title is {len(long.strip()):,} characters long, more than {MAX_TITLE}; kept its first {MAX_TITLE}" in \
        doc.warnings


def test_an_inferred_company_name_is_capped() -> None:
    text = " ".join(["Word"] * 100) + " Holdings Ltd announced results.\n"
    doc = load_document(text.encode(), source="a.txt", file_name="a.txt")
    name = " ".join(["Word"] * 100) + " Holdings Ltd"
    assert doc.meta.company == name[:MAX_COMPANY]
    assert doc.warnings == (f"company is {len(name):,} characters long, more than {MAX_COMPANY}; kept its first "
                            f"{MAX_COMPANY}",)


def test_what_reaches_the_index_is_within_the_caps(tmp_path: Path, ingestor: Ingestor) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bomb.md").write_text(_bomb(7, "tickers"), encoding="utf-8")
    (folder / "long.md").write_text(f"---\ntitle: {'T' * 50_000}\ncompany: {'C' * 50_000}\nsource: {'S' * 9999}\n"
                                    f"tickers: [{', '.join(['600276.SH'] * 500)}]\n---\n# {'H' * 9000}\n\nText.\n",
                                    encoding="utf-8")
    write_pdf(folder / "report.pdf", [["Hengrui signed a licence deal worth US$500 million in 2025."]])
    report = ingestor.run([folder])
    assert sorted(Path(p).name for p in report.added) == ["bomb.md", "long.md", "report.pdf"]
    records = {Path(r.source).name: r.meta for r in ingestor.store.list_documents()}
    assert records["bomb.md"].tickers == ()
    assert (len(records["long.md"].title), len(records["long.md"].company)) == (MAX_TITLE, MAX_COMPANY)
    assert len(records["long.md"].tickers) == MAX_TICKERS
    chunks = list(ingestor.store.all_chunks())
    assert chunks
    for c in chunks:
        assert len(c.title) <= MAX_TITLE and len(c.company) <= MAX_COMPANY and len(c.publisher) <= MAX_PUBLISHER
        assert len(c.tickers) <= MAX_TICKERS and all(len(t) <= MAX_TICKER for t in c.tickers)
        assert len(c.section) <= 200
    assert all(len(w) <= MAX_WARNING for _path, w in report.warnings)
