"""The answer path's vocabulary files: the packaged ones load and hold what the readers rely on; a wrong entry is
named with its file, entry and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.lexicon import FOLDER, load_lexicon


def test_packaged_lexicon_loads_with_its_measures_directives_and_operations() -> None:
    lex = load_lexicon()
    revenue = lex.measure("revenue")
    assert revenue is not None and revenue.kind == "currency" and revenue.statement == "income"
    assert {"net sales", "total revenues", "sales to customers"} <= set(revenue.en)
    assert {"营业收入", "营业总收入"} <= set(revenue.zh)
    capex = lex.measure("capex")
    assert capex is not None and "purchases of property, plant and equipment" in capex.en
    assert any(n.startswith("购建固定资产") for n in capex.zh)
    assert {d.name for d in lex.directives} >= {"answer in a currency and scale", "round to decimal places"}
    assert [o.op for o in lex.operations][:2] == ["cagr", "growth"]
    assert {"answer", "round", "calculate", "here", "base", "if"} <= lex.not_names


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "lex"
    shutil.copytree(FOLDER, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


@pytest.mark.parametrize("file, old, new, message", [
    ("measures.yaml", "kind: per_share", "kind: pershare", "measure eps: kind 'pershare' is not one of"),
    ("measures.yaml", "  - id: capex\n", "  - id: revenue\n", "measure revenue is listed twice"),
    ("operations.yaml", "op: average", "op: mean", "op 'mean' is not one of"),
    ("directives.yaml", "(?P<decimals>\\\\d|zero", "(?P<places>\\\\d|zero", "unknown group(s) places"),
    ("directives.yaml", "name: role to play\n    pattern: \"", "name: role to play\n    pattern: \"(", "pattern does not compile"),
    ("statements.yaml", "id: cash_flow", "id: cashflow", "id 'cashflow' is not one of income, balance, cash_flow"),
    ("companies.yaml", '  - en: ["Akeso"]\n', '  - en: []\n', "entry 5 needs at least one English name"),
    ("companies.yaml", '  - en: ["Akeso"]\n', '  - en: ["Hengrui"]\n', "the name 'Hengrui' is also entry 2's"),
    ("companies.yaml", '    zh: ["康方生物"]\n', '    zh: [""]\n', "entry 5 field 'zh' must list non-empty strings"),
    ("forms.yaml", '    forms: ["8-K", "6-K"]\n', '    forms: []\n', "entry 4 field 'forms' must list non-empty strings"),
    ("forms.yaml", "  - id: release\n", "  - id: annual\n", "form kind annual is listed twice"),
])
def test_a_wrong_entry_is_named(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    folder = _copy(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_lexicon(folder)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_words_file_without_its_lists_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "words.yaml").write_text("not_names: [a, b]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'question_words' must be a list of words"):
        load_lexicon(folder)


def test_a_statement_is_named_by_its_titles_and_a_row_label_fits_a_measure_by_how_wholly_it_names_it() -> None:
    lex = load_lexicon()
    assert [lex.statement_named(t) for t in ("CONSOLIDATED STATEMENTS OF CASH FLOWS", "Consolidated Balance Sheet",
                                             "Condensed Consolidated Statements of Operations", "合并利润表",
                                             "For the Years Ended May 31, 2023", "Net income reconciliation")] == [
        "cash_flow", "balance", "income", "income", "", ""]
    assert lex.measure_fit("net_income", "Net income") == 1.0
    # its longest name written, "net income attributable to", covers 4 of its 6 words ("less" and "net" aside)
    assert lex.measure_fit("net_income", "Less: Net income attributable to non-controlling interests") == 4 / 6
    assert lex.measure_fit("total_assets", "TOTAL ASSETS") == 1.0
    assert lex.measure_fit("revenue", "Cost of sales") == 0.0  # "sales" is written, but not as a name of revenue
    # a label that names nothing alone, under a heading that does ("Earnings per share:" above "Diluted")
    assert lex.measure_fit("eps", "Diluted") == 0.0
    assert lex.row_fit("eps", "Diluted", "Earnings per share:") == 0.9 * lex.measure_fit("eps", "Earnings per share: Diluted")
    assert lex.row_fit("eps", "Diluted", "Earnings per share:") > 0.5


def test_outflows_are_named_by_the_words_file() -> None:
    lex = load_lexicon()
    assert [lex.is_outflow(x) for x in ("Interest expense", "Common stock dividends", "Capital expenditures",
                                        "Payments for acquisition of property, plant and equipment", "Net income",
                                        "Total revenues", "购建固定资产支付的现金")] == [
        True, True, True, True, False, False, True]


def test_companies_are_data_with_aliases_and_tickers() -> None:
    from rag.companies import mentions

    lex = load_lexicon()
    jnj = next(c for c in lex.companies if c.en[0] == "Johnson & Johnson")
    assert (jnj.en, jnj.tickers) == (("Johnson & Johnson", "J&J", "JnJ"), ("JNJ",))
    assert any(c.zh == ("君实生物",) for c in lex.companies)
    assert mentions("J&J", "johnson & johnson reported sales of") and mentions("君实生物", "junshi biosciences said")
    assert mentions("AMEX", "american express company") and not mentions("AMEX", "apple inc.")
