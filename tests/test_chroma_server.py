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


def test_two_shard_processes_and_a_parallel_run_fill_one_server_consistently(server: int, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(16):
        lang = "zh" if i % 3 == 0 else "en"
        text = (f"第{i}号公司2025年首付款为{i + 1}亿美元。" if lang == "zh"
                else f"Company {i} received US${i + 1}00 million upfront in 2025 from a licence deal.")
        (docs / f"deal-{i:02}.md").write_text(f"---\ntitle: Deal {i}\nlanguage: {lang}\n---\n{text}\n", encoding="utf-8")
    env = {**os.environ, "SECTORCHAT_CHROMA_HOST": "127.0.0.1", "SECTORCHAT_CHROMA_PORT": str(server),
           "SECTORCHAT_COLLECTION": "shards", "SECTORCHAT_INDEX": str(tmp_path / "local")}
    procs = [subprocess.Popen([sys.executable, "-m", "ingest", str(docs), "--shard", f"{i}/2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    added = [int(out.split(" added")[0].rsplit(" ", 1)[1]) for out, _err in outs]
    assert sum(added) == 16 and 0 < added[0] < 16
    listed = subprocess.run([sys.executable, "-m", "ingest", "--list"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert "16 document(s)" in listed.stdout
    ask = subprocess.run([sys.executable, "-m", "rag", "ask", "How much did Company 7 receive upfront?", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    answer = json.loads(ask.stdout)
    assert any(f["value"] == 800_000_000 and f["status"] == "verified" for f in answer["figures"]), answer

    # The same files through --workers 2 into another collection: the same documents and chunk count.
    env2 = {**env, "SECTORCHAT_COLLECTION": "workers"}
    par = subprocess.run([sys.executable, "-m", "ingest", str(docs), "--workers", "2"], cwd=ROOT, env=env2,
                         capture_output=True, text=True, timeout=300)
    assert par.returncode == 0, par.stderr
    assert "16 added, 0 updated, 0 unchanged, 0 failed" in par.stdout
    counts = [subprocess.run([sys.executable, "-m", "ingest", "--list"], cwd=ROOT, env=e, capture_output=True,
                             text=True, timeout=120).stdout.splitlines()[-1] for e in (env, env2)]
    assert counts[0] == counts[1] and counts[0].startswith("16 document(s)")


def test_a_collection_another_process_creates_first_is_opened_not_an_error(server: int, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Two ingest processes starting together both find no collection and both create it; the server refuses
    # the second create ("Collection [...] already exists"). The loser must open the winner's collection.
    from rag.config import Settings
    from rag.store import ChunkStore

    s = Settings(index=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=server, collection="racing")
    first = ChunkStore(s, model_name="m", dimension=384)
    assert first.count() == 0 and first.list_documents() == []  # creates both collections
    second = ChunkStore(s, model_name="m", dimension=384)
    monkeypatch.setattr(ChunkStore, "_existing", lambda self, name: None)  # it looked before the first created
    assert second.chunks.name == first.chunks.name and second.documents.name == first.documents.name
    monkeypatch.undo()
    other_model = ChunkStore(s, model_name="other", dimension=384)
    monkeypatch.setattr(ChunkStore, "_existing", lambda self, name: None)
    with pytest.raises(Exception, match="built with embedding model m"):
        other_model.chunks  # noqa: B018 -- the model check still runs on the collection it opened
