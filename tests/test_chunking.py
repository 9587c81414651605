"""Chunking: sentence boundaries, token bounds, overlap, pages, sections and table headers (MiniLM tokens)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS

from ingest.chunking import Chunker, is_header_row, is_heading, split_sentences
from ingest.loaders import load_document
from rag.embeddings import SentenceTransformerEmbeddings
from rag.types import DocumentMeta, LoadedDocument, Page

META = DocumentMeta(title="Test")


def _chunker(embedder: SentenceTransformerEmbeddings, max_tokens: int = 200, overlap: int = 40) -> Chunker:
    return Chunker(embedder.count_tokens, embedder.token_offsets, max_tokens=max_tokens, overlap=overlap)


def _load(path: Path) -> LoadedDocument:
    return load_document(path.read_bytes(), source=str(path), file_name=path.name)


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, 0, len(text))]


def test_english_sentences_keep_initials_numbering_and_decimals_together() -> None:
    text = (
        "The 44th J.P. Morgan Healthcare Conference was held in the U.S. from January 12 to 15. "
        "Revenue was RMB 45.456 billion. 3. Earnings Validation follows! Is it real? Yes."
    )
    assert _sentences(text) == [
        "The 44th J.P. Morgan Healthcare Conference was held in the U.S. from January 12 to 15.",
        "Revenue was RMB 45.456 billion.",
        "3. Earnings Validation follows!",
        "Is it real?",
        "Yes.",
    ]


def test_chinese_sentences_split_on_full_width_marks() -> None:
    text = "2025年实现营业收入23.57亿元。研发投入11.20亿元；同比增长10.3%！是否超预期？是的。"
    assert _sentences(text) == [
        "2025年实现营业收入23.57亿元。",
        "研发投入11.20亿元；",
        "同比增长10.3%！",
        "是否超预期？",
        "是的。",
    ]


def test_header_row_detection() -> None:
    assert is_header_row("Item | 2025 (RMB million) | 2024 (RMB million) | Change (%)")
    assert not is_header_row("Revenue | 2,356.8 | 1,705.4 | 38.2")
    assert not is_header_row("Finance costs | (38.7) | (41.2) | (6.1)")


def test_seed_article_chunks_are_bounded_overlapping_exact_slices(minilm: SentenceTransformerEmbeddings) -> None:
    doc = _load(CORPUS / "innovative-drug-sector-2026-01.md")
    chunks = _chunker(minilm).chunk(doc)
    page_text = doc.pages[0].text
    assert len(chunks) == 8
    for c in chunks:
        assert c.page is None
        assert c.text == page_text[c.char_start : c.char_end]
        assert minilm.count_tokens([c.text])[0] <= 200
    # Consecutive chunks of one section share their boundary sentence (overlap), and nothing is lost.
    assert chunks[1].char_start < chunks[0].char_end
    covered = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    body = {i for i, ch in enumerate(page_text) if not ch.isspace()}
    assert body <= covered


def test_section_heading_travels_with_its_chunks(minilm: SentenceTransformerEmbeddings) -> None:
    chunks = _chunker(minilm).chunk(_load(CORPUS / "innovative-drug-sector-2026-01.md"))
    deal = next(c for c in chunks if "157 deals" in c.text)
    assert deal.section == "BD (Out-licensing) Has Entered a Harvest Phase"
    assert deal.text.startswith("BD (Out-licensing) Has Entered a Harvest Phase\nBoth 2024 and 2025")
    assert "BD (Out-licensing)" in deal.embedding_text().splitlines()[0]


def test_pdf_chunks_never_span_pages_and_table_keeps_header_across_page_break(
    minilm: SentenceTransformerEmbeddings,
) -> None:
    doc = _load(CORPUS / "lanting-biopharma-2025-annual-results.pdf")
    chunks = _chunker(minilm).chunk(doc)
    pages = {p.number: p.text for p in doc.pages}
    header = "Item | 2025 (RMB million) | 2024 (RMB million) | Change (%)"
    for c in chunks:
        assert c.page in (1, 2, 3)
        body = c.text.split("\n", 1)[1] if c.header_prefixed else c.text
        assert body == pages[c.page][c.char_start : c.char_end]
    first_part = next(c for c in chunks if "Revenue | 2,356.8 | 1,705.4 | 38.2" in c.text)
    assert first_part.page == 1 and header in first_part.text and not first_part.header_prefixed
    continued = next(c for c in chunks if "Loss for the year | (412.6) | (688.9) | (40.1)" in c.text)
    assert continued.page == 2
    # the PDF reader carries page 1's header onto page 2, where the table continues without one
    assert not continued.header_prefixed and pages[2].startswith(header + "\n")
    assert continued.text.startswith(header + "\nOther expenses | (76.6) | (52.3) | 46.5")
    assert continued.section == "Consolidated Statement of Profit or Loss"
    chinese = next(c for c in chunks if "519亿美元" in c.text)
    assert chinese.page == 3 and chinese.section == "管理层讨论与分析"


def test_long_table_rows_are_never_cut_from_their_header(minilm: SentenceTransformerEmbeddings) -> None:
    header = "| Company | Revenue 2025 (RMB m) | Growth (%) |\n|---|---|---|"
    rows = [f"| Company {i:02d} | {1000 + i * 7.5:,.1f} | {i / 3:.1f} |" for i in range(60)]
    text = "# League table\n\n" + header + "\n" + "\n".join(rows) + "\n"
    doc = LoadedDocument("t.md", META, (Page(text, None),))
    chunks = _chunker(minilm, max_tokens=120, overlap=20).chunk(doc)
    assert len(chunks) > 3
    for c in chunks:
        assert "| Company | Revenue 2025 (RMB m) | Growth (%) |\n|---|---|---|" in c.text
        assert minilm.count_tokens([c.text])[0] <= 120
    for row in rows:
        assert sum(row in c.text for c in chunks) == 1  # each row whole, in exactly one chunk


def test_overlong_sentence_is_cut_at_token_boundaries(minilm: SentenceTransformerEmbeddings) -> None:
    words = " ".join(f"word{i}" for i in range(600))
    doc = LoadedDocument("long.txt", META, (Page(words, None),))
    chunks = _chunker(minilm, max_tokens=100, overlap=10).chunk(doc)
    assert len(chunks) >= 6
    assert all(minilm.count_tokens([c.text])[0] <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words.split()


def test_chunk_ids_are_content_derived(minilm: SentenceTransformerEmbeddings) -> None:
    path = CORPUS / "innovative-drug-sector-2026-01.md"
    a = _chunker(minilm).chunk(_load(path))
    b = _chunker(minilm).chunk(_load(path))
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)
    other = load_document(path.read_bytes(), source="elsewhere.md", file_name=path.name)
    assert not {c.id for c in a} & {c.id for c in _chunker(minilm).chunk(other)}


def test_overlap_must_be_smaller_than_chunk(minilm: SentenceTransformerEmbeddings) -> None:
    with pytest.raises(ValueError, match="overlap must be less than max_tokens"):
        _chunker(minilm, max_tokens=50, overlap=50)


def test_a_lone_bar_separated_line_is_text_not_a_header_without_rows(embedder: SentenceTransformerEmbeddings) -> None:
    # A news list scraped as "title | time | title | time": one line, no rows; it must not vanish.
    line = " | ".join(f"Headline number {i} about licensing deals 2025-03-19 21:{i:02d}" for i in range(40))
    doc = LoadedDocument("news.txt", META, (Page(f"[Search result 14]\n{line}", None),))
    chunks = _chunker(embedder, max_tokens=120, overlap=10).chunk(doc)
    assert len(chunks) > 2
    assert all(embedder.count_tokens([c.text])[0] <= 120 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert "Headline number 0 about" in joined and "Headline number 39 about" in joined


# -- long single lines: linear work, bounded tokenizer input -----------------------------------------------------
def _long_line(kind: str, size: int, seed: int = 7) -> str:
    """One line of ``size`` characters: English or Chinese news-like text, with or without sentence ends."""
    import random

    rnd = random.Random(seed)
    zh = kind.startswith("zh")
    punct = not kind.endswith("nopunct")
    words = ("恒瑞医药上半年营业收入同比增长研发投入创新药授权交易金额首付款里程碑公司发布公告显示业绩超预期" if zh else
             "the company reported revenue growth while research spending rose as licensing deals expanded".split())
    out: list[str] = []
    total = 0
    while total < size:
        piece = "".join(rnd.choice(words) for _ in range(rnd.randint(6, 30))) if zh else " ".join(
            rnd.choice(words) for _ in range(rnd.randint(6, 20)))
        piece += f" {rnd.randint(1, 999)}.{rnd.randint(0, 9)}亿元" if zh else f" {rnd.randint(1, 999)}.{rnd.randint(0, 9)}"
        piece += (rnd.choice("。；！") if zh else ". Then") if punct else ("" if zh else " and")
        out.append(piece)
        total += len(piece) + (0 if zh else 1)
    return ("" if zh else " ").join(out)[:size].strip()


class _Recorder:
    """The real tokenizer, noting the longest text it was given and how many characters in all."""

    def __init__(self, embedder: SentenceTransformerEmbeddings) -> None:
        self.embedder = embedder
        self.longest = 0
        self.total = 0

    def _note(self, text: str) -> None:
        self.longest = max(self.longest, len(text))
        self.total += len(text)

    def count_tokens(self, texts: list[str]) -> list[int]:
        for t in texts:
            self._note(t)
        return self.embedder.count_tokens(texts)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self._note(text)
        return self.embedder.token_offsets(text)


LONG_KINDS = ["en", "zh", "en-nopunct", "zh-nopunct"]


@pytest.mark.parametrize("model", ["embedder", "minilm"])
@pytest.mark.parametrize("kind", LONG_KINDS)
def test_a_long_single_line_is_cut_into_bounded_exact_chunks_in_order(request: pytest.FixtureRequest, model: str,
                                                                      kind: str) -> None:
    emb = request.getfixturevalue(model)
    text = _long_line(kind, 40_000)
    assert "\n" not in text and len(text) >= 39_990
    rec = _Recorder(emb)
    chunker = Chunker(rec.count_tokens, rec.token_offsets, max_tokens=100, overlap=20)
    chunks = chunker.chunk(LoadedDocument("line.txt", META, (Page(text, None),)))
    # The tokenizer never sees more than a window (32 characters a token), however long the line: memory is
    # bounded by the window, not by the line (before, the whole 40,000-character line was tokenised at once).
    assert rec.longest <= 32 * 100
    assert rec.total <= 4 * len(text)
    assert max(emb.count_tokens([c.text for c in chunks])) <= 100
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    starts = [c.char_start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    covered: set[int] = set()
    for c in chunks:
        assert c.text == text[c.char_start : c.char_end]
        covered.update(range(c.char_start, c.char_end))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered
    # The same chunks as cutting the line whole (where a tokenizer reads a Chinese run alike with or without what
    # follows the window; the encoder's sentencepiece may segment a window's end differently: the same number).
    whole = Chunker(emb.count_tokens, emb.token_offsets, max_tokens=100, overlap=20)
    whole.window = 10**9
    reference = whole.chunk(LoadedDocument("line.txt", META, (Page(text, None),)))
    assert len(chunks) == len(reference)
    if not (model == "embedder" and kind == "zh-nopunct"):
        assert [(c.char_start, c.char_end) for c in chunks] == [(c.char_start, c.char_end) for c in reference]


@pytest.mark.parametrize("kind", LONG_KINDS)
def test_tokenizer_work_is_linear_in_the_length_of_a_line(embedder: SentenceTransformerEmbeddings, kind: str) -> None:
    work = []
    for size in (20_000, 40_000, 80_000):
        rec = _Recorder(embedder)
        Chunker(rec.count_tokens, rec.token_offsets, max_tokens=100, overlap=20).chunk(
            LoadedDocument("line.txt", META, (Page(_long_line(kind, size), None),)))
        work.append(rec.total / size)
    assert max(work) <= 4 and max(work) - min(work) <= 0.1, work  # characters tokenised per character of text


def test_a_window_of_characters_without_tokens_is_kept(embedder: SentenceTransformerEmbeddings) -> None:
    text = ("\u200b" * 50 + "x") * 200  # zero-width spaces: no tokens, and not white space either
    chunks = _chunker(embedder, max_tokens=32, overlap=8).chunk(LoadedDocument("zw.txt", META, (Page(text, None),)))
    covered: set[int] = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    assert covered == set(range(len(text)))


@pytest.mark.parametrize("line, heading", [
    ("CONSOLIDATED STATEMENTS OF OPERATIONS", "CONSOLIDATED STATEMENTS OF OPERATIONS"),
    # Oracle's 10-K, page 67: the statement's period line is its subtitle, not a heading of its own
    ("For the Years Ended May 31, 2023, 2022 and 2021", None),
    ("As of December 31, 2022 and 2021", None),
    ("Three Months Ended April 30, 2023", None),
    ("Years Ended December 31", None),
])
def test_a_statements_period_line_is_not_a_heading(line: str, heading: str | None) -> None:
    assert is_heading(line, "", "(in millions) | 2023 | 2022") == heading
