"""Filing questions over a small corpus: tables written with a blank line after every row, and asked years that
decide which passage the keyword search finds among many about the same company."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import Chunker
from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore
from rag.text import table_gaps
from rag.types import DocumentMeta, LoadedDocument, Page

HEADER = "| Item | 2025 (RMB million) | 2024 (RMB million) |"
SPACED_TABLE = (f"{HEADER}\n\n| --- | --- | --- |\n\n| Revenue | 44,470.0 | 29,500.0 |\n\n"
                "| R&D expenses | 24,550.0 | 6,600.0 |\n\n| Net profit (loss) | 6,420.0 | 1,940.0 |")
FILING = """---
title: "Junshi Biosciences 2025 annual results announcement"
date: "2026-03-19"
company: "Junshi"
---
# Junshi Biosciences 2025 annual results announcement

Junshi Biosciences (Stock code: 1877.HK) announces its results for the year ended December 31, 2025.

## Financial highlights

Revenue for the year ended December 31, 2025 was RMB 44.47 billion, a year-on-year change of 50.76%. Research and \
development expenses were RMB 24.55 billion. Cash and cash equivalents stood at RMB 35.37 billion at the end of the \
period.

## Pipeline

The Group has 80 programmes in development and employed 5,084 people at the end of the period.
"""
TABLES = f"""---
title: "Akeso 2025 annual results: consolidated figures"
date: "2026-03-12"
company: "Akeso"
---
## Financial highlights

{SPACED_TABLE}
"""
INTERIM = """---
title: "Junshi Biosciences 2025 interim results announcement"
date: "2025-08-20"
company: "Junshi"
---
## Financial highlights

Revenue for the six months ended June 30, 2025 was RMB 20.12 billion, a year-on-year change of 31.02%.
"""
# A company whose only 2025 figure in the corpus is an upfront payment.
KELUN_DEAL = """---
title: "Kelun-Biotech licenses SKB-264 rights"
date: "2025-03-03"
company: "Kelun"
---
On March 3, 2025, Kelun announced a licence of SKB-264 under which Kelun will receive an upfront payment of $500 million.
"""
HENGRUI_ZH = """---
title: "恒瑞医药2025年年度业绩公告"
date: "2026-03-28"
language: "zh"
---
## 财务摘要

