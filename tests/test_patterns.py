"""Every regular expression of ingest/ and rag/ is linear on hostile input, and the probe's files load in seconds."""

from __future__ import annotations

import io
import pkgutil
import re

import ingest
import pytest
import rag
from hypothesis import given, settings
from hypothesis import strategies as st
from probe import Loaded, load_and_chunk
from redos import Site, Unresolved, findings, project_patterns

from ingest.chunking import markdown_heading
from ingest.metadata import infer_company, parse_date

MODULES = sorted(
    name for package in (ingest, rag)
    for name in [package.__name__] + [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
)


def _audit() -> tuple[list[Site], list[Unresolved]]:
    sites, unresolved = project_patterns(MODULES)
    unique: dict[tuple[str, int, bool, bool], Site] = {}
    for site in sites:
        unique.setdefault((site.pattern.pattern, site.pattern.flags, site.anchored, site.full), site)
    return sorted(unique.values(), key=lambda s: s.where), unresolved


SITES, UNRESOLVED = _audit()


# -- the audit of the project's patterns ----------------------------------------------------------------------
@pytest.mark.parametrize("site", SITES, ids=[s.where for s in SITES])
def test_pattern_is_linear_on_long_runs(site: Site) -> None:
    bad = findings(site.pattern, anchored=site.anchored, full=site.full)
    worst = {f.degree: f for f in bad}
    assert not bad, (
        f"{site.where}: {site.pattern.pattern!r} costs n**{max(worst)} on a run of "
        f"{''.join(sorted({f.char for f in bad}))[:20]!r}: {worst[max(worst)].reason}. Rewrite it so that no two "
        "quantifiers can take the same characters (a scan, possessive *+ or atomic (?>...), or a lookbehind "
        "such as (?<!\\s) so an attempt starts only where a run starts)"
    )


# Patterns read from a vocabulary file (data under version control) are compiled where they are loaded; the module
# keeps them all in a global, which the audit reads like any other: where -> that global.
FROM_DATA = {"ingest/filing.py": "ingest.filing.FORM_COVERS", "rag/lexicon.py": "rag.lexicon.LEXICON_PATTERNS"}


def test_every_re_call_has_a_pattern_the_audit_can_read() -> None:
    # A pattern built at run time from a variable escapes the audit: compile it at module level instead.
    assert [u for u in UNRESOLVED if u.where.split(":")[0] not in FROM_DATA] == []
    for u in UNRESOLVED:
        held = FROM_DATA[u.where.split(":")[0]]
        assert any(s.where.startswith(held + "[") for s in SITES), (u, held)
    from ingest.filing import FORM_COVERS, load_forms

    assert [f.cover for f in load_forms()] == list(FORM_COVERS)


def test_the_audit_sees_module_patterns_inline_calls_and_patterns_inside_tables() -> None:
    where = {s.where for s in SITES}
    assert len(MODULES) >= 25 and {"ingest.metadata", "rag.figures", "rag.text", "rag.intent"} <= set(MODULES)
    assert {"ingest.metadata._TICKER", "rag.figures._SCAN", "rag.text._EN_END", "rag.verify._MARKERS"} <= where
    assert any(w.startswith("rag.tables._") and "[" in w for w in where)  # (pattern, unit) tuples in a list
    assert any(w.startswith("rag/answer.py:") for w in where)  # re.split(r"...", ...) inside a function
    assert any(w.startswith("rag/companies.py:") for w in where)  # an f-string around re.escape(name)
    assert len(SITES) >= 80


# -- the checker itself, on patterns whose cost is known -------------------------------------------------------
WHITE_SPACE = " \t\n\xa0\u3000"


@pytest.mark.parametrize(
    ("pattern", "anchored", "char", "degree"),
    [
        (r"^(#{1,6})\s+(.+?)\s*#*\s*$", True, " ", 4),  # the old Markdown heading: four quantifiers share spaces
        (r"^(#{1,6})\s+(.+?)\s*#*\s*$", True, "\u3000", 4),
        (r"^(#{1,6})\s+(.+?)\s*#*\s*$", True, "#", 2),
        (r"\s+x", False, " ", 2),  # search: every space starts an attempt that scans the rest of the run
        (r"Date\s*[:：]?\s*(\d{4})", False, "\t", 2),
        (r".*?X.*?Y", False, "X", 3),
        (r"(?:\s*x\s*)+y", False, " ", 2),  # the end of one turn and the start of the next share the run
        (r"\s*(?=\s*x)", False, " ", 2),  # a lookahead rescans from every split
        (r"(\w+\s?)+$", False, "a", 99),  # a group that takes a run in more than one way: exponential
        (r"([A-Z][\w&.\-]*(?:\s+(?:[A-Z][\w&.\-]*|&|and|of))*\s+(?:Ltd\.?|Inc\.?))", False, "A", 2),
    ],
)
def test_checker_finds_known_super_linear_patterns(pattern: str, anchored: bool, char: str, degree: int) -> None:
    got = {f.char: f.degree for f in findings(pattern, anchored=anchored)}
    assert got.get(char) == degree, got


@pytest.mark.parametrize(
    ("pattern", "char"),
    [
        (r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?(?:[ T].*)?", " "),  # the old date
        (r"[A-Z]{1,3}-?\d+.*", "1"),
    ],
)
def test_checker_counts_the_end_of_text_that_fullmatch_needs(pattern: str, char: str) -> None:
    # Harmless with search or match (a run at the end never has to give anything back), quadratic with
    # fullmatch: "2026-01" + 5,000 spaces + "\n" tries every split of the spaces.
    assert findings(pattern, anchored=True) == []
    assert {f.char: f.degree for f in findings(pattern, anchored=True, full=True)}.get(char) == 2


@pytest.mark.parametrize(
    ("pattern", "anchored"),
    [
        (r"\s+", False),  # nothing after the run can fail
        (r"\s+x", True),  # one attempt
        (r"a\s*b", False),
        (r"[a-z0-9]+(?:[-/.,'&][a-z0-9]+)*", False),  # each turn starts with a character the run cannot take
        (r"(?<!\s)(?:\s*\[\d+\])+", False),  # starts only where a run of spaces starts
        (r"^\s*(?:\|\s*)?:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*(?:\|\s*)?$", True),
        (r"^(#{1,6})[ \t]++(.+?)[ \t#]*+$", True),  # possessive: no giving back
        (r"(\s|\xa0)+$", True),  # one class to the engine: \s|\xa0 is compiled to [\s\xa0]
        (r"\d{1,2}\s+(?:January|May)\b", False),
        (r"比.{0,12}[多少]", False),  # a counted repeat is a constant
    ],
)
def test_checker_passes_linear_patterns(pattern: str, anchored: bool) -> None:
    assert findings(pattern, anchored=anchored) == []


# -- rewritten patterns and scans give what the old patterns gave (on inputs short enough for them) -----------
OLD_COMPANY = re.compile(
    r"([A-Z][\w&.\-]*(?:\s+(?:[A-Z][\w&.\-]*|&|and|of))*\s+(?:Co\.,?\s*Ltd\.?|Ltd\.?|Limited|Inc\.?|Corp\.?|"
    r"Corporation|PLC|plc|AG|SA))|([\u4e00-\u9fff（）()]{2,30}?(?:股份)?有限公司)"
)
OLD_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?(?:[ T].*)?")
OLD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _old_company(text: str) -> str:
    m = OLD_COMPANY.search(text)
    return (m[1] or m[2] or "").strip() if m else ""


def _old_date(s: str) -> str | None:
    import datetime as dt

    s = s.strip()
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = OLD_DATE.fullmatch(s)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3] or 1)).isoformat()
    except ValueError:
        return None


