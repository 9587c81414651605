"""Uploads: checked by size, count and content type, stored content-addressed inside the data folder, swept."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ALLOWED = (".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx")
MAX_FILES = 20
DIGEST_CHARS = 32  # of the SHA-256 that names an upload's folder: 128 bits, never shared by two contents
_TMP = ".part-"  # prefix of a copy still being written (a kill leaves it behind; the sweep removes it)


@dataclass(frozen=True)
class Checked:
    """One uploaded file after the checks: where it was stored (and its SHA-256), or why it was refused."""

    name: str  # the user's file name, cleaned for display
    stored: Path | None
    reason: str = ""
    digest: str = ""


def safe_name(name: str) -> str:
    """A file name with no path, no control characters and no leading dots (at most 120 characters)."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"[^\w.\- ()\u4e00-\u9fff]", "_", base).strip(" .")
    return base[-120:] or "upload"


def content_matches(path: Path, ext: str) -> str:
    """'' when the bytes are what the extension says, else the reason."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        return "empty file (0 bytes)"
    if ext == ".pdf":
        return "" if b"%PDF-" in head[:1024] else "named .pdf but is not a PDF (no %PDF- header)"
    if ext == ".docx":
        if not zipfile.is_zipfile(path):
            return "named .docx but is not a Word file (not a zip package)"
        with zipfile.ZipFile(path) as z:
            return "" if "word/document.xml" in z.namelist() else "named .docx but holds no word/document.xml"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"named {ext} but holds binary data"
    if head.startswith((b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"\x7fELF", b"MZ")):
        return f"named {ext} but holds a binary file"
    return ""


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def upload_path(folder: Path, digest: str, name: str) -> Path:
    """Where an upload with these bytes and this (clean) name lives: the same file uploaded again lands on the
    same path, so the index sees the same document and reads it as unchanged."""
    return folder / digest[:DIGEST_CHARS] / name


def store_uploads(paths: list[Path], folder: Path, *, max_mb: float, max_files: int = MAX_FILES) -> list[Checked]:
    """Check each upload and copy the good ones to ``folder``/<digest prefix>/<clean name>."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Checked] = []
    for i, path in enumerate(paths):
        name = safe_name(path.name)
        ext = Path(name).suffix.lower()
        if i >= max_files:
            out.append(Checked(name, None, f"more than {max_files} files in one upload"))
            continue
        if ext not in ALLOWED:
            out.append(Checked(name, None, f"file type {ext or '(none)'!r} is not accepted ({', '.join(ALLOWED)})"))
            continue
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            out.append(Checked(name, None, f"file is {size / 1024 / 1024:.1f} MB, over the limit of {max_mb:g} MB"))
            continue
        problem = content_matches(path, ext)
        if problem:
            out.append(Checked(name, None, problem))
            continue
        digest = file_digest(path)
        dest = upload_path(folder, digest, name)
        # A copy left there by an earlier upload is kept as it is unless a kill cut it short (other bytes).
        if not (dest.is_file() and dest.stat().st_size == size and file_digest(dest) == digest):
            dest.parent.mkdir(exist_ok=True)
            tmp = dest.parent / f"{_TMP}{uuid.uuid4().hex}"
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)  # whole or not at all: a reader never sees half a file under its name
        out.append(Checked(name, dest, digest=digest))
    return out


def is_upload(source: str | Path, folder: Path) -> bool:
    """Whether a document's source is a file the app stored under ``folder``."""
    return Path(source).resolve().is_relative_to(folder.resolve())


def remove_upload(source: str | Path, folder: Path) -> bool:
    """Remove an uploaded file and its folder once empty; False when ``source`` is not under ``folder``."""
    path = Path(source).resolve()
    root = folder.resolve()
    if not path.is_relative_to(root) or path == root:
        return False
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()  # only when empty: another document of the same bytes keeps the folder
        except OSError:
            break
        parent = parent.parent
    return True


def sweep_orphans(folder: Path, keep: Iterable[str | Path]) -> tuple[int, int]:
    """Remove every file under ``folder`` that is not in ``keep`` (the registered documents' sources), then the
    folders left empty. Symbolic links are removed as links, never followed.

    Returns:
        (files removed, folders removed)
    """
    if not folder.is_dir():
        return 0, 0
    root = folder.resolve()
    kept = {Path(k).resolve() for k in keep}
    files = dirs = 0
    for here, subdirs, names in os.walk(root, topdown=False):
        base = Path(here)
        for name in names:
            path = base / name
            if path not in kept:
                path.unlink(missing_ok=True)
                files += 1
        for sub in subdirs:
            path = base / sub
            if path.is_symlink():
                path.unlink()
                files += 1
                continue
            try:
                path.rmdir()
                dirs += 1
            except OSError:  # not empty: it holds a registered document
                pass
    return files, dirs
