"""Audit the pinned dependencies (requirements.lock) for known vulnerabilities with pip-audit.

Fails (exit 1) on any known vulnerability that is not listed in IGNORED with a reason. pip-audit skips a pin it
cannot ask the vulnerability service about and still says "No known vulnerabilities found"; this wrapper counts
those pins and says so loudly. Where no service answers at all (a closed network: PyPI's per-release JSON and
OSV both unreachable), it warns and exits 0, unless SECTORCHAT_AUDIT_STRICT=1 makes that a failure too.

Usage: python scripts/audit.py [requirements.lock]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Advisories accepted on purpose: id -> reason. Keep each reason specific (what is affected, why it does not apply).
IGNORED: dict[str, str] = {}


def summarize(result: dict[str, Any], ignored: dict[str, str]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found as lines, pins that could not be checked, pins checked) from pip-audit's JSON."""
    found: list[str] = []
    unchecked: list[str] = []
    checked = 0
    for dep in result.get("dependencies", []):
        if dep.get("skip_reason"):
            unchecked.append(str(dep.get("name")))
            continue
        checked += 1
        for vuln in dep.get("vulns", []):
            ids = {vuln.get("id"), *vuln.get("aliases", [])}
            if ids & set(ignored):
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            found.append(f"{dep.get('name')}=={dep.get('version')}: {vuln.get('id')} (fixed in {fixes})")
    return found, unchecked, checked


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else Path("requirements.lock")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        run = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--output", str(out)],
            capture_output=True, text=True,
        )
        if not out.is_file():
            print(f"audit: pip-audit failed (exit {run.returncode}):\n{run.stderr}", file=sys.stderr)
            return 1
        result = json.loads(out.read_text(encoding="utf-8"))
    found, unchecked, checked = summarize(result, IGNORED)
    total = checked + len(unchecked)
    for line in found:
        print(f"audit: VULNERABLE {line}")
    if found:
        print(f"audit: FAILED: {len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'} in {lock}; "
              "upgrade the pins (or add the id to IGNORED in scripts/audit.py with a reason)", file=sys.stderr)
        return 1
    if unchecked:
        print(f"audit: WARNING: {len(unchecked)} of {total} pins in {lock} could not be checked: the vulnerability "
              "service did not answer for them (on this network PyPI's per-release JSON and OSV are unreachable)",
              file=sys.stderr)
        if os.environ.get("SECTORCHAT_AUDIT_STRICT") == "1":
            return 1
    print(f"audit: {checked} of {total} pins checked, no known vulnerabilities"
          + (f" ({len(IGNORED)} ignored on purpose)" if IGNORED else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
