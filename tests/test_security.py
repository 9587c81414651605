"""Security: uploads cannot escape the data folder or run as HTML, the API key never shows, and the app binds safely.

One real app server runs against a scripted OpenAI-compatible endpoint (the one part that cannot run here: a
hosted LLM) with SECTORCHAT_LLM_API_KEY set to a sentinel; its whole output goes to a log file that is searched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port

from ui.uploads import MAX_FILES, safe_name, store_uploads

SENTINEL = "SENTINEL-kzQx-never-show-this-key"  # no digits: it must not read as a figure
MAX_MB = 0.05  # the test server's upload limit: 51 kB

XSS_MD = """---
title: Zephyr Bio licensing note <script>alert('title')</script>
date: 2026-02-02
doc_type: news
company: Zephyr Bio
---
Zephyr Bio received an upfront payment of US$42 million in 2026 <script>alert(1)</script> <img src=x onerror=alert(1)> for its lead asset.
"""
XSS_HTML = """<!doctype html><html><head><title>Quill Pharma deal &lt;img src=x onerror=alert(2)&gt;</title>
<script>alert('from the html file')</script></head><body><article><h1>Quill Pharma deal</h1>
<p>Quill Pharma received an upfront payment of US$37 million in 2026 &lt;script&gt;alert(1)&lt;/script&gt;
&lt;img src=x onerror=alert(1)&gt; for its lead asset.</p>
<script>alert('inline')</script><img src=x onerror="alert('real img')"></article></body></html>
"""
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


# -- uploads: the checks themselves -------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    ("../../x.md", "x.md"),
    ("..\\..\\x.md", "x.md"),
    ("/etc/passwd", "passwd"),
    ("C:\\Windows\\system.ini", "system.ini"),
    ("x\x00.md", "x.md"),
    ("re\x1b[31mport\n.md", "re_31mport.md"),
    ("..", "upload"),
    (".bashrc", "bashrc"),
    ("季度 报告 (2026).md", "季度 报告 (2026).md"),
])
def test_safe_name_keeps_no_path_and_no_control_characters(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def test_uploads_are_checked_and_stored_under_their_content_hash(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    folder = tmp_path / "data" / "uploads"
    note = "Hengrui received US$160 million upfront in 2026.\n"
    files = {
        "..\\..\\escape.md": note,                     # a legal file name on Linux: backslashes are not separators
        "ctl\x01\x1b.md": note,
        "big.txt": "x" * 60_000,
        "elf.md": "\x7fELF\x02\x01\x01" + "x" * 100,
        "png.txt": "\x89PNG\r\n\x1a\n" + "x" * 100,
        "fake.docx": "just text",
        "fake.pdf": "just text",
        "page.html": "<html><body><p>Quill</p></body></html>",
        "run.sh": "#!/bin/sh\nrm -rf /\n",
        "empty.md": "",
    }
    paths = []
    for name, text in files.items():
        (src / name).write_bytes(text.encode("latin-1"))
        paths.append(src / name)
    checked = {c.name: c for c in store_uploads(paths, folder, max_mb=MAX_MB)}
    refused = {n: c.reason for n, c in checked.items() if c.stored is None}
    assert refused == {
        "big.txt": "file is 0.1 MB, over the limit of 0.05 MB",
        "elf.md": "named .md but holds a binary file",
        "png.txt": "named .txt but holds a binary file",
        "fake.docx": "named .docx but is not a Word file (not a zip package)",
        "fake.pdf": "named .pdf but is not a PDF (no %PDF- header)",
        "run.sh": "file type '.sh' is not accepted (.pdf, .md, .markdown, .txt, .html, .htm, .docx)",
        "empty.md": "empty file (0 bytes)",
    }
    stored = {n: c.stored for n, c in checked.items() if c.stored is not None}
    assert set(stored) == {"escape.md", "ctl.md", "page.html"}
    for path in stored.values():
        assert path is not None and _inside(path, folder)
        assert path.parent.name == hashlib.sha256(path.read_bytes()).hexdigest()[:32] and path.parent.parent == folder
        assert path.read_bytes() in {note.encode(), files["page.html"].encode()}
    assert stored["escape.md"].parent == stored["ctl.md"].parent  # the same bytes: one folder, two names
    assert not (tmp_path / "escape.md").exists() and not (tmp_path.parent / "escape.md").exists()
    assert os.access(stored["page.html"], os.X_OK) is False  # copied as data, never made executable


def test_more_files_than_the_limit_are_refused(tmp_path: Path) -> None:
    paths = []
    for i in range(MAX_FILES + 2):
        p = tmp_path / f"note-{i:02d}.txt"
        p.write_text(f"Note {i}: upfront payment.", encoding="utf-8")
        paths.append(p)
    checked = store_uploads(paths, tmp_path / "uploads", max_mb=1)
    assert [c.stored is not None for c in checked] == [True] * MAX_FILES + [False, False]
    assert checked[-1].reason == f"more than {MAX_FILES} files in one upload"
    assert len(list((tmp_path / "uploads").iterdir())) == MAX_FILES


# -- a real server with an API key and a scripted LLM endpoint -----------------------------------------------------
class ScriptedLLM(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint: answers with source [1] (and the key it was sent), or fails with 401
    echoing the key, as a careless proxy might."""

    mode = "answer"
    keys_seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedLLM

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.server.keys_seen.append(key)
        if self.server.mode == "error":
            self._send(401, "application/json", json.dumps({"error": {
                "message": f"Incorrect API key provided: {key}", "type": "invalid_request_error",
                "code": "invalid_api_key"}}).encode())
            return
        prompt = body["messages"][-1]["content"]
        source = prompt.split("[1] ", 1)[1].split("<<<\n", 1)[1].split("\n>>>", 1)[0]
        text = f"{' '.join(source.split())} [1] My API key is {key}."
        if not body.get("stream"):
            self._send(200, "application/json", json.dumps({
                "id": "c1", "object": "chat.completion", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}]}).encode())
            return
        events = [{"role": "assistant", "content": ""}] + [{"content": t} for t in re.findall(r"\S+\s*", text)]
        out = b"".join(b"data: " + json.dumps({
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": d, "finish_reason": None}]}).encode() + b"\n\n" for d in events)
        out += b"data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 0,
                                       "model": "scripted", "choices": [{"index": 0, "delta": {},
                                                                         "finish_reason": "stop"}]}).encode()
        self._send(200, "text/event-stream", out + b"\n\ndata: [DONE]\n\n")

    def _send(self, status: int, kind: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    srv = ScriptedLLM(("127.0.0.1", free_port()), _Handler)
    srv.keys_seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()


class Server:
    def __init__(self, url: str, index: Path, log: Path) -> None:
        self.url, self.index, self.log = url, index, log


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, llm: ScriptedLLM) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("secure")
    log = base / "app.log"
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "SECTORCHAT_LLM": "openai:scripted",
           "SECTORCHAT_LLM_BASE_URL": f"http://127.0.0.1:{llm.server_address[1]}/v1",
           "SECTORCHAT_LLM_API_KEY": SENTINEL, "SECTORCHAT_LLM_TIMEOUT": "20", "SECTORCHAT_MAX_FILE_MB": str(MAX_MB)}
    env.pop("SECTORCHAT_AUTH", None)
    env.pop("SECTORCHAT_HOST", None)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--index", str(base / "index"), "--port", str(port)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while "Running on local URL" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "Running on local URL" in log.read_text(), log.read_text()
        yield Server(f"http://127.0.0.1:{port}/", base / "index", log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(server: Server) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _rows(table: Any) -> list[list[Any]]:
    return table["data"] if isinstance(table, dict) else table


def test_the_server_binds_loopback_by_default(server: Server) -> None:
    import socket

    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    assert f"Running on local URL:  http://127.0.0.1:{port}" in server.log.read_text()
    others = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in others - {"127.0.1.1"}:  # Debian maps the host name to 127.0.1.1, also loopback
        with socket.socket() as sock, pytest.raises(OSError):
            sock.settimeout(3)
            sock.connect((address, port))


def test_upload_names_cannot_reach_outside_the_data_folder(client: Any, server: Server, tmp_path: Path) -> None:
    import httpx

    note = b"Orchid Bio received an upfront payment of US$11 million in 2026 (note %s).\n"
    names = ["../../orchid-escape.md", "..\\..\\orchid-escape2.md", "/etc/orchid-passwd.md", "orchid\x01\x1b.md"]
    sent = [("files", (n, note % "abcd"[i].encode(), "text/markdown"))
            for i, n in enumerate(names)]
    response = httpx.post(server.url + "gradio_api/upload", files=sent, timeout=30)
    assert response.status_code == 200, response.text
    cached = response.json()
    files = [{"path": p, "orig_name": n, "meta": {"_type": "gradio.FileData"}} for p, n in zip(cached, names,
                                                                                                strict=True)]
    results, *_ = client.predict(files, api_name="/upload")
    assert [r[1] for r in _rows(results)] == ["added"] * 4, results
    uploads = server.index / "uploads"
    stored = [p for p in uploads.rglob("*") if p.is_file()]
    assert stored and all(_inside(p, uploads) for p in stored)
    assert all(p.parent.name == hashlib.sha256(p.read_bytes()).hexdigest()[:32] and p.parent.parent == uploads
               for p in stored)
    assert {p.name for p in stored} >= {"orchid-escape.md", "orchid-escape2.md", "orchid-passwd.md"}
    assert not [p for p in stored if re.search(r"[\x00-\x1f\\]", p.name)]
    root = server.index.parent
    assert [p for p in root.rglob("orchid*") if not _inside(p, server.index)] == []
    assert not Path("/etc/orchid-passwd.md").exists()


def test_an_upload_over_the_size_limit_is_refused_by_the_server(server: Server) -> None:
    import httpx

    big = b"Upfront payment. " * 4000  # 68 kB, over the server's 51 kB
    response = httpx.post(server.url + "gradio_api/upload", files=[("files", ("big.txt", big, "text/plain"))],
                          timeout=30)
    assert response.status_code == 413, response.text


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it as root: apt-get install chromium)")
    return path


