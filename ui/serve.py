"""Serve the index's document copies by content hash: PDFs inline for the viewer, everything else as a download."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request  # at module level: FastAPI reads the endpoint's annotations by name

from ui.uploads import safe_name

logger = logging.getLogger(__name__)

ROUTE = "/doc/{doc_id}"
DOC_ID = re.compile(r"[0-9a-f]{64}")  # a SHA-256 in hex: the copy's content hash, never a path
# Nothing a copy holds may run or load anything; a PDF may only be drawn by the browser's own viewer, which a
# `sandbox` directive would block, so PDFs get every other restriction.
CSP_DOWNLOAD = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
CSP_PDF = "default-src 'none'; object-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

Lookup = Callable[[str], tuple[Path, str] | None]


def doc_url(content_hash: str) -> str:
    """The URL of a document's copy: its content hash only, so no server path or user name shows."""
    return ROUTE.replace("{doc_id}", content_hash)


def is_pdf(path: Path) -> bool:
    """A copy the browser may show inline: named .pdf and starting like one (the upload check's rule)."""
    if path.suffix.lower() != ".pdf":
        return False
    with path.open("rb") as fh:
        return b"%PDF-" in fh.read(1024)


def content_disposition(kind: str, name: str) -> str:
    """``attachment`` or ``inline`` with the file name cleaned (no path, quotes or control characters), given both
    as an ASCII fallback and in RFC 5987 form for browsers that read UTF-8 names."""
    clean = safe_name(name)
    fallback = "".join(ch if ch.isascii() else "_" for ch in clean)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def copy_headers(path: Path, name: str) -> tuple[str, dict[str, str]]:
    """The media type and headers a copy is served with."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
               "Referrer-Policy": "no-referrer", "Cross-Origin-Resource-Policy": "same-origin"}
    if is_pdf(path):
        return "application/pdf", {**headers, "Content-Security-Policy": CSP_PDF,
                                   "Content-Disposition": content_disposition("inline", name)}
    # Never inline: HTML, SVG or XML would run on the app's origin with the user's login.
    return "application/octet-stream", {**headers, "Content-Security-Policy": CSP_DOWNLOAD,
                                        "Content-Disposition": content_disposition("attachment", name)}


async def logged_in(request: Request) -> bool:
    """Whether the request carries a login of the Gradio app it reaches (the same check as Gradio's own
    ``/gradio_api/user``: an access-token cookie the app issued, or the app's auth dependency)."""
    gapp = request.app
    dependency = getattr(gapp, "auth_dependency", None)
    if dependency is not None:
        user = dependency(request)
        if inspect.isawaitable(user):
            user = await user
        return user is not None
    cookie_id = getattr(gapp, "cookie_id", None)
    tokens = getattr(gapp, "tokens", None)
    if cookie_id is None or not isinstance(tokens, dict):
        return False  # not the Gradio app we know: refuse rather than guess
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}")
    return token is not None and tokens.get(token) is not None


def make_route(lookup: Lookup, *, login: bool) -> Any:
    """The FastAPI route that serves copies, to hand to Gradio's app (``launch(app_kwargs={"routes": [...]})``).

    Args:
        lookup: content hash → (the copy's path, the document's file name), or None when there is none.
        login: whether the app has a login; then the route refuses requests without one (401).
    """
    from fastapi.responses import FileResponse, PlainTextResponse
    from fastapi.routing import APIRoute
    from starlette.concurrency import run_in_threadpool

    def find(doc_id: str) -> tuple[Path, str, str, dict[str, str]] | None:
        found = lookup(doc_id) if DOC_ID.fullmatch(doc_id) else None
        if found is None or not found[0].is_file():
            return None
        return (found[0], found[1], *copy_headers(*found))

    async def serve_copy(doc_id: str, request: Request) -> Any:
        if login and not await logged_in(request):
            return PlainTextResponse("Not authenticated", status_code=401)
        found = await run_in_threadpool(find, doc_id)  # the store is read with blocking calls
        if found is None:
            return PlainTextResponse("No such document", status_code=404)
        path, _name, media_type, headers = found
        return FileResponse(path, media_type=media_type, headers=headers)

    return APIRoute(ROUTE, serve_copy, methods=["GET"], include_in_schema=False)
