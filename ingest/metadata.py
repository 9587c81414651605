"""Document metadata: YAML front matter, and inference of what it does not give (title, date, language...)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ingest.filing import FilingFacts
from rag.types import DOC_TYPES, DocumentMeta

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_DATE_IN_NAME = re.compile(
    r"(?<![\dA-Za-z])(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?![\dA-Za-z])")
_FILING_WORDS = re.compile(
    r"annual report|interim report|results announcement|annual results|quarterly report|prospectus|10-K|10-Q|"
    r"20-F|announcement|年度报告|年报|半年度报告|季度报告|业绩公告|业绩预告|招股说明书|公告",
    re.IGNORECASE,
)
# What ends an English company name ("... Co., Ltd.", "... Inc"), matched where a word starts; the first that
# fits wins, as written.
_COMPANY_SUFFIX = re.compile(r"Co\.,?\s*Ltd\.?|Ltd\.?|Limited|Inc\.?|Corp\.?|Corporation|PLC|plc|AG|SA")
_ZH_COMPANY_RUN = re.compile(r"[\u4e00-\u9fff（）()]+")  # what a Chinese company name is written with
_WORDS = re.compile(r"\S+")
_TICKER = re.compile(
    r"\b(?:HKEX|SEHK|SSE|SZSE|NASDAQ|NYSE|STAR)\s*[:：]\s*([0-9]{4,6}|[A-Z]{1,5})\b|\b(\d{6}\.(?:SH|SZ)|\d{4,5}\.HK)\b"
)
_ACCESSION = re.compile(r"\d{10}-\d{2}-\d{6}")  # an SEC accession number, which EDGAR PDFs carry as their title
FRONT_MATTER_FIELDS = ("title", "date", "source", "url", "doc_type", "company", "tickers", "language")

# The longest value each metadata field keeps (characters; tickers: entries and characters per entry). Every
# chunk carries these fields and answers read them, so a runaway value (a title that is a whole page, a YAML
# alias bomb) would cost every later question; longer values are cut with a warning naming the field.
MAX_TITLE = 300
MAX_COMPANY = 200
MAX_PUBLISHER = 200
MAX_URL = 2048
MAX_LANGUAGE = 16
MAX_TICKERS = 20
MAX_TICKER = 32
MAX_WARNING = 300  # a warning quotes at most this much
_MAX_UNUSED = 10  # unused front matter fields named one by one; more are counted
_MAX_DATE_TEXT = 64  # a date longer than this is not a date


class _AliasRefused(yaml.YAMLError):
    """Front matter used a YAML anchor or alias."""

    def __init__(self, mark: Any) -> None:
        super().__init__("anchor or alias")
        self.problem_mark = mark


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and keeps an impossible date ("2025-13-45") as its text.

    Aliases let a few hundred bytes expand to gigabytes (``a2: [*a1, *a1, ...]``); front matter never needs them.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-untyped-call]


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
    except _AliasRefused as exc:
        return FrontMatter({}, body, body_offset, (
            f"front matter uses a YAML anchor or alias (&name or *name) on line {exc.problem_mark.line + 2}, which "
            "is not allowed (aliases can expand to gigabytes); write the value out instead. Ingested the body "
            "without it",
        ))
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        reason = cap_warning(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)
        return FrontMatter({}, body, body_offset, (f"broken front matter: {reason}; ingested the body without it",))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        reason = cap_warning(reason, 160)
        return FrontMatter({}, body, body_offset, (f"broken front matter{where}: {reason}; ingested the body without it",))
    except RecursionError:
        return FrontMatter({}, body, body_offset, ("broken front matter: nested too deeply; ingested the body without it",))
    if data is None:
        return FrontMatter({}, body, body_offset, ())
    if not isinstance(data, dict):
        return FrontMatter(
            {}, body, body_offset, (f"front matter is {_KINDS.get(type(data), 'a value')}, not key: value pairs; ignored it",)
        )
    unused = [k for k in data if k not in FRONT_MATTER_FIELDS]
    warnings = [f"front matter field {show(k, 60)} is not used" for k in unused[:_MAX_UNUSED]]
    if len(unused) > _MAX_UNUSED:
        warnings.append(f"front matter has {len(unused) - _MAX_UNUSED} more fields that are not used")
    fields = {k: v for k, v in data.items() if isinstance(k, str) and k in FRONT_MATTER_FIELDS}
    return FrontMatter(fields, body, body_offset, tuple(warnings))


def show(value: Any, limit: int = 80) -> str:
    """``repr`` of a value for a message, cut to about ``limit`` characters (long text says how long it was)."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of {value.bit_length()} bits"
    if isinstance(value, list | tuple | dict | set):
        return _KINDS.get(type(value), "a collection") + f" of {len(value):,} items"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def cap_warning(text: str, limit: int = MAX_WARNING) -> str:
    """A warning cut to ``limit`` characters, saying so: no warning may carry a whole document."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}… ({len(text):,} characters in all)"


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up at least 30% of the letters, else 'en'."""
    sample = text[:20000]
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN.findall(sample))
    # A CJK character carries about as much as a short English word: weigh it x3 against latin letters.
    return "zh" if cjk and cjk * 3 >= 0.3 * (cjk * 3 + latin) else "en"