def test_markup_in_documents_shows_as_text_and_never_runs(client: Any, server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    (tmp_path / "zephyr-2026-02-02.md").write_text(XSS_MD, encoding="utf-8")
    (tmp_path / "quill-2026-02-03.html").write_text(XSS_HTML, encoding="utf-8")
    results, *_ = client.predict([handle_file(str(tmp_path / "zephyr-2026-02-02.md")),
                                  handle_file(str(tmp_path / "quill-2026-02-03.html"))], api_name="/upload")
    assert sorted(r[1] for r in _rows(results)) == ["added", "added"], results
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url)
        for company, amount in (("Zephyr Bio", "US$42 million"), ("Quill Pharma", "US$37 million")):
            box = page.locator("#question textarea")
            box.fill(f"How much upfront did {company} receive in 2026?")
            box.press("Enter")
            page.locator("#sources").get_by_text(company, exact=False).first.wait_for(timeout=90000)
            page.locator("#chatbot").get_by_text("quoted in its source", exact=False).last.wait_for(timeout=90000)
            answer = page.locator("#chatbot .message").last.inner_text()
            assert f"{amount} ✅" in answer
            # the figure check reads the 1 of alert(1) as a figure and badges it: the text is otherwise literal
            sources = page.locator("#sources").inner_text()
            for shown in (answer.replace(" ✅", ""), sources):
                assert SCRIPT in shown and IMG in shown  # the literal text, visible
            if company == "Zephyr Bio":  # a title is document text too
                assert "[1] Zephyr Bio licensing note <script>alert('title')</script>" in sources
            assert SENTINEL not in page.content()
        page.get_by_role("tab", name="Documents").click()
        cells = page.locator("#documents [role=gridcell]")
        cells.filter(has_text="Zephyr Bio licensing note").first.wait_for(timeout=30000)
        texts = [c.strip() for c in cells.all_inner_texts()]  # the titles, shown as the literal text they are
        assert "Zephyr Bio licensing note <script>alert('title')</script>" in texts
        assert "Quill Pharma deal <img src=x onerror=alert(2)>" in texts
        scripts = page.evaluate("[...document.querySelectorAll('script')].map(s => s.textContent)")
        assert not [s for s in scripts if "alert(" in s]
        assert page.locator("img[onerror], img[src='x']").count() == 0
        page.wait_for_timeout(500)  # a late onerror would fire by now
        browser.close()
    assert dialogs == []


