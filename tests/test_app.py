"""The run command's app: a real Gradio server that builds the index from the bundled corpus on first start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    idx = tmp_path_factory.mktemp("app") / "index"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--index", str(idx), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    url = f"http://127.0.0.1:{port}/"
    lines: list[str] = []
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if "Running on local URL" in line:
            break
    try:
        assert any("Running on local URL" in line for line in lines), "".join(lines)
        yield url, idx, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_first_start_ingests_the_bundled_corpus_and_lists_it(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    from gradio_client import Client

    url, idx, _ = server
    assert (idx / "chroma").is_dir()
    client = Client(url, verbose=False)
    table = client.predict(api_name="/documents")
    rows = table["data"] if isinstance(table, dict) else table
    titles = sorted(row[0] for row in rows)
    assert titles == [
        "China innovative drug sector: catalysts converge as out-licensing enters a harvest phase",
        "Lanting Biopharma Holdings Ltd (fictional) — Annual Results Announcement for the year ended 31 December 2025",
    ]
    by_title = {row[0]: row for row in rows}
    assert by_title[titles[1]][1:5] == ["filing", "2026-03-20", "en", 3]
