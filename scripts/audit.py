"""Audit the pinned dependencies (requirements.lock) for known vulnerabilities with pip-audit.

Fails (exit 1) on any known vulnerability that is not listed in IGNORED with a reason. pip-audit skips a pin it
cannot ask the vulnerability service about and still says "No known vulnerabilities found"; this wrapper counts
those pins and says so loudly.

Fallback for a closed network (this project's machines: PyPI's per-release JSON and OSV are unreachable, PyPI's
per-project JSON is not): a pin pip-audit skipped is checked against the project's JSON, whose `vulnerabilities`
list is that of the project's latest release. A pin that is the latest release is checked that way; an older pin
cannot be, and is listed. Unchecked pins warn and exit 0, unless SECTORCHAT_AUDIT_STRICT=1 makes that a failure.

Usage: python scripts/audit.py [requirements.lock]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Advisories accepted on purpose: id -> reason. Keep each reason specific (what is affected, why it does not apply).
_CHROMA = ("chromadb 1.5.9 is the latest release and none fixes it (checked 2026-11-26); it affects the Chroma "
           "server (`chroma run`), not the embedded client sectorchat uses by default. ")
IGNORED: dict[str, str] = {
    "CVE-2026-45829": _CHROMA + "Pre-auth code execution through a collection's embedding-function config with "
    "trust_remote_code: README 'Scaling' binds the server to 127.0.0.1 and says to expose its port to trusted hosts "
    "only; rag.store warns when SECTORCHAT_CHROMA_HOST is not this machine.",
    "CVE-2026-45833": _CHROMA + "The same code execution for an authenticated client: same mitigation.",
    "CVE-2026-45830": _CHROMA + "Cross-tenant access for authenticated users: sectorchat uses one tenant and no "
    "Chroma auth; whoever reaches the port has the data anyway, hence the same mitigation.",
    "CVE-2026-45831": _CHROMA + "SimpleRBACAuthorizationProvider ignores the resource: sectorchat does not use it.",
}


def summarize(result: dict[str, Any], ignored: dict[str, str]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found as lines, pins that could not be checked, pins checked) from pip-audit's JSON.

    An unchecked pin is named with its version and why it could not be checked (``torch==2.13.0 (older than
    the latest release 2.14.0, …)``), so the warning says plainly what was not looked at."""
    found: list[str] = []
    unchecked: list[str] = []
    checked = 0
    for dep in result.get("dependencies", []):
        if dep.get("skip_reason"):
            version = f"=={dep['version']}" if dep.get("version") else ""
            unchecked.append(f"{dep.get('name')}{version} ({dep['skip_reason']})")
            continue
        checked += 1
        for vuln in dep.get("vulns", []):
            ids = {vuln.get("id"), *vuln.get("aliases", [])}
            if ids & set(ignored):
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            found.append(f"{dep.get('name')}=={dep.get('version')}: {vuln.get('id')} (fixed in {fixes})")
    return found, unchecked, checked


def summary_line(checked: int, total: int, by_pip_audit: int, ignored: int) -> str:
    """The audit's verdict in one line; the README quotes it, so it states what was and was not checked."""
    line = (f"audit: {checked} of {total} pins checked ({by_pip_audit} by pip-audit, {checked - by_pip_audit} against "
            "their project's latest-release data on PyPI): no known vulnerabilities in them"
            + (f" ({ignored} accepted on purpose)" if ignored else ""))
    if checked < total:
        line += f"; {total - checked} unchecked (listed above)"
    return line


def read_pins(lock: Path) -> dict[str, str]:
    """name -> pinned version from a requirements file of `name==version` lines (comments and markers dropped)."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    """A project name as PyPI compares them (PEP 503): `Typing_Extensions` -> `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def latest_release_check(project: dict[str, Any], version: str) -> dict[str, Any]:
    """A pip-audit-style dependency entry from PyPI's per-project JSON, or one with a skip_reason.

    The project JSON's `vulnerabilities` belong to its latest release (`info.version`), so only a pin equal to that
    release can be judged from it."""
    name = str(project.get("info", {}).get("name", "?"))
    latest = str(project.get("info", {}).get("version", ""))
    if version != latest:
        files = project.get("releases", {}).get(version) or []
        yanked = [f.get("yanked_reason") or "no reason given" for f in files if f.get("yanked")]
        why = f"yanked ({yanked[0]}); " if files and len(yanked) == len(files) else ""
        return {"name": name, "version": version,
                "skip_reason": f"{why}older than the latest release {latest}, whose data is all PyPI gives here"}
    vulns = [{"id": v.get("id"), "aliases": v.get("aliases") or [], "fix_versions": v.get("fixed_in") or []}
             for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return {"name": name, "version": version, "vulns": vulns}


def _project_json(name: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=20) as r:  # noqa: S310
            data: dict[str, Any] = json.load(r)
            return data
    except (OSError, ValueError):
        return None


def fallback(result: dict[str, Any], pins: dict[str, str]) -> dict[str, Any]:
    """Replace pip-audit's skipped pins by what PyPI's per-project JSON can say about them."""
    deps = result.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason") and canonical(str(d.get("name", ""))) in pins]
    with ThreadPoolExecutor(8) as pool:
        projects = list(pool.map(lambda d: _project_json(str(d["name"])), skipped))
    redone = {id(d): (latest_release_check(p, pins[canonical(str(d["name"]))]) if p else d)
              for d, p in zip(skipped, projects, strict=True)}
    return {**result, "dependencies": [redone.get(id(d), d) for d in deps]}


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
    before = sum(1 for d in result.get("dependencies", []) if not d.get("skip_reason"))
    if before < len(result.get("dependencies", [])):
        result = fallback(result, read_pins(lock))
    found, unchecked, checked = summarize(result, IGNORED)
    total = checked + len(unchecked)
    for line in found:
        print(f"audit: VULNERABLE {line}")
    if found:
        print(f"audit: FAILED: {len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'} in {lock}; "
              "upgrade the pins (or add the id to IGNORED in scripts/audit.py with a reason)", file=sys.stderr)
        return 1
    if unchecked:
        print(f"audit: WARNING: {len(unchecked)} of {total} pins in {lock} are UNCHECKED: nobody here can say whether "
              "they have known vulnerabilities. pip-audit's services (OSV, PyPI's per-release JSON) do not answer on "
              "this network, and PyPI's per-project JSON only describes a project's latest release, so a pin behind "
              "its latest release is not checked:", file=sys.stderr)
        for line in sorted(unchecked, key=str.lower):
            print(f"audit:   unchecked {line}", file=sys.stderr)
        if os.environ.get("SECTORCHAT_AUDIT_STRICT") == "1":
            return 1
    for vid, why in IGNORED.items():
        print(f"audit: accepted {vid}: {why}")
    print(summary_line(checked, total, before, len(IGNORED)))
    return 0


if __name__ == "__main__":
    from rag.cli import run  # a closed pipe (`| head`) ends the audit quietly, like the other commands

    run(lambda: main(sys.argv[1:]))
