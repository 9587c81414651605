"""The sectorchat web app (Gradio): wires the UI to ingest/ and rag/; nothing happens on import."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from rag.config import Settings, load_settings
from rag.errors import SectorChatError

logger = logging.getLogger("sectorchat.app")

CORPUS = Path(__file__).resolve().parent / "corpus"
DOC_COLUMNS = ["Title", "Type", "Date", "Language", "Pages", "Chunks", "Added", "Source"]


def ensure_corpus(settings: Settings) -> str:
    """Ingest the bundled corpus when the index holds no document yet; returns a one-line status."""
    from ingest.pipeline import Ingestor

    ingestor = Ingestor.from_settings(settings)
    if ingestor.store.list_documents():
        return "Index ready."
    report = ingestor.run([CORPUS])
    return (
        f"Built the index from the bundled corpus: {len(report.added)} documents, "
        f"{report.chunks_written} chunks in {report.seconds:.1f} s."
    )


def document_rows(settings: Settings) -> list[list[Any]]:
    from ingest.pipeline import Ingestor

    records = Ingestor.from_settings(settings, create=False).store.list_documents()
    return [
        [r.meta.title, r.meta.doc_type, r.meta.date, r.meta.language, r.pages or "", r.chunks, r.added_at[:10], r.source]
        for r in records
    ]


def build_app(settings: Settings, status: str = "") -> Any:
    """The Gradio Blocks app over the index named by ``settings``."""
    import gradio as gr

    with gr.Blocks(title="sectorchat") as demo:
        gr.Markdown("# sectorchat\nCited answers about China's innovative-drug sector, every figure checked.")
        if status:
            gr.Markdown(status)
        with gr.Tab("Documents"):
            table = gr.Dataframe(headers=DOC_COLUMNS, value=lambda: document_rows(settings), interactive=False)
            gr.Button("Refresh").click(lambda: document_rows(settings), outputs=table, api_name="documents")
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="Serve the sectorchat web app.")
    parser.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860)")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default SECTORCHAT_INDEX or ./index)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        settings = load_settings(index=args.index)
        status = ensure_corpus(settings)
    except SectorChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(status)
    demo = build_app(settings, status)
    demo.launch(server_name=args.host or "127.0.0.1", server_port=args.port or 7860, show_error=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
