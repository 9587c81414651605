"""Document metadata: YAML front matter, and inference of what it does not give (title, date, language...)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml

from rag.types import DOC_TYPES, DocumentMeta

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?!\d)")
_FILING_WORDS = re.compile(
    r"annual report|interim report|results announcement|annual results|quarterly report|prospectus|10-K|10-Q|"
    r"20-F|announcement|年度报告|年报|半年度报告|季度报告|业绩公告|业绩预告|招股说明书|公告",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"([A-Z][\w&.\-]*(?:\s+(?:[A-Z][\w&.\-]*|&|and|of))*\s+(?:Co\.,?\s*Ltd\.?|Ltd\.?|Limited|Inc\.?|Corp\.?|"
    r"Corporation|PLC|plc|AG|SA))|([\u4e00-\u9fff（）()]{2,30}?(?:股份)?有限公司)"
)
_TICKER = re.compile(
    r"\b(?:HKEX|SEHK|SSE|SZSE|NASDAQ|NYSE|STAR)\s*[:：]\s*([0-9]{4,6}|[A-Z]{1,5})\b|\b(\d{6}\.(?:SH|SZ)|\d{4,5}\.HK)\b"
)
FRONT_MATTER_FIELDS = ("title", "date", "source", "url", "doc_type", "company", "tickers", "language")


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps an impossible date ("2025-13-45") as its text, for build_meta to warn about."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


_KINDS: dict[type, str] = {list: "a list", dict: "a mapping", str: "plain text", int: "a number", float: "a number",
                          bool: "a yes/no value", dt.date: "a date", dt.datetime: "a date"}


@dataclass(frozen=True)
class FrontMatter:
    """Front matter split from a Markdown file: the fields, the body, and what was wrong with the header."""

    fields: dict[str, Any]
    body: str
    body_offset: int
    warnings: tuple[str, ...]


def split_front_matter(text: str) -> FrontMatter:
    """Split ``---`` YAML front matter from a Markdown text.

    A broken header is reported as a warning and left out; the body is always returned.
    """
    if not text.startswith("---\n"):
        return FrontMatter({}, text, 0, ())
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        return FrontMatter({}, text, 0, ("front matter has no closing '---' line; ingested the whole file as text",))
    header = text[4 : 4 + end.start()]
    body_offset = 4 + end.end() + 1
    body = text[body_offset:]
    try:
        data = yaml.load(header, Loader=_FrontMatterLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return FrontMatter({}, body, body_offset, (f"broken front matter{where}: {reason}; ingested the body without it",))
    except RecursionError:
        return FrontMatter({}, body, body_offset, ("broken front matter: nested too deeply; ingested the body without it",))
    if data is None:
        return FrontMatter({}, body, body_offset, ())
    if not isinstance(data, dict):
        return FrontMatter(
            {}, body, body_offset, (f"front matter is {_KINDS.get(type(data), 'a value')}, not key: value pairs; ignored it",)
        )
    warnings = [f"front matter field {k!r} is not used" for k in data if k not in FRONT_MATTER_FIELDS]
    return FrontMatter({str(k): v for k, v in data.items()}, body, body_offset, tuple(warnings))


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up at least 30% of the letters, else 'en'."""
    sample = text[:20000]
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN.findall(sample))
    # A CJK character carries about as much as a short English word: weigh it x3 against latin letters.
    return "zh" if cjk and cjk * 3 >= 0.3 * (cjk * 3 + latin) else "en"


def parse_date(value: Any) -> str | None:
    """An ISO date string from a YAML date, a datetime, or a string like 2026-01-13 / 2026/1/13 / 2026年1月13日."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str | int):
        return None
    s = str(value).strip()
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?(?:[ T].*)?", s)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3] or 1)).isoformat()
    except ValueError:
        return None


def date_from_name(name: str) -> str:
    """A date written in a file name (2026-01-13, 20260113, 2026-01 as the 1st), or ''."""
    m = _DATE_IN_NAME.search(name)
    if not m:
        return ""
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3] or 1)).isoformat()
    except ValueError:
        return ""


def infer_company(text: str) -> str:
    m = _COMPANY.search(text)
    if not m:
        return ""
    return (m[1] or m[2] or "").strip()


def infer_tickers(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for m in _TICKER.finditer(text):
        t = m[1] or m[2]
        if t and t not in found:
            found.append(t)
    return tuple(found)


def build_meta(
    fields: dict[str, Any],
    *,
    text: str,
    file_name: str,
    fallback_title: str = "",
    fallback_date: str = "",
) -> tuple[DocumentMeta, list[str]]:
    """Combine given fields with inference from the text and file name.

    Returns:
        The metadata and warnings about fields that were given but unusable.
    """
    warnings: list[str] = []
    fields = dict(fields)
    for key in ("title", "source", "url", "doc_type", "company", "language", "tickers"):
        value = fields.get(key)
        if value is None or isinstance(value, str | int | float | dt.date):
            continue
        if key == "tickers" and isinstance(value, list | tuple):
            continue
        kind = _KINDS.get(type(value), f"a {type(value).__name__}")
        warnings.append(f"front matter field {key!r} is {kind}, not text; ignored it")
        del fields[key]
    head = text[:4000]
    title = str(fields.get("title") or "").strip() or fallback_title or _first_line(text) or file_name
    date = ""
    if fields.get("date") is not None:
        date = parse_date(fields["date"]) or ""
        if not date:
            warnings.append(f"front matter date {fields['date']!r} is not a date; inferred it instead")
    date = date or fallback_date or date_from_name(file_name) or _date_in_text(head)
    doc_type = str(fields.get("doc_type") or "").strip().lower()
    if doc_type and doc_type not in DOC_TYPES:
        warnings.append(f"doc_type {doc_type!r} is not one of {', '.join(DOC_TYPES)}; inferred it instead")
        doc_type = ""
    if not doc_type:
        doc_type = "filing" if _FILING_WORDS.search(f"{file_name} {title}") else "other"
    tickers_field = fields.get("tickers")
    if isinstance(tickers_field, list | tuple):
        tickers = tuple(str(t).strip() for t in tickers_field if str(t).strip())
    elif tickers_field:
        tickers = tuple(t.strip() for t in str(tickers_field).split(",") if t.strip())
    else:
        tickers = infer_tickers(head)
    language = str(fields.get("language") or "").strip().lower() or detect_language(text)
    if language.startswith("zh") or language in ("cn", "chinese"):
        language = "zh"
    elif language.startswith("en") or language == "english":
        language = "en"
    company = str(fields.get("company") or "").strip() or infer_company(f"{title}\n{head}")
    meta = DocumentMeta(
        title=title[:300],
        doc_type=doc_type,  # type: ignore[arg-type]
        date=date,
        publisher=str(fields.get("source") or "").strip(),
        url=str(fields.get("url") or "").strip(),
        company=company,
        tickers=tickers,
        language=language,
    )
    return meta, warnings


_DATE_LABEL = re.compile(
    r"(?:Published|Publication date|Date of (?:this )?announcement|Dated|Date|发布日期|公告日期|日期)\s*[:：]?\s*"
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})",
    re.IGNORECASE,
)


def _date_in_text(head: str) -> str:
    m = _DATE_LABEL.search(head)
    return (parse_date(m[1]) or "") if m else ""


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line and line != "---":
            return line if len(line) <= 150 else ""
    return ""
