"""The dependency audit's verdict from pip-audit's JSON: vulnerabilities fail, ignored ones and skips do not."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from audit import summarize  # noqa: E402


def test_vulnerabilities_are_found_ignored_ids_dropped_and_unchecked_pins_counted() -> None:
    result = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.2", "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"], "fix_versions": ["3.1.3"]},
                {"id": "PYSEC-2024-1", "aliases": ["CVE-2024-0001"], "fix_versions": []},
            ]},
            {"name": "requests", "version": "2.32.3", "vulns": []},
            {"name": "torch", "skip_reason": "Dependency not found on PyPI and could not be audited: torch (2.13.0)"},
        ]
    }
    found, unchecked, checked = summarize(result, {"CVE-2024-0001": "does not apply: test"})
    assert found == ["jinja2==3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)"]
    assert unchecked == ["torch"]
    assert checked == 2
