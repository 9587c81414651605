"""Find the quantities written in English or Chinese text (money, percentages, counts, codes) and compare them."""

from __future__ import annotations

import math
import re
from typing import Final

from rag.types import Figure, FigureUnit

__all__ = ["CURRENCIES", "find_quantity", "format_quantity", "parse_figures", "same_quantity"]

CURRENCIES: Final[frozenset[str]] = frozenset({"CNY", "USD", "HKD", "EUR"})

# One character in, one character out, so a span found in the normalised text is the same span of the original.
_NORMAL_CHAR: Final[dict[str, str]] = {
    **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width digits
    "\uff0e": ".",
    "\uff05": "%",
    "\uff04": "$",
    "\uffe5": "¥",
    "\uff08": "(",
    "\uff09": ")",
    "\uff1a": ":",
    "\uff0b": "+",
    "\u2212": "-",  # minus sign
    "\uff0d": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u3000": " ",
}
# Substituting only the characters that need it: str.translate costs ~50 µs per 1,000 Chinese characters.
_TO_NORMALISE: Final = re.compile("[" + "".join(map(re.escape, _NORMAL_CHAR)) + "]")


# Not glued to an identifier: "PD-1", "LT-101", "CD19", "FY2025", "CLDN18.2", "12/31" never start a figure.
_LB = r"(?<![A-Za-z0-9_\-./])"
_MONTH = (
    r"(?<![A-Za-z])(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
)
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?(?![0-9])"
_YEAR = r"(?:19|20)[0-9]{2}(?![0-9])"
_CUR_PREFIX = r"US[ ]?\$|HK[ ]?\$|\$|USD|HKD|R[Mm][Bb]|CNY|EUR|€|¥|人民币|港币"
_NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"

# One left-to-right scan. At each position the first alternative that matches wins, so dates, labels and list
# markers are consumed before their digits could be read as figures. (VERBOSE: a literal space is written "[ ]".)
_SCAN: Final = re.compile(
    rf"""
    (?=[0-9(+\-$€¥人港第代股基证]|(?<![A-Za-z])[A-Za-z])   # a cheap first-character test: digit or word start
    (?:
    (?P<skip>
        {_LB}(?:19|20)[0-9]{{2}}[ ]?年(?:[ ]?[0-9]{{1,2}}[ ]?月(?:[ ]?[0-9]{{1,2}}[ ]?[日号])?)?   # 2025年12月31日
      | {_LB}[0-9]{{1,2}}[ ]?月(?:[ ]?[0-9]{{1,2}}[ ]?[日号])?                                   # 12月31日
      | {_LB}[0-9]{{1,2}}[ ]?[日号](?![0-9])                                                    # 31日
      | {_LB}[0-9][ ]?季度                                                                       # 3季度
      | {_LB}(?:19|20)[0-9]{{2}}(?P<dsep>[-/.])(?:0?[1-9]|1[0-2])(?P=dsep)(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])
      | {_LB}(?:19|20)[0-9]{{2}}[-/](?:0?[1-9]|1[0-2])(?![0-9])                                 # 2025-08
      | {_LB}[0-9]{{1,2}}/[0-9]{{1,2}}/(?:19|20)?[0-9]{{2}}(?![0-9])                            # 1/13/2026
      | {_MONTH}[ \t]{{1,3}}{_DAY}(?:[ \t]*(?:-|–|—|~|to|and|through)[ \t]*{_DAY})?(?:,?[ \t]+{_YEAR})?  # January 12 to 15
      | {_LB}{_DAY}(?:[ \t]*(?:-|–|—|to)[ \t]*{_DAY})?[ \t]+(?:of[ \t]+)?{_MONTH}(?:,?[ \t]+{_YEAR})?  # 31 December 2025
      | {_LB}[0-9]{{1,2}}:[0-9]{{2}}(?![0-9])                                                   # 10:30
      | {_LB}[0-9]{{1,2}}[ ]?时(?:[ ]?[0-9]{{1,2}}[ ]?分)?                                         # 22时24分
      | (?<![A-Za-z])(?i:phase|stage|grade|type|class|part|section|chapter|article|note|page|item|figure|fig\.|table|no\.)
        [ ]?\#?[0-9]+(?:[ ]of[ ][0-9]+)?                                                        # Phase 3, page 1 of 3
      | 第[ ]?[0-9]+
      | (?<=[A-Za-z)])\([0-9]{{1,2}}\)                                                        # footnote "rate(2)(3)"
      | (?<=(?:19|20)[0-9]{{2}}[ ])\([0-9]{{1,2}}\)(?![0-9])                                    # footnote "2019 (1)"
      | (?:^|(?<=[.!?:;。！？；\n])|(?<=[.!?:;。！？；\n][ \t])|(?<=[.!?:;。！？；\n][ \t]{{2}}))
        \(?[0-9]{{1,2}}[.)、](?=[ \t]*[A-Za-z\u4e00-\u9fff])                                      # list item "1. "
    )
  | (?P<code>
        (?<![A-Za-z])
        (?:(?i:code|ticker)
           |Class[ ][A-Z]|HKEX|SEHK|SSE|SZSE|BSE|NASDAQ|NYSE|(?:股票|基金|证券)?代码)
        [ ]?(?::|：|为|是)?[ ]?(?P<codenum>[0-9]{{1,6}})(?![0-9])
    )
  | (?P<fig>
        {_LB}
        (?:(?P<sign0>[-+])?(?P<cur>{_CUR_PREFIX})[ ]?|(?P<paren>\())?
        (?P<sign>[-+])?
        (?P<num>{_NUMBER})
    )
    )
    """,
    re.VERBOSE | re.MULTILINE,
)

