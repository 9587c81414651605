"""Command line: python -m evals run SUITE... | compare REPORT_A REPORT_B | list."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from rag.cli import run
from rag.config import load_settings
from rag.errors import ConfigError, SectorChatError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals", description="Run sectorchat eval suites.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run suites and write a JSON + HTML report")
    run.add_argument("suites", nargs="+", help="suite JSONL files, or external suites: fineval_rigor, tatqa")
    run.add_argument("--index", type=Path, help="index holding the documents of JSONL suites (default ./index)")
    run.add_argument("--report", type=Path, help="report folder (default reports/<time>)")
    run.add_argument("--fail-under", nargs="*", default=[], metavar="METRIC=VALUE",
                     help="exit 1 when a metric of any suite is under VALUE, e.g. figure_accuracy=0.95")
    run.add_argument("--limit", type=int, help="external suites: a fixed sample of this many questions")
    run.add_argument("--k", type=int, help="chunks given to the answer backend")
    run.add_argument("--llm", help="answer backend (default extractive)")
    run.add_argument("-v", "--verbose", action="store_true")
    cmp = sub.add_parser("compare", help="what got better or worse between two reports")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    sub.add_parser("list", help="list the bundled suites and the external ones found")
    return p


def _load_report(path: Path) -> dict[str, Any]:
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"no report at {path} (give a report folder or its report.json)")
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "compare":
            from evals.report import compare

            print(compare(_load_report(args.a), _load_report(args.b)))
            return 0
        if args.command == "list":
            from evals.runner import available_suites

            for name, where in available_suites():
                print(f"{name:<28} {where}")
            return 0
        from evals.report import failed_thresholds, parse_thresholds, summary_table, write_report
        from evals.runner import run_all

        try:
            thresholds = parse_thresholds(args.fail_under)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        settings = load_settings(index=args.index, top_k=args.k, llm=args.llm)
        folder = args.report or Path("reports") / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        with tempfile.TemporaryDirectory(prefix="sectorchat-evals-") as tmp:
            report = run_all(args.suites, settings, work=Path(tmp), limit=args.limit, progress_bar=True)
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        js, page = write_report(report, folder, secrets=[key] if key else [])
        print(summary_table(report))
        print(f"\nReport: {js} and {page}")
        failures = failed_thresholds(report, thresholds)
        for line in failures:
            print(f"THRESHOLD FAILED: {line}", file=sys.stderr)
        return 1 if failures else 0
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    run(main)
