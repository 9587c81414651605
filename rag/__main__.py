"""Command line: python -m rag ask "QUESTION" [--index DIR] [--k N] [--json] [--batch FILE] [filters]."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

from rag import filters as check
from rag.cli import run
from rag.config import load_settings
from rag.errors import SectorChatError
from rag.types import Answer, Filters


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag", description="Ask the sectorchat index.")
    sub = p.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question (or a batch) with cited, checked figures")
    ask.add_argument("question", nargs="?", help="the question (omit with --batch)")
    ask.add_argument("--batch", type=Path, help="file of questions: one per line, or JSONL with 'question' "
                     "(and optional 'history': [[question, answer], ...]); prints one JSON Answer per line")
    ask.add_argument("--index", type=Path, help="index folder (default SECTORCHAT_INDEX or ./index)")
    ask.add_argument("--k", type=int, help="chunks passed to the answer backend (default 5)")
    ask.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    ask.add_argument("--llm", help="answer backend (default SECTORCHAT_LLM or 'extractive')")
    ask.add_argument("--doc-type", action="append", default=[], choices=check.DOC_TYPES)
    ask.add_argument("--company", action="append", default=[], help="company name or ticker (substring)")
    ask.add_argument("--source", action="append", default=[], help="document path or file name")
    ask.add_argument("--from", dest="date_from", help=f"documents dated on or after this day ({check.DATE_FORMS}: "
                     "a year or month starts on its first day)")
    ask.add_argument("--to", dest="date_to", help=f"documents dated on or before this day ({check.DATE_FORMS}: "
                     "a year or month ends on its last day)")
    ask.add_argument("-v", "--verbose", action="store_true")
    return p


def format_answer(answer: Answer) -> str:
    """Plain text: the answer, then the numbered sources with page and quote, then the figure check."""
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            page = f", page {c.page}" if c.page else ""
            lines.append(f"  [{c.n}] {c.title} ({Path(c.source).name}{page})")
            lines.append(f"      \"{c.quote}\"")
    if answer.figures:
        lines.append("Figures:")
        for f in answer.figures:
            cite = f" [{f.citation}]" if f.citation else ""
            extra = f" — {f.arithmetic}" if f.arithmetic else (f" — {f.reason}" if f.reason else "")
            lines.append(f"  {f.status:<10} {f.text}{cite}{extra}")
    return "\n".join(lines).rstrip()


def _read_batch(path: Path) -> list[tuple[str, list[tuple[str, str]], str]]:
    """(question, history, error) per line of a batch file."""
    out: list[tuple[str, list[tuple[str, str]], str]] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                obj: Any = json.loads(line)
                question = str(obj["question"])
                history = [(str(q), str(a)) for q, a in obj.get("history", [])]
                out.append((question, history, ""))
            except (ValueError, KeyError, TypeError) as exc:
                out.append((line.strip(), [], f"{path}:{i}: not a JSON object with a 'question' field ({exc})"))
        else:
            out.append((line.strip(), [], ""))
    return out


def option_filters(args: argparse.Namespace) -> Filters:
    """The filters of the command line, each checked with the option as the user wrote it in the message.

    Raises:
        FilterError: e.g. "--from 2025-xx is not a date: use YYYY, YYYY-MM or YYYY-MM-DD".
    """
    def label(option: str, value: str) -> str:
        return f"{option} {shlex.quote(value)}"

    def given(value: str | list[str] | None) -> str | None:
        # Python 3.11's argparse turns "--from=--" into [] (it drops the "--"): that value was "--".
        return "--" if isinstance(value, list) else value

    companies = [check.name(c, label=label("--company", c), what="a company name or ticker")
                 for c in map(given, args.company) if c is not None]
    sources = [check.name(s, label=label("--source", s), what="a document path or file name")
               for s in map(given, args.source) if s is not None]
    raw_from, raw_to = given(args.date_from), given(args.date_to)
    date_from = "" if raw_from is None else check.date_bound(raw_from, end=False, label=label("--from", raw_from))
    date_to = "" if raw_to is None else check.date_bound(raw_to, end=True, label=label("--to", raw_to))
    return Filters(tuple(args.doc_type), tuple(companies), tuple(sources), date_from, date_to)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.question and not args.batch:
        print("python -m rag ask: error: give a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    if args.batch and not args.batch.is_file():
        print(f"error: batch file {args.batch} does not exist", file=sys.stderr)
        return 2
    try:
        filters = option_filters(args)  # before the model loads: a typo costs no wait
        settings = load_settings(index=args.index, llm=args.llm, top_k=args.k)
        from rag.assistant import build_assistant

        assistant = build_assistant(settings)
        if args.batch:
            for question, history, error in _read_batch(args.batch):
                if error:
                    answer = Answer(question=question, answer=f"Error: {error}", refused=True, error=error)
                else:
                    answer = assistant.ask(question, history=history, filters=filters)
                print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
            return 0
        answer = assistant.ask(args.question, filters=filters)
        if answer.error:
            print(f"error: {answer.error}", file=sys.stderr)
            if args.json:
                print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
            return 2
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2) if args.json else format_answer(answer))
        return 0
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    run(main)