# What follows a number and gives it its unit or scale; the first branch that matches wins.
_SUFFIX: Final = re.compile(
    r"""
      [ ]?(?P<pct>%|percent|per[ ]cent)(?![a-z])
    | (?P<exch>\.(?-i:SH|SZ|SS|HK|BJ))(?![a-z])                               # 600276.SH
    | \s?(?=[万千百十亿元人美港欧笔家项款只名位例次件条种座所个])                # a line wrap may split "519\n亿美元"
      (?P<cnscale>万亿|千亿|百亿|十亿|亿|千万|百万|十万|万)?
      (?:(?P<cncur>元人民币|人民币|美元|港元|港币|欧元|元)|(?P<counter>[笔家项款只名位例人次件条种座所]|个(?!百分点)))?
    | (?:\s(?P<word>trillion|billion|million|thousand|trn|tn|bn|mln|mn)|(?P<short>trillion|billion|million|thousand
                                                                          |trn|tn|bn|mln|mn|k|m|b))(?![a-z])
      (?:\s(?P<wcur>yuan|renminbi|RMB|CNY|US[ ]dollars|dollars|USD|HK[ ]dollars|Hong[ ]Kong[ ]dollars|HKD|euros?|EUR)
         (?![a-z]))?
    | [ ](?P<ecur>yuan|renminbi|US[ ]dollars|dollars|HK[ ]dollars|Hong[ ]Kong[ ]dollars|euros?)(?![a-z])  # "5 yuan"
    """,
    re.VERBOSE | re.IGNORECASE,
)
# "$4-5 billion", "10-15%", "3至5亿元": the first number of a range takes the unit and scale of the second.
_RANGE: Final = re.compile(rf"(?:[ ]?[-–—~至到][ ]?|[ ]to[ ])(?P<cur>{_CUR_PREFIX})?[ ]?(?P<num>{_NUMBER})")
_DIGIT: Final = re.compile(r"[0-9]")
_REACH: Final = 16  # the most text any _SCAN alternative holds before its first digit ("September.   12")
_GLUED: Final = re.compile(r"[A-Za-z0-9_]")

