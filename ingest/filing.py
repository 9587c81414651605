"""What a filing is, read from the document itself: company, tickers, form, fiscal period and date.

The cover page says it (an SEC cover: "FORM 10-K", "For the fiscal year ended September 24, 2022", the line above
"(Exact name of registrant as specified in its charter)", the trading symbol in the 12(b) table; a Chinese
report: "2025年年度报告", 公司名称/公司简称, 公司代码/股票代码; an HKEX announcement: "（股份代号：2190）",
"截至2025年6月30日止六个月"), else the first page of an earnings release (its headline and dateline). A glossy
annual report carries its 10-K cover a few pages in. Nothing here reads the file name.

The forms it names are data (``vocab/forms.yaml``), checked when loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rag.tabular import MONTH_DAY_YEAR, month_day_year

PERIOD_TYPES = ("FY", "Q1", "Q2", "Q3", "Q4", "H1", "H2", "9M")
_KINDS = ("sec", "release", "annual", "zh", "hk")
_COVER_PAGES = 3  # pages that make a cover (SEC covers run onto page 2)
_SEARCH_PAGES = 12  # pages searched for a 10-K cover inside a glossy annual report


@dataclass(frozen=True)
class Form:
    name: str
    kind: str
    cover: re.Pattern[str]
    period: str


@dataclass(frozen=True)
class FilingFacts:
    """What the document says it is ("" / None where it does not say)."""

    company: str = ""
    tickers: tuple[str, ...] = ()
    cik: str = ""
    form: str = ""
    fiscal_year: int | None = None
    period_end: str = ""  # ISO date the period ends
    period_type: str = ""  # FY | Q1..Q4 | H1 | H2 | 9M
    date: str = ""  # the filing's or publication's date (ISO)
    title: str = ""


@lru_cache(maxsize=1)
def load_forms(path: Path | None = None) -> tuple[Form, ...]:
    """The forms vocabulary, checked: each entry has a name, a known kind, a cover pattern that compiles, a period.

    Raises:
        ValueError: naming the entry and the field that is wrong.
    """
    path = path or Path(__file__).with_name("vocab") / "forms.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("forms"), list):
        raise ValueError(f"{path}: expected a mapping with a 'forms' list")
    forms = []
    for i, entry in enumerate(data["forms"], 1):
        where = f"{path.name}: form {i}"
        if not isinstance(entry, dict) or set(entry) != {"name", "kind", "cover", "period"}:
            raise ValueError(f"{where}: needs exactly the keys name, kind, cover, period")
        if not isinstance(entry["name"], str) or not entry["name"].strip():
            raise ValueError(f"{where}: 'name' must be text")
        if entry["kind"] not in _KINDS:
            raise ValueError(f"{where} ({entry['name']}): kind {entry['kind']!r} is not one of {', '.join(_KINDS)}")
        if entry["period"] not in ("", "Q", *PERIOD_TYPES):
            raise ValueError(f"{where} ({entry['name']}): period {entry['period']!r} is not FY, Q, H1, 9M or ''")
        try:
            cover = re.compile(str(entry["cover"]), re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"{where} ({entry['name']}): cover is not a regular expression: {exc}") from exc
        forms.append(Form(entry["name"], entry["kind"], cover, entry["period"]))
    return tuple(forms)


# The vocabulary's cover patterns, loaded once: held here so that the pattern audit (tests/test_patterns.py) reads
# them as it reads every other pattern of the module.
FORM_COVERS = tuple(f.cover for f in load_forms())


# -- SEC covers ------------------------------------------------------------------------------------------------
_REGISTRANT = re.compile(r"\(\s*Exact name of (?:the )?registrant as specified in its charter\s*\)", re.IGNORECASE)
_FISCAL_YEAR_ENDED = re.compile(r"for the (?:fiscal )?year ended:?\s*", re.IGNORECASE)
_QUARTER_ENDED = re.compile(r"for the (?:quarterly period|quarter|three months) ended:?\s*", re.IGNORECASE)
_DATE_OF_REPORT = re.compile(r"Date of Report\s*\(Date of earliest event reported\)\s*:?\s*", re.IGNORECASE)
_CIK = re.compile(r"\b(?:CIK|Central Index Key)(?:\s++(?:No\.?|Number))?[\s:#]*+(\d{4,10})\b", re.IGNORECASE)
_SYMBOL_HEAD = re.compile(r"Trading\s+symbols?(?:\(s\))?", re.IGNORECASE)
_SYMBOL_END = re.compile(r"Section\s+12\(g\)|Indicate by check mark", re.IGNORECASE)
_EXCHANGE = r"(?:The\s+)?(?:Nasdaq|NASDAQ|New York Stock Exchange|NYSE|Chicago Stock Exchange|Cboe)"
_SYMBOL_BEFORE_EXCHANGE = re.compile(rf"(?<![\w.])([A-Z]{{1,5}}(?:[.-][A-Z])?)\s+{_EXCHANGE}")
_SYMBOL_LINE = re.compile(r"^[ \t]*+([A-Z]{1,5}(?:[.-][A-Z])?)[ \t]*+$", re.MULTILINE)
_NOT_SYMBOLS = frozenset("LLC INC THE NONE NA N/A USA US OR AND OF".split())
_SIGNED = re.compile(r"\bDated?:?\s+", re.IGNORECASE)
# An earnings release's dateline: "SANTA CLARA, Calif., Jan. 26, 2023 --", "SAN FRANCISCO, Calif. - May 31, 2023 -"
_DATELINE = re.compile(r"^[A-Z][A-Z .'-]{2,40},[^\n]{0,30}?[-–—,]\s*(?=[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4})",
                       re.MULTILINE)
_ORDINAL_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_RELEASE_PERIOD = re.compile(
    r"\b(first|second|third|fourth|1st|2nd|3rd|4th)[- ]quarter(?:\s+(?:and|&)\s+(?:full[- ]year|fiscal year))?"
    r"\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?|FY\s*)?((?:19|20)\d{2})\b"
    r"|\bQ([1-4])\s*(?:FY\s*)?'?((?:19|20)?\d{2})\b",
    re.IGNORECASE,
)
_RELEASE_HEADLINE = re.compile(r"^[^\n]{0,160}?\b(?:Reports?|Announces?|Posts?|Delivers?)\b[^\n]{0,120}\bResults\b"
                               r"[^\n]{0,40}$", re.MULTILINE | re.IGNORECASE)
_NAMED = re.compile(r"\b([A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,4}),?\s+(Inc\.|Incorporated|Corporation|Corp\.|"
                    r"Company|Co\.|plc|PLC|Ltd\.|Limited|N\.V\.|S\.A\.|AG|SE)(?![\w])")
_EXCHANGE_TICKER = re.compile(r"\((?:NYSE|Nasdaq|NASDAQ|NYSE American|HKEX|SEHK)\s*:\s*([A-Z]{1,5}|\d{4,5})\)")


def recognise(pages: Sequence[str], *, releases: bool = True) -> FilingFacts:
    """The filing facts that the document's first pages state (empty facts when it is no filing).

    ``releases``: also recognise an earnings release by its headline ("… Reports Fourth-Quarter … Results"); a web
    page or note about results is no release, so HTML and Markdown are read without it.
    """
    head = [p for p in pages[:_SEARCH_PAGES]]
    if not head:
        return FilingFacts()
    cover = "\n".join(head[:_COVER_PAGES])
    if re.search(r"[\u4e00-\u9fff]", cover[:4000]):
        facts = _chinese(pages)
        if facts.form:
            return facts
    sec = _sec_cover(head)
    if sec is not None:
        at, facts = sec
        if not facts.date:  # the date it was signed, on the signatures page near the end
            facts = FilingFacts(**{**facts.__dict__, "date": _signed_date("\n".join(pages[at:]), facts.period_end)})
        if at > 0 and any(f.kind == "annual" and f.cover.search("\n".join(head[:at])) for f in load_forms()):
            # a glossy annual report with the 10-K inside
            return _titled(FilingFacts(**{**facts.__dict__, "form": "annual report"}), inner=facts.form)
        return _titled(facts)
    hk = _hk_english(pages)
    if hk.form:
        return hk
    release = _release(pages) if releases else FilingFacts()
    return _titled(release) if release.form else FilingFacts()


def _sec_cover(pages: Sequence[str]) -> tuple[int, FilingFacts] | None:
    """(page index, facts) of the first page that holds an SEC cover: a FORM line and the registrant's name."""
    forms = [f for f in load_forms() if f.kind == "sec"]
    for at, page in enumerate(pages):
        name = _REGISTRANT.search(page)
        if not name:
            continue
        text = "\n".join(pages[at : at + 2])
        form = next((f for f in forms if f.cover.search(page[: name.start()])), None)
        if form is None:
            continue
        company = _line_before(page, name.start())
        period_end, period_type = "", ""
        if form.period == "FY" and (m := _FISCAL_YEAR_ENDED.search(page)):
            period_end, period_type = _date_at(page, m.end()), "FY"
        elif form.period == "Q" and (m := _QUARTER_ENDED.search(page)):
            period_end = _date_at(page, m.end())
            period_type = _quarter_of(text, period_end)
        date = ""
        if form.kind == "sec" and (m := _DATE_OF_REPORT.search(page)):
            date = _date_at(page, m.end())
        fiscal_year = _fiscal_year(period_end, period_type, text)
        cik = m[1] if (m := _CIK.search(text)) else ""
        return at, FilingFacts(company=company, tickers=_symbols(text), cik=cik, form=form.name,
                               fiscal_year=fiscal_year, period_end=period_end, period_type=period_type, date=date)
    return None


