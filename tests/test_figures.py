"""Figure parsing, comparison and formatting on English and Chinese text (rag/figures.py)."""

from __future__ import annotations

import random

import pytest

from rag.figures import find_quantity, format_quantity, parse_figures, same_quantity
from rag.tables import figures_in
from rag.types import Figure


def one(text: str) -> Figure:
    figures = parse_figures(text)
    assert len(figures) == 1, figures
    return figures[0]


def expected(
    text: str, written: str, value: float, unit: str, scale: float = 1.0, decimals: int = 0, *, after: str = ""
) -> Figure:
    """The Figure for the first ``written`` in ``text`` (the first one after ``after`` when given)."""
    start = text.index(written, text.index(after) if after else 0)
    return Figure(written, value, unit, scale, decimals, start, start + len(written))  # type: ignore[arg-type]


# (text, the figure as written, value, unit, scale, decimals)
SINGLE = [
    # English money
    ("1,496.5", "1,496.5", 1496.5, "", 1.0, 1),
    ("a $650 million upfront payment", "$650 million", 650, "USD", 1e6, 0),
    ("US$0.65bn", "US$0.65bn", 0.65, "USD", 1e9, 2),
    ("up to US$1.15 billion in milestones", "US$1.15 billion", 1.15, "USD", 1e9, 2),
    ("USD 2 bn", "USD 2 bn", 2, "USD", 1e9, 0),
    ("US $2 billion", "US $2 billion", 2, "USD", 1e9, 0),
    ("HK $8", "HK $8", 8, "HKD", 1.0, 0),
    ("revenue of approximately RMB 45.456 billion,", "RMB 45.456 billion", 45.456, "CNY", 1e9, 3),
    ("Revenue for 2025 was RMB 2,356.8 million.", "RMB 2,356.8 million", 2356.8, "CNY", 1e6, 1),
    ("HK$3.2 billion", "HK$3.2 billion", 3.2, "HKD", 1e9, 1),
    ("HKD 3.2 billion", "HKD 3.2 billion", 3.2, "HKD", 1e9, 1),
    ("a €5m grant", "€5m", 5, "EUR", 1e6, 0),
    ("¥12.5 per share", "¥12.5", 12.5, "CNY", 1.0, 1),
    ("CNY 300 million", "CNY 300 million", 300, "CNY", 1e6, 0),
    ("45 billion yuan", "45 billion yuan", 45, "CNY", 1e9, 0),
    ("$7 billion", "$7 billion", 7, "USD", 1e9, 0),
    ("$135.655 billion", "$135.655 billion", 135.655, "USD", 1e9, 3),
    ("$4.95 billion", "$4.95 billion", 4.95, "USD", 1e9, 2),
    ("US$200 million", "US$200 million", 200, "USD", 1e6, 0),
    ("$1.2 trillion", "$1.2 trillion", 1.2, "USD", 1e12, 1),
    ("US$3 tn", "US$3 tn", 3, "USD", 1e12, 0),
    ("$5k", "$5k", 5, "USD", 1e3, 0),
    ("€250 thousand", "€250 thousand", 250, "EUR", 1e3, 0),
    ("$3mn", "$3mn", 3, "USD", 1e6, 0),
    ("-$5 million", "-$5 million", -5, "USD", 1e6, 0),
    ("1.2 billion doses", "1.2 billion", 1.2, "count", 1e9, 1),
    # "thousand", "k", "m", "mn" scale a number only after a currency
    ("5 thousand patients", "5", 5, "count", 1.0, 0),
    ("12 m away", "12", 12, "count", 1.0, 0),
    # percentages
    ("102.65%", "102.65%", 102.65, "%", 1.0, 2),
    ("-14.76%", "-14.76%", -14.76, "%", 1.0, 2),
    ("a year-on-year increase of 15.84%", "15.84%", 15.84, "%", 1.0, 2),
    ("up 10 percent", "10 percent", 10, "%", 1.0, 0),
    # table negatives and a Unicode minus
    ("(370)", "(370)", -370, "count", 1.0, 0),
    ("Research and development expenses\n(1,120.3)", "(1,120.3)", -1120.3, "", 1.0, 1),
    ("(0.31)", "(0.31)", -0.31, "", 1.0, 2),
    ("−6.1", "−6.1", -6.1, "", 1.0, 1),
    # brackets that open a remark are not a sign
    ("(157 deals)", "157", 157, "count", 1.0, 0),
    ("(US$200 million)", "US$200 million", 200, "USD", 1e6, 0),
    ("(40.1%)", "40.1%", 40.1, "%", 1.0, 1),
    # counts and bare numbers
    ("concluded 94 license-out deals", "94", 94, "count", 1.0, 0),
    ("rising to 157 deals", "157", 157, "count", 1.0, 0),
    ("including 7 presenting in the main forum", "7", 7, "count", 1.0, 0),
    ("0.31", "0.31", 0.31, "", 1.0, 2),
    # Chinese
    ("454.56亿元", "454.56亿元", 454.56, "CNY", 1e8, 2),
    ("1356.55亿美元", "1356.55亿美元", 1356.55, "USD", 1e8, 2),
    ("交易总额达519亿美元，", "519亿美元", 519, "USD", 1e8, 0),
    ("营业收入23.57亿元", "23.57亿元", 23.57, "CNY", 1e8, 2),
    ("研发投入11.20亿元", "11.20亿元", 11.2, "CNY", 1e8, 2),
    ("3.2亿港元", "3.2亿港元", 3.2, "HKD", 1e8, 1),
    ("5000万元", "5000万元", 5000, "CNY", 1e4, 0),
    ("1.2万亿元", "1.2万亿元", 1.2, "CNY", 1e12, 1),
    ("收入人民币45.456亿元", "人民币45.456亿元", 45.456, "CNY", 1e8, 3),
    ("45亿人民币", "45亿人民币", 45, "CNY", 1e8, 0),
    ("同比增长38.2%", "38.2%", 38.2, "%", 1.0, 1),
    ("同比增长３８．２％", "３８．２％", 38.2, "%", 1.0, 1),
    ("营收１２３４万元", "１２３４万元", 1234, "CNY", 1e4, 0),
    ("共157笔", "157笔", 157, "count", 1.0, 0),
    ("约130家", "130家", 130, "count", 1.0, 0),
    ("7家", "7家", 7, "count", 1.0, 0),
    ("70亿美元", "70亿美元", 70, "USD", 1e8, 0),
    ("首付款合计41亿美元。", "41亿美元", 41, "USD", 1e8, 0),
    ("5亿", "5亿", 5, "count", 1e8, 0),
    ("交易总额达519\n亿美元", "519\n亿美元", 519, "USD", 1e8, 0),  # a PDF line wrap between number and unit
    # codes
    ("Innovative Drug ETF (Code: 159992)", "159992", 159992, "code", 1.0, 0),
    ("Stock code: HKEX: 9999 (fictional)", "9999", 9999, "code", 1.0, 0),
    ("SSE: 600276", "600276", 600276, "code", 1.0, 0),
    ("NASDAQ: 1234", "1234", 1234, "code", 1.0, 0),
    ("基金代码：159567", "159567", 159567, "code", 1.0, 0),
    ("600276.SH", "600276.SH", 600276, "code", 1.0, 0),
    ("1801.HK", "1801.HK", 1801, "code", 1.0, 0),
    ("000001", "000001", 1, "code", 1.0, 0),
    ("feeder fund 012781", "012781", 12781, "code", 1.0, 0),
    # year-like numbers that a currency, a scale or a thousands separator make quantities
    ("RMB 2,025 million", "RMB 2,025 million", 2025, "CNY", 1e6, 0),
    ("2025亿元", "2025亿元", 2025, "CNY", 1e8, 0),
    ("2,024 deals", "2,024", 2024, "count", 1.0, 0),
    ("RMB 2025", "RMB 2025", 2025, "CNY", 1.0, 0),
]


