"""Command line: python -m ingest PATH... [--index DIR] [--rebuild] [--delete SOURCE] [--list]."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.cli import run
from rag.config import load_settings
from rag.errors import SectorChatError
from rag.types import EDITABLE_FIELDS, DocumentMeta, DocumentRecord, IngestReport

if TYPE_CHECKING:
    from ingest.pipeline import IngestProgress


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Add files and folders (PDF, HTML, Markdown, text, Word) to the sectorchat index.",
    )
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (walked recursively)")
    p.add_argument("--index", type=Path, help="index folder (default: SECTORCHAT_INDEX or ./index)")
    p.add_argument("--rebuild", action="store_true",
                   help="start the index afresh; with no PATH, re-ingest every document the index knows")
    p.add_argument("--delete", metavar="SOURCE", action="append", default=[],
                   help="remove a document (its path or file name, as --list shows); may repeat")
    p.add_argument("--list", action="store_true", help="list the documents in the index")
    p.add_argument("--json", action="store_true", help="with --list: one JSON object per document and line")
    p.add_argument("--set", nargs="+", metavar=("SOURCE", "FIELD=VALUE"), action="append", default=[],
                   help="correct a document's metadata, e.g. --set report.pdf company=\"Pfizer Inc.\" "
                        "fiscal_year=2018 (fields: " + ", ".join(EDITABLE_FIELDS) + "); kept when the file is "
                        "ingested again; may repeat")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes that load, chunk and embed in parallel, the cores shared out among them "
                        "(default 0: with the USE encoder one per core when there is more than 256 KB to ingest, "
                        "else 1)")
    p.add_argument("--shard", metavar="I/N",
                   help="ingest only shard I of N (1-based), for N processes sharing a Chroma server")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens, file by file")
    return p


def print_report(report: IngestReport, where: str) -> None:
    print(
        f"Ingest into {where} took {report.seconds:.1f} s: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed, {len(report.skipped)} skipped; "
        f"{report.chunks_written} chunks written, {report.chunks_deleted} stale chunks deleted."
    )
    if report.chunks_recovered:
        print(f"  recovered {report.chunks_recovered} orphaned chunk(s) left by an interrupted earlier run")
    for label, items in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
        for name in items:
            print(f"  {label:<9} {name}")
    for name, why in report.skipped:
        print(f"  skipped   {name}: {why}")
    for name, why in report.warnings:
        print(f"  warning   {name}: {why}")
    for name, why in report.failed:
        print(f"  FAILED    {name}: {why}")


def document_json(r: DocumentRecord) -> dict[str, Any]:
    """One document as ``--list --json`` prints it (DESIGN.md): text fields "" and fiscal_year null when unknown."""
    m = r.meta
    return {"source": r.source, "title": m.title, "company": m.company, "tickers": list(m.tickers), "form": m.form,
            "doc_type": m.doc_type, "fiscal_year": m.fiscal_year, "period_end": m.period_end,
            "period_type": m.period_type, "date": m.date, "language": m.language, "pages": r.pages,
            "chunks": r.chunks, "added": r.added_at, "cik": m.cik, "corrected": list(m.corrected)}


def period_label(m: DocumentMeta) -> str:
    """"FY2022 (to 2022-09-24)", "Q2 2023", "H1 2025" or "-"."""
    if not (m.period_type or m.fiscal_year):
        return "-"
    label = f"{m.period_type}{'' if m.period_type == 'FY' else ' '}{m.fiscal_year or ''}".strip()
    return f"{label} (to {m.period_end})" if m.period_end else label


def print_documents(records: list[DocumentRecord], *, as_json: bool = False) -> None:
    if as_json:
        for r in records:
            print(json.dumps(document_json(r), ensure_ascii=False))
        return
    if not records:
        print("The index holds no documents.")
        return
    rows = [("DATE", "TYPE", "FORM", "COMPANY", "PERIOD", "LANG", "PAGES", "CHUNKS", "ADDED", "TITLE", "SOURCE")]
    for r in records:
        m = r.meta
        mark = "*" if m.corrected else ""
        rows.append((m.date or "-", m.doc_type, m.form or "-", (m.company or "-")[:30], period_label(m), m.language,
                     str(r.pages or "-"), str(r.chunks), r.added_at[:10], mark + m.title[:60], r.source))
    last = len(rows[0]) - 1
    widths = [max(len(row[i]) for row in rows) for i in range(last)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:last])) + "  " + row[last])
    if any(r.meta.corrected for r in records):
        print("* metadata corrected by hand (python -m ingest --set); --list --json names the fields")
    total = sum(r.chunks for r in records)
    print(f"{len(records)} document(s), {total} chunk(s).")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # pypdf warns on stderr about damaged files; the report already names them with a reason
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not (args.paths or args.list or args.delete or args.rebuild or args.set):
        _parser().print_usage(sys.stderr)
        print("python -m ingest: error: give files or folders to ingest, or --list / --delete / --set / --rebuild",
              file=sys.stderr)
        return 2
    if args.json and not args.list:
        print("python -m ingest: error: --json goes with --list", file=sys.stderr)
        return 2
    for item in args.set:
        if len(item) < 2:
            print(f"python -m ingest: error: --set {item[0]} needs FIELD=VALUE after the document", file=sys.stderr)
            return 2
    shard = None
    if args.shard:
        from ingest.pipeline import Shard

        try:
            shard = Shard.parse(args.shard)
        except ValueError as exc:
            print(f"python -m ingest: error: {exc}", file=sys.stderr)
            return 2
        if args.rebuild:
            print("python -m ingest: error: --rebuild would drop the other shards' documents; "
                  "rebuild once without --shard", file=sys.stderr)
            return 2
    if args.workers < 0:
        print(f"python -m ingest: error: --workers must be 0 (automatic) or more, got {args.workers}",
              file=sys.stderr)
        return 2
    try:
        settings = load_settings(index=args.index)
        from ingest.pipeline import Ingestor

        status = 0
        # Listing, deleting and correcting need an index that exists; ingesting creates one.
        ingestor = Ingestor.from_settings(settings, create=bool(args.paths or args.rebuild))
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.index)
        for source in args.delete:
            try:
                target, removed = ingestor.delete(source)
                print(f"Deleted {target} ({removed} chunks).")
            except SectorChatError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 1
        paths = list(args.paths)
        if args.rebuild:
            if not paths:
                paths = [Path(s) for s in ingestor.known_sources()]
                missing = [p for p in paths if not p.exists()]
                if missing:
                    print(f"warning: {len(missing)} source(s) no longer exist and will be dropped: "
                          + ", ".join(map(str, missing)), file=sys.stderr)
                    paths = [p for p in paths if p.exists()]
            ingestor.store.reset()
            ingestor.refresh_keyword_index()
            print(f"Rebuilding the index in {where} from {len(paths)} path(s).")
        if paths or args.rebuild:
            with ProgressBar() as bar:
                report = ingestor.run(paths, progress=bar, workers=args.workers, shard=shard)
            print_report(report, where)
            if report.failed:
                status = 1
        for source, *assignments in args.set:
            try:
                record = ingestor.set_fields(source, assignments)
                fields = ", ".join(f"{a.partition('=')[0].strip()}" for a in assignments)
                print(f"Set {fields} of {record.source}: now {record.meta.title!r}"
                      f"{' (' + record.meta.company + ')' if record.meta.company else ''}.")
            except SectorChatError as exc:
                print(f"error: --set {source}: {exc}", file=sys.stderr)
                status = 1
        if args.list:
            print_documents(ingestor.store.list_documents(), as_json=args.json)
        return status
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


class ProgressBar:
    """A tqdm bar of pages on stderr, with files, chunks and the file at work; it estimates the time left.

    Drawn from the first progress report; on a terminal it redraws in place, elsewhere (a log, CI) it prints a
    line at most every 10 seconds, so a long run is never silent.
    """

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, p: IngestProgress) -> None:
        if self._bar is None:
            from tqdm import tqdm

            tty = sys.stderr.isatty()
            self._bar = tqdm(total=p.pages, unit="page", desc="Ingesting", file=sys.stderr, dynamic_ncols=tty,
                             mininterval=0.2 if tty else 10.0, ascii=not tty)
        self._bar.set_postfix_str(f"{p.files_done}/{p.files} files, {p.chunks:,} chunks"
                                  + (f", {p.current}" if p.current else ""), refresh=False)
        self._bar.update(p.pages_done - self._bar.n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


if __name__ == "__main__":
    run(main)
