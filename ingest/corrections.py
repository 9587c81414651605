"""A person's corrections to a document's metadata (``python -m ingest --set``, the Documents tab's edit form).

Kept in ``corrections.json`` in the index folder, by source, and applied after every load of that source, so a
correction survives re-ingesting the file and ``--rebuild``. Each value is checked here, once, for both callers.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.filing import PERIOD_TYPES
from ingest.metadata import MAX_COMPANY, MAX_TICKER, MAX_TICKERS, MAX_TITLE, parse_date
from rag.errors import IngestError
from rag.filters import DOC_TYPES
from rag.types import EDITABLE_FIELDS, DocumentMeta

FILE_NAME = "corrections.json"
_lock = threading.Lock()


def parse_assignment(text: str) -> tuple[str, str]:
    """``field=value`` -> (field, value); the value may be empty (the field is then cleared)."""
    field, sep, value = text.partition("=")
    field = field.strip()
    if not sep or not field:
        raise IngestError(f"{text!r} is not FIELD=VALUE (fields: {', '.join(EDITABLE_FIELDS)})")
    return field, value.strip()


def check_value(field: str, value: str) -> Any:
    """The typed value of a correction, or IngestError naming the field and why it cannot be."""
    if field not in EDITABLE_FIELDS:
        raise IngestError(f"{field!r} is not a field that can be set; the fields are {', '.join(EDITABLE_FIELDS)}")
    if field == "fiscal_year":
        if not value:
            return None
        if not value.isdigit() or not 1900 <= int(value) <= 2100:
            raise IngestError(f"fiscal_year must be a year such as 2018, not {value!r}")
        return int(value)
    if field in ("date", "period_end"):
        if not value:
            return ""
        iso = parse_date(value)
        if not iso or len(value.strip()) < 8:
            raise IngestError(f"{field} must be a date such as 2018-12-31, not {value!r}")
        return iso
    if field == "period_type":
        if value and value.upper() not in PERIOD_TYPES:
            raise IngestError(f"period_type must be one of {', '.join(PERIOD_TYPES)}, not {value!r}")
        return value.upper()
    if field == "doc_type":
        if value.lower() not in DOC_TYPES:
            raise IngestError(f"doc_type must be one of {', '.join(DOC_TYPES)}, not {value!r}")
        return value.lower()
    if field == "language":
        if value not in ("en", "zh"):
            raise IngestError(f"language must be en or zh, not {value!r}")
        return value
    if field == "tickers":
        tickers = [t.strip() for t in value.split(",") if t.strip()]
        if len(tickers) > MAX_TICKERS or any(len(t) > MAX_TICKER for t in tickers):
            raise IngestError(f"tickers: at most {MAX_TICKERS}, of at most {MAX_TICKER} characters each")
        return tickers
    limit = {"title": MAX_TITLE, "company": MAX_COMPANY}.get(field, 100)
    if len(value) > limit:
        raise IngestError(f"{field} is {len(value):,} characters long, more than {limit:,}")
    if field == "title" and not value:
        raise IngestError("title cannot be empty")
    return value


def apply(meta: DocumentMeta, fields: dict[str, Any]) -> DocumentMeta:
    """``meta`` with the corrected fields set, and named in ``corrected``."""
    if not fields:
        return meta
    values: dict[str, Any] = {k: (tuple(v) if k == "tickers" else v) for k, v in fields.items() if k in EDITABLE_FIELDS}
    corrected = tuple(sorted({*meta.corrected, *values}))
    return replace(meta, **values, corrected=corrected)  # type: ignore[arg-type]


class Corrections:
    """The corrections file of one index folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise IngestError(f"{self.path}: the corrections file cannot be read ({exc}); fix or remove it") from exc
        if not isinstance(data, dict):
            raise IngestError(f"{self.path}: the corrections file is not a JSON object; fix or remove it")
        return {str(k): v for k, v in data.items() if isinstance(v, dict)}

    def for_source(self, source: str) -> dict[str, Any]:
        return dict(self.load().get(source, {}))

    def set(self, source: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Add ``fields`` to the source's corrections (written whole or not at all); returns them all."""
        with _lock:
            data = self.load()
            merged = {**data.get(source, {}), **fields}
            data[source] = merged
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
            return merged

    def drop(self, source: str) -> None:
        with _lock:
            data = self.load()
            if source in data:
                del data[source]
                tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
                os.replace(tmp, self.path)