@pytest.mark.parametrize(("text", "written", "value", "unit", "scale", "decimals"), SINGLE)
def test_parse_one_figure(text: str, written: str, value: float, unit: str, scale: float, decimals: int) -> None:
    assert parse_figures(text) == [expected(text, written, value, unit, scale, decimals)]


NOT_FIGURES = [
    "2024",
    "in 2025",
    "2025年",
    "FY2025",
    "FY 2025",
    "2025-08-19",
    "Published 2026-03-20",
    "January 12",
    "On the evening of January 12, a leading company",
    "from January 12 to 15.",
    "31 December 2025",
    "as at 31 December 2025.",
    "12月31日",
    "截至2025年12月31日，",
    "2026/1/13",
    "1/13/2026",
    "Q3 2025",
    "2025H1",
    "2024-2025",
    "10:30",
    "The 44th J.P. Morgan Healthcare Conference",
    "1. Catalysts from Major Collaboration Events",
    "market confidence. 2. Catalysts from Industry Conferences",
    "(1) Revenue",
    "1、营业收入",
    "Phase III",
    "Phase 3",
    "PD-1",
    "PD-1/VEGF bispecific antibody",
    "LT-101",
    "KRAS G12D",
    "CD19",
    "HER2",
    "CLDN18.2",
    "COVID-19",
    "A-share",
    "page 1 of 3",
    "第44届",
    "5mg",
    "3Q25",
    "2025 (RMB million)",
]