def _pieces(*atoms: str, max_size: int = 16) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(atoms), max_size=max_size).map("".join)


SAME = settings(derandomize=True, database=None, deadline=None, max_examples=800)
COMPANY_TEXT = _pieces("Foo", "Bar", "x", "and", "of", "&", "Co.", "Co.,", "Ltd", "Ltd.", "Limited", "Inc", "Inc.",
                       "Corp", "Corporation", "PLC", "plc", "AG", "SA", " ", "  ", "\n", "\t", "\u3000", ",", "(", ")",
                       "-", "R&D", "FooSA", "x-Foo", "恒瑞", "医药", "股份", "有限公司", "（", "）", "中", "a", "A", ".",
                       max_size=24)
DATE_TEXT = st.tuples(st.sampled_from(["2026", "1999", " 2025", "20260113", ""]),
                      _pieces("-", "/", ".", "年", "月", "日", "1", "01", "13", "12", "3", " ", "  ", "\n", "T",
                              "10:00", "x", "\t", "Z", "0", max_size=10)).map("".join)
HEADING_TEXT = _pieces("#", "##", "#######", " ", "\t", "\u3000", "\xa0", "\x0b", "a", "Title", "中", "x y")


@SAME
@given(text=COMPANY_TEXT)
def test_company_scan_finds_what_the_old_pattern_found(text: str) -> None:
    assert infer_company(text) == _old_company(text)


@SAME
@given(text=DATE_TEXT)
def test_date_parser_reads_what_the_old_pattern_read(text: str) -> None:
    assert parse_date(text) == _old_date(text)


@SAME
@given(text=HEADING_TEXT)
def test_markdown_heading_scan_reads_what_the_old_pattern_read(text: str) -> None:
    m = OLD_HEADING.match(text.strip())
    assert markdown_heading(text) == (m[2].strip() if m else None)


