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
