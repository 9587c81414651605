"""Every document-, user- or model-derived string shows as the text it is, in every output: chat, /chat, sources
panel, delete messages, documents table, delete choices, eval reports.

Markdown outputs are rendered by a CommonMark renderer that lets raw HTML through and accepts every link (as a
lax renderer would); HTML outputs are parsed. Neither may hold an element, attribute or link that came from the
string, and the string's text must read back exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from apprunner import AppProcess, app_client, running_app

from rag.types import Answer, CheckedFigure, Citation, DocumentMeta, DocumentRecord

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="javascript:alert(1)">click</a>',
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "[x](javascript:alert(1)).md",
    "[click][r] [r]: javascript:alert(1)",
    "<javascript:alert(1)> <https://evil.example/>",
    "&lt;img src=x onerror=alert(1)&gt; &#60;b&#62;bold&#60;/b&#62;",
    "`code` **bold** _em_ ~~gone~~ | a | b | \\*",
]
ALLOWED_LINK = re.compile(r"#source-\d+|/doc/[0-9a-f]{64}(#page=\d+)?")  # the links the app itself makes
BAD_TAGS = {"img", "script", "iframe", "object", "embed", "link", "meta", "form", "input", "base", "math"}


class _Parsed(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.parts: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


def render_markdown(markdown: str) -> _Parsed:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # a lax renderer: only the escaping stands between the text and a link
    return _Parsed(md.render(markdown))


def assert_inert(parsed: _Parsed, *, extra_tags: frozenset[str] = frozenset()) -> None:
    """No element that runs, loads or links anything, beyond the links the app makes."""
    for tag, attrs in parsed.tags:
        assert tag not in BAD_TAGS - extra_tags, (tag, attrs)
        assert tag != "svg" or "svg" in extra_tags, (tag, attrs)
        assert tag != "a" or any(k == "href" for k, _ in attrs), (tag, attrs)
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key, value)
            if key in ("href", "src", "action", "formaction", "xlink:href", "srcset"):
                assert value is not None and ALLOWED_LINK.fullmatch(value), (tag, key, value)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _citation(s: str, *, source: str = "/data/note.md") -> Citation:
    return Citation(n=1, chunk_id="c1", source=source, title=s, page=None, quote=f"Acme said {s}.", doc_type="news",
                    date="2026-01-02", section=s, chunk_text=f"Before. Acme said {s}. After.")


# -- chat and /chat --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("s", HOSTILE)
def test_the_answer_text_notice_and_figures_show_as_text(s: str) -> None:
    from ui.render import answer_markdown

    answer = Answer(question="q", answer=f"Acme said {s} and paid US$5 million [1].", citations=(_citation(s),),
                    figures=(CheckedFigure(f"US$5 million {s}", 5e6, "USD", "unverified", 1, reason=s),
                             CheckedFigure("US$5 million", 5e6, "USD", "derived", 1, arithmetic=s)),
                    notice=s)
    parsed = render_markdown(answer_markdown(answer))
    assert_inert(parsed)
    assert parsed.text.startswith(_flat(f"ℹ️ {s} Acme said {s} and paid US$5 million 🧮 [1]."))
    assert _flat(f"⚠️ UNVERIFIED: US$5 million {s} [1] — {s}") in parsed.text
    assert _flat(f"🧮 US$5 million [1] — computed: {s}") in parsed.text
    assert [a for t, a in parsed.tags if t == "a"] == [[("href", "#source-1")]]  # the one link: the marker's


@pytest.mark.parametrize("s", HOSTILE)
def test_errors_and_streamed_text_show_as_text(s: str) -> None:
    from ui.render import answer_markdown, stream_markdown

    for markdown, text in ((answer_markdown(Answer(question="q", answer="", error=s)), f"Error: {s}"),
                           (stream_markdown(s), s)):
        parsed = render_markdown(markdown)
        assert_inert(parsed)
        assert parsed.text == _flat(text)


@pytest.mark.parametrize("s", HOSTILE)
def test_the_chat_apis_sources_show_titles_names_and_quotes_as_text(s: str) -> None:
    from app import _sources_markdown

    name = s.replace("/", "_") + ".md"  # a file name holds no slash
    parsed = render_markdown(_sources_markdown(Answer(question="q", answer="", citations=(
        _citation(s, source=f"/data/{name}"),))))
    assert_inert(parsed)
    assert parsed.text == _flat(f'[1] {s} ({name}): "Acme said {s}."')


@pytest.mark.parametrize("s", HOSTILE)
def test_the_sources_panel_shows_every_field_as_text(s: str) -> None:
    from ui.render import sources_html

    name = s.replace("/", "_") + ".pdf"
    citation = Citation(n=1, chunk_id="c1", source=f"/data/{name}", title=s, page=2, quote=f"Acme said {s}.",
                        doc_type=s, date=s, section=s, chunk_text=f"Before. Acme said {s}. After.")
    url = "/doc/" + "a" * 64
    parsed = _Parsed(sources_html(Answer(question="q", answer="", citations=(citation,)),
                                  doc_url={citation.source: url}))
    assert_inert(parsed)
    assert [dict(a)["href"] for t, a in parsed.tags if t == "a"] == [f"{url}#page=2"]
    # summary, meta line and passage are blocks: their texts meet without a space
    assert parsed.text == _flat(f"[1] {s}{s} · {s} · page 2 · {s} · {name} · open page 2Before. Acme said {s}. "
                                "After.")


# -- the Documents tab -----------------------------------------------------------------------------------------------
def _record(source: str, title: str, added: str, digest: str = "0" * 64) -> DocumentRecord:
    return DocumentRecord(source=source, content_hash=digest, ingest_key="k", meta=DocumentMeta(title=title),
                          pages=0, chunks=1, added_at=added, updated_at=added, file_name=Path(source).name)


@pytest.mark.parametrize("s", HOSTILE)
def test_table_cells_and_delete_labels_are_one_line_of_plain_text(s: str) -> None:
    from ui.labels import delete_choices, find_choice
    from ui.render import documents_rows

    shown = f"{s}\\nforged line\\x1b[31m"  # the control characters, visible as escapes
    records = [_record("/a/report.md", f"{s}\nforged line\x1b[31m", "2026-02-01T10:00:00"),
               _record("/b/report.md", s, "2026-02-02T11:00:00"), _record("/b/other.md", s, "2026-02-03T12:00:00")]
    rows = documents_rows(records)
    assert [r[0] for r in rows] == [shown, s, s] and [r[10] for r in rows] == ["report.md", "report.md", "other.md"]
    labels = delete_choices(records)
    assert labels == {f"report.md — {shown[:80]}, added 2026-02-01 10:00": "/a/report.md",
                      f"report.md — {s[:80]}, added 2026-02-02 11:00": "/b/report.md", "other.md": "/b/other.md"}
    assert all(label.isprintable() for label in labels)
    assert [find_choice(records, label) for label in labels] == list(labels.values())
    assert find_choice(records, "report.md") is None  # shared: only a label says which


# -- eval reports ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("s", HOSTILE)
def test_the_eval_report_page_shows_every_string_as_text(s: str) -> None:
    from evals.report import render_html

    question = {"suite": s, "id": s, "kind": s, "category": s, "question": s, "answer": s, "passed": False,
                "expected": [{"value": 5.0, "unit": s, "status": s}], "why": [s, s],
                "figures": [{"text": s, "status": s, "reason": s}],
                "citations": [{"n": 1, "source": s, "page": s, "quote": s}], "timings_ms": {"total": 12.0}}
    report = {"created": s, "settings": {"llm": s}, "metrics": {"questions": 1},
              "suites": {s: {"metrics": {"questions": 1, "figure_accuracy": 0.5}}}, "questions": [question]}
    parsed = _Parsed(render_html(report))
    assert_inert(parsed, extra_tags=frozenset({"svg", "meta"}))  # the page's own charset and charts
    assert [t for t, _ in parsed.tags if t == "script"] == []
    assert [t for t, _ in parsed.tags if t == "style"] == ["style"]  # the page's own
    assert [a for t, a in parsed.tags if t == "meta"] == [[("charset", "utf-8")]]
    assert {t for t, _ in parsed.tags if t in ("svg", "g", "rect", "text")} <= {"svg", "g", "rect", "text"}
    assert f"FAIL {_flat(s)} / {_flat(s)}" in parsed.text
    for shown in (f"Q: {s}", f"Answered: {s}", f"[1] {s}, page {s}: {s}", f"Expected: 5 {s}"):
        assert _flat(shown) in parsed.text, shown


# -- the real app: /chat, /documents, /upload's choices, /delete -----------------------------------------------------
TREES = ["Acorn", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper", "Kapok"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_app(tmp_path_factory.mktemp("escaping")) as app:
        yield app


@pytest.fixture(scope="module")
def client(server: AppProcess) -> Any:
    return app_client(server)


@pytest.fixture(scope="module")
def hostile_docs(client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One Markdown note per hostile string, with that string as its title: file name → title."""
    from gradio_client import handle_file

    src = tmp_path_factory.mktemp("hostile-titles")
    docs = {}
    for i, (s, tree) in enumerate(zip(HOSTILE, TREES, strict=True)):
        path = src / f"hostile-{i:02d}.md"
        path.write_text(f"---\ntitle: {json.dumps(s)}\ndoc_type: news\ndate: 2026-03-{i + 1:02d}\n---\n"
                        f"{tree} Bio received an upfront payment of US${31 + i} million in 2026.\n", encoding="utf-8")
        docs[path.name] = s
    results, table, _, _ = client.predict([handle_file(str(src / n)) for n in docs], api_name="/upload")
    assert sorted(r[1] for r in results["data"]) == ["added"] * len(docs), results
    return docs