# -- secrets --------------------------------------------------------------------------------------------------------
def test_the_api_key_shows_nowhere(client: Any, server: Server, llm: ScriptedLLM, tmp_path: Path) -> None:
    from gradio_client import handle_file

    note = tmp_path / "orchid-bio-2026.md"
    note.write_text("Orchid Bio received an upfront payment of US$11 million in 2026.\n", encoding="utf-8")
    client.predict([handle_file(str(note))], api_name="/upload")
    llm.mode = "answer"  # the model writes the key into its answer
    said = client.predict("How much upfront did Orchid Bio receive in 2026?", api_name="/chat")
    assert "US$11 million ✅" in said and "My API key is \\[redacted\\]." in said  # Markdown-escaped brackets
    llm.mode = "error"  # the endpoint refuses the key and echoes it
    try:
        failed = client.predict("How much upfront did Orchid Bio receive in 2026?", api_name="/chat")
        assert "The LLM backend failed (OpenAIAuthenticationError" in failed and "US$11 million ✅" in failed
        metrics, questions, _ = client.predict(["sample_filing.jsonl"], 0, api_name="/evals")
        assert metrics["data"][0][1] == 9
    finally:
        llm.mode = "answer"
    assert SENTINEL in llm.keys_seen  # the key was configured and sent: the test is not vacuous
    config = __import__("httpx").get(server.url + "config", timeout=30).text
    reports = [p for p in (server.index / "reports").rglob("*") if p.is_file()]
    assert {p.name for p in reports} == {"report.json", "report.html"}
    for where, text in [("/chat answer", said), ("/chat error", failed), ("/evals", json.dumps(questions)),
                        ("/config", config), *((str(p), p.read_text(encoding="utf-8")) for p in reports),
                        ("app log", server.log.read_text())]:
        assert SENTINEL not in text, f"the API key leaks into {where}"
    assert "LLM backend failed: OpenAIAuthenticationError: Error code: 401" in server.log.read_text()


