"""The web app as users meet it: a real Gradio server, driven by gradio_client and by headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port, write_pdf

ARTIFACTS = ROOT / "test-artifacts"



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    idx = tmp_path_factory.mktemp("app") / "index"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--index", str(idx), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 240
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
        assert any(line.startswith("Built the index from the bundled corpus: 2 documents") for line in lines)
        yield f"http://127.0.0.1:{port}/", idx
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(server: tuple[str, Path]) -> Any:
    from gradio_client import Client

    return Client(server[0], verbose=False)


def _rows(table: Any) -> list[list[Any]]:
    return table["data"] if isinstance(table, dict) else table


def test_chat_endpoint_answers_with_a_verified_figure_and_its_source(client: Any) -> None:
    text = client.predict("How much did Chinese license-out deals bring upfront in 2025?", api_name="/chat")
    assert "$7 billion ✅" in text
    assert "✅ $7 billion [1] — quoted in its source" in text
    assert ('[1] China innovative drug sector: catalysts converge as out-licensing enters a harvest phase '
            '(innovative-drug-sector-2026-01.md): "In 2025, these figures saw') in text
    assert "UNVERIFIED" not in text


def test_chat_endpoint_streams(client: Any) -> None:
    job = client.submit("How many license-out deals did Chinese drugmakers conclude in 2024?", api_name="/chat")
    outputs = [o for o in job]  # every update the server streamed
    assert len(outputs) >= 3
    assert outputs[0] != outputs[-1] and "94 ✅" in outputs[-1]


def test_upload_then_find_then_delete(client: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    note = tmp_path / "hengrui-2026-02-10.md"
    note.write_text("---\ntitle: Hengrui signs oncology deal\ndoc_type: news\ncompany: Hengrui\n---\n"
                    "Hengrui Medicine received an upfront payment of US$160 million for HRS-1167 in 2026.\n",
                    encoding="utf-8")
    fake_pdf = tmp_path / "not-really.pdf"
    fake_pdf.write_text("just text", encoding="utf-8")
    results, table, _, _ = client.predict([handle_file(str(note)), handle_file(str(fake_pdf))], api_name="/upload")
    outcome = {r[0]: (r[1], r[2]) for r in _rows(results)}
    assert outcome["hengrui-2026-02-10.md"] == ("added", "")
    assert outcome["not-really.pdf"] == ("failed", "named .pdf but is not a PDF (no %PDF- header)")
    titles = [r[0] for r in _rows(table)]
    assert "Hengrui signs oncology deal" in titles and len(titles) == 3

    answer = client.predict("How much upfront did Hengrui receive for HRS-1167 in 2026?", api_name="/chat")
    assert "US$160 million ✅" in answer and "hengrui-2026-02-10.md" in answer

    msg, *_ = client.predict("hengrui-2026-02-10.md", False, api_name="/delete")
    assert msg == "Tick the box to confirm that hengrui-2026-02-10.md should be deleted."
    msg, table, *_ = client.predict("hengrui-2026-02-10.md", True, api_name="/delete")
    assert msg.startswith("Deleted ") and msg.endswith("hengrui-2026-02-10.md (1 chunks).")
    assert "Hengrui signs oncology deal" not in [r[0] for r in _rows(table)]
    gone = client.predict("How much upfront did Hengrui receive for HRS-1167 in 2026?", api_name="/chat")
    assert "160 million" not in gone and "The corpus does not answer this" in gone


def test_uploaded_pdf_is_served_from_the_index_copy(client: Any, server: tuple[str, Path], tmp_path: Path) -> None:
    import hashlib

    import httpx
    from gradio_client import handle_file

    pdf = write_pdf(tmp_path / "zai-lab-2025.pdf", [["Zai Lab reported product revenue of US$412 million in 2025."]])
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    results, *_ = client.predict([handle_file(str(pdf))], api_name="/upload")
    assert _rows(results)[0][1] == "added"
    copy = server[1] / "docs" / f"{digest}.pdf"
    assert copy.read_bytes() == pdf.read_bytes()
    # stored content-addressed; the deleted Hengrui note took its upload with it
    uploaded = sorted(str(p.relative_to(server[1] / "uploads")) for p in (server[1] / "uploads").rglob("*"))
    assert uploaded == [digest[:32], f"{digest[:32]}/zai-lab-2025.pdf"]
    served = httpx.get(f"{server[0]}doc/{digest}", timeout=30)
    assert served.status_code == 200 and served.content == pdf.read_bytes()
    assert (served.headers["content-type"], served.headers["content-disposition"]) == (
        "application/pdf", "inline; filename=\"zai-lab-2025.pdf\"; filename*=UTF-8''zai-lab-2025.pdf")
    assert httpx.get(f"{server[0]}gradio_api/file={copy.resolve()}", timeout=30).status_code == 403


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it as root: apt-get install chromium)")
    return path


def test_browser_asks_sees_streamed_answer_and_highlighted_source(server: tuple[str, Path]) -> None:
    import hashlib

    from playwright.sync_api import expect, sync_playwright

    exe = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server[0])
        box = page.locator("#question textarea")
        box.fill("What were Lanting Biopharma's finance costs in 2025?")
        box.press("Enter")
        bot = page.locator("#chatbot")
        bot.get_by_text("Finance costs", exact=False).first.wait_for(timeout=60000)
        page.locator("#sources mark").first.wait_for(timeout=60000)
        page.get_by_text("quoted in its source", exact=False).first.wait_for(timeout=60000)
        marks = page.locator("#sources mark").all_inner_texts()
        assert "Finance costs | (38.7) | (41.2) | (6.1)" in marks
        assert "Item | 2025 (RMB million) | 2024 (RMB million) | Change (%)" in marks
        meta = page.locator("#sources .source-meta").first.inner_text()
        assert "filing" in meta and "page 2" in meta and "open page 2" in meta
        link = page.locator("#sources .source-meta a").first
        href = link.get_attribute("href") or ""
        lanting = hashlib.sha256((ROOT / "corpus" / "lanting-biopharma-2025-annual-results.pdf").read_bytes()).hexdigest()
        assert href == f"/doc/{lanting}#page=2"
        page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)
        with page.context.expect_page() as opened:
            link.click()
        viewer = opened.value
        viewer.wait_for_load_state()
        assert viewer.url == f"{server[0]}doc/{lanting}#page=2"
        assert viewer.evaluate("document.contentType") == "application/pdf"
        deadline = time.monotonic() + 30  # a hang guard while Chromium's PDF viewer (an extension frame) starts
        while not [f for f in viewer.frames if f.url.startswith("chrome-extension://")] and time.monotonic() < deadline:
            viewer.wait_for_timeout(100)
        pdf_ui = next(f for f in viewer.frames if f.url.startswith("chrome-extension://"))
        expect(pdf_ui.locator("viewer-page-selector input").first).to_have_value("2", timeout=30000)  # the cited page
        browser.close()
    assert (ARTIFACTS / "chat-answer.png").stat().st_size > 10000


@pytest.mark.parametrize(("question", "bad"), [
    ("How many license-out deals were there? from:2025-xx", "2025-xx"),
    ("How many license-out deals were there? from:--", "--"),
    ("How many license-out deals were there? to:2025-13-45", "2025-13-45"),
    ("How many license-out deals were there? year:abcd", "abcd"),
])
def test_a_malformed_inline_filter_is_an_error_message(client: Any, question: str, bad: str) -> None:
    said = client.predict(question, api_name="/chat")
    assert said.startswith("**Error:** ") and bad in said, said
    for leak in ("ValueError", "invalid literal", "Traceback", "FilterError"):
        assert leak not in said, said


def test_a_malformed_filter_box_shows_an_error_in_the_chat(server: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server[0])
        for field, bad in (("From (YYYY-MM-DD)", "2025-xx"), ("To (YYYY-MM-DD)", "2024-02-30")):
            page.get_by_label("From (YYYY-MM-DD)").fill("")
            page.get_by_label(field).fill(bad)
            box = page.locator("#question textarea")
            box.fill("How many license-out deals did Chinese drugmakers conclude in 2024?")
            box.press("Enter")
            message = page.locator("#chatbot .message").filter(has_text=bad).last
            message.wait_for(timeout=60000)
            text = message.inner_text()
            assert text.startswith("Error: ") and "ValueError" not in text and "invalid literal" not in text, text
            assert page.locator("#sources").inner_text().strip() == "Sources of the answer appear here."
            page.get_by_label(field).fill("")
        browser.close()


def test_evals_tab_runs_a_suite_and_charts_past_runs(client: Any, server: tuple[str, Path]) -> None:
    metrics, questions, chart = client.predict(["sample_filing.jsonl"], 0, api_name="/evals")
    header = metrics["headers"]
    row = dict(zip(header, metrics["data"][0], strict=True))
    assert row["suite"] == "sample_filing" and row["n"] == 9 and row["figure_accuracy"] == 1.0
    assert [r[4] for r in _rows(questions)] == ["pass"] * 9
    reports = list((server[1] / "reports").glob("*/report.json"))
    assert len(reports) == 1
    run = reports[0].parent.name
    assert [r for r in chart["data"] if r[1] == "figure_accuracy"] == [[run, "figure_accuracy", 1.0]]
    assert {r[1] for r in chart["data"]} == {"figure_accuracy", "figure_faithfulness", "recall_at_k", "mrr",
                                             "refusal_accuracy"}


def test_login_is_required_when_configured(tmp_path: Path) -> None:
    from gradio_client import Client

    from app import parse_auth

    assert parse_auth("ana:s3cret, bo:pw2") == [("ana", "s3cret"), ("bo", "pw2")]
    with pytest.raises(Exception, match="SECTORCHAT_AUTH must be user:password"):
        parse_auth("nopassword")
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(tmp_path / "idx"), "--port", str(port),
                             "--host", "0.0.0.0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "SECTORCHAT_AUTH": "ana:s3cret"})
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any("Running on local URL" in x for x in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert not any("without a login" in x for x in lines)  # a login is set: no warning
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types
            Client(f"http://127.0.0.1:{port}/", verbose=False)
        import httpx

        base = f"http://127.0.0.1:{port}"
        for method, path, kwargs in (("POST", "/gradio_api/call/chat", {"json": {"data": ["deals in 2024?"]}}),
                                     ("POST", "/gradio_api/upload", {"files": [("files", ("a.md", b"x"))]}),
                                     ("GET", "/config", {}), ("GET", "/gradio_api/info", {})):
            refused = httpx.request(method, base + path, timeout=30, **kwargs)  # no credentials, no cookie
            assert refused.status_code == 401, (path, refused.status_code, refused.text[:200])
        client = Client(f"http://127.0.0.1:{port}/", auth=("ana", "s3cret"), verbose=False)
        assert "94" in client.predict("How many license-out deals did Chinese drugmakers conclude in 2024?",
                                      api_name="/chat")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_documents_tab_corrects_metadata_through_the_same_checks_as_the_cli(client: Any, server: tuple[str, Path]
                                                                                ) -> None:
    label = "lanting-biopharma-2025-annual-results.pdf"
    values = ["Lanting Biopharma Holdings Ltd (fictional) — Annual Results Announcement for the year ended 31 "
              "December 2025", "Lanting Bio", "9999.HK", "annual results announcement", "filing", "2025",
              "2025-12-31", "FY", "2026-03-20", "en"]
    msg, table = client.predict(label, *values, api_name="/set_metadata")
    assert msg == f"Saved company of {label}; kept when the file is ingested again."
    row = next(r for r in _rows(table) if r[10] == label)
    assert (row[1], row[2], row[3], row[11]) == ("Lanting Bio", "annual results announcement", "FY2025 to 2025-12-31",
                                                "company")
    bad = [*values[:5], "20x5", *values[6:]]
    msg, table = client.predict(label, *bad, api_name="/set_metadata")
    assert msg == "Not saved: fiscal\\_year must be a year such as 2018, not '20x5'"
    assert next(r for r in _rows(table) if r[10] == label)[1] == "Lanting Bio"
    # kept in the index folder, where `python -m ingest --set` keeps its corrections
    import json

    saved = json.loads((server[1] / "corrections.json").read_text(encoding="utf-8"))
    assert [fields for source, fields in saved.items() if source.endswith(label)] == [{"company": "Lanting Bio"}]


def test_the_chat_answers_while_a_large_upload_is_ingested(client: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    sentence = "Ascletis reported research spending of RMB {n} million in programme {n} during the year. "
    big = write_pdf(tmp_path / "ascletis-long-report.pdf", [[sentence.format(n=p * 40 + k) * 2 for k in range(40)]
                                                            for p in range(80)])
    upload = client.submit([handle_file(str(big))], api_name="/upload")
    deadline = time.monotonic() + 60
    while upload.status().code.name not in ("PROCESSING", "PROGRESS") and time.monotonic() < deadline:
        time.sleep(0.1)
    seen = upload.status()
    started = time.monotonic()
    answer = client.predict("How many license-out deals did Chinese drugmakers conclude in 2024?", api_name="/chat")
    answered_while_ingesting = not upload.done()
    # the Documents tab's bar: pages of the whole upload, from the start
    assert seen.progress_data and (seen.progress_data[0].desc or "").startswith("Ingesting 0/80 pages · 0/1 files")
    assert time.monotonic() - started < 30
    assert "94 ✅" in answer
    assert answered_while_ingesting, "the chat waited for the upload"
    results, *_ = upload.result()
    assert _rows(results)[0][:2] == ["ascletis-long-report.pdf", "added"]


def test_a_new_version_of_an_upload_replaces_the_old_one_when_the_user_says_so(client: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    def upload(text: str, replace: bool) -> tuple[list[list[Any]], list[str]]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        note = folder / "pipeline-note.md"
        note.write_text(f"---\ntitle: Pipeline note\ndoc_type: news\n---\n{text}\n", encoding="utf-8")
        results, table, *_ = client.predict([handle_file(str(note))], replace, api_name="/upload")
        return _rows(results), [r[10] for r in _rows(table)]

    rows, files = upload("Kelun signed a deal worth US$100 million in 2026.", False)
    assert rows == [["pipeline-note.md", "added", ""]] and files.count("pipeline-note.md") == 1
    again, files = upload("Kelun signed a deal worth US$100 million in 2026.", False)
    assert again[0][1] == "unchanged" and files.count("pipeline-note.md") == 1  # the same bytes: no second copy
    rows, files = upload("Kelun signed a deal worth US$120 million in 2026.", False)
    assert [r[1] for r in rows] == ["added", "kept both"] and files.count("pipeline-note.md") == 2
    rows, files = upload("Kelun signed a deal worth US$130 million in 2026.", True)
    assert [r[1] for r in rows] == ["added", "replaced", "replaced"] and files.count("pipeline-note.md") == 1
    answer = client.predict("How much was Kelun's deal worth in 2026?", api_name="/chat")
    assert "US$130 million" in answer and "US$100 million" not in answer and "US$120 million" not in answer