_PREFIX_UNIT: Final[dict[str, FigureUnit]] = {
    "US$": "USD", "$": "USD", "USD": "USD", "HK$": "HKD", "HKD": "HKD", "港币": "HKD",
    "RMB": "CNY", "CNY": "CNY", "¥": "CNY", "人民币": "CNY", "EUR": "EUR", "€": "EUR",
}
_CN_UNIT: Final[dict[str, FigureUnit]] = {
    "元": "CNY", "元人民币": "CNY", "人民币": "CNY", "美元": "USD", "港元": "HKD", "港币": "HKD", "欧元": "EUR",
}
_EN_UNIT: Final[dict[str, FigureUnit]] = {
    "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY", "cny": "CNY", "us dollars": "USD", "dollars": "USD",
    "usd": "USD", "hk dollars": "HKD", "hong kong dollars": "HKD", "hkd": "HKD", "euro": "EUR", "euros": "EUR",
    "eur": "EUR",
}
_CN_SCALE: Final[dict[str, float]] = {
    "万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "十亿": 1e9, "亿": 1e8, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4,
}
_EN_SCALE_VALUE: Final[dict[str, float]] = {
    "trillion": 1e12, "trn": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mln": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3,
}
# Words too ambiguous to scale a number unless a currency precedes it ("5 m" may be metres, "3 k" anything).
_EN_SCALE_NEEDS_CURRENCY: Final = frozenset({"thousand", "k", "m", "mn", "mln", "b"})


def parse_figures(text: str) -> list[Figure]:
    """Every quantity written in ``text``, in order of appearance.

    Money carries its currency and scale ("$650 million", "454.56亿元"), percentages the unit "%", counts
    ("94 deals", "130家") and other integers the unit "count", a bare decimal ("0.31") the unit "", and fund or
    stock codes ("Code: 159567", "600276.SH", "023929") the unit "code". Years, dates, ordinals, list markers and
    numbers inside identifiers ("PD-1", "KRAS G12D", "44th") are not figures. A table negative "(1,120.3)" has a
    negative value. ``text[f.start:f.end] == f.text`` for every figure returned.
    """
    s = _TO_NORMALISE.sub(lambda c: _NORMAL_CHAR[c.group()], text)
    out: list[Figure] = []
    pos = 0
    while True:
        # Every figure, date or label holds a digit, so trying _SCAN at each position of digit-free prose is waste.
        digit = _DIGIT.search(s, pos)
        if digit is None:
            return out
        m = _SCAN.search(s, max(pos, digit.start() - _REACH))
        if m is None:
            return out
        pos = m.end()
        kind = m.lastgroup
        if kind == "code":
            a, b = m.span("codenum")
            out.append(Figure(text[a:b], float(m.group("codenum")), "code", 1.0, 0, a, b))
        elif kind == "fig":
            figures, pos = _read_figures(text, s, m)
            out.extend(figures)


def _read_figures(text: str, s: str, m: re.Match[str]) -> tuple[list[Figure], int]:
    """Turn a number the scan found (and the second number of a range) into Figures; also say where to scan on."""
    num = m.group("num")
    start, end = m.start(), m.end("num")
    unit = _prefix_unit(m.group("cur"))
    negative = "-" in (m.group("sign0") or "") + (m.group("sign") or "")
    scale, mark, paren_negative = 1.0, "", False
    if m.group("paren"):
        if s.startswith(")", end):
            paren_negative, end = True, end + 1
        else:  # "(157 deals)" or "(40.1%)": the bracket opens a remark, it is not a sign
            start += 1
    if not paren_negative:
        end, unit, scale, mark = _read_suffix(s, end, unit, num)
    second: Figure | None = None
    pos = end
    # A year never opens a range: in "in 2024 to RMB 2,356.8 million", 2024 must not become RMB 2,024 million.
    year_like = unit is None and len(num) == 4 and num.isdigit() and 1900 <= int(num) <= 2100
    if not (paren_negative or year_like or mark) and scale == 1.0 and (r := _RANGE.match(s, end)):
        unit2 = _prefix_unit(r.group("cur")) or unit
        end2, unit2, scale2, mark2 = _read_suffix(s, r.end("num"), unit2, r.group("num"))
        if mark2 != "code" and not _GLUED.match(s, end2):
            unit, scale, mark = unit or unit2, scale2, mark2
            start2 = r.start("cur") if r.group("cur") else r.start("num")
            second = _figure(text, r.group("num"), start2, end2, unit2, scale2, mark2)
            pos = end2
    if _GLUED.match(s, end):
        return [], m.end("num")  # "44th", "2025H1", "5mg": part of a word
    first = _figure(text, num, start, end, unit, scale, mark, negative=negative, paren_negative=paren_negative)
    return [f for f in (first, second) if f is not None], pos