@pytest.mark.parametrize("text", NOT_FIGURES)
def test_not_figures(text: str) -> None:
    assert parse_figures(text) == []


def test_fund_codes_sentence() -> None:
    text = "Hong Kong Innovative Drug ETF (Code: 159567) and its feeder funds (Class A: 023929; Class C: 023930)"
    assert parse_figures(text) == [
        expected(text, "159567", 159567, "code"),
        expected(text, "023929", 23929, "code"),
        expected(text, "023930", 23930, "code"),
    ]


def test_identifiers_around_a_figure() -> None:
    text = "LT-101, a PD-1/VEGF bispecific antibody, was out-licensed in September 2025 for US$200 million."
    assert parse_figures(text) == [expected(text, "US$200 million", 200, "USD", 1e6)]
    text = "At year end the Group had 14 clinical-stage programmes, 5 of them in Phase III."
    assert parse_figures(text) == [expected(text, "14", 14, "count"), expected(text, "5", 5, "count")]


def test_conference_sentence() -> None:
    text = (
        "The 44th J.P. Morgan Healthcare Conference was held in the United States from January 12 to 15. "
        "Several Chinese innovative drug companies participated, including 7 presenting in the main forum and "
        "17 exhibiting in the Asia-Pacific segment."
    )
    assert parse_figures(text) == [expected(text, "7", 7, "count"), expected(text, "17", 17, "count")]


def test_ranges_share_the_unit_and_scale_of_their_second_number() -> None:
    text = "guidance of US$4-5 billion, margins of 10-15%, 3至5亿元, and 12-15 patients"
    assert parse_figures(text) == [
        expected(text, "US$4", 4, "USD", 1e9),
        expected(text, "5 billion", 5, "USD", 1e9),
        expected(text, "10", 10, "%"),
        expected(text, "15%", 15, "%"),
        expected(text, "3", 3, "CNY", 1e8),
        expected(text, "5亿元", 5, "CNY", 1e8),
        expected(text, "12", 12, "count"),
        expected(text, "15", 15, "count", after="12-"),
    ]
    text = "from 1,705.4 to RMB 2,356.8 million"
    assert parse_figures(text) == [
        expected(text, "1,705.4", 1705.4, "CNY", 1e6, 1),
        expected(text, "RMB 2,356.8 million", 2356.8, "CNY", 1e6, 1),
    ]


def test_a_year_never_opens_a_range() -> None:
    text = "increased from RMB 1,705.4 million in 2024 to RMB 2,356.8 million in 2025; 2024-2025"
    assert parse_figures(text) == [
        expected(text, "RMB 1,705.4 million", 1705.4, "CNY", 1e6, 1),
        expected(text, "RMB 2,356.8 million", 2356.8, "CNY", 1e6, 1),
    ]


def test_scale_word_after_a_line_wrap() -> None:
    text = "for an upfront payment of US$200\nmillion"
    assert parse_figures(text) == [expected(text, "US$200\nmillion", 200, "USD", 1e6)]