def parse_date(value: Any) -> str | None:
    """An ISO date string from a YAML date, a datetime, or a string like 2026-01-13 / 2026/1/13 / 2026年1月13日.

    A time may follow the date ("2026-01-13 08:00", "2026-01-13T08:00:00Z"); text longer than a date and a time
    is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, int) and not 0 <= value < 10**12:
        return None
    s = str(value).strip()
    if len(s) > _MAX_DATE_TEXT:
        return None
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE_TEXT.match(s)
    if not m:
        return None
    # Where the date may end, most first as a regular expression would try them: after 日, after the day, after
    # the month; what follows must be white space, or a time after " " or "T".
    ends: list[tuple[int, str | None, bool]] = [(m.end(2), None, True)]  # (end, day, space allowed before a time)
    if m[3]:
        ends.insert(0, (m.end(3), m[3], True))
        if m.end() > m.end(3):
            ends.insert(0, (m.end(), m[3], False))
    for end, day, space in ends:
        if _time_or_nothing(s[end:], space=space):
            try:
                return dt.date(int(m[1]), int(m[2]), int(day or 1)).isoformat()
            except ValueError:
                return None
    return None


_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})(?:\s*日)?)?")


def _time_or_nothing(rest: str, *, space: bool) -> bool:
    """``rest`` is nothing, or " " or "T" and one line of anything (a time); white space first when ``space``."""
    if not space:
        return not rest or (rest[0] in " T" and "\n" not in rest[1:])
    lead = len(rest) - len(rest.lstrip())
    if lead == len(rest):
        return True
    # the last place a time can start: the first other character if it is "T", else the last space before it
    at = lead if rest[lead] == "T" else rest.rfind(" ", 0, lead)
    return at >= 0 and "\n" not in rest[at + 1 :]


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
    """The first company name written in ``text``: capitalised words that end in Ltd, Inc, PLC..., or a 有限公司.

    Two scans over the words, each linear in the text: a regular expression for this backtracks over a long run
    of capitalised words at every word it starts from. The name that starts first wins.
    """
    found = [f for f in (_english_company(text), _chinese_company(text)) if f is not None]
    return min(found)[1].strip() if found else ""


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_&.-"


def _is_name_word(word: str) -> bool:
    """A word that can stand inside an English name: capitalised ("Hengrui", "R&D"), or "&", "and", "of"."""
    if word in ("&", "and", "of"):
        return True
    return "A" <= word[0] <= "Z" and all(_is_name_char(ch) for ch in word)


def _english_company(text: str) -> tuple[int, str] | None:
    words = [(m.start(), m.end()) for m in _WORDS.finditer(text)]
    i = 0
    while i < len(words):
        a, b = words[i]
        # A name may start inside a word ("(Hengrui", "x-Foo"): at the first capital of its last run of name
        # characters.
        q = b
        while q > a and _is_name_char(text[q - 1]):
            q -= 1
        start = next((p for p in range(q, b) if "A" <= text[p] <= "Z"), None)
        if start is None:
            i += 1
            continue
        end = None
        j = i + 1
        while j < len(words):  # the name runs on over name words; it ends at its last suffix
            suffix = _COMPANY_SUFFIX.match(text, words[j][0])
            if suffix:
                end = suffix.end()
            if not _is_name_word(text[words[j][0] : words[j][1]]):
                break
            j += 1
        if end is not None:
            return start, text[start:end]
        i = j  # a name starting at any word up to j would run into the same words, without a suffix
    return None


def _chinese_company(text: str) -> tuple[int, str] | None:
    """The first 有限公司 (or 股份有限公司) with 2 to 30 characters of name before it."""
    for run in _ZH_COMPANY_RUN.finditer(text):
        ra, rb = run.span()
        e = text.find("有限公司", ra + 2, rb)
        while e != -1:
            starts = [max(ra, e - 30)]
            if text.startswith("股份", e - 2) and e - 4 >= ra:
                starts.append(max(ra, e - 32))
            p = min(starts)
            if p <= e - 2:
                # the shortest name from p that ends in a suffix, as a lazy {2,30} would take it
                for q in range(p + 2, min(p + 30, rb) + 1):
                    for suffix in ("股份有限公司", "有限公司"):
                        if text.startswith(suffix, q) and q + len(suffix) <= rb:
                            return p, text[p : q + len(suffix)]
            e = text.find("有限公司", e + 4, rb)
    return None


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
    filing: FilingFacts | None = None,
) -> tuple[DocumentMeta, list[str]]:
    """Combine given fields with what the document says it is (``filing``) and inference from its text.

    Given fields (front matter) win; then the filing's own cover; then the PDF's title (unless it is a
    placeholder or an SEC accession number), the first line, the file name. A date comes from the fields, the
    filing, a dated line in the text or a full date in the file name, never from a bare year.

    Returns:
        The metadata and warnings about fields that were given but unusable.
    """
    warnings: list[str] = []
    fields = dict(fields)
    for key in ("title", "source", "url", "doc_type", "company", "language", "tickers", "date"):
        value = fields.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
            warnings.append(f"front matter field {key!r} is {show(value)}, not text; ignored it")
            del fields[key]
            continue
        if key == "date" or value is None or isinstance(value, str | int | float | dt.date):
            continue
        if key == "tickers" and isinstance(value, list | tuple):
            continue
        kind = _KINDS.get(type(value), f"a {type(value).__name__}")
        warnings.append(f"front matter field {key!r} is {kind}, not text; ignored it")
        del fields[key]
    head = text[:4000]
    facts = filing or FilingFacts()
    if _ACCESSION.fullmatch(fallback_title.strip()):
        fallback_title = ""  # "0000950170-23-028914": EDGAR's file number, not a title
    # The document's own title (a PDF's, an HTML page's) when it reads as one and names the filing's company;
    # else the title made from the cover ("Apple Inc. — Form 10-K for the fiscal year ended …").
    own = fallback_title if not facts.title or _names_company(fallback_title, facts.company) else ""
    title = (str(fields.get("title") or "").strip() or own or facts.title or fallback_title or _first_line(text)
             or file_name)
    title = _cap("title", title, MAX_TITLE, warnings)
    date = ""
    if fields.get("date") is not None:
        date = parse_date(fields["date"]) or ""
        if not date:
            warnings.append(f"front matter date {show(fields['date'])} is not a date; inferred it instead")
    date = date or facts.date or fallback_date or _date_in_text(head) or date_from_name(file_name)
    doc_type = str(fields.get("doc_type") or "").strip().lower()
    if doc_type and doc_type not in DOC_TYPES:
        warnings.append(f"doc_type {show(doc_type)} is not one of {', '.join(DOC_TYPES)}; inferred it instead")
        doc_type = ""
    if not doc_type:
        doc_type = "filing" if facts.form or _FILING_WORDS.search(f"{file_name} {title}") else "other"
    tickers = _tickers(fields.get("tickers") or (list(facts.tickers) or None), head, warnings)
    language = str(fields.get("language") or "").strip().lower() or detect_language(text)
    if language.startswith("zh") or language in ("cn", "chinese"):
        language = "zh"
    elif language.startswith("en") or language == "english":
        language = "en"
    company = str(fields.get("company") or "").strip() or facts.company or infer_company(f"{title}\n{head}")
    meta = DocumentMeta(
        title=title,
        doc_type=doc_type,  # type: ignore[arg-type]
        date=date,
        publisher=_cap("source", str(fields.get("source") or "").strip(), MAX_PUBLISHER, warnings),
        url=_cap("url", str(fields.get("url") or "").strip(), MAX_URL, warnings),
        company=_cap("company", company, MAX_COMPANY, warnings),
        tickers=tickers,
        language=_cap("language", language, MAX_LANGUAGE, warnings),
        form=facts.form,
        fiscal_year=facts.fiscal_year,
        period_end=facts.period_end,
        period_type=facts.period_type,
        cik=facts.cik,
    )
    return meta, [cap_warning(w) for w in warnings]


def _names_company(title: str, company: str) -> bool:
    """A title a person wrote for the document: words (not a file name) that name the company."""
    first = company.split(" ", 1)[0].strip(",") if company else ""
    return bool(first) and first.casefold() in title.casefold() and "_" not in title and len(title.split()) >= 3


def _cap(name: str, value: str, limit: int, warnings: list[str]) -> str:
    if len(value) <= limit:
        return value
    warnings.append(f"{name} is {len(value):,} characters long, more than {limit:,}; kept its first {limit:,}")
    return value[:limit]


def _tickers(given: Any, head: str, warnings: list[str]) -> tuple[str, ...]:
    """Tickers from front matter (a list, or text with commas), else those written in the text's head."""
    if isinstance(given, list | tuple):
        entries: list[str] = []
        for t in given:
            if t is None or isinstance(t, list | tuple | dict | set) or (isinstance(t, int) and t.bit_length() > 64):
                warnings.append(f"front matter field 'tickers' has an entry that is {show(t)}, not text; ignored it")
                continue
            entries.append(str(t).strip())
    elif given:
        entries = [t.strip() for t in str(given).split(",")]
    else:
        return infer_tickers(head)
    tickers: list[str] = []
    for t in entries:
        if len(t) > MAX_TICKER:
            warnings.append(f"ticker {show(t, 40)} is longer than {MAX_TICKER} characters; ignored it")
        elif t:
            tickers.append(t)
    if len(tickers) > MAX_TICKERS:
        warnings.append(f"tickers has {len(tickers):,} entries, more than {MAX_TICKERS}; kept its first {MAX_TICKERS}")
        tickers = tickers[:MAX_TICKERS]
    return tuple(tickers)


_DATE_LABEL = re.compile(
    r"(?:Published|Publication date|Date of (?:this )?announcement|Dated|Date|发布日期|公告日期|日期)\s*(?:[:：]\s*)?"
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})",
    re.IGNORECASE,
)


def _date_in_text(head: str) -> str:
    m = _DATE_LABEL.search(head)
    return (parse_date(m[1]) or "") if m else ""


def _first_line(text: str) -> str:
    """The first line with text (without Markdown ``#``), when it is short enough to be a title."""
    pos = 0
    while pos < len(text):
        # One "\n" line at a time, not text.splitlines(): a title is near the top of a file of any size.
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        for line in text[pos:end].splitlines():
            line = line.strip().lstrip("#").strip()
            if line and line != "---":
                return line if len(line) <= 150 else ""
        pos = end + 1
    return ""