@pytest.mark.parametrize("i", range(len(HOSTILE)))
def test_chat_api_shows_hostile_titles_as_text(client: Any, hostile_docs: dict[str, str], i: int) -> None:
    said = client.predict(f"How much upfront did {TREES[i]} Bio receive in 2026?", api_name="/chat")
    parsed = render_markdown(said)
    assert_inert(parsed)
    assert f"US${31 + i} million ✅" in said
    assert _flat(f"[1] {HOSTILE[i]} (hostile-{i:02d}.md): \"{TREES[i]} Bio received") in parsed.text


def test_documents_table_holds_the_titles_as_plain_text(client: Any, hostile_docs: dict[str, str]) -> None:
    table = client.predict(api_name="/documents")
    by_file = {row[10]: row[0] for row in table["data"]}
    assert {n: by_file[n] for n in hostile_docs} == hostile_docs


@pytest.mark.parametrize("s", HOSTILE)
def test_delete_messages_show_the_choice_as_text(client: Any, s: str) -> None:
    asked, *_ = client.predict(s, False, api_name="/delete")
    parsed = render_markdown(asked)
    assert_inert(parsed)
    assert parsed.text == _flat(f"Tick the box to confirm that {s} should be deleted.")
    refused, *_ = client.predict(s, True, api_name="/delete")
    parsed = render_markdown(refused)
    assert_inert(parsed)
    assert parsed.text.startswith("Error: no document ") and _flat(s) in parsed.text.replace("\\\\", "\\")


def test_shared_names_get_labels_with_their_hostile_titles(client: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    for n, (folder, s, tree) in enumerate((("one", HOSTILE[0], "Larch"), ("two", HOSTILE[4], "Maple"))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "shared.md").write_text(
            f"---\ntitle: {json.dumps(s)}\n---\n{tree} Bio received an upfront payment of US$7 million in 2026.\n",
            encoding="utf-8")
        results, _, choices, _ = client.predict([handle_file(str(tmp_path / folder / "shared.md"))], api_name="/upload")
        assert results["data"][0] == ["shared.md", "added", ""]
        assert [r[1] for r in results["data"][1:]] == (["kept both"] if n else [])
    labels = [c[0] for c in choices["choices"] if c[0].startswith("shared.md")]
    assert [re.sub(r"added \S+ \S+$", "added …", label) for label in labels] == [
        f"shared.md — {HOSTILE[0]}, added …", f"shared.md — {HOSTILE[4]}, added …"]
    for label in labels:
        msg, *_ = client.predict(label, True, api_name="/delete")
        assert msg == "Deleted shared.md (1 chunks)."