def _table(text: str) -> tuple[list[tuple[str, str]], list[float]]:
    figures = parse_figures(text)
    for f in figures:
        assert text[f.start : f.end] == f.text
    return [(f.text, f.unit) for f in figures], [f.quantity for f in figures]


def test_article_paragraph_out_licensing() -> None:
    text = (
        "Specifically, domestic pharmaceutical companies concluded 94 license-out deals in 2024, with a total deal "
        "value of $51.9 billion, including $4.1 billion in upfront payments. In 2025, these figures saw substantial "
        "further growth, with the number of deals, total value, and upfront payments rising to 157 deals, "
        "$135.655 billion, and $7 billion, respectively."
    )
    written, quantities = _table(text)
    assert written == [
        ("94", "count"),
        ("$51.9 billion", "USD"),
        ("$4.1 billion", "USD"),
        ("157", "count"),
        ("$135.655 billion", "USD"),
        ("$7 billion", "USD"),
    ]
    assert quantities == pytest.approx([94, 51.9e9, 4.1e9, 157, 135.655e9, 7e9], rel=1e-12)


def test_article_paragraph_earnings() -> None:
    text = (
        "On January 12, a leading domestic CXO company released its 2025 earnings pre-announcement, forecasting "
        "revenue of approximately RMB 45.456 billion, a year-on-year increase of 15.84%, and net profit attributable "
        "to shareholders of about RMB 19.151 billion, surging 102.65% year-on-year. Additionally, Wind data shows "
        "that as of January 12, around 130 A-share listed companies had disclosed their 2025 earnings forecasts."
    )
    written, quantities = _table(text)
    assert written == [
        ("RMB 45.456 billion", "CNY"),
        ("15.84%", "%"),
        ("RMB 19.151 billion", "CNY"),
        ("102.65%", "%"),
        ("130", "count"),
    ]
    assert quantities == pytest.approx([45.456e9, 15.84, 19.151e9, 102.65, 130], rel=1e-12)


def test_chinese_paragraph() -> None:
    text = (
        "2025年公司实现营业收入23.57亿元，同比增长38.2%。据行业统计，2024年中国创新药对外授权交易总额达519亿美元，"
        "其中首付款合计41亿美元。"
    )
    written, quantities = _table(text)
    assert written == [("23.57亿元", "CNY"), ("38.2%", "%"), ("519亿美元", "USD"), ("41亿美元", "USD")]
    assert quantities == pytest.approx([23.57e8, 38.2, 519e8, 41e8], rel=1e-12)


def test_filing_table_rows() -> None:
    text = "Finance costs\n(38.7)\n(41.2)\n(6.1)\nBasic loss per share (RMB)\n(0.31)\n(0.52)\n(40.4)"
    written, quantities = _table(text)
    assert written == [("(38.7)", ""), ("(41.2)", ""), ("(6.1)", ""), ("(0.31)", ""), ("(0.52)", ""), ("(40.4)", "")]
    assert quantities == pytest.approx([-38.7, -41.2, -6.1, -0.31, -0.52, -40.4], rel=1e-12)


def test_empty_text() -> None:
    assert parse_figures("") == []


