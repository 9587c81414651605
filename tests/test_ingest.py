"""The ingest run against a real Chroma in a temp folder: add, skip unchanged, replace, delete, rebuild, bad files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CORPUS, write_pdf

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embeddings import SentenceTransformerEmbeddings
from rag.errors import IndexMismatchError, IndexNotFoundError, IngestError
from rag.store import ChunkStore

ARTICLE = "innovative-drug-sector-2026-01.md"
FILING = "lanting-biopharma-2025-annual-results.pdf"


def _store_chunk_count(ingestor: Ingestor) -> int:
    return ingestor.store.count()


def _copy_corpus(tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


def test_corpus_ingests_and_second_run_writes_nothing(tmp_path: Path, ingestor: Ingestor) -> None:
    corpus = _copy_corpus(tmp_path)
    first = ingestor.run([corpus])
    assert sorted(Path(p).name for p in first.added) == [ARTICLE, FILING]
    assert first.failed == [] and first.updated == [] and first.unchanged == []
    assert first.skipped == [(str(corpus / "README.md"), "listed in .sectorchatignore")]
    records = {Path(r.source).name: r for r in ingestor.store.list_documents()}
    assert first.chunks_written == _store_chunk_count(ingestor) == sum(r.chunks for r in records.values())
    article = records[ARTICLE]
    assert (article.meta.date, article.meta.publisher, article.meta.doc_type) == ("2026-01-13", "Sina Finance", "news")
    assert records[FILING].pages == 3 and records[FILING].meta.doc_type == "filing"
    ids_before = sorted(ingestor.store.chunks.get(include=[])["ids"])

    second = ingestor.run([corpus])
    assert sorted(Path(p).name for p in second.unchanged) == [ARTICLE, FILING]
    assert second.added == [] and second.updated == [] and second.chunks_written == 0
    assert second.chunks_deleted == 0
    assert sorted(ingestor.store.chunks.get(include=[])["ids"]) == ids_before
    assert {Path(r.source).name: r.updated_at for r in ingestor.store.list_documents()} == {
        n: r.updated_at for n, r in records.items()
    }


def test_changed_file_replaces_all_its_chunks(tmp_path: Path, ingestor: Ingestor) -> None:
    doc = tmp_path / "deal-news.md"
    long_text = "\n\n".join(
        f"Paragraph {i}. Company {i} signed a licence deal worth US${i * 10} million upfront in 2025." * 4
        for i in range(1, 13)
    )
    doc.write_text("# Deals\n\n" + long_text, encoding="utf-8")
    first = ingestor.run([doc])
    old_ids = set(ingestor.store.chunk_ids(str(doc.resolve())))
    assert first.added == [str(doc)] and len(old_ids) == first.chunks_written > 2

    doc.write_text("# Deals\n\nOnly one deal remains: US$650 million upfront in 2026.\n", encoding="utf-8")
    second = ingestor.run([doc])
    assert second.updated == [str(doc)] and second.added == []
    new_ids = set(ingestor.store.chunk_ids(str(doc.resolve())))
    assert len(new_ids) == 1 == second.chunks_written == _store_chunk_count(ingestor)
    assert second.chunks_deleted == len(old_ids)
    assert not old_ids & new_ids
    (record,) = ingestor.store.list_documents()
    assert record.chunks == 1 and record.added_at <= record.updated_at
    (chunk,) = ingestor.store.get_chunks(list(new_ids))
    assert chunk.text == "# Deals\n\nOnly one deal remains: US$650 million upfront in 2026."


def test_delete_by_file_name_and_by_path(tmp_path: Path, ingestor: Ingestor) -> None:
    corpus = _copy_corpus(tmp_path)
    ingestor.run([corpus])
    total = _store_chunk_count(ingestor)
    filing_chunks = len(ingestor.store.chunk_ids(str((corpus / FILING).resolve())))
    source, removed = ingestor.delete(FILING)
    assert source == str((corpus / FILING).resolve()) and removed == filing_chunks
    assert _store_chunk_count(ingestor) == total - filing_chunks
    assert [Path(r.source).name for r in ingestor.store.list_documents()] == [ARTICLE]
    _, removed = ingestor.delete(str(corpus / ARTICLE))
    assert removed == total - filing_chunks and _store_chunk_count(ingestor) == 0
    with pytest.raises(IngestError, match="no document 'nope.md' in the index"):
        ingestor.delete("nope.md")


def test_rebuild_starts_afresh_from_known_sources(tmp_path: Path, ingestor: Ingestor) -> None:
    corpus = _copy_corpus(tmp_path)
    first = ingestor.run([corpus])
    sources = ingestor.known_sources()
    ingestor.store.reset()
    assert ingestor.store.list_documents() == [] and _store_chunk_count(ingestor) == 0
    again = ingestor.run([Path(s) for s in sources])
    assert len(again.added) == 2 and again.chunks_written == first.chunks_written == _store_chunk_count(ingestor)


def test_index_of_another_model_is_refused_with_rebuild_hint(
    tmp_path: Path, settings: Settings, minilm: SentenceTransformerEmbeddings, ingestor: Ingestor
) -> None:
    # A real index built with all-MiniLM-L6-v2, then opened with the default model (USE multilingual, 512-d).
    store = ChunkStore(settings, model_name=minilm.name, dimension=minilm.dimension)
    built = Ingestor(settings, minilm, store).run([CORPUS / ARTICLE])
    assert built.added and store.count() == built.chunks_written
    with pytest.raises(IndexMismatchError, match=r"built with embedding model all-MiniLM-L6-v2 \(384-d\), but the "
                       r"settings use universal-sentence-encoder-multilingual-3 \(512-d\).*--rebuild"):
        ingestor.run([CORPUS / ARTICLE])


def test_reading_a_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    store = ChunkStore(Settings(index=tmp_path / "none"), model_name="m", dimension=512, create=False)
    with pytest.raises(IndexNotFoundError, match=r"no index at .*none: build it first with `python -m ingest corpus/"):
        store.list_documents()
    assert not (tmp_path / "none").exists()


def test_bad_files_fail_alone_and_leave_the_index_intact(
    tmp_path: Path, make_ingestor: Callable[..., Ingestor]
) -> None:
    ingestor = make_ingestor(Settings(index=tmp_path / "index", max_file_mb=0.01))
    keep = tmp_path / "keep.md"
    keep.write_text("---\ntitle: Kept\n---\nHengrui reported revenue of RMB 31.56 billion in 2025.\n", encoding="utf-8")
    ingestor.run([keep])
    kept_ids = ingestor.store.chunk_ids(str(keep.resolve()))

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_text("BeiGene revenue rose 49% to US$5.3 billion in 2025.\n", encoding="utf-8")
    (inbox / "front.md").write_text("---\ntitle: [unclosed\n---\nInnovent signed a deal worth US$1.2 billion.\n",
                                    encoding="utf-8")
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "junk.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (inbox / "undecodable.txt").write_bytes(b"Revenue \x81\x20\xff rose")
    (inbox / "big.txt").write_text("Revenue grew. " * 2000, encoding="utf-8")
    (inbox / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage" + b"\x00" * 50)
    write_pdf(inbox / "locked.pdf", [["Secret revenue RMB 9.9 billion."]], encrypt="secret")
    write_pdf(inbox / "good.pdf", [["Zai Lab revenue was US$400 million."], ["Page two says 2026 guidance."]])
    (inbox / "picture.png").write_bytes(b"\x89PNG\r\n")
    named_bad = tmp_path / "sheet.xlsx"
    named_bad.write_bytes(b"PK\x03\x04")

    report = ingestor.run([inbox, named_bad, tmp_path / "missing.md"])
    assert sorted(Path(p).name for p in report.added) == ["front.md", "good.pdf", "good.txt"]
    failed = {Path(p).name: why for p, why in report.failed}
    assert set(failed) == {"empty.txt", "junk.txt", "undecodable.txt", "big.txt", "corrupt.pdf", "locked.pdf",
                           "sheet.xlsx", "missing.md"}
    assert failed["empty.txt"] == "empty file (0 bytes)"
    assert failed["junk.txt"].startswith("binary content")
    assert failed["undecodable.txt"].startswith("undecodable text")
    assert failed["big.txt"] == "file is 0.0 MB, over the limit of 0.01 MB (SECTORCHAT_MAX_FILE_MB)"
    assert failed["corrupt.pdf"].startswith("corrupt PDF") or failed["corrupt.pdf"].startswith("PDF has no text")
    assert "encrypted PDF" in failed["locked.pdf"] and "password" in failed["locked.pdf"]
    assert failed["sheet.xlsx"].startswith("unsupported file type '.xlsx'")
    assert failed["missing.md"] == "no such file or folder"
    assert (str(inbox / "picture.png"), "unsupported file type '.png'") in report.skipped
    assert any(Path(p).name == "front.md" and "broken front matter" in w for p, w in report.warnings)
    # What was stored before is untouched, and the index is consistent.
    assert ingestor.store.chunk_ids(str(keep.resolve())) == kept_ids
    records = ingestor.store.list_documents()
    assert len(records) == 4
    assert sum(r.chunks for r in records) == _store_chunk_count(ingestor)
    good_pdf = next(r for r in records if r.file_name == "good.pdf")
    pages = sorted(c.page for c in ingestor.store.get_chunks(ingestor.store.chunk_ids(good_pdf.source)))
    assert pages == [1, 2]


def test_a_file_that_turns_bad_keeps_its_previous_version(tmp_path: Path, ingestor: Ingestor) -> None:
    doc = tmp_path / "filing.pdf"
    write_pdf(doc, [["Revenue was RMB 2,356.8 million in 2025."]])
    ingestor.run([doc])
    before = ingestor.store.chunk_ids(str(doc.resolve()))
    doc.write_bytes(doc.read_bytes()[:200])  # truncated by a failed download
    report = ingestor.run([doc])
    assert [Path(p).name for p, _ in report.failed] == ["filing.pdf"]
    assert ingestor.store.chunk_ids(str(doc.resolve())) == before


def test_chinese_pdf_is_ingested_with_its_characters(tmp_path: Path, ingestor: Ingestor) -> None:
    pdf = write_pdf(tmp_path / "hengrui-2025-annual.pdf",
                    [["恒瑞医药2025年实现营业收入315.6亿元，同比增长", "13.2%。"], ["研发投入82.3亿元。"]],
                    font="STSong-Light")
    report = ingestor.run([pdf])
    assert report.failed == []
    (record,) = ingestor.store.list_documents()
    assert record.meta.language == "zh" and record.pages == 2
    chunks = ingestor.store.get_chunks(ingestor.store.chunk_ids(record.source))
    texts = {c.page: c.text for c in chunks}
    assert "恒瑞医药2025年实现营业收入315.6亿元" in texts[1]
    assert texts[2] == "研发投入82.3亿元。"


def test_keyword_index_stays_in_step_with_writes_and_deletes(
    tmp_path: Path, settings: Settings, make_ingestor: Callable[..., Ingestor]
) -> None:
    from rag.bm25 import BM25Cache
    from rag.store import bm25_folder
    from rag.text import search_tokens

    ingestor = make_ingestor(settings)
    doc = tmp_path / "akeso.md"
    doc.write_text("Akeso signed an ivonescimab licence with US$500 million upfront.\n", encoding="utf-8")
    ingestor.run([doc])
    reader = BM25Cache(bm25_folder(settings))  # another user of the same index, e.g. the web app
    first = reader.get(ingestor.store)
    assert [first.infos[p].source for p, _ in first.search(search_tokens("ivonescimab"), k=5)] == [
        str(doc.resolve())]
    saved = (bm25_folder(settings) / "chunks.json").read_text(encoding="utf-8")
    assert "ivonescimab" in saved and first.generation in saved

    doc.write_text("Akeso signed a cadonilimab licence with US$300 million upfront.\n", encoding="utf-8")
    ingestor.run([doc])
    second = reader.get(ingestor.store)
    assert second.generation != first.generation
    assert second.search(search_tokens("ivonescimab"), k=5) == []
    assert len(second.search(search_tokens("cadonilimab"), k=5)) == 1

    ingestor.delete("akeso.md")
    third = reader.get(ingestor.store)
    assert len(third) == 0 and third.search(search_tokens("cadonilimab"), k=5) == []


def test_a_reader_answers_from_its_previous_keyword_index_while_the_new_one_builds(
    tmp_path: Path, settings: Settings, make_ingestor: Callable[..., Ingestor]
) -> None:
    from rag.bm25 import BM25Cache
    from rag.text import search_tokens

    ingestor = make_ingestor(settings)
    first_doc = tmp_path / "akeso.md"
    first_doc.write_text("Akeso signed an ivonescimab licence with US$500 million upfront.\n", encoding="utf-8")
    ingestor.run([first_doc])
    # A reader whose folder the ingest does not save to (e.g. the app on another machine sharing a server).
    reader = BM25Cache(tmp_path / "elsewhere")
    first = reader.get(ingestor.store)
    assert len(first) == 1

    second_doc = tmp_path / "kelun.md"
    second_doc.write_text("Kelun-Biotech licensed sac-TMT to MSD for US$47 million upfront.\n", encoding="utf-8")
    ingestor.run([second_doc])
    stale = reader.get(ingestor.store)
    assert stale is first  # answered at once from the previous index; the rebuild runs in the background
    reader.wait(timeout=60)
    fresh = reader.get(ingestor.store)
    assert fresh.generation == ingestor.store.generation() != first.generation
    assert [fresh.infos[p].source for p, _ in fresh.search(search_tokens("sac-TMT"), k=5)] == [
        str(second_doc.resolve())]


def test_progress_counts_pages_and_moves_during_one_large_file(tmp_path: Path,
                                                               make_ingestor: Callable[..., Ingestor]) -> None:
    from ingest.pipeline import IngestProgress

    sentence = "Hengrui reported revenue of RMB {n} million in quarter {n}, up {n}% on the year before. "
    (tmp_path / "in").mkdir()
    big = write_pdf(tmp_path / "in" / "big.pdf", [[sentence.format(n=p * 40 + k) * 2 for k in range(40)]
                                                  for p in range(60)])
    small = tmp_path / "in" / "note.md"
    small.write_text("Akeso signed a deal worth US$500 million.\n", encoding="utf-8")
    seen: list[IngestProgress] = []
    report = make_ingestor(Settings(index=tmp_path / "idx")).run([tmp_path / "in"], progress=seen.append)
    assert report.ok and len(report.added) == 2
    assert {(p.pages, p.files) for p in seen} == {(61, 2)}  # 60 pages of the PDF, 1 for the note
    assert seen[0].pages_done == 0 and seen[-1].pages_done == 61 and seen[-1].files_done == 2
    assert seen[-1].chunks == report.chunks_written
    done = [p.pages_done for p in seen]
    assert done == sorted(done)  # never backwards
    during = {p.pages_done for p in seen if p.current == str(big) and 0 < p.pages_done < 60}
    assert len(during) >= 2, done  # the bar moves while the one large file is embedded
    assert seen[-1].fraction == 1.0 and seen[-1].describe().startswith("Ingesting 61/61 pages · 2/2 files · ")
    half = IngestProgress(1, 2, 15, 30, 100, "big.pdf", 10.0)
    assert (half.fraction, half.eta) == (0.5, 10.0)
    assert half.describe() == "Ingesting 15/30 pages · 1/2 files · 100 chunks · about 10 s left (big.pdf)"
