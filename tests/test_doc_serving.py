"""The index's document copies are served by our route only: downloads (PDFs inline), behind the login, by hash.

One real app with a login (SECTORCHAT_AUTH) gets hostile uploads (HTML, .htm, SVG in Markdown, XHTML in a text
file) whose scripts would call alert() and fetch the app's API; headless Chromium logs in, has them cited and
opens each source's link.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apprunner import CHROMIUM_ARGS, AppProcess, app_client, browser_login, chromium, login_cookies, running_app
from conftest import write_pdf

USER, PASSWORD = "ana", "s3cret"
CSP_DOWNLOAD = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
CSP_PDF = "default-src 'none'; object-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"


def _script(kind: str) -> str:
    return f"alert('{kind}'); fetch('/gradio_api/info?xss={kind}'); fetch('/gradio_api/call/delete?xss={kind}')"


# (file name, company, amount, content): each would run its script if a browser rendered it as a page
HOSTILE = [
    ("quill-2026-02-03.html", "Quill Pharma", "US$37 million",
     f"<!doctype html><html><head><title>Quill Pharma deal</title><script>{_script('html')}</script></head><body>"
     "<p>Quill Pharma received an upfront payment of US$37 million in 2026 for its lead asset.</p>"
     f"<img src=x onerror=\"{_script('img')}\"></body></html>\n"),
    ("rook-2026-02-04.htm", "Rook Biotech", "US$29 million",
     f"<html><body onload=\"{_script('htm')}\"><p>Rook Biotech received an upfront payment of US$29 million in "
     f"2026 for its antibody.</p><script>{_script('htm2')}</script></body></html>\n"),
    ("vega-2026-02-05.md", "Vega Bio", "US$23 million",
     f"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{_script('svg')}\"><script>{_script('svg2')}</script>"
     "</svg>\n\nVega Bio received an upfront payment of US$23 million in 2026 for its oral drug.\n"),
    ("talon-2026-02-06.txt", "Talon Therapeutics", "US$19 million",
     "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><script>"
     f"{_script('xml')}</script></head><body>Talon Therapeutics received an upfront payment of US$19 million in "
     "2026 for its inhibitor.</body></html>\n"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_app(tmp_path_factory.mktemp("docserve"), env={"SECTORCHAT_AUTH": f"{USER}:{PASSWORD}"}) as app:
        yield app


@pytest.fixture(scope="module")
def client(server: AppProcess) -> Any:
    return app_client(server, (USER, PASSWORD))


@pytest.fixture(scope="module")
def uploaded(client: Any, server: AppProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The hostile files, a PDF and a file with a Chinese name, uploaded once: file name → bytes."""
    from gradio_client import handle_file

    src = tmp_path_factory.mktemp("hostile")
    files = {name: text.encode() for name, _, _, text in HOSTILE}
    files["季度报告 2026.md"] = b"Orca Bio received an upfront payment of US$13 million in 2026.\n"
    for name, data in files.items():
        (src / name).write_bytes(data)
    pdf = write_pdf(src / "zai-lab-2025.pdf", [["Zai Lab reported product revenue of US$412 million in 2025."]])
    files[pdf.name] = pdf.read_bytes()
    results, *_ = client.predict([handle_file(str(src / n)) for n in files], api_name="/upload")
    assert sorted((r[0], r[1]) for r in results["data"]) == sorted((n, "added") for n in files), results
    return files


def _url(server: AppProcess, data: bytes) -> str:
    return f"{server.url}doc/{hashlib.sha256(data).hexdigest()}"


