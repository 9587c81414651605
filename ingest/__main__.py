"""Command line: python -m ingest PATH... [--index DIR] [--rebuild] [--delete SOURCE] [--list]."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from rag.cli import run
from rag.config import load_settings
from rag.errors import SectorChatError
from rag.types import DocumentRecord, IngestReport


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


def print_documents(records: list[DocumentRecord]) -> None:
    if not records:
        print("The index holds no documents.")
        return
    rows = [("DATE", "TYPE", "LANG", "PAGES", "CHUNKS", "ADDED", "TITLE", "SOURCE")]
    for r in records:
        rows.append((r.meta.date or "-", r.meta.doc_type, r.meta.language, str(r.pages or "-"), str(r.chunks),
                     r.added_at[:10], r.meta.title[:60], r.source))
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:7])) + "  " + row[7])
    total = sum(r.chunks for r in records)
    print(f"{len(records)} document(s), {total} chunk(s).")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # pypdf warns on stderr about damaged files; the report already names them with a reason
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not (args.paths or args.list or args.delete or args.rebuild):
        _parser().print_usage(sys.stderr)
        print("python -m ingest: error: give files or folders to ingest, or --list / --delete / --rebuild",
              file=sys.stderr)
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
        # Listing and deleting need an index that exists; ingesting creates one.
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
        if args.list:
            print_documents(ingestor.store.list_documents())
        return status
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


class ProgressBar:
    """A tqdm bar on stderr, drawn from the first progress report (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", desc="Ingesting", file=sys.stderr, disable=None)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


if __name__ == "__main__":
    run(main)