def _prefix_unit(cur: str | None) -> FigureUnit | None:
    if not cur:
        return None
    return _PREFIX_UNIT[cur.replace(" ", "").upper() if cur.isascii() else cur]


def _read_suffix(s: str, end: int, unit: FigureUnit | None, num: str) -> tuple[int, FigureUnit | None, float, str]:
    """Read the words after a number: (new end, unit, scale, mark), mark being "%", "code", "count" or ""."""
    sm = _SUFFIX.match(s, end)
    if sm is None:
        return end, unit, 1.0, ""
    if sm["pct"]:
        return sm.end(), unit, 1.0, "%"
    if sm["exch"]:
        return (sm.end(), unit, 1.0, "code") if unit is None and "." not in num else (end, unit, 1.0, "")
    if sm["cnscale"] or sm["cncur"] or sm["counter"]:
        if sm["cncur"] and unit is None:  # a prefix wins: "港币3.2亿元" is HKD
            unit = _CN_UNIT[sm["cncur"]]
        scale = _CN_SCALE[sm["cnscale"]] if sm["cnscale"] else 1.0
        return sm.end(), unit, scale, "count" if sm["counter"] else ""
    if word := sm["word"] or sm["short"]:
        if unit is None and word.lower() in _EN_SCALE_NEEDS_CURRENCY:
            return end, unit, 1.0, ""
        scale = _EN_SCALE_VALUE[word.lower()]
        if sm["wcur"] and unit is None:  # "45 billion yuan"
            return sm.end(), _EN_UNIT[sm["wcur"].lower()], scale, ""
        return sm.end("word" if sm["word"] else "short"), unit, scale, ""
    if sm["ecur"] and unit is None:
        # only currency words: after a bare number "RMB" is a table header ("2025 RMB million"), not a unit
        return sm.end(), _EN_UNIT[sm["ecur"].lower()], 1.0, ""
    return end, unit, 1.0, ""


def _figure(
    text: str,
    num: str,
    start: int,
    end: int,
    unit: FigureUnit | None,
    scale: float,
    mark: str,
    *,
    negative: bool = False,
    paren_negative: bool = False,
) -> Figure | None:
    """Classify a read number; None for a year or a number too large for a float."""
    if unit is None and not mark and scale == 1.0 and not negative and "," not in num and "." not in num:
        if len(num) == 4 and 1900 <= int(num) <= 2100:
            return None  # a year
        if len(num) == 6 and num.startswith("0") and not paren_negative:
            mark = "code"  # "023929": a fund code
    decimals = len(num.partition(".")[2])
    value = float(num.replace(",", ""))
    if not math.isfinite(value * scale):
        return None  # hundreds of digits: an identifier or junk, not a quantity a float can hold
    if negative or paren_negative:
        value = -value
    final: FigureUnit
    if mark == "code":
        final = "code"
    elif mark == "%":
        final = "%"
    elif unit is not None:
        final = unit
    elif mark == "count" or scale != 1.0 or decimals == 0:
        final = "count"
    else:
        final = ""
    return Figure(text[start:end], value, final, scale, decimals, start, end)


def same_quantity(a: Figure, b: Figure, *, rel_tol: float = 0.005) -> bool:
    """Whether two figures state the same quantity, in whatever form each is written.

    Units must agree: two currencies must be the same currency, "%" matches only "%", a code matches only the
    same code; "count", "" and a currency are compatible with each other (a table cell carries no currency).
    Quantities must agree within the precision of the less precise figure: half a unit in its last written
    decimal place times its scale ("$1.5bn" covers 1.45-1.55 billion), or ``rel_tol`` of the larger quantity.

    Raises:
        ValueError: if ``rel_tol`` is negative.
    """
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be zero or positive, got {rel_tol}.")
    if a.unit == "code" or b.unit == "code":
        return a.unit == b.unit and a.value == b.value
    if a.unit == "%" or b.unit == "%":
        if a.unit != b.unit:
            return False
    elif a.unit in CURRENCIES and b.unit in CURRENCIES and a.unit != b.unit:
        return False
    qa, qb = a.quantity, b.quantity
    half_unit = max(0.5 * 10.0**-a.decimals * a.scale, 0.5 * 10.0**-b.decimals * b.scale)
    tolerance = max(rel_tol * max(abs(qa), abs(qb)), half_unit)
    return abs(qa - qb) <= tolerance * (1 + 1e-9)  # 1e-9: "1.45" vs "1.5" sits exactly on the boundary


