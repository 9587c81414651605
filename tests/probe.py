"""Run the real loader and chunker over files in a child process with a time limit: a hang guard for tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The child loads each file, chunks it with the default embedding model's tokenizer (200 tokens, 40 overlap, the
# ingest defaults) and prints one JSON object per file.
_CHILD = r"""
import inspect, json, sys
from pathlib import Path
from ingest.chunking import Chunker
from ingest.loaders import load_document
from rag.config import Settings
from rag.embeddings import make_embedder
from rag.errors import SectorChatError

emb = make_embedder(Settings())
chunker = Chunker(emb.count_tokens, emb.token_offsets, max_tokens=200, overlap=40)
for name in sys.argv[1:]:
    path = Path(name)
    try:
        doc = load_document(path.read_bytes(), source=str(path), file_name=path.name)
    except SectorChatError as exc:
        print(json.dumps({"name": path.name, "error": str(exc)}), flush=True)
        continue
    notes = []
    # (a chunker from before section names were capped takes no warnings list: run it all the same)
    takes = "warnings" in inspect.signature(chunker.chunk).parameters
    chunks = chunker.chunk(doc, warnings=notes) if takes else chunker.chunk(doc)
    m = doc.meta
    print(json.dumps({
        "name": path.name, "pages": [p.text for p in doc.pages], "numbers": [p.number for p in doc.pages],
        "title": m.title, "company": m.company, "tickers": list(m.tickers), "date": m.date,
        "publisher": m.publisher, "url": m.url, "language": m.language, "doc_type": m.doc_type,
        "warnings": list(doc.warnings), "chunk_warnings": notes,
        "tokens": emb.count_tokens([c.text for c in chunks]),
        "chunks": [[c.page, c.char_start, c.char_end, c.section, c.header_prefixed, c.text] for c in chunks],
    }), flush=True)
"""


@dataclass(frozen=True)
class Loaded:
    """What the child reported for one file."""

    name: str
    data: dict[str, object]

    def __getitem__(self, key: str) -> object:
        return self.data[key]


def load_and_chunk(paths: list[Path], *, timeout: float) -> dict[str, Loaded]:
    """Load and chunk ``paths`` in one child process; fail the test if it runs past ``timeout`` seconds.

    Raises:
        AssertionError: the child hung (ran past the timeout) or crashed.
    """
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, *map(str, paths)], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        got = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        finished = [json.loads(line)["name"] for line in got.splitlines() if line.startswith("{")]
        raise AssertionError(f"loading and chunking hung: not done after {timeout:g} s; finished only {finished}; "
                             f"the next file was {paths[len(finished)].name if len(finished) < len(paths) else '-'}"
                             ) from None
    assert done.returncode == 0, done.stderr[-3000:]
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            data = json.loads(line)
            out[data["name"]] = Loaded(data["name"], data)
    assert set(out) == {p.name for p in paths}, done.stderr[-3000:]
    return out