截至2025年12月31日止年度，公司实现营业收入315.6亿元，同比增长13.8%。
"""
# News about the same company that states its revenue of other years, in shorter passages that keyword search
# ranks above the filing's longer highlights paragraph when the asked year is not among the search words.
DEALS = [(2022, "18.57"), (2023, "19.38"), (2024, "29.50"), (2023, "19.38"), (2022, "18.57"), (2024, "29.50")]


def _deal(i: int, year: int, revenue: str) -> str:
    return (f"---\ntitle: \"Junshi licenses JU-{i} to a US partner\"\ndate: \"{year + 1}-0{i + 1}-10\"\n"
            f"company: \"Junshi\"\n---\nJunshi signed a licence for JU-{i} with a US partner. The deal adds to Junshi's "
            f"licensing income. In {year}, Junshi reported revenue of RMB {revenue} billion and spent RMB 9 billion "
            "on research and development.\n")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    tmp = tmp_path_factory.mktemp("filings")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "junshi-2025-annual-results.md").write_text(FILING, encoding="utf-8")
    (corpus / "akeso-2025-annual-results.md").write_text(TABLES, encoding="utf-8")
    (corpus / "junshi-2025-interim-results.md").write_text(INTERIM, encoding="utf-8")
    (corpus / "kelun-deal.md").write_text(KELUN_DEAL, encoding="utf-8")
    (corpus / "hengrui-2025-annual-results-zh.md").write_text(HENGRUI_ZH, encoding="utf-8")
    for i, (year, revenue) in enumerate(DEALS):
        (corpus / f"junshi-deal-{i}.md").write_text(_deal(i, year, revenue), encoding="utf-8")
    s = Settings(index=tmp / "index")
    store = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)
    report = Ingestor(s, embedder, store).run([corpus])
    assert len(report.added) == 5 + len(DEALS) and not report.failed
    a = build_assistant(s, embedder=embedder)
    # Few candidates per retriever, so that these 11 documents compete the way thousands do with the default 30.
    a.retriever.candidates = 4
    return a


def test_blank_lines_between_rows_stay_inside_one_table() -> None:
    lines = ["Intro.", "", *SPACED_TABLE.split("\n"), "", "After the table.", "", "| A | B |", "", "| 1 | 2 |"]
    gaps = table_gaps(lines)
    assert sorted(gaps) == [3, 5, 7, 9, 15]  # the blank line before "After the table." ends the table
    # A same-width table with its own header and separator line after a blank line is a new table.
    two = ["| A | B |", "| --- | --- |", "| x | 1 |", "", "| C | D |", "| --- | --- |", "| y | 2 |"]
    assert table_gaps(two) == frozenset()
    # Rows of another width after a blank line belong to another table.
    assert table_gaps(["| A | B |", "| x | 1 |", "", "| a | b | c |"]) == frozenset()


def test_spaced_table_is_chunked_as_one_table_with_its_header(embedder: Embedder) -> None:
    chunker = Chunker(embedder.count_tokens, embedder.token_offsets, max_tokens=256, overlap=32)
    doc = LoadedDocument("t.md", DocumentMeta(title="T"), (Page("## Financial highlights\n\n" + SPACED_TABLE, None),))
    chunks = chunker.chunk(doc)
    rows = [c for c in chunks if "| Revenue |" in c.text]
    assert len(rows) == 1
    assert rows[0].text == "## Financial highlights\n\n" + SPACED_TABLE  # the heading stays with its table
    assert rows[0].section == "Financial highlights"


def test_a_row_of_a_spaced_table_is_quoted_and_read_with_its_header(assistant: Assistant) -> None:
    a = assistant.ask("What were Akeso's R&D expenses in 2024?")
    (c,) = a.citations
    assert Path(c.source).name == "akeso-2025-annual-results.md"
    assert c.quote == f"{HEADER}\n| R&D expenses | 24,550.0 | 6,600.0 |"
    # the table reader states the cell with its column's unit and scale; the row with its header is the quote
    assert a.answer == "R&D expenses, 2024 (RMB million): RMB 6,600 million [1]."
    assert [(f.text, f.value, f.unit, f.status) for f in a.figures] == [("RMB 6,600 million", 6.6e9, "CNY", "verified")]


def test_the_asked_year_finds_the_filing_among_news_of_other_years(assistant: Assistant) -> None:
    a = assistant.ask("What was Junshi's revenue in 2025?")
    assert not a.refused, a.answer
    assert a.answer.startswith("Revenue for the year ended December 31, 2025 was RMB 44.47 billion"), a.answer
    assert {Path(c.source).name for c in a.citations} == {"junshi-2025-annual-results.md"}
    assert ("RMB 44.47 billion", "verified") in {(f.text, f.status) for f in a.figures}


def test_a_figure_for_part_of_the_year_answers_only_a_question_about_that_part(assistant: Assistant) -> None:
    # Both the interim and the annual figure are about 2025: each question gets the one of its period.
    half = assistant.ask("What was Junshi's revenue in the first half of 2025?")
    assert half.answer.startswith("Revenue for the six months ended June 30, 2025 was RMB 20.12 billion"), half.answer
    assert {Path(c.source).name for c in half.citations} == {"junshi-2025-interim-results.md"}
    assert ("RMB 20.12 billion", "verified") in {(f.text, f.status) for f in half.figures}
    year = assistant.ask("What was Junshi's revenue in 2025?")
    assert "RMB 20.12 billion" not in year.answer and "RMB 44.47 billion" in year.answer, year.answer


def test_a_question_naming_a_measure_is_not_answered_with_another_measure(assistant: Assistant) -> None:
    a = assistant.ask("What was Kelun's revenue in 2025?")
    assert a.refused and a.citations == () and a.figures == ()
    assert a.answer == ("The corpus does not answer this: no passage found states a figure of that kind for the "
                        "question's company and period.")
    upfront = assistant.ask("What upfront payment did Kelun receive in 2025?")
    assert "$500 million" in upfront.answer and not upfront.refused


def test_a_company_named_in_one_language_is_found_in_the_other(assistant: Assistant) -> None:
    zh = assistant.ask("君实生物2025年的营业收入是多少？")
    assert zh.answer.startswith("Revenue for the year ended December 31, 2025 was RMB 44.47 billion"), zh.answer
    assert ("RMB 44.47 billion", "verified") in {(f.text, f.status) for f in zh.figures}
    en = assistant.ask("What was Hengrui's revenue in 2025?")
    assert en.answer.startswith("截至2025年12月31日止年度，公司实现营业收入315.6亿元"), en.answer
    assert {Path(c.source).name for c in en.citations} == {"hengrui-2025-annual-results-zh.md"}
    assert ("315.6亿元", "verified") in {(f.text, f.status) for f in en.figures}
    # Innovent (信达生物) is named by no passage, in either language.
    other = assistant.ask("信达生物2025年的营业收入是多少？")
    assert other.refused and other.answer.endswith("no passage found mentions 信达.")
