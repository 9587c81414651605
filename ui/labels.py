"""Labels of the delete choice: one per document, unambiguous, mapped back to its source id (never shown)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rag.types import DocumentRecord
from ui.render import plain

TITLE_CHARS = 80


def long_label(record: DocumentRecord) -> str:
    """A document told apart from others of the same file name: name, title and when it was added."""
    title = plain(record.meta.title)[:TITLE_CHARS] or "untitled"
    return f"{plain(Path(record.source).name)} — {title}, added {record.added_at[:16].replace('T', ' ')}"


def delete_choices(records: Sequence[DocumentRecord]) -> dict[str, str]:
    """A label per document, mapped to its source id. A file name that one document has is its label; documents
    sharing a name get ``long_label`` (then a number, should even that be shared), so each can be chosen without
    typing a server path."""
    names = Counter(Path(r.source).name for r in records)
    out: dict[str, str] = {}
    for r in sorted(records, key=lambda r: (r.added_at, r.source)):
        label = plain(Path(r.source).name) if names[Path(r.source).name] == 1 else long_label(r)
        base, n = label, 2
        while label in out:
            label, n = f"{base} ({n})", n + 1
        out[label] = r.source
    return out


def find_choice(records: Sequence[DocumentRecord], choice: str) -> str | None:
    """The source id a label names: one of ``delete_choices``, or the ``long_label`` of exactly one document (a
    label shown before another document of that name was deleted still works)."""
    labels = delete_choices(records)
    if choice in labels:
        return labels[choice]
    matches = [r.source for r in records if long_label(r) == choice]
    return matches[0] if len(matches) == 1 else None


def shared_name(records: Sequence[DocumentRecord], name: str) -> list[str]:
    """The labels of the documents whose file name is ``name``, when more than one has it."""
    labels = [label for label, source in delete_choices(records).items() if Path(source).name == name]
    return labels if len(labels) > 1 else []