def test_copies_are_downloads_with_a_strict_policy_and_pdfs_alone_inline(server: AppProcess,
                                                                         uploaded: dict[str, bytes]) -> None:
    import httpx

    cookies = login_cookies(server.url, USER, PASSWORD)
    for name, data in uploaded.items():
        response = httpx.get(_url(server, data), cookies=cookies, timeout=30)
        assert response.status_code == 200, (name, response.text[:200])
        assert response.content == data
        h = response.headers
        assert h["x-content-type-options"] == "nosniff"
        if name == "季度报告 2026.md":
            disposition = ("attachment; filename=\"____ 2026.md\"; "
                           "filename*=UTF-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A%202026.md")
        else:
            disposition = f"{'inline' if name.endswith('.pdf') else 'attachment'}; filename=\"{name}\"; " \
                          f"filename*=UTF-8''{name}"
        assert (h["content-type"], h["content-security-policy"], h["content-disposition"]) == (
            ("application/pdf" if name.endswith(".pdf") else "application/octet-stream"),
            CSP_PDF if name.endswith(".pdf") else CSP_DOWNLOAD, disposition), name
        assert (h["cache-control"], h["referrer-policy"], h["cross-origin-resource-policy"]) == (
            "private, no-store", "no-referrer", "same-origin")


def test_the_route_requires_the_login(server: AppProcess, uploaded: dict[str, bytes]) -> None:
    import httpx

    for data in uploaded.values():
        for cookies in (None, {"access-token-unsecure-x": "forged", "access-token-x": "forged"}):
            refused = httpx.get(_url(server, data), cookies=cookies, timeout=30)
            assert (refused.status_code, refused.text) == (401, "Not authenticated")
    gone = httpx.get(server.url + "doc/" + "0" * 64, timeout=30)  # no login: not even told whether it exists
    assert (gone.status_code, gone.text) == (401, "Not authenticated")


@pytest.mark.parametrize("tail", [
    "0" * 64,                        # a well-formed id that is no document
    "HASH_UPPER",                    # ids are lower-case hex, nothing else
    "HASH_SHORT",
    "HASH.pdf",
    "HASH%00",
    "HASH%2f..%2f..%2fetc%2fpasswd",
    "zai-lab-2025.pdf",              # a file name is no id
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5c..%5cetc%5cpasswd",
    "../../etc/passwd",
    "DOCS_PATH",                     # the copy's server path, URL-encoded
])
def test_unknown_ids_and_traversal_are_not_found(server: AppProcess, uploaded: dict[str, bytes], tail: str) -> None:
    import urllib.parse

    import httpx

    pdf = uploaded["zai-lab-2025.pdf"]
    digest = hashlib.sha256(pdf).hexdigest()
    tail = {"HASH_UPPER": digest.upper(), "HASH_SHORT": digest[:-1],
            "DOCS_PATH": urllib.parse.quote(str(server.index / "docs" / f"{digest}.pdf"), safe="")}.get(tail, tail)
    tail = tail.replace("HASH", digest)
    cookies = login_cookies(server.url, USER, PASSWORD)
    with httpx.Client(cookies=cookies, timeout=30) as http:
        response = http.send(http.build_request("GET", server.url + "doc/" + tail), follow_redirects=True)
    assert response.status_code == 404, (tail, response.status_code)
    assert response.content != pdf and b"root:" not in response.content


def test_gradio_itself_serves_nothing_of_the_index(server: AppProcess, uploaded: dict[str, bytes]) -> None:
    import httpx

    cookies = login_cookies(server.url, USER, PASSWORD)
    copies = sorted((server.index / "docs").iterdir())
    assert len(copies) == 2 + len(uploaded)  # the bundled corpus's two documents and the uploads
    for copy in [*copies, *(p for p in (server.index / "uploads").rglob("*") if p.is_file())]:
        response = httpx.get(f"{server.url}gradio_api/file={copy.resolve()}", cookies=cookies, timeout=30)
        assert response.status_code == 403, (copy, response.status_code)


