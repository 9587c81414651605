"""A small Chinese-English glossary of sector terms, so that a question in one language finds words of the other.

all-MiniLM-L6-v2 is English-only and keyword search matches words, so "首付款" must also look for "upfront".
"""

from __future__ import annotations

from functools import lru_cache

from rag.text import search_tokens

# (Chinese, English): each side as it is usually written; both are tokenised the way search tokens are.
PAIRS: tuple[tuple[str, str], ...] = (
    ("对外授权", "license-out out-licensing licensing"),
    ("授权", "license licensing"),
    ("许可", "license licensing"),
    ("交易", "deal deals transaction"),
    ("首付款", "upfront"),
    ("首付", "upfront"),
    ("里程碑", "milestone"),
    ("总额", "total value"),
    ("总金额", "total value"),
    ("金额", "value amount"),
    ("营业收入", "revenue"),
    ("营收", "revenue"),
    ("收入", "revenue income"),
    ("净利润", "net profit"),
    ("归母净利润", "net profit attributable shareholders"),
    ("利润", "profit"),
    ("亏损", "loss"),
    ("同比", "year-on-year"),
    ("增长", "growth increase"),
    ("研发", "r&d research development"),
    ("投入", "expenses investment"),
    ("费用", "expenses costs"),
    ("现金", "cash"),
    ("创新药", "innovative drug"),
    ("药企", "drugmakers pharmaceutical companies"),
    ("药", "drug"),
    ("医药", "pharmaceutical"),
    ("生物医药", "biopharmaceutical biotechnology"),
    ("公司", "company companies"),
    ("企业", "companies company"),
    ("中国", "china chinese domestic"),
    ("国内", "domestic"),
    ("双抗", "bispecific"),
    ("双特异性抗体", "bispecific antibody"),
    ("抗体", "antibody"),
    ("大会", "conference"),
    ("会议", "conference"),
    ("摩根大通", "j.p. morgan"),
    ("医疗健康", "healthcare"),
    ("主论坛", "main forum"),
    ("演讲", "presenting"),
    ("亚太", "asia-pacific"),
    ("港股", "hong kong"),
    ("业绩预告", "earnings forecast pre-announcement"),
    ("业绩", "earnings"),
    ("预计", "forecast forecasting"),
    ("预告", "forecast pre-announcement"),
    ("代码", "code"),
    ("基金", "fund"),
    ("联接基金", "feeder funds"),
    ("上市公司", "listed companies"),
    ("管线", "pipeline"),
    ("临床", "clinical"),
    ("销售", "sales"),
    ("产品", "product"),
)


@lru_cache(maxsize=1)
def _table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for zh, en in PAIRS:
        zh_tokens = search_tokens(zh)
        en_tokens = search_tokens(en)
        for t in zh_tokens:
            table.setdefault(t, set()).update(en_tokens)
        for t in en_tokens:
            table.setdefault(t, set()).update(zh_tokens)
    return {k: frozenset(v) for k, v in table.items()}


def alternatives(token: str) -> frozenset[str]:
    """The token and its translations in the glossary."""
    return frozenset({token}) | _table().get(token, frozenset())
