"""Inline XBRL (EDGAR .htm filings since 2019): the facts a filing tags, and the cover facts (dei:) it states.

A tagged figure (``ix:nonFraction``) names its concept, its period (through a context: start and end dates or an
instant, and any dimension members), its unit, its scale (6: millions) and its sign ("-" for a figure printed
without a minus sign). Those are read here into ``XbrlFact`` values; the cover's ``dei:`` facts (registrant name,
trading symbol, CIK, document type, period end, fiscal year and period focus) into ``FilingFacts``.

Works on a BeautifulSoup tree parsed with lxml's HTML parser, which keeps prefixed names lower-cased
("ix:nonfraction", attribute "contextref"); elements are matched by their local name, so a filing that binds
other prefixes reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.filing import FilingFacts, parse_iso_or_long
from rag.tabular import MONTH_DAY_YEAR, month_day_year
from rag.types import XbrlFact

# ix:nonFraction formats whose text is a zero however printed ("—", "-", "nil", "None")
_ZERO_FORMATS = ("fixed-zero", "zerodash", "numdash", "fixed-empty")
_WORD_ZERO = {"no", "none", "nil", "zero", "-", "—", "–"}
_NUMBER = re.compile(r"\d[\d,. \u00a0']*+")
_PERIOD_FOCUS = {"FY": "FY", "Q1": "Q1", "Q2": "Q2", "Q3": "Q3", "Q4": "Q4", "H1": "H1", "H2": "H2"}


@dataclass(frozen=True)
class Context:
    start: str
    end: str
    dims: tuple[str, ...]


def local(name: str | None) -> str:
    return (name or "").rsplit(":", 1)[-1].lower()


def is_inline_xbrl(soup: Any) -> bool:
    return soup.find(lambda t: local(t.name) in ("nonfraction", "header") and ":" in (t.name or "")) is not None


def contexts(soup: Any) -> dict[str, Context]:
    out: dict[str, Context] = {}
    for ctx in soup.find_all(lambda t: local(t.name) == "context" and t.get("id")):
        start = end = ""
        dims: list[str] = []
        for el in ctx.find_all(True):
            kind = local(el.name)
            if kind == "startdate":
                start = el.get_text(strip=True)[:10]
            elif kind in ("enddate", "instant"):
                end = el.get_text(strip=True)[:10]
            elif kind in ("explicitmember", "typedmember"):
                dims.append(f"{el.get('dimension', '')}={' '.join(el.get_text(' ').split())}")
        out[str(ctx["id"])] = Context(start, end, tuple(sorted(dims)))
    return out


def units(soup: Any) -> dict[str, str]:
    """unit id -> "USD", "shares", "USD/shares", "pure" (the measures' local names)."""
    out: dict[str, str] = {}
    for unit in soup.find_all(lambda t: local(t.name) == "unit" and t.get("id")):
        num = unit.find(lambda t: local(t.name) == "unitnumerator")
        den = unit.find(lambda t: local(t.name) == "unitdenominator")

        def measure(el: Any) -> str:
            m = el.find(lambda t: local(t.name) == "measure") if el is not None else None
            return m.get_text(strip=True).rsplit(":", 1)[-1] if m is not None else ""

        if num is not None and den is not None:
            out[str(unit["id"])] = f"{measure(num)}/{measure(den)}"
        else:
            m = unit.find(lambda t: local(t.name) == "measure")
            out[str(unit["id"])] = m.get_text(strip=True).rsplit(":", 1)[-1] if m is not None else ""
    return out


def fact_value(shown: str, fmt: str, scale: str | None, sign: str | None) -> float | None:
    """The quantity an ``ix:nonFraction`` states, or None when its text is no number in its format."""
    text = " ".join(shown.split())
    fmt = local(fmt)
    if any(z in fmt for z in _ZERO_FORMATS) or text.lower() in _WORD_ZERO:
        number = 0.0
    else:
        m = _NUMBER.search(text)
        if m is None:
            return None
        digits = m[0].replace("\u00a0", "").replace(" ", "").replace("'", "")
        if "comma-decimal" in fmt or "numcommadecimal" in fmt:  # 1.234,5
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
        try:
            number = float(digits.rstrip("."))
        except ValueError:
            return None
    try:
        number *= 10 ** int(scale or 0)
    except ValueError:
        return None
    return -number if sign == "-" else number


def read_fact(el: Any, ctxs: dict[str, Context], unit_names: dict[str, str]) -> XbrlFact | None:
    """The fact an ``ix:nonFraction`` element tags (its span left for the caller), or None without a context."""
    ctx = ctxs.get(str(el.get("contextref", "")))
    if ctx is None:
        return None
    shown = " ".join(el.get_text(" ").split())
    nil = str(el.get("xsi:nil", "")).lower() == "true"
    value = None if nil else fact_value(shown, str(el.get("format", "")), el.get("scale"), el.get("sign"))
    decimals = el.get("decimals")
    try:
        dec = None if decimals in (None, "INF") else int(str(decimals))
    except ValueError:
        dec = None
    return XbrlFact(concept=str(el.get("name", "")), value=value, shown=shown,
                    unit=unit_names.get(str(el.get("unitref", "")), ""), start=ctx.start, end=ctx.end,
                    dims=ctx.dims, decimals=dec)


def fact_elements(root: Any) -> list[Any]:
    return root.find_all(lambda t: local(t.name) == "nonfraction" and ":" in (t.name or ""))


def _date(text: str) -> str:
    """"2022-09-24", "24 September 2022" or "September 24, 2022" as an ISO date, or ""."""
    if found := parse_iso_or_long(text):
        return found
    m = MONTH_DAY_YEAR.search(text)
    d = month_day_year(m) if m else None
    return d.isoformat() if d else ""


def cover_facts(soup: Any) -> FilingFacts:
    """What the filing's ``dei:`` cover facts state ("" / None / () where they are absent)."""
    dei: dict[str, list[str]] = {}
    for el in soup.find_all(lambda t: local(t.name) == "nonnumeric" and str(t.get("name", "")).startswith("dei:")):
        dei.setdefault(str(el["name"])[4:], []).append(" ".join(el.get_text(" ").split()))

    def one(key: str) -> str:
        return next((v for v in dei.get(key, []) if v), "")

    year = one("DocumentFiscalYearFocus")
    period_end = _date(one("DocumentPeriodEndDate"))
    focus = _PERIOD_FOCUS.get(one("DocumentFiscalPeriodFocus").upper(), "")
    form = one("DocumentType").upper().replace("FORM ", "")
    tickers = tuple(dict.fromkeys(t.upper() for t in dei.get("TradingSymbol", []) if re.fullmatch(r"[A-Za-z.\-]{1,6}", t)))
    cik = re.sub(r"\D", "", one("EntityCentralIndexKey"))
    return FilingFacts(
        company=one("EntityRegistrantName"), tickers=tickers, cik=cik, form=form,
        fiscal_year=int(year) if year.isdigit() else None, period_end=period_end,
        period_type=focus if form not in ("8-K", "6-K") else "",
    )
