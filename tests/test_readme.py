"""The README's "Reliability and security" table names tests that exist, and quotes the audit as it prints."""

from __future__ import annotations

import ast
import re
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from audit import IGNORED, read_pins, summary_line  # noqa: E402


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    return text[start : text.index("\n## ", start + 1)]


def _named_tests(section: str) -> list[tuple[str, str]]:
    """(file, test name) for every `tests/x.py::name` in the section, and every `::name` after it in its cell."""
    out = []
    for cell in section.split("|"):
        current = ""
        for m in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`|`(tests/[\w/]+\.py)`", cell):
            if m[3]:
                current = m[3]
                continue
            current = m[1] or current
            out.append((current, m[2]))
    return out


def test_every_test_the_reliability_table_names_exists() -> None:
    named = _named_tests(_section("Reliability and security"))
    assert len(named) >= 40
    missing = []
    for file, name in named:
        assert file, f"::{name} follows no file name"
        tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in functions:
            missing.append(f"{file}::{name}")
    assert missing == []


def test_the_audit_line_the_readme_quotes_has_the_audits_form_and_the_lock_files_pin_count() -> None:
    m = re.search(r"`(audit: (\d+) of (\d+) pins checked \((\d+) by pip-audit.*?)`", _section("Reliability and security"))
    assert m is not None
    checked, total, by_pip_audit = int(m[2]), int(m[3]), int(m[4])
    assert total == len(read_pins(ROOT / "requirements.lock"))
    assert m[1] == summary_line(checked, total, by_pip_audit, len(IGNORED))
