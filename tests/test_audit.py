"""The dependency audit's verdict from pip-audit's JSON: vulnerabilities fail, ignored ones and skips do not."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from audit import latest_release_check, read_pins, summarize  # noqa: E402


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
    assert unchecked == ["torch (Dependency not found on PyPI and could not be audited: torch (2.13.0))"]
    assert checked == 2


def _project(latest: str, vulns: list[dict[str, object]], releases: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    return {"info": {"name": "Jinja2", "version": latest}, "vulnerabilities": vulns, "releases": releases}


def test_a_pin_equal_to_the_latest_release_is_judged_by_the_project_json() -> None:
    vulns = [{"id": "GHSA-aaaa", "aliases": ["CVE-2026-1"], "fixed_in": ["3.1.7"], "withdrawn": None},
             {"id": "GHSA-old", "aliases": [], "fixed_in": [], "withdrawn": "2026-01-02T00:00:00"}]
    dep = latest_release_check(_project("3.1.6", vulns, {"3.1.6": [{"yanked": False}]}), "3.1.6")
    assert dep == {"name": "Jinja2", "version": "3.1.6",
                   "vulns": [{"id": "GHSA-aaaa", "aliases": ["CVE-2026-1"], "fix_versions": ["3.1.7"]}]}
    found, unchecked, checked = summarize({"dependencies": [dep]}, {})
    assert (found, unchecked, checked) == (["Jinja2==3.1.6: GHSA-aaaa (fixed in 3.1.7)"], [], 1)


def test_an_older_pin_stays_unchecked_and_a_yanked_one_says_why() -> None:
    older = latest_release_check(_project("3.1.6", [], {"3.1.2": [{"yanked": False}]}), "3.1.2")
    assert older["skip_reason"] == "older than the latest release 3.1.6, whose data is all PyPI gives here"
    yanked = latest_release_check(
        _project("3.1.6", [], {"3.1.3": [{"yanked": True, "yanked_reason": "CVE-2024-22195"},
                                         {"yanked": True, "yanked_reason": "CVE-2024-22195"}]}), "3.1.3")
    assert yanked["skip_reason"].startswith("yanked (CVE-2024-22195); older than the latest release 3.1.6")
    assert summarize({"dependencies": [older, yanked]}, {}) == ([], [
        "Jinja2==3.1.2 (older than the latest release 3.1.6, whose data is all PyPI gives here)",
        "Jinja2==3.1.3 (yanked (CVE-2024-22195); older than the latest release 3.1.6, whose data is all PyPI gives here)",
    ], 0)


def test_the_verdict_line_says_how_many_pins_were_not_checked() -> None:
    from audit import summary_line

    assert summary_line(174, 186, 0, 4) == (
        "audit: 174 of 186 pins checked (0 by pip-audit, 174 against their project's latest-release data on PyPI): "
        "no known vulnerabilities in them (4 accepted on purpose); 12 unchecked (listed above)")
    assert summary_line(186, 186, 186, 0) == (
        "audit: 186 of 186 pins checked (186 by pip-audit, 0 against their project's latest-release data on PyPI): "
        "no known vulnerabilities in them")


def test_pins_are_read_from_the_lock_file(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# pinned\nJinja2==3.1.6  # via gradio\ntorch==2.13.0 ; platform_system == 'Linux'\n\n-e .\n"
                    "typing_extensions==4.15.0\nzope.interface==8.0\n")
    assert read_pins(lock) == {"jinja2": "3.1.6", "torch": "2.13.0", "typing-extensions": "4.15.0",
                               "zope-interface": "8.0"}
