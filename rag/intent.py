"""Pieces of reading a question that rag.query builds on: years, dates, Chinese company stems, quantity words, filters."""

from __future__ import annotations

import re
from rag import filters
from rag.companies import ZH_SUFFIX
from rag.types import Filters

_DATE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}\b|"
    r"\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"\d{1,2}月\d{1,2}日"
)
_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d{2})(?![\d%]|[.,]\d)")
_ZH_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
# Words of company names that name no company by themselves ("Junshi Biosciences", "君实生物").
_CORPORATE_WORDS = frozenset(
    "biosciences bioscience biologics biotech biotechnology bio pharma pharmaceutical pharmaceuticals biopharm "
    "biopharmaceutical medicines medicine medical lab labs group holdings therapeutics oncology "
    "生物 医药 药业 制药 集团 控股 股份 科技 中国 生物制药 生物医药".split()
)
# A Chinese company name as questions write it: a stem and a sector or corporate suffix (君实生物, 恒瑞医药,
# 台积电集团). The last two characters of the stem are what passages are searched for: passages drop the suffix as
# often as not ("恒瑞2023年收入"), and where a longer name starts is not written ("请问恒瑞医药", "查一下谷歌控股").
# The suffixes are rag.companies.ZH_SUFFIX.
# Stems that make such a phrase generic ("中国生物医药", "国内医药", "创新药业") rather than a company's name.
_ZH_GENERIC_STEMS = frozenset(
    "中国 国内 国产 国际 全球 海外 本土 境内 境外 创新 这些 这家 那些 那家 其他 其它 各家 每家 主要 头部 "
    "龙头 大型 中型 小型 相关 上市 港股 美股 生物 医药 医疗 化学 中药 药企 新药 传统 领先 知名 一家 两家 几家 多家 公司 "
    "企业 行业 板块 整体 平均 医保 药品 制药 药业 集团 控股 科技 合成 基因 细胞 疫苗 器械 研发 外资 民营 国有 央企".split()
)
# Characters that are never part of such a stem: particles, question words, date and count words.
_ZH_STEM_BREAK = re.compile(r"[的了是在和与及家个等为对向年月日有多少哪些什么么吗呢问请于关从把被将让给跟同]")


def chinese_companies(question: str) -> list[str]:
    """Chinese company names a question asks about, as two-character stems ("君实生物2022年..." -> ["君实"])."""
    names = []
    for m in ZH_SUFFIX.finditer(question):
        stem = question[max(0, m.start() - 2) : m.start()]
        if (len(stem) == 2 and all("\u4e00" <= ch <= "\u9fff" for ch in stem) and not _ZH_STEM_BREAK.search(stem)
                and stem not in _ZH_GENERIC_STEMS):
            names.append(stem)
    return list(dict.fromkeys(names))


_CURRENCY_WORDS = re.compile(
    r"how much|worth|value|valued|revenue|revenues|sales|profit|loss|income|upfront|milestone|payment|payments|"
    r"cash|expense|expenses|cost|costs|price|funding|raised|金额|收入|营收|利润|亏损|首付款|里程碑|总额|价值|多少钱|费用|现金",
    re.IGNORECASE,
)
_COUNT_WORDS = re.compile(r"how many|number of|count|多少笔|多少家|几家|几笔|多少个|数量|多少项", re.IGNORECASE)
_PERCENT_WORDS = re.compile(
    r"percent|percentage|%|growth rate|grew by|increase of|rate|margin|share of|year-on-year|yoy|同比|增长率|增速|占比|百分",
    re.IGNORECASE,
)
_COMPARE_WORDS = re.compile(
    r"\bmore\b|\bless\b|\bfewer\b|difference|differ|compare|compared|\bvs\.?\b|versus|"
    r"\bgrow|\bgrew\b|growth|increase|\brise\b|\brose\b|\bchange|\bdecline|\bfell\b|\bfall\b|"
    r"ratio|times as|\bshare of\b|"
    r"多了|少了|相比|比较|差额|增加了多少|增长了多少|倍|比.{0,12}[多少]",
    re.IGNORECASE,
)
MEASURE_WORDS = re.compile(
    r"(?i)upfront|milestones?|payments?|revenues?|sales|profits?|loss|income|value|costs?|expenses?|cash|growth|"
    r"deals?|number|count|percent(age)?|rate|margin|首付款|里程碑|收入|利润|总额|金额"
)
_FILTER = re.compile(r"\b(type|doc_type|company|ticker|source|from|to|since|until|year):(\"[^\"]+\"|\S+)", re.IGNORECASE)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def date_forms(date: str) -> tuple[str, ...]:
    """A day as the question wrote it and in the other language: "1月12日" <-> "January 12"."""
    m = re.fullmatch(r"(\d{1,2})月(\d{1,2})日", date)
    if m and 1 <= int(m[1]) <= 12:
        return (date, f"{_MONTHS[int(m[1]) - 1]} {int(m[2])}", f"{int(m[2])} {_MONTHS[int(m[1]) - 1]}")
    m = re.fullmatch(r"([A-Za-z]+)\s+(\d{1,2})|(\d{1,2})\s+([A-Za-z]+)", date)
    if m:
        month, day = (m[1], m[2]) if m[1] else (m[4], m[3])
        if month.capitalize() in _MONTHS:
            return (date, f"{_MONTHS.index(month.capitalize()) + 1}月{int(day)}日")
    return (date,)


def split_filters(question: str) -> tuple[str, Filters]:
    """Pull inline filters out of a chat message: ``type:filing company:Hengrui source:x.pdf from:2025-01-01``.

    ``year:2025`` is short for ``from:2025-01-01 to:2025-12-31``; ``since:`` = ``from:``, ``until:`` = ``to:``.
    Dates may be written YYYY, YYYY-MM or YYYY-MM-DD (``to:2025-02`` ends on 2025-02-28).

    Raises:
        FilterError: naming the filter as written (``from:2025-xx``) and the forms it accepts.
    """
    doc_types: list[str] = []
    companies: list[str] = []
    sources: list[str] = []
    date_from = date_to = ""
    for m in _FILTER.finditer(question):
        key, raw, label = m.group(1).lower(), m.group(2), m.group(0)
        # A filter that ends a sentence ("... year:2025?") keeps its punctuation unless it is quoted.
        value = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == '"' else raw.rstrip(_TRAILING).strip('"')
        if key in ("type", "doc_type"):
            doc_types.append(filters.doc_type(value, label=label))
        elif key in ("company", "ticker"):
            companies.append(filters.name(value, label=label, what="a company name or ticker"))
        elif key == "source":
            sources.append(filters.name(value, label=label, what="a document path or file name"))
        elif key in ("from", "since"):
            date_from = filters.date_bound(value, end=False, label=label)
        elif key in ("to", "until"):
            date_to = filters.date_bound(value, end=True, label=label)
        elif key == "year":
            date_from, date_to = filters.year_bounds(value, label=label)
    rest = " ".join(_FILTER.sub(" ", question).split())
    return rest, Filters(tuple(doc_types), tuple(companies), tuple(sources), date_from, date_to)


_TRAILING = ".,;:!?)]}\u3002\uff0c\uff1b\uff1a\uff01\uff1f\uff09"  # ASCII and full-width sentence punctuation