SAME = [
    ("$1.4965 billion", "US$1,496.5 million"),
    ("454.56亿元", "RMB 45.456 billion"),
    ("$51.9 billion", "519亿美元"),
    ("$1.5bn", "US$1,496.5 million"),  # 1.5bn claims ±0.05bn
    ("102.65%", "102.65%"),
    ("7 presenting", "7家"),
    ("$135.655 billion", "1356.55亿美元"),
    ("3.2亿港元", "HK$320 million"),
    ("5000万元", "RMB 50 million"),
    ("1.2万亿元", "RMB 1,200 billion"),
    ("130家", "130"),
    ("1,496.5 million", "$1.4965 billion"),  # a number without currency (a table cell) matches any currency
    ("$1.5bn", "$1.45 billion"),  # exactly on the edge of what "1.5" claims
    ("Code: 159567", "159567.SZ"),
    ("(1,120.3)", "−1,120.3"),
]
DIFFERENT = [
    ("$650 million", "$4.95 billion"),
    ("$7 billion", "RMB 7 billion"),  # currency differs
    ("15.84%", "15.8"),  # percent vs bare
    ("Code: 159567", "159567"),  # code vs count
    ("$4.1 billion", "$4.2 billion"),
    ("$1.5bn", "$1.44 billion"),
    ("(370)", "370"),
    ("$7 billion", "7家"),
    ("519亿美元", "519亿港元"),
    ("15.84%", "RMB 15.84"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_quantity(a: str, b: str) -> None:
    assert same_quantity(one(a), one(b))
    assert same_quantity(one(b), one(a))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_quantity(a: str, b: str) -> None:
    assert not same_quantity(one(a), one(b))
    assert not same_quantity(one(b), one(a))


def test_same_quantity_rel_tol() -> None:
    a, b = one("15.84 percent"), one("15.9%")
    assert not same_quantity(a, b, rel_tol=0.0)  # 15.9 claims 15.85-15.95
    assert same_quantity(a, b, rel_tol=0.01)
    with pytest.raises(ValueError, match="rel_tol must be zero or positive"):
        same_quantity(a, b, rel_tol=-0.1)


def test_find_quantity() -> None:
    chunk = (
        "Specifically, domestic pharmaceutical companies concluded 94 license-out deals in 2024, with a total deal "
        "value of $51.9 billion, including $4.1 billion in upfront payments."
    )
    found = find_quantity(one("519亿美元"), chunk)
    assert found == expected(chunk, "$51.9 billion", 51.9, "USD", 1e9, 1)
    assert find_quantity(one("首付款合计41亿美元"), chunk) == expected(chunk, "$4.1 billion", 4.1, "USD", 1e9, 1)
    assert find_quantity(one("94笔"), chunk) == expected(chunk, "94", 94, "count")
    assert find_quantity(one("$4.2 billion"), chunk) is None
    assert find_quantity(one("2,024 deals"), chunk) is None  # "in 2024" is a year, not a quantity
    etf = "ETF (Code: 159567)"
    assert find_quantity(one("Code: 159567"), etf) == expected(etf, "159567", 159567, "code")
    assert find_quantity(one("Code: 159567"), "159,567 units") is None


FORMATS = [
    (63, "count", 1.0, "63"),
    (2025, "count", 1.0, "2,025"),
    (1234567, "count", 1.0, "1,234,567"),
    (83.755e9, "USD", 1.0, "$83.755 billion"),
    (45.456e9, "CNY", 1.0, "RMB 45.456 billion"),
    (651.4e6, "CNY", 1.0, "RMB 651.4 million"),
    (3.2e9, "HKD", 1.0, "HK$3.2 billion"),
    (5e6, "EUR", 1.0, "€5 million"),
    (1.2e12, "CNY", 1.0, "RMB 1.2 trillion"),
    (650_000, "USD", 1.0, "$650,000"),
    (-5e6, "USD", 1.0, "-$5 million"),
    (1 / 3 * 1e9, "USD", 1.0, "$333.333 million"),
    (70.71, "%", 1.0, "70.71%"),
    (-6.1, "%", 1.0, "-6.1%"),
    (38.20, "%", 1.0, "38.2%"),
    (2356.8e6, "CNY", 1e6, "RMB 2,356.8 million"),
    (1.5e6, "", 1e6, "1.5 million"),
    (768_302, "count", 1e3, "768,302"),  # "thousand" scales only money
    (768_302, "USD", 1e3, "$768.302 thousand"),
    (454.56e8, "CNY", 1e8, "454.56亿元"),
    (519e8, "USD", 1e8, "519亿美元"),
    (5000e4, "CNY", 1e4, "5000万元"),
    (-4.13e8, "CNY", 1e8, "-4.13亿元"),
    (-0.0001, "USD", 1.0, "$0"),
    (159567, "code", 1.0, "159567"),
]


@pytest.mark.parametrize(("value", "unit", "hint", "text"), FORMATS)
def test_format_quantity(value: float, unit: str, hint: float, text: str) -> None:
    assert format_quantity(value, unit, hint) == text


@pytest.mark.parametrize(("value", "unit", "hint", "text"), [f for f in FORMATS if f[1] != "code"])
def test_format_quantity_reads_back(value: float, unit: str, hint: float, text: str) -> None:
    back = one(text)
    assert same_quantity(back, Figure(text, value, unit or "count", decimals=3))  # type: ignore[arg-type]
    assert back.unit == (unit if unit in ("%", "CNY", "USD", "HKD", "EUR") else back.unit)


def test_format_quantity_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unit must be one of"):
        format_quantity(1, "JPY")
    with pytest.raises(ValueError, match="scale_hint must be"):
        format_quantity(1, "USD", 1e5)


_ALPHABET = (
    "0123456789" * 4
    + "０１２３４５６７８９．％，。、；：（）~–至到"
    + ".,;:%()-−+/$€¥ \n\t" * 2
    + "RMBUSDHK$bnmkKtrillionbillionmillionyuanCodeClassAPhaseJanuaryDecemberthQ"
    + "亿万元美港币笔家个第年月日季度人民代码"
)


def test_never_raises_and_spans_match() -> None:
    """A seeded random search over figure-like text (hypothesis is not installed in this environment)."""
    rng = random.Random(20260113)
    for _ in range(3000):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))
        figures = parse_figures(text)
        last_end = 0
        for f in figures:
            assert text[f.start : f.end] == f.text
            assert f.start >= last_end
            last_end = f.end
            assert f.unit in ("CNY", "USD", "HKD", "EUR", "%", "count", "code", "")
            assert same_quantity(f, f)