@pytest.mark.parametrize(
    ("old", "new", "atoms"),
    [
        (r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", "rag.text._MD_TABLE_SEP",
         ["|", "-", "---", ":", " ", "\t", "\n", "x"]),
        (r"(?:\s*\[\d+\])+", "rag.verify._MARKERS", ["[", "]", "1", "12", " ", "\n", "a", "[1]"]),
        (r",\s*(?:and\s+)?|\s+and\s+|、|，|和", r",\s*(?:and\s+)?|(?<!\s)\s+and\s+|、|，|和",  # rag/answer.py
         [",", " ", "and", "  ", "x", "、", "和", "\t", "andy"]),
        (r"[A-Z]{1,3}-?\d+.*\Z", r"[A-Z]{1,3}-?\d.*\Z", ["A", "B", "-", "1", "12", "x", "\n", " "]),  # rag/intent.py
        (r"^\s*(and|what about|how about|and what about|what of|also|then|same for|那|那么|还有|以及)\b|[呢]\s*[?？]?\s*$|"
         r"\b(its|their|it|they|that|this|those|these|the same)\b|其|该|它|他们", "rag.assistant._FOLLOW_UP",
         ["呢", " ", "?", "？", "\n", "x", "it", "and", "那"]),
    ],
)
def test_rewritten_patterns_match_what_the_old_ones_matched(old: str, new: str, atoms: list[str]) -> None:
    import importlib

    if new.startswith(("rag.", "ingest.")):
        module, name = new.rsplit(".", 1)
        pattern = getattr(importlib.import_module(module), name)
    else:  # a pattern written inline in a call: its text, as the file has it
        pattern = re.compile(new)
    before = re.compile(old, pattern.flags)

    @SAME
    @given(text=_pieces(*atoms, max_size=12))
    def check(text: str) -> None:
        assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in before.finditer(text)]
        if pattern.groups == before.groups:  # (split returns the groups too)
            assert pattern.split(text) == before.split(text)
        assert bool(pattern.match(text)) == bool(before.match(text))

    check()


# -- the probe's files through the real loader and chunker, in a child process with a time limit --------------
SPACES = {"space": " ", "ideographic": "\u3000", "tab": "\t", "nbsp": "\xa0"}
RUN = 3000  # the probe's length: 62 s (.md), 59 s (.docx), 90 s (.txt with U+3000) before the heading scan


def _docx(heading: str, body: str = "") -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    if body:
        document.add_paragraph(body)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _probe_files() -> dict[str, tuple[bytes, str, str, str]]:
    """name -> (content, page text expected, title expected, section of the first chunk expected)."""
    files: dict[str, tuple[bytes, str, str, str]] = {}

    def add(name: str, data: bytes | str, page: str, title: str, section: str) -> None:
        files[name] = (data.encode("utf-8") if isinstance(data, str) else data, page, title, section)

    for kind, sp in SPACES.items():
        name = "a" + sp * RUN + "b"
        line = "# " + name
        section = "" if sp == "\t" else name[:200]  # a line of tabs is a table row, not a heading
        add(f"heading-{kind}.md", line, line, name[:300], section)
        add(f"heading-{kind}.txt", line, line, name[:300], section)
        add(f"heading-{kind}.docx", _docx(name), line, name[:300], section)
        closed = "## " + name + sp * RUN + "##\n\nBody."  # closing hashes after another run
        add(f"closed-{kind}.md", closed, closed, f"closed-{kind}.md", section)
    words = " ".join(["Word"] * 36_000)  # 184 KB of capitalised words and no company suffix: 255 s before
    add("company-title.md", f"# {words}\n\nBody text.", f"# {words}\n\nBody text.", words[:300], words[:200])
    add("company-front-matter.md", f"---\ntitle: {words}\n---\nBody text.", "Body text.", words[:300], "")
    add("company-text.txt", words, words, "company-text.txt", "")
    dated = "Date" + " " * RUN + "x\n" + words[:5000]
    add("date-label.txt", dated, dated, "date-label.txt", "")
    return files


PROBES = _probe_files()


@pytest.fixture(scope="module")
def probe_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Loaded]:
    folder = tmp_path_factory.mktemp("probe")
    for name, (data, *_expected) in PROBES.items():
        (folder / name).write_bytes(data)
    # Generous: the whole set loads and chunks in well under a minute; before the fixes one file took minutes.
    return load_and_chunk([folder / name for name in PROBES], timeout=240)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_probe_file_loads_and_chunks_whole(probe_results: dict[str, Loaded], name: str) -> None:
    _data, page, title, section = PROBES[name]
    got = probe_results[name]
    assert got["pages"] == [page]
    assert got["title"] == title
    chunks = got["chunks"]
    assert isinstance(chunks, list) and chunks and chunks[0][3] == section
    assert max(got["tokens"]) <= 200  # type: ignore[call-overload]
    covered: set[int] = set()
    for _number, start, end, _section, prefixed, text in chunks:
        assert not prefixed and text == page[start:end]
        covered.update(range(start, end))
    assert {i for i, ch in enumerate(page) if not ch.isspace()} <= covered
    assert [c[1] for c in chunks] == sorted(c[1] for c in chunks)


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_a_long_heading_warns_for_the_title_and_the_section_it_cuts(probe_results: dict[str, Loaded],
                                                                   kind: str) -> None:
    got = probe_results[f"heading-{kind}.md"]
    assert got["warnings"] == ["title is 3,002 characters long, more than 300; kept its first 300"]
    expected = [] if kind == "tab" else [
        f"section heading {('a' + SPACES[kind] * 39)!r}… is 3,002 characters long, more than 200; kept its first "
        "200 as the section name"
    ]
    assert got["chunk_warnings"] == expected
