"""The questions of issue 14 that the first answerer got wrong, asked over the bundled corpus through the whole
path (query analysis, retrieval, readers, compose, figure check)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import ChunkStore


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    tmp = tmp_path_factory.mktemp("issue14")
    s = Settings(index=tmp / "index")
    store = ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)
    shutil.copytree(CORPUS, tmp / "corpus")
    Ingestor(s, embedder, store).run([tmp / "corpus"])
    yield build_assistant(s, embedder=embedder)


def test_an_instruction_after_the_question_is_a_format_not_a_company(assistant: Assistant) -> None:
    a = assistant.ask("How much did Chinese license-out deals bring upfront in 2025? Answer in USD billions.")
    assert not a.refused and a.grounded
    assert ("$7 billion", 7e9, "verified") in [(f.text, f.value, f.status) for f in a.figures]
    r = assistant.ask("What was the number of license-out deals in 2025? Round your answer to two decimal places.")
    assert not r.refused and 157.0 in [f.value for f in r.figures if f.status == "verified"]


def test_a_company_named_first_is_asked_about_and_never_answered_with_another(assistant: Assistant) -> None:
    a = assistant.ask("Akeso revenue in 2025?")
    # the corpus has no Akeso revenue: a refusal naming Akeso, not Hengrui's or Lanting's revenue with a tick
    assert a.refused and a.refusal_code == "no_entity" and a.figures == ()
    assert a.answer == "The corpus does not answer this: no passage found mentions Akeso."


def test_which_etfs_lists_every_named_etf(assistant: Assistant) -> None:
    a = assistant.ask("Which ETFs are mentioned?")
    assert a.answer.startswith("Two ETFs named: Hong Kong Innovative Drug ETF (Code: 159567); "
                               "Innovative Drug ETF (Code: 159992) [1].")
    assert [Path(c.source).name for c in a.citations] == ["innovative-drug-sector-2026-01.md"]
    assert not a.refused and not [f for f in a.figures if f.status == "unverified"]


def test_a_definition_question_gets_the_defining_passage(assistant: Assistant) -> None:
    a = assistant.ask("What is the New-Co model?")
    assert not a.refused
    assert "this model achieves risk-sharing and long-term profit-sharing through equity linkages" in a.answer
    assert a.citations[0].quote.startswith("On one hand, the New-Co model remains active.")


def test_main_catalysts_are_summarised_from_several_places(assistant: Assistant) -> None:
    a = assistant.ask("What are the main catalysts?")
    lines = a.answer.split("\n")
    assert len(lines) >= 3 and all(line.startswith("- ") and line.endswith("]") for line in lines)
    assert any("Major Collaboration Events" in line for line in lines)
    assert any("J.P. Morgan Healthcare Conference" in line for line in lines)
    assert len({c.quote for c in a.citations}) == len(a.citations) >= 2


def test_an_ambiguous_deal_is_answered_for_each_match(assistant: Assistant) -> None:
    a = assistant.ask("What upfront payment did the PD-1/VEGF deal carry?")
    assert a.answer.startswith("More than one passage answers this, with different figures")
    stated = {(f.text, f.status) for f in a.figures}
    assert {("US$200 million", "verified"), ("$650 million", "verified")} <= stated
    assert {Path(c.source).name for c in a.citations} == {"lanting-biopharma-2025-annual-results.pdf",
                                                          "innovative-drug-sector-2026-01.md"}


def test_a_line_item_change_is_computed_from_the_table_with_its_arithmetic(assistant: Assistant) -> None:
    a = assistant.ask("What was the change in Lanting Biopharma's revenue from 2024 to 2025?")
    derived = [f for f in a.figures if f.status == "derived"]
    assert [(f.text, f.value) for f in derived] == [("RMB 651.4 million", 651.4e6)]
    assert derived[0].arithmetic == "2,356.8 − 1,705.4 = RMB 651.4 million"
    assert all(f.status in ("verified", "derived") for f in a.figures)