def find_quantity(figure: Figure, text: str) -> Figure | None:
    """The first figure written in ``text`` that states the same quantity as ``figure`` (None if there is none)."""
    for candidate in parse_figures(text):
        if same_quantity(figure, candidate):
            return candidate
    return None


_EN_PREFIX: Final[dict[str, str]] = {"USD": "$", "CNY": "RMB ", "HKD": "HK$", "EUR": "€"}
_CN_SUFFIX_OUT: Final[dict[str, str]] = {"USD": "美元", "CNY": "元", "HKD": "港元", "EUR": "欧元"}
_EN_WORDS: Final[dict[float, str]] = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
_CN_WORDS: Final[dict[float, str]] = {1e4: "万", 1e8: "亿"}


def format_quantity(value: float, unit: str, scale_hint: float = 1.0) -> str:
    """A readable rendering of a derived quantity that ``parse_figures`` reads back as the same quantity.

    Up to 3 decimals, trailing zeros stripped. For "%" ``value`` is already in percent (70.71 -> "70.71%").
    Money is put in millions, billions or trillions once it reaches a million ("$83.755 billion",
    "RMB 45.456 billion"); counts are written in full with thousands separators ("2,025", so never a year).

    Args:
        value: the quantity (value times scale), e.g. 83.755e9.
        unit: one of "CNY", "USD", "HKD", "EUR", "%", "count", "code" or "".
        scale_hint: 1.0 to choose the scale word automatically; 1e3/1e6/1e9/1e12 to write the number in
            thousands/millions/billions/trillions (thousands only for money); 1e4/1e8 to write it the Chinese
            way (万/亿, "454.56亿元").

    Raises:
        ValueError: for an unknown unit or scale_hint, or a value that is not finite.
    """
    if unit not in CURRENCIES and unit not in ("%", "count", "code", ""):
        raise ValueError(f"unit must be one of CNY, USD, HKD, EUR, %, count, code or '', got {unit!r}.")
    if scale_hint != 1.0 and scale_hint not in _EN_WORDS and scale_hint not in _CN_WORDS:
        raise ValueError(f"scale_hint must be 1, 1e3, 1e4, 1e6, 1e8, 1e9 or 1e12, got {scale_hint!r}.")
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}.")
    if unit == "code":
        return str(int(value))
    if unit == "%":
        return f"{_number(value)}%"
    if scale_hint in _CN_WORDS:
        number = _number(value / scale_hint, grouping=False)  # Chinese figures carry no thousands separators
        return f"{number}{_CN_WORDS[scale_hint]}{_CN_SUFFIX_OUT.get(unit, '')}"
    # "thousand" scales a number only after a currency, so a count in thousands is written in full
    scale = 1.0 if scale_hint == 1e3 and unit not in CURRENCIES else scale_hint
    if scale == 1.0 and unit in CURRENCIES:
        scale = next((s for s in (1e12, 1e9, 1e6) if abs(value) >= s), 1.0)
    number = _number(abs(value) / scale)
    sign = "-" if value < 0 and number != "0" else ""
    words = f" {_EN_WORDS[scale]}" if scale != 1.0 else ""
    return f"{sign}{_EN_PREFIX.get(unit, '')}{number}{words}"


def _number(x: float, *, grouping: bool = True) -> str:
    """At most 3 decimals, thousands separators (unless not wanted), no trailing zeros, no "-0"."""
    s = (f"{x:,.3f}" if grouping else f"{x:.3f}").rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s
