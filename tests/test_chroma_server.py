"""Chroma server mode: a real `chroma run` on a loopback port; ingest, list and ask through it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, free_port



def _start_chroma(data: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("chroma run did not answer its heartbeat within 60 s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not (Path(sys.executable).parent / "chroma").exists():
        pytest.skip("the chroma command is not installed in this environment")
    port = free_port()
    proc = _start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_list_and_ask_through_a_chroma_server(server: int, tmp_path: Path) -> None:
    env = {**os.environ, "SECTORCHAT_CHROMA_HOST": "127.0.0.1", "SECTORCHAT_CHROMA_PORT": str(server),
           "SECTORCHAT_INDEX": str(tmp_path / "local")}
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    first = run("-m", "ingest", corpus)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Ingest into 127.0.0.1:{server} took")
    assert "2 added" in first.stdout
    assert not (tmp_path / "local" / "chroma").exists()  # nothing went to an embedded index
    again = run("-m", "ingest", corpus)
    assert "0 added, 0 updated, 2 unchanged" in again.stdout
    listed = run("-m", "ingest", "--list")
    assert "2 document(s)" in listed.stdout
    ask = run("-m", "rag", "ask", "How many license-out deals did Chinese drugmakers conclude in 2024?", "--json")
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert any(f["value"] == 94 and f["status"] == "verified" for f in answer["figures"])


def test_a_server_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SECTORCHAT_CHROMA_HOST": "127.0.0.1", "SECTORCHAT_CHROMA_PORT": str(port)}
    out = subprocess.run([sys.executable, "-m", "ingest", "--list", "--index", str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: cannot reach the Chroma server at 127.0.0.1:{port}")
    assert "chroma run --path DIR --port PORT" in out.stderr


def test_app_shows_a_readable_error_while_the_server_is_down_and_recovers(tmp_path: Path) -> None:
    from gradio_client import Client

    if not (Path(sys.executable).parent / "chroma").exists():
        pytest.skip("the chroma command is not installed in this environment")
    data, cport, aport = tmp_path / "chroma", free_port(), free_port()
    chroma = _start_chroma(data, cport)
    env = {**os.environ, "SECTORCHAT_CHROMA_HOST": "127.0.0.1", "SECTORCHAT_CHROMA_PORT": str(cport)}
    app = subprocess.Popen([sys.executable, "app.py", "--index", str(tmp_path / "local"), "--port", str(aport)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    q = "How many license-out deals did Chinese drugmakers conclude in 2024?"
    try:
        assert app.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = app.stdout.readline()
            if not line or "Running on local URL" in line:
                break
        client = Client(f"http://127.0.0.1:{aport}/", verbose=False)
        assert "94 ✅" in client.predict(q, api_name="/chat")
        chroma.terminate()
        chroma.wait(timeout=30)
        down = client.predict(q, api_name="/chat")
        assert down.startswith("**Error:** cannot ")
        assert "Traceback" not in down
        chroma = _start_chroma(data, cport)
        assert "94 ✅" in client.predict(q, api_name="/chat")  # no restart of the app needed
    finally:
        app.terminate()
        app.wait(timeout=30)
        chroma.terminate()
        chroma.wait(timeout=30)