def test_opening_a_hostile_source_runs_nothing_and_calls_no_api(server: AppProcess, uploaded: dict[str, bytes],
                                                                tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    exe = chromium()
    dialogs: list[str] = []
    requests: list[tuple[str, str]] = []  # (page, url) of every request any page of the browser makes
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pages: list[Any] = []

        def watch(page: Any) -> None:
            pages.append(page)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        def record(request: Any) -> None:
            try:
                where = "main" if request.frame.page is pages[0] else "other"
            except PlaywrightError:  # the navigation of a new tab has no frame yet
                where = "other"
            requests.append((where, request.url))

        context.on("page", watch)
        context.on("request", record)
        page = context.new_page()
        downloads: list[Any] = []
        page.on("download", lambda d: downloads.append(d))
        browser_login(page, server.url, USER, PASSWORD)
        for name, company, amount, _ in HOSTILE:
            box = page.locator("#question textarea")
            box.fill(f"How much upfront did {company} receive in 2026?")
            box.press("Enter")
            block = page.locator("#sources details.source").filter(has_text=name).first
            block.wait_for(timeout=90000)
            assert f"{amount} ✅" in page.locator("#chatbot .message").last.inner_text()
            link = block.locator(".source-meta a")
            before, opened = len(downloads), len(pages)
            link.click()
            deadline = time.monotonic() + 30  # a hang guard: the download (or, before the fix, a new tab) comes
            while len(downloads) == before and len(pages) == opened and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            page.wait_for_timeout(1500)  # a script of the document, had it run, would have fired by now
            assert dialogs == [], name
            assert [u for _, u in requests if "xss=" in u] == [], name
            assert [u for where, u in requests if where == "other"] == [], name  # no page was opened
            assert len(pages) == opened and len(downloads) == before + 1, name
            assert link.inner_text() == "download document"
            href = link.get_attribute("href") or ""
            assert href == f"/doc/{hashlib.sha256(uploaded[name]).hexdigest()}"  # a hash: no path, no name
            assert link.get_attribute("download") is not None
            panel = page.locator("#sources").inner_html()
            assert str(server.index) not in panel and "gradio_api/file" not in panel
            saved = downloads[-1]
            assert saved.suggested_filename == name
            assert Path(saved.path()).read_bytes() == uploaded[name]
        browser.close()


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
    ('a";filename=evil.html', "inline; filename=\"a__filename_evil.html\"; filename*=UTF-8''a__filename_evil.html"),
    ("x\r\nSet-Cookie: a=b.pdf", "inline; filename=\"xSet-Cookie_ a_b.pdf\"; filename*=UTF-8''xSet-Cookie_%20a_b.pdf"),
    ("../../etc/passwd", "inline; filename=\"passwd\"; filename*=UTF-8''passwd"),
    ("/srv/index/docs/ab12.pdf", "inline; filename=\"ab12.pdf\"; filename*=UTF-8''ab12.pdf"),
    ("年报 2025.pdf", "inline; filename=\"__ 2025.pdf\"; filename*=UTF-8''%E5%B9%B4%E6%8A%A5%202025.pdf"),
])
def test_the_served_name_is_the_file_name_cleaned(name: str, expected: str) -> None:
    from ui.serve import content_disposition

    assert content_disposition("inline", name) == expected


def test_the_login_check_refuses_what_it_cannot_verify() -> None:
    import asyncio

    from starlette.requests import Request

    from ui.serve import logged_in

    def request(app: object, cookie: str = "") -> Request:
        headers = [(b"cookie", cookie.encode())] if cookie else []
        return Request({"type": "http", "app": app, "headers": headers, "method": "GET", "path": "/doc/x"})

    class Issued:  # the attributes Gradio's app keeps its logins in
        cookie_id, tokens, auth_dependency = "c1", {"t-ok": "ana"}, None

    class Dependency:
        def __init__(self, user: str | None) -> None:
            self.auth_dependency = lambda _request: user

    cases = [(request(object(), "access-token-c1=t-ok"), False),  # an app we do not know: refuse, do not guess
             (request(Issued()), False), (request(Issued(), "access-token-c1=forged"), False),
             (request(Issued(), "access-token-c2=t-ok"), False), (request(Issued(), "access-token-c1=t-ok"), True),
             (request(Issued(), "access-token-unsecure-c1=t-ok"), True),
             (request(Dependency(None)), False), (request(Dependency("ana")), True)]
    assert [asyncio.run(logged_in(r)) for r, _ in cases] == [ok for _, ok in cases]