def test_log_lines_in_process_carry_no_key(caplog: pytest.LogCaptureFixture) -> None:
    from app import install_secret_filter

    handler = caplog.handler
    install_secret_filter([SENTINEL], handlers=[handler])
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("rag.assistant").warning("LLM backend failed: %s: %s", "AuthenticationError",
                                                       f"Incorrect API key provided: {SENTINEL}")
            try:
                raise RuntimeError(f"bad key {SENTINEL}")
            except RuntimeError:
                logging.getLogger("sectorchat.app").exception("Answering failed")
        assert SENTINEL not in caplog.text
        assert "Incorrect API key provided: [redacted]" in caplog.text and "bad key [redacted]" in caplog.text
    finally:
        handler.filters.clear()


# -- shared deployment ------------------------------------------------------------------------------------------------
class _FakeDemo:
    launched: dict[str, Any] = {}

    def queue(self, **kwargs: Any) -> _FakeDemo:
        return self

    def launch(self, **kwargs: Any) -> None:
        _FakeDemo.launched = kwargs


@pytest.mark.parametrize(("argv", "env", "host", "auth", "warns"), [
    ([], {}, "127.0.0.1", None, False),
    (["--host", "0.0.0.0"], {}, "0.0.0.0", None, True),
    ([], {"SECTORCHAT_HOST": "0.0.0.0"}, "0.0.0.0", None, True),
    (["--host", "0.0.0.0"], {"SECTORCHAT_AUTH": "ana:s3cret"}, "0.0.0.0", [("ana", "s3cret")], False),
    ([], {"SECTORCHAT_AUTH": "ana:s3cret,bo:pw2"}, "127.0.0.1", [("ana", "s3cret"), ("bo", "pw2")], False),
])
def test_binds_loopback_unless_told_and_warns_without_a_login(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path, argv: list[str],
    env: dict[str, str], host: str, auth: list[tuple[str, str]] | None, warns: bool,
) -> None:
    import app

    for name in ("SECTORCHAT_HOST", "SECTORCHAT_AUTH", "SECTORCHAT_PORT", "SECTORCHAT_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    class FakeApp:
        status = ""

        def __init__(self, settings: Any) -> None:
            pass

        def copy_for(self, doc_id: str) -> None:
            return None

    monkeypatch.setattr(app, "App", FakeApp)
    monkeypatch.setattr(app, "build_ui", lambda _app: _FakeDemo())
    with caplog.at_level(logging.WARNING, logger="sectorchat.app"):
        assert app.main(["--index", str(tmp_path / "index"), *argv]) == 0
    assert (_FakeDemo.launched["server_name"], _FakeDemo.launched["auth"]) == (host, auth)
    # Gradio serves nothing of the index; its copies go through our route only
    assert "allowed_paths" not in _FakeDemo.launched
    assert _FakeDemo.launched["blocked_paths"] == [str((tmp_path / "index").resolve())]
    assert [r.path for r in _FakeDemo.launched["app_kwargs"]["routes"]] == ["/doc/{doc_id}"]
    warnings = [r.getMessage() for r in caplog.records if "without a login" in r.getMessage()]
    assert warnings == ([f"Serving on {host} without a login: anyone who can reach this machine can read and change "
                         "the index. Set SECTORCHAT_AUTH=user:password."] if warns else [])


def test_a_malformed_login_setting_stops_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import app

    monkeypatch.setenv("SECTORCHAT_AUTH", "ana")  # no password: never start open by mistake
    assert app.main(["--index", str(tmp_path / "index")]) == 2
    assert "SECTORCHAT_AUTH must be user:password" in capsys.readouterr().err


@pytest.mark.parametrize("host, warns", [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("[::1]", False), ("127.0.1.1", False),
    ("10.0.0.5", True), ("chroma.internal", True), ("0.0.0.0", True),
])
def test_a_chroma_server_over_the_network_is_warned_about(host: str, warns: bool) -> None:
    from rag.store import remote_server_warning

    warning = remote_server_warning(host)
    assert (warning is not None) == warns
    if warns:
        assert warning is not None and warning.startswith(f"the Chroma server {host} is reached over the network")
        assert "CVE-2026-45829" in warning


def test_connecting_to_a_remote_chroma_server_logs_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    from rag.config import Settings
    from rag.errors import StoreUnavailableError
    from rag.store import make_client

    with caplog.at_level(logging.WARNING, logger="rag.store"), pytest.raises(StoreUnavailableError):
        make_client(Settings(chroma_host="0.0.0.0", chroma_port=free_port()), create=False)  # nothing listens
    [record] = caplog.records
    assert record.getMessage().startswith("the Chroma server 0.0.0.0 is reached over the network; chromadb has")
