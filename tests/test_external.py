"""External benchmark suites (FinEval Financial Rigor Test, TAT-QA) read from ../shared/benchmarks: no ingest."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from evals.external import ENV_VAR, NAMES, ExternalSuite, benchmarks_dir, describe, load_external
from evals.suite import ExpectedFigure, ExpectedSource, SuiteQuestion
from rag.errors import ConfigError

DATA = benchmarks_dir()
needs_data = pytest.mark.skipif(
    not all((DATA / n / "questions.jsonl").is_file() for n in NAMES),
    reason=f"external benchmarks not found in {DATA} (a clone without ../shared; set {ENV_VAR} to a copy)",
)
SALES_DOC = "3ffd9053-a45d-491c-957a-1b2fa0af0570.txt"


@pytest.fixture(scope="module")
def tatqa() -> dict[str, SuiteQuestion]:
    return {q.id: q for q in load_external("tatqa").questions}


@pytest.fixture(scope="module")
def fineval() -> dict[str, SuiteQuestion]:
    return {q.id: q for q in load_external("fineval_rigor").questions}


# ------------------------------------------------------------------------------------------------ TAT-QA


@needs_data
def test_tatqa_span_answer_is_the_gold_figure_on_its_page(tatqa: dict[str, SuiteQuestion]) -> None:
    q = tatqa["4960801d-277d-4f79-8eca-c4d0200fa9d6"]
    assert q.question == "What is the amount of total sales in 2019?"
    assert q.expected == (ExpectedFigure(value=1496500000.0, unit="", status="", decimals=1),)
    assert q.scope == (SALES_DOC,)
    assert q.sources == (ExpectedSource(document=SALES_DOC),)
    assert (q.kind, q.language, q.category) == ("lookup", "en", "span/table-text")


@needs_data
def test_tatqa_arithmetic_answer_must_be_derived_and_negative_is_a_size(tatqa: dict[str, SuiteQuestion]) -> None:
    change = tatqa["eb787966-fa02-401f-bfaf-ccabf3828b23"]  # "change in Other", gold -12.6 (million)
    assert change.expected == (ExpectedFigure(value=12600000.0, unit="", status="derived", decimals=1, abs=True),)
    assert (change.kind, change.category) == ("comparison", "arithmetic/table-text")
    pct = tatqa["05b670d3-5b19-438c-873f-9bf6de29c69e"]  # gold -22.22 percent
    assert pct.expected == (ExpectedFigure(value=22.22, unit="%", status="derived", decimals=2, abs=True),)


@needs_data
def test_tatqa_years_and_text_spans_have_no_figure(tatqa: dict[str, SuiteQuestion]) -> None:
    year = tatqa["f4142349-eb72-49eb-9a76-f3ccb1010cbc"]  # "In which year ... the largest?" -> 2019
    text = tatqa["23801627-ff77-4597-8d24-1c99e2452082"]
    for q in (year, text):
        assert q.expected == ()
        assert q.scope == (SALES_DOC,) and q.sources == (ExpectedSource(document=SALES_DOC),)


@needs_data
def test_tatqa_gold_spans_the_converter_left_unparsed_are_read(tatqa: dict[str, SuiteQuestion]) -> None:
    assert tatqa["08bde3bb-bf11-4955-8461-5cdc14c6ece5"].expected == (  # ['$85.1 million'], no figures given
        ExpectedFigure(value=85100000.0, unit="", decimals=1),)
    assert tatqa["921776c8-aabf-4fd9-a168-7e67ecb80d3f"].expected == (ExpectedFigure(value=36.0, unit="%", decimals=0),)
    # ['65', '(114)', '(71)'] in millions, of which the converter kept only 65
    assert tatqa["3de31a7f-0d57-4471-a3ab-4f698274be0c"].expected == (
        ExpectedFigure(value=65000000.0, unit="", decimals=0),
        ExpectedFigure(value=114000000.0, unit="", decimals=0, abs=True),
        ExpectedFigure(value=71000000.0, unit="", decimals=0, abs=True),
    )


@needs_data
def test_full_tatqa_suite_counts() -> None:
    suite = load_external("tatqa")
    assert len(suite.questions) == 3331 and len(suite.documents) == 555
    assert all(p.is_file() and p.parent == DATA / "tatqa" / "docs" for p in suite.documents)
    lines = describe(suite).splitlines()
    assert lines[0] == "tatqa: 3331 questions, 555 documents, 2362 with expected figures"
    assert lines[1].split() == ["arithmetic/table", "968", "(968", "with", "figures)"]
    assert len(lines) == 12  # 11 categories
    assert "NExTplusplus/TAT-QA" in suite.description and "CC BY 4.0" in suite.description


# ---------------------------------------------------------------------------------------------- FinEval


@needs_data
def test_fineval_calculation_is_derived_in_yuan(fineval: dict[str, SuiteQuestion]) -> None:
    q = fineval["calc_31"]  # 易方达北证50指数C五十份价值多少: 50 × 1.4255 = 71.28元
    assert q.expected == (ExpectedFigure(value=71.28, unit="CNY", status="derived", decimals=2),)
    assert q.scope == ("calc_31__r01.txt", "calc_31__r02.txt")
    assert q.sources == (ExpectedSource("calc_31__r01.txt"), ExpectedSource("calc_31__r02.txt"))  # 71.28 is in neither
    assert (q.kind, q.language, q.category) == ("comparison", "zh", "numerical_calculation/数值计算")


@needs_data
def test_fineval_calculation_oddities(fineval: dict[str, SuiteQuestion]) -> None:
    # calculation "1.24%。" computes nothing: the figure is quoted from r02, so it must be verified, not derived
    assert fineval["calc_160"].expected == (ExpectedFigure(value=1.24, unit="%", decimals=2),)
    assert fineval["calc_160"].sources == (ExpectedSource("calc_160__r02.txt"),)
    # gold "1900股" comes without parsed figures (and rag.figures reads 1900 as a year)
    assert fineval["calc_74"].expected == (ExpectedFigure(value=1900.0, unit="", status="derived", decimals=0),)


@needs_data
def test_fineval_index_extraction_takes_the_fact_that_answers(fineval: dict[str, SuiteQuestion]) -> None:
    # 一鸣食品的20日主力净流入是多少 -> "2025年05月15日，一鸣食品的20日主力净流入为-5537.66万。" (of 53 facts)
    q = fineval["extract_652"]
    assert q.expected == (ExpectedFigure(value=55376600.0, unit="", decimals=2, abs=True),)
    assert q.sources == (ExpectedSource("extract_652__r01.txt"),)  # the only retrieved doc writing -5537.66万
    assert len(q.scope) == 10 and (q.kind, q.category) == ("lookup", "index_extraction/股票")
    # 小米现在的股价是多少 -> 股价 read as 当前价: "小米集团-W的当前价为50.150港元", not "年初的股价为59.45港元"
    assert fineval["extract_1125"].expected == (ExpectedFigure(value=50.15, unit="HKD", decimals=3),)
    # 红土创新医疗保健股票近三年最大回撤 -> 近三年 (not 近三月) 最大回撤为42.07%
    assert fineval["extract_24"].expected == (ExpectedFigure(value=42.07, unit="%", decimals=2),)
    # 去年中国GDP总量 -> the 2024 国内生产总值 1349084亿元
    assert fineval["extract_1600"].expected == (ExpectedFigure(value=134908400000000.0, unit="CNY", decimals=0),)


@needs_data
def test_fineval_without_a_single_gold_scores_no_figure(fineval: dict[str, SuiteQuestion]) -> None:
    # 合金投资的涨跌幅: two facts of the same day disagree (+3.40%, +1.64%); the docs stating either are expected
    several = fineval["extract_758"]
    assert several.expected == ()
    assert [s.document for s in several.sources] == [f"extract_758__r0{i}.txt" for i in (1, 2, 3)]
    # 方正证券金立方一年持有期混合A可以买吗: no indicator asked; every retrieved doc may be cited
    none = fineval["extract_535"]
    assert none.expected == () and [s.document for s in none.sources] == list(none.scope)


@needs_data
def test_full_fineval_suite_counts() -> None:
    suite = load_external("fineval_rigor")
    assert len(suite.questions) == 200 and len(suite.documents) == 1796
    assert len({p.name for p in suite.documents}) == 1796
    assert Counter(q.category for q in suite.questions) == {
        "index_extraction/股票": 82, "index_extraction/基金": 56, "index_extraction/宏观": 20,
        "numerical_calculation/数值计算": 42}
    assert sum(1 for q in suite.questions if q.expected) == 94  # 52 index_extraction + all 42 calculations
    assert "SUFE-AIFLM-Lab/FinEval" in suite.description and "Apache-2.0" in suite.description


# ------------------------------------------------------------------------------------------------ sampling


@needs_data
@pytest.mark.parametrize(("name", "limit", "categories"), [("tatqa", 20, 11), ("fineval_rigor", 8, 4)])
def test_limit_is_a_deterministic_stratified_sample(name: str, limit: int, categories: int) -> None:
    suite = load_external(name, limit=limit, seed=3)
    assert suite == load_external(name, limit=limit, seed=3)
    assert len(suite.questions) == limit
    assert len({q.category for q in suite.questions}) == categories
    assert load_external(name, limit=limit, seed=4).questions != suite.questions
    assert {p.name for p in suite.documents} == {n for q in suite.questions for n in q.scope}
    assert f"(sample of {limit} of " in suite.description


@needs_data
def test_limit_below_the_category_count_takes_the_largest_categories() -> None:
    suite = load_external("tatqa", limit=2)
    assert sorted(q.category for q in suite.questions) == ["arithmetic/table", "span/text"]


# ------------------------------------------------------------------------------------------------- errors


def test_missing_folder_says_where_it_looked_and_where_to_get_the_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_external("tatqa", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "tatqa" / "questions.jsonl") in message
    for part in (ENV_VAR, "SUFE-AIFLM-Lab/FinEval", "Apache-2.0", "NExTplusplus/TAT-QA", "CC BY 4.0", " | "):
        assert part in message


def test_environment_variable_points_at_the_benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert benchmarks_dir() == tmp_path
    with pytest.raises(ConfigError, match="fineval_rigor"):
        load_external("fineval_rigor")


def test_unknown_name_and_bad_limit(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of fineval_rigor, tatqa"):
        load_external("finqa", root=tmp_path)
    with pytest.raises(ConfigError, match="limit must be a positive number"):
        load_external("tatqa", root=tmp_path, limit=0)


def _tatqa_row(qid: str, doc: str) -> dict[str, object]:
    return {"id": qid, "split": "dev", "question": "What was revenue?", "gold_answer": ["1,200.5"],
            "answer_type": "span", "answer_from": "table", "scale": "thousand", "derivation": "",
            "figures": [{"value": 1200.5, "scale": "thousand", "percent": False, "normalized_value": 1200500.0}],
            "evidence_docs": [doc], "rel_paragraphs": []}


def test_a_missing_document_is_a_warning_and_leaves_the_scope(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "tatqa"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "a.txt").write_text(" | 2019\nRevenue | 1,200.5\n", encoding="utf-8")
    rows = [_tatqa_row("q1", "docs/a.txt"), _tatqa_row("q2", "docs/gone.txt")]
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="evals.external"):
        suite = load_external("tatqa", root=tmp_path)
    assert isinstance(suite, ExternalSuite)
    assert suite.documents == (folder / "docs" / "a.txt",)
    q1, q2 = suite.questions
    assert q1.expected == (ExpectedFigure(value=1200500.0, unit="", decimals=1),) and q1.scope == ("a.txt",)
    assert q2.scope == () and q2.sources == ()
    assert caplog.messages == [f"q2: document {folder / 'docs' / 'gone.txt'} is missing; left out of its scope"]


def test_a_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "tatqa").mkdir()
    (tmp_path / "tatqa" / "questions.jsonl").write_text('{"id": "q1"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"questions\.jsonl:1: not valid JSON"):
        load_external("tatqa", root=tmp_path)
    (tmp_path / "tatqa" / "questions.jsonl").write_text('{"id": "q1", "question": "Revenue?"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"questions\.jsonl: a question lacks a field .*'answer_type'"):
        load_external("tatqa", root=tmp_path)