def _line_before(text: str, pos: int) -> str:
    """The registrant's name: the text before the "(Exact name …)" note on its line, else the line above."""
    start = text.rfind("\n", 0, pos) + 1
    same = text[start:pos].strip()
    if same:
        return _tidy_name(same)
    above_end = start - 1
    above_start = text.rfind("\n", 0, max(above_end, 0)) + 1
    return _tidy_name(text[above_start:above_end].strip())


def _tidy_name(name: str) -> str:
    """A registrant name as a person writes it: "McDONALD’S CORPORATION" -> "McDonald’s Corporation"."""
    name = " ".join(name.split()).strip(" ,")
    letters = [c for c in name if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        words = []
        for w in name.split(" "):
            if len(w) <= 3 and w.rstrip(".,") in ("INC", "LLC", "PLC", "LTD", "CO", "SA", "AG", "SE", "NV"):
                words.append(w.capitalize() if w.rstrip(".,") in ("INC", "LTD", "CO") else w)
            elif len(w) > 3 and w[:2].upper() == "MC" and w[2:3].isupper():
                words.append("Mc" + w[2:].capitalize())  # McDONALD’S -> McDonald’s
            else:
                words.append(w.capitalize())
        name = " ".join(words).replace("’S ", "’s ").replace("'S ", "'s ")
    return name


def _date_at(text: str, pos: int) -> str:
    m = MONTH_DAY_YEAR.match(text, pos)
    d = month_day_year(m) if m else None
    return d.isoformat() if d else ""


def _quarter_of(text: str, period_end: str) -> str:
    """Q1..Q4 of a quarterly period: as the text names it ("second quarter of fiscal 2024"), else by month."""
    if m := _RELEASE_PERIOD.search(text):
        n = _ORDINAL_QUARTER[m[1].lower()] if m[1] else int(m[3])
        return f"Q{n}"
    if not period_end:
        return ""
    # A fiscal year that is the calendar year, as most are: the quarter is the month's
    return f"Q{(int(period_end[5:7]) - 1) // 3 + 1}"


def _fiscal_year(period_end: str, period_type: str, text: str) -> int | None:
    """The fiscal year a period belongs to: the year it ends in, unless the text names a fiscal year."""
    m = re.search(r"\bfiscal (?:year )?((?:19|20)\d{2})\b", text[:6000], re.IGNORECASE)
    if m and period_type.startswith("Q"):
        return int(m[1])
    return int(period_end[:4]) if period_end else None


def _symbols(text: str) -> tuple[str, ...]:
    """The trading symbols of the cover's 12(b) table (the common stock's first)."""
    head = _SYMBOL_HEAD.search(text)
    if not head:
        return ()
    end = _SYMBOL_END.search(text, head.end())
    region = text[head.end() : end.start() if end else head.end() + 3000]
    found: list[str] = []
    for m in list(_SYMBOL_BEFORE_EXCHANGE.finditer(region)) + list(_SYMBOL_LINE.finditer(region)):
        symbol = m[1]
        if symbol not in _NOT_SYMBOLS and symbol not in found:
            found.append(symbol)
    return tuple(found[:5])


def _signed_date(text: str, period_end: str) -> str:
    """The date the report was signed ("Date: October 27, 2022"), the most frequent one after the period end."""
    dates: Counter[str] = Counter()
    for m in _SIGNED.finditer(text):
        d = _date_at(text, m.end())
        if d and (not period_end or d > period_end):
            dates[d] += 1
    return dates.most_common(1)[0][0] if dates else ""


# -- earnings releases -----------------------------------------------------------------------------------------
def _release(pages: Sequence[str]) -> FilingFacts:
    first = pages[0] if pages else ""
    headline = _RELEASE_HEADLINE.search(first[:3000])
    if headline is None:
        return FilingFacts()
    title = " ".join(headline[0].split())
    whole = "\n".join(pages)
    company = _release_company(title, whole)
    period = _RELEASE_PERIOD.search(title) or _RELEASE_PERIOD.search(first[:3000])
    period_type, fiscal_year = "", None
    if period:
        if period[1]:
            period_type, fiscal_year = f"Q{_ORDINAL_QUARTER[period[1].lower()]}", int(period[2])
        else:
            year = period[4]
            period_type, fiscal_year = f"Q{period[3]}", int(year) if len(year) == 4 else 2000 + int(year)
    elif m := re.search(r"\b(?:full[- ]year|fiscal(?: year)?|annual)\s+((?:19|20)\d{2})\s+(?:financial\s+)?results",
                        title, re.IGNORECASE):
        period_type, fiscal_year = "FY", int(m[1])
    date = ""
    if dl := _DATELINE.search(first[:4000]):
        date = _date_at(first, dl.end())
    period_end = _release_period_end(first, whole, period_type, date)
    tickers = tuple(dict.fromkeys(m[1] for m in _EXCHANGE_TICKER.finditer(whole)))[:5]
    return FilingFacts(company=company, tickers=tickers, form="earnings release", fiscal_year=fiscal_year,
                       period_end=period_end, period_type=period_type, date=date, title=title)


def _release_company(headline: str, text: str) -> str:
    """The company of a release: the legal name in its text ("Salesforce, Inc.") whose first word the headline
    starts with, else the headline's first word."""
    first_word = headline.split(" ", 1)[0].strip(",")
    names: Counter[str] = Counter()
    for m in _NAMED.finditer(text):
        name = f"{m[1]}{',' if text[m.end(1):m.start(2)].startswith(',') else ''} {m[2]}"
        if m[1].split(" ", 1)[0] == first_word:
            names[name] += 1
    return names.most_common(1)[0][0] if names else first_word


def _release_period_end(first: str, whole: str, period_type: str, date: str) -> str:
    """The end of the release's quarter: "… fiscal 2024 ended April 30, 2023", else the latest quarter-end column
    ("Three Months Ended Dec 31, 2022") on or before the release's date."""
    m = re.search(r"\bended\s+", first[:4000])
    if m and (d := _date_at(first, m.end())):
        return d
    ends = []
    for h in re.finditer(r"Three Months Ended\s+", whole, re.IGNORECASE):
        d = _date_at(whole, h.end())
        if d and (not date or d <= date):
            ends.append(d)
    if period_type == "FY":
        ends = [d for h in re.finditer(r"(?:Twelve Months|Years?) Ended\s+", whole, re.IGNORECASE)
                if (d := _date_at(whole, h.end())) and (not date or d <= date)]
    return max(ends) if ends else ""


# -- Chinese reports and HKEX announcements --------------------------------------------------------------------
_ZH_NAME = re.compile(r"(?:公司(?:的)?中文名称|公司名称)[\s:：]*+([\u4e00-\u9fff（）()]{4,40}?(?:股份有限公司|有限公司|集团))")
_ZH_COVER_NAME = re.compile(r"^[ \t]*+([\u4e00-\u9fff（）()]{2,40}?(?:股份有限公司|有限责任公司|有限公司))[ \t]*+$",
                            re.MULTILINE)
_ZH_SHORT = re.compile(r"(?:公司简称|证券简称|股票简称|公司的中文简称)[\s|:：]*([\u4e00-\u9fffA-Z*]{2,12})")
_ZH_CODE = re.compile(r"(?:公司代码|股票代码|证券代码|A股代码)[\s|:：]*(\d{6})(?!\d)")
_HK_CODE = re.compile(r"[（(]\s*(?:股份代号|股份代號|Stock Code)\s*[:：]\s*(\d{1,5})\s*[）)]", re.IGNORECASE)
_ZH_YEAR_FORM = re.compile(r"((?:19|20)\d{2})\s*年\s*(年度报告|半年度报告|第一季度报告|第三季度报告)")
_HK_PERIOD = re.compile(r"截至\s*((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*止\s*(六个月|六個月|年度|九个月|三个月)")
_HK_TITLE = re.compile(r"截至\s*(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*止\s*(?:六个月|六個月|年度|九个月|三个月)"
                       r"之?[\u4e00-\u9fff]{0,8}?(?:公告|報告|报告)")
_ZH_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ZH_DATE_LINE = re.compile(r"董事会|董事會|公告日期|报送日期|報送日期|^[ \t]*+香港[ \t]*+[，,]|日期[ \t]*+[:：]", re.MULTILINE)


def _exchange_code(code: str) -> str:
    """An A-share code with its exchange: 60x/68x/90x Shanghai, 00x/30x/20x Shenzhen, 4x/8x/92x Beijing."""
    if code[0] in "69" and not code.startswith("92"):
        return f"{code}.SH"
    if code[0] in "023":
        return f"{code}.SZ"
    return f"{code}.BJ"


def _chinese(pages: Sequence[str]) -> FilingFacts:
    cover = "\n".join(pages[:_COVER_PAGES])
    first = pages[0] if pages else ""
    form_name, period_type, fiscal_year, period_end = "", "", None, ""
    if m := _ZH_YEAR_FORM.search(first) or _ZH_YEAR_FORM.search(cover):
        fiscal_year = int(m[1])
        form_name = {"年度报告": "年度报告", "半年度报告": "半年度报告"}.get(m[2], "季度报告")
        period_type, period_end = {
            "年度报告": ("FY", f"{m[1]}-12-31"), "半年度报告": ("H1", f"{m[1]}-06-30"),
            "第一季度报告": ("Q1", f"{m[1]}-03-31"), "第三季度报告": ("9M", f"{m[1]}-09-30"),
        }[m[2]]
    hk = _HK_CODE.search(cover)
    if not form_name and (p := _HK_PERIOD.search(cover)):
        months = {"六个月": "H1", "六個月": "H1", "年度": "FY", "九个月": "9M", "三个月": "Q1"}[p[4]]
        d = _safe_date(int(p[1]), int(p[2]), int(p[3]))
        period_end, period_type = d, months
        fiscal_year = int(p[1])
        if months == "H1" and d[5:7] != "06":
            period_type = "H1"
        form_name = next((f.name for f in load_forms() if f.kind == "zh" and f.cover.search(first)), "公告")
    if not form_name:
        form_name = next((f.name for f in load_forms() if f.kind == "zh" and f.cover.search(first[:600])), "")
        if not form_name:
            return FilingFacts()
    if not (_ZH_CODE.search(cover) or hk):
        return FilingFacts()  # a listed company's report names its code; an article about one does not
    company = ""
    if m := _ZH_NAME.search(cover):
        company = m[1]
    elif m := _ZH_COVER_NAME.search(first):
        company = m[1]
    tickers: list[str] = []
    if m := _ZH_CODE.search(cover):
        tickers.append(_exchange_code(m[1]))
    if hk:
        tickers.append(f"{int(hk[1]):04d}.HK")
    short = m[1] if (m := _ZH_SHORT.search(cover)) else ""
    date = _zh_date(pages, period_end)
    facts = FilingFacts(company=company, tickers=tuple(tickers), form=form_name, fiscal_year=fiscal_year,
                        period_end=period_end, period_type=period_type, date=date)
    title = _zh_title(first, facts) or f"{company or short} {fiscal_year or ''}年{form_name}".strip()
    return FilingFacts(**{**facts.__dict__, "title": title})


def _safe_date(y: int, m: int, d: int) -> str:
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        return ""


def _zh_date(pages: Sequence[str], period_end: str) -> str:
    """The report's date: the latest date on a 董事会 / 公告日期 / "香港，" line, after the period's end."""
    best = ""
    for page in list(pages[:2]) + list(pages[-3:]):
        for label in _ZH_DATE_LINE.finditer(page):
            # the date on the label's line or right under it ("董事会" / "2025年8月26日")
            for m in _ZH_DATE.finditer(page, label.end(), min(len(page), label.end() + 40)):
                d = _safe_date(int(m[1]), int(m[2]), int(m[3]))
                if d and (not period_end or d > period_end) and d > best:
                    best = d
    return best


def _zh_title(first: str, facts: FilingFacts) -> str:
    """The cover's own title line ("2025年年度报告", "截至2025年6月30日止六个月之中期业绩公告") after the company."""
    hk = _HK_TITLE.search(first)
    if hk:
        return f"{facts.company} {hk[0]}".strip()
    for line in first.split("\n"):
        line = line.strip()
        if 4 <= len(line) <= 60 and _ZH_YEAR_FORM.search(line):
            return f"{facts.company} {line}".strip() if facts.company and facts.company not in line else line
    return ""


# -- HKEX announcements in English -----------------------------------------------------------------------------
_HK_STOCK_CODE = re.compile(r"Stock\s++code[\s:：]*+(?:HKEX[\s:：]*+)?(\d{1,5})\b", re.IGNORECASE)
_HK_ENDED = re.compile(r"\bfor the (?:year|six months|twelve months) ended\s+(\d{1,2})\s+(January|February|March|April|May|"
                       r"June|July|August|September|October|November|December)\s+((?:19|20)\d{2})", re.IGNORECASE)
_HK_COMPANY = re.compile(r"^[ \t]*+([A-Z][A-Za-z&.,'’ -]{2,80}?\b(?:(?:Holdings|Group)\s+(?:Limited|Ltd\.?|Inc\.?)|"
                         r"Co\.,?\s+Ltd\.?|Limited|Ltd\.?|Inc\.?|Holdings|Group))(?![A-Za-z])",
                         re.MULTILINE)
_HK_PUBLISHED = re.compile(r"\b(?:Published|Hong Kong,)[\s:：]*+(\d{4}-\d{2}-\d{2}|\d{1,2}\s++[A-Z][a-z]++\s++\d{4})")


def _hk_english(pages: Sequence[str]) -> FilingFacts:
    """An HKEX results announcement in English: "(Stock code: 1801)", "ANNUAL RESULTS ANNOUNCEMENT FOR THE YEAR
    ENDED 31 DECEMBER 2025"."""
    first = "\n".join(pages[:1])[:5000]
    code = _HK_STOCK_CODE.search(first)
    form = next((f for f in load_forms() if f.kind == "hk" and f.cover.search(first)), None)
    if code is None or form is None:
        return FilingFacts()
    period_end, fiscal_year = "", None
    if m := _HK_ENDED.search(first):
        d = _safe_date(int(m[3]), _MONTH_NUMBER[m[2].lower()], int(m[1]))
        period_end, fiscal_year = d, int(m[3]) if d else None
    company = ""
    if m := _HK_COMPANY.search(first[: code.start()] or first):
        company = " ".join(m[1].split())
    date = ""
    if m := _HK_PUBLISHED.search(first):
        date = parse_iso_or_long(m[1])
    title = f"{company} — {form.name.capitalize()}" + (f" for the year ended {_long_date(period_end)}"
                                                       if period_end and form.period == "FY" else
                                                       f" for the six months ended {_long_date(period_end)}"
                                                       if period_end else "")
    return FilingFacts(company=company, tickers=(f"{int(code[1]):04d}.HK",), form=form.name, fiscal_year=fiscal_year,
                       period_end=period_end, period_type=form.period, date=date, title=title)


_MONTH_NUMBER = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}