@pytest.mark.parametrize("table", [
    "Item | 2025 (RMB million) | 2024 (USD million)\nRevenue | 44,470.0 | 29,500.0",
    "| Item | 2025 (RMB million) | 2024 (USD million) |\n| --- | --- | --- |\n| Revenue | 44,470.0 | 29,500.0 |",
    "Item\t2025 (RMB million)\t2024 (USD million)\nRevenue\t44,470.0\t29,500.0",
    "| Item | 2025 (RMB million) | 2024 (USD million) |\n\n| Revenue | 44,470.0 | 29,500.0 |",  # a blank line after rows
], ids=["bars-between", "markdown", "tabs", "markdown-spaced"])
def test_table_cells_take_the_unit_of_their_own_column(table: str) -> None:
    # Outer bars and tab separators once shifted or merged columns: a US$ cell was read in RMB.
    got = [(f.text, f.unit, f.quantity) for f in figures_in(table)]
    assert got == [("44,470.0", "CNY", 44_470e6), ("29,500.0", "USD", 29_500e6)]


def test_footnote_marks_glued_to_a_word_are_not_figures() -> None:
    # "% of penetration(2)(3)" once gave the figures 2 and -3, and a comparison subtracted the 2.
    assert [f.text for f in parse_figures("| % of penetration(2)(3) | Revenue(1) | 21,189 |")] == ["21,189"]
    assert [(f.text, f.value) for f in parse_figures("a loss of (2) and (1,120.3)")] == [("(2)", -2.0),
                                                                                         ("(1,120.3)", -1120.3)]


def test_a_time_of_day_and_a_code_written_with_wei_are_not_quantities() -> None:
    # a FinEval quote card: "当前时间为2025年05月15日22时24分" and "基金代码为860053"
    got = [(f.text, f.value, f.unit) for f in parse_figures(
        "当前时间为2025年05月15日22时24分，成交额为7509.19万元；基金代码为860053，单位净值为0.6812。")]
    assert got == [("7509.19万元", 7509.19, "CNY"), ("860053", 860053.0, "code"), ("0.6812", 0.6812, "")]


def test_a_footnote_mark_after_a_year_is_no_figure() -> None:
    # TAT-QA, American Tower's other operating expense: " | 2019 (1) | 2018 | 2017 (2)"
    got = [(f.text, f.value) for f in parse_figures(" | 2019 (1) | 2018 | 2017 (2)\nNet losses | 45.1 | 85.6 | (32.8)")]
    assert got == [("45.1", 45.1), ("85.6", 85.6), ("(32.8)", -32.8)]
