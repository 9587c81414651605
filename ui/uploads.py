"""Uploads: checked by size, count and content type, stored under generated names inside the data folder."""

from __future__ import annotations

import re
import shutil
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

ALLOWED = (".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx")
MAX_FILES = 20


@dataclass(frozen=True)
class Checked:
    """One uploaded file after the checks: where it was stored, or why it was refused."""

    name: str  # the user's file name, cleaned for display
    stored: Path | None
    reason: str = ""


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


def store_uploads(paths: list[Path], folder: Path, *, max_mb: float, max_files: int = MAX_FILES) -> list[Checked]:
    """Check each upload and copy the good ones to ``folder`` under generated names."""
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
        # A fresh folder per file: the user's name is kept (it carries dates and titles) and cannot collide.
        dest = folder / uuid.uuid4().hex[:12] / name
        dest.parent.mkdir()
        shutil.copyfile(path, dest)
        out.append(Checked(name, dest))
    return out