def parse_iso_or_long(text: str) -> str:
    """"2026-03-20" or "20 March 2026" as an ISO date, or ""."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _safe_date(int(text[:4]), int(text[5:7]), int(text[8:]))
    parts = text.split()
    if len(parts) == 3 and parts[1].lower() in _MONTH_NUMBER and parts[0].isdigit() and parts[2].isdigit():
        return _safe_date(int(parts[2]), _MONTH_NUMBER[parts[1].lower()], int(parts[0]))
    return ""


# -- titles ----------------------------------------------------------------------------------------------------
def _long_date(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def _titled(facts: FilingFacts, inner: str = "") -> FilingFacts:
    """Facts with the title a person would recognise ("Apple Inc. — Form 10-K for the fiscal year ended …")."""
    if facts.title:
        title = f"{facts.company} — {facts.title}" if facts.company and not facts.title.startswith(
            facts.company.split(",")[0].split(" ")[0]) else facts.title
        return FilingFacts(**{**facts.__dict__, "title": title})
    company = facts.company or "Unnamed registrant"
    if facts.form == "annual report":
        what = f"{facts.fiscal_year} Annual Report" if facts.fiscal_year else "Annual Report"
        if inner and facts.period_end:
            what += f" (with its Form {inner} for the fiscal year ended {_long_date(facts.period_end)})"
        return FilingFacts(**{**facts.__dict__, "title": f"{company} — {what}"})
    if facts.period_end and facts.period_type == "FY":
        what = f"Form {facts.form} for the fiscal year ended {_long_date(facts.period_end)}"
    elif facts.period_end and facts.period_type:
        what = f"Form {facts.form} for the quarterly period ended {_long_date(facts.period_end)}"
    elif facts.date:
        what = f"Form {facts.form} of {_long_date(facts.date)}"
    else:
        what = f"Form {facts.form}"
    return FilingFacts(**{**facts.__dict__, "title": f"{company} — {what}"})


def with_cover(found: FilingFacts, cover: FilingFacts) -> FilingFacts:
    """The facts read from the text (``found``) with what an inline-XBRL cover tags (``cover``) put first.

    The tagged cover names the registrant, its symbols, CIK, form and period exactly; the date the filing was
    signed is not tagged and comes from the text. The title is composed again from the result.
    """
    if not (cover.company or cover.form):
        return found
    merged = {k: (getattr(cover, k) or getattr(found, k)) for k in found.__dict__}
    merged["title"] = ""
    return _titled(FilingFacts(**merged))
