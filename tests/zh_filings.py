"""Realistic Chinese filing PDFs, built with reportlab at test time, for fictional companies.

Three documents in the layouts of real reports:

* ``report_a.pdf``: an SSE STAR Market 年度报告 (2025) of 澄川生物医药股份有限公司 (688917.SH);
* ``report_b.pdf``: an SZSE ChiNext 半年度报告 (2025 H1) of 岳澜精密制造股份有限公司 (301873.SZ);
* ``report_c.pdf``: an HKEX 中期业绩公告 (six months to 2025-06-30) of 衡岚生物科技有限公司 (2976.HK).

The companies, people, auditors and figures are invented (the stock codes are arbitrary and may coincide with real
ones). Each :class:`ZhFiling` states what its PDF holds: the metadata a recogniser should find and every statement
table (:class:`ZhTable`) with its cells exactly as printed.

Layout, as in real reports: tables have no ruling lines; labels are left-aligned, sub-items indented; value cells are
right-aligned (``drawRightString``) at fixed column x positions, in Helvetica; column headers are centred over their
columns, above the rows. Chinese text uses the CID font STSong-Light. Long labels wrap onto a second line: in
``report_a.pdf``'s 合并现金流量表 the numbers sit vertically centred between the two label lines, in
``report_b.pdf``'s 合并利润表 they sit on the first line. A wrapped label is given whole in :attr:`ZhTable.rows`.
Rows that are only a heading (``二、投资活动产生的现金流量：``) have empty cells (``""``). Text is never printed with two
spaces in a row (pdfium extracts runs of spaces as one); gaps are made by placing strings apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

__all__ = ["ZhFiling", "ZhTable", "build_all"]

_CJK = "STSong-Light"
_LATIN = "Helvetica"
_PAGE_W, _PAGE_H = 595.2756, 841.8898  # A4 in points
_LEFT, _RIGHT = 56.0, 545.0
_TABLE_SIZE = 9.0
_ROW_H = 15.0
_WRAP_H = 11.5

Align = Literal["left", "right", "center"]


@dataclass(frozen=True)
class ZhTable:
    """One statement table as printed: its page, title, unit line, value column headers and rows."""

    page: int  # 1-based
    title: str  # the heading line as printed, e.g. "合并利润表"
    unit_text: str  # as printed, e.g. "单位：元 币种：人民币" or "人民币千元"
    currency: str  # "CNY" | "HKD" | "USD"
    scale: float  # 1, 1e3, 1e4, 1e6
    columns: tuple[str, ...]  # value column headers as printed (the lowest header line for each column)
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (label as printed, cells as printed; "" where none)


@dataclass(frozen=True)
class ZhFiling:
    """What one built PDF holds: the filing metadata a recogniser should find, and its statement tables."""

    file_name: str
    company: str
    short_name: str
    tickers: tuple[str, ...]
    form: str  # "年度报告" | "半年度报告" | "业绩公告"
    doc_type: str
    fiscal_year: int
    period_end: str
    period_type: str  # "FY" | "H1"
    date: str  # the publication / board date printed in the document, ISO
    language: str
    pages: int
    tables: tuple[ZhTable, ...]


# --------------------------------------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class _Drawn:
    """One string as drawn: ``x`` is its left edge, right edge or centre according to ``align``."""

    page: int
    x: float
    y: float
    text: str
    font: str
    size: float
    align: Align


def _is_latin(text: str) -> bool:
    return all(" " <= ch <= "~" or ch == "—" for ch in text)


def _width(text: str, size: float, font: str | None = None) -> float:
    from reportlab.pdfbase import pdfmetrics

    return float(pdfmetrics.stringWidth(text, font or (_LATIN if _is_latin(text) else _CJK), size))


class _Doc:
    """A reportlab canvas that logs every string it draws (page, position, alignment)."""

    def __init__(self, path: Path) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        if _CJK not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(_CJK))
        self.canvas = canvas.Canvas(str(path), pagesize=(_PAGE_W, _PAGE_H), invariant=1)
        self.page = 1
        self.log: list[_Drawn] = []

    def text(self, x: float, y: float, text: str, size: float = 10.5, *, align: Align = "left",
             font: str | None = None) -> None:
        if not text:
            return
        assert "  " not in text, f"two spaces in a row extract as one: {text!r}"
        font = font or (_LATIN if _is_latin(text) else _CJK)
        self.canvas.setFont(font, size)
        if align == "right":
            self.canvas.drawRightString(x, y, text)
        elif align == "center":
            self.canvas.drawCentredString(x, y, text)
        else:
            self.canvas.drawString(x, y, text)
        self.log.append(_Drawn(self.page, x, y, text, font, size, align))

    def paragraph(self, y: float, text: str, size: float = 10.5, *, indent: float = 21.0,
                  left: float = _LEFT, right: float = _RIGHT, leading: float = 16.0) -> float:
        """Draw a wrapped paragraph (first line indented); return the y below it."""
        for i, line in enumerate(_wrap(text, size, right - left - indent, right - left)):
            self.text(left + (indent if i == 0 else 0.0), y, line, size)
            y -= leading
        return y

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1

    def save(self) -> int:
        self.canvas.showPage()
        self.canvas.save()
        return self.page


_NO_LINE_START = "，。、；：？！）》」』”’%％"


def _wrap(text: str, size: float, first: float, rest: float | None = None) -> list[str]:
    """Break ``text`` by width, character by character, keeping closing punctuation off a line's start."""
    lines: list[str] = []
    line = ""
    limit = first
    for ch in text:
        if line and _width(line + ch, size) > limit and ch not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = ch.lstrip()
            limit = first if rest is None else rest
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


# ----------------------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Row:
    label: str
    cells: tuple[str, ...]
    indent: int = 0  # in characters of the table font


@dataclass
class _Layout:
    """Where a table's columns sit: labels from ``label_x`` (wrapping at ``label_width``), values right at ``rights``."""

    rights: tuple[float, ...]
    col_width: float
    label_x: float = _LEFT
    label_width: float = 230.0
    wrapped_values: Literal["center", "top"] = "center"
    headers: list[tuple[str, ...]] = field(default_factory=list)  # header lines, one text per value column (or "")
    span: tuple[str, int, int] | None = None  # a header line spanning columns i..j: (text, i, j)
    item_header: str = "项目"


def _draw_table(doc: _Doc, y: float, layout: _Layout, rows: Sequence[_Row], size: float = _TABLE_SIZE) -> float:
    """Draw header lines and rows; return the y below the table."""
    centres = [r - layout.col_width / 2 for r in layout.rights]
    if layout.span:
        text, i, j = layout.span
        doc.text((centres[i] + centres[j]) / 2, y, text, size, align="center")
        y -= _WRAP_H + 1
    for n, line in enumerate(layout.headers):
        for cx, text in zip(centres, line, strict=True):
            doc.text(cx, y, text, size, align="center")
        if n == len(layout.headers) - 1 and layout.item_header:
            doc.text(layout.label_x + layout.label_width / 2, y, layout.item_header, size, align="center")
        y -= _WRAP_H + 1
    y -= _ROW_H - _WRAP_H
    for row in rows:
        x = layout.label_x + row.indent * size
        lines = _wrap(row.label, size, layout.label_width - row.indent * size)
        for k, part in enumerate(lines):
            doc.text(x, y - k * _WRAP_H, part, size)
        if len(lines) == 1 or layout.wrapped_values == "top":
            value_y = y
        else:
            value_y = y - (len(lines) - 1) * _WRAP_H / 2
        for right, cell in zip(layout.rights, row.cells, strict=True):
            doc.text(right, value_y, cell, size, align="right")
        y -= _ROW_H + (len(lines) - 1) * _WRAP_H
    return y


def _table(page: int, title: str, unit_text: str, currency: str, scale: float, columns: Sequence[str],
           rows: Sequence[_Row]) -> ZhTable:
    return ZhTable(page, title, unit_text, currency, scale, tuple(columns),
                   tuple((r.label, r.cells) for r in rows))


# ------------------------------------------------------------------------------------------------------ number text

_CENT = Decimal("0.01")


def _money(cents: int, *, zero: str = "-") -> str:
    """Yuan from cents, A-share style: '1,234,567.89', '-1,234.50'; zero as ``zero``."""
    if cents == 0:
        return zero
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def _wan(cents: int) -> str:
    """万元 from cents, two decimals, half up."""
    value = (Decimal(cents) / Decimal(1_000_000)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def _pct(now: int | Decimal, before: int | Decimal) -> str:
    change = ((Decimal(now) - Decimal(before)) / abs(Decimal(before)) * 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{change:.2f}"


def _hk(thousands: int) -> str:
    """HKEX style: '412,356', negatives '(1,276)', zero '—'."""
    if thousands == 0:
        return "—"
    return f"({-thousands:,})" if thousands < 0 else f"{thousands:,}"


def _per_share(value: Decimal, *, parens: bool = False) -> str:
    q = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    if parens and q < 0:
        return f"({-q:.2f})"
    return f"{q:.2f}"


def _sum(*values: int) -> int:
    return sum(values)


# ------------------------------------------------------------------------------------------- 1. SSE STAR 年度报告

_A_NAME = "澄川生物医药股份有限公司"
_A_SHORT = "澄川医药"
_A_CODE = "688917"
_A_KEY_COLS = (340.0, 442.0, 545.0)
_A_STMT_COLS = (430.0, 545.0)
_A_CASH_COLS = (420.0, 545.0)


def _annual(folder: Path) -> tuple[Path, ZhFiling, list[_Drawn]]:
    path = folder / "report_a.pdf"
    doc = _Doc(path)
    tables: list[ZhTable] = []

    # ---- page 1: cover and 重要提示 (as on a real SSE report's first pages)
    doc.text(_LEFT, 790, f"公司代码：{_A_CODE}", 10.5)
    doc.text(_RIGHT, 790, f"公司简称：{_A_SHORT}", 10.5, align="right")
    doc.text(_PAGE_W / 2, 650, _A_NAME, 22, align="center")
    doc.text(_PAGE_W / 2, 610, "2025年年度报告", 22, align="center")
    y = 470.0
    doc.text(_PAGE_W / 2, y, "重要提示", 14, align="center")
    y -= 28
    for item in (
        "一、本公司董事会、监事会及董事、监事、高级管理人员保证年度报告内容的真实性、准确性、完整性，不存在虚假记载、"
        "误导性陈述或重大遗漏，并承担个别和连带的法律责任。",
        "二、重大风险提示：公司已在本报告中详细阐述公司在经营过程中可能面临的各种风险及应对措施，敬请查阅本报告"
        "第三节“管理层讨论与分析”中“四、风险因素”相关内容。",
        "三、公司全体董事出席董事会会议。",
        "四、信衡会计师事务所（特殊普通合伙）为本公司出具了标准无保留意见的审计报告。",
        "五、公司负责人陈立衡、主管会计工作负责人许若岚及会计机构负责人（会计主管人员）唐子默声明：保证年度报告中"
        "财务报告的真实、准确、完整。",
        "六、董事会决议通过的本报告期利润分配预案或公积金转增股本预案：公司拟向全体股东每10股派发现金红利2.50元"
        "（含税），不进行资本公积金转增股本，不送红股。",
        "七、是否存在公司治理特殊安排等重要事项 □适用 √不适用",
    ):
        y = doc.paragraph(y, item, 10.5, indent=21.0) - 4

    # ---- figures: 合并利润表 (cents), consistent by construction
    rev = (128_647_391_562, 104_321_876_605)
    cost = (31_204_588_317, 26_733_019_448)
    tax_sur = (1_187_362_045, 963_114_507)
    selling = (41_873_509_266, 35_620_147_733)
    admin = (12_066_397_420, 10_458_802_311)
    rnd = (27_539_814_058, 24_811_306_942)
    fin = (-1_074_037_882, -652_326_122)
    interest_exp = (238_611_040, 301_776_215)
    interest_inc = (1_312_648_922, 954_102_337)
    other_inc = (2_208_563_104, 1_876_320_955)
    invest = (1_543_207_716, -211_896_402)
    credit = (-318_440_261, -205_117_736)
    impair = (-622_908_415, -187_410_026)
    non_op_inc = (96_233_518, 41_205_660)
    non_op_exp = (31_877_402, 0)
    income_tax = (2_186_530_174, 1_290_556_183)
    minority = (-73_218_445, 55_310_207)
    shares = 420_000_000
    total_cost = tuple(_sum(cost[i], tax_sur[i], selling[i], admin[i], rnd[i], fin[i]) for i in (0, 1))
    op_profit = tuple(rev[i] - total_cost[i] + other_inc[i] + invest[i] + credit[i] + impair[i] for i in (0, 1))
    pre_tax = tuple(op_profit[i] + non_op_inc[i] - non_op_exp[i] for i in (0, 1))
    net = tuple(pre_tax[i] - income_tax[i] for i in (0, 1))
    parent = tuple(net[i] - minority[i] for i in (0, 1))
    recurring = (parent[0] - 3_127_640_518, parent[1] - 2_486_915_307)
    eps = tuple(Decimal(parent[i]) / 100 / shares for i in (0, 1))

    # ---- figures: 合并现金流量表 excerpt (cents)
    op_in = ((139_204_517_736, 4_103_228_590, 2_615_339_021), (112_886_310_472, 3_288_401_236, 1_907_225_148))
    op_out = ((33_820_661_905, 38_117_604_228, 7_926_510_337, 28_604_112_574),
              (29_117_336_840, 33_509_812_716, 6_204_771_059, 25_870_229_613))
    op_in_total = tuple(sum(op_in[i]) for i in (0, 1))
    op_out_total = tuple(sum(op_out[i]) for i in (0, 1))
    op_net = tuple(op_in_total[i] - op_out_total[i] for i in (0, 1))
    inv_in = ((52_000_000_000, 1_187_402_236, 3_512_880), (38_500_000_000, 926_117_540, 0))
    inv_out = ((21_408_337_652, 61_500_000_000), (16_772_904_118, 45_000_000_000))
    inv_in_total = tuple(sum(inv_in[i]) for i in (0, 1))
    inv_out_total = tuple(sum(inv_out[i]) for i in (0, 1))
    inv_net = tuple(inv_in_total[i] - inv_out_total[i] for i in (0, 1))
    fin_in = ((2_311_500_000, 12_000_000_000), (0, 9_500_000_000))
    fin_out = ((10_500_000_000, 11_367_229_610), (7_800_000_000, 6_552_108_447))
    fin_in_total = tuple(sum(fin_in[i]) for i in (0, 1))
    fin_out_total = tuple(sum(fin_out[i]) for i in (0, 1))
    fin_net = tuple(fin_in_total[i] - fin_out_total[i] for i in (0, 1))
    fx = (86_204_117, -41_883_205)
    cash_change = tuple(op_net[i] + inv_net[i] + fin_net[i] + fx[i] for i in (0, 1))
    cash_open_2024 = 98_336_120_415
    cash_open = (cash_open_2024 + cash_change[1], cash_open_2024)
    cash_close = tuple(cash_open[i] + cash_change[i] for i in (0, 1))

    # ---- page 2: 第二节 公司简介和主要财务指标
    doc.new_page()
    doc.text(_PAGE_W / 2, 790, "第二节 公司简介和主要财务指标", 14, align="center")
    y = 755.0
    doc.text(_LEFT, y, "一、公司基本情况", 10.5)
    y -= 20
    for key, value in (
        ("公司的中文名称", _A_NAME),
        ("公司的中文简称", _A_SHORT),
        ("公司的外文名称", "Chengchuan Biopharmaceutical Co., Ltd."),
        ("公司的外文名称缩写", "Chengchuan Bio"),
        ("公司的法定代表人", "陈立衡"),
        ("公司注册地址", "江苏省苏州市工业园区星湖街218号"),
    ):
        doc.text(_LEFT + 10, y, key, 9.5)
        doc.text(210, y, value, 9.5)
        y -= 15
    y -= 8
    doc.text(_LEFT, y, "二、公司股票简况", 10.5)
    y -= 20
    stock_x = (100.0, 215.0, 330.0, 420.0, 505.0)
    for cx, text in zip(stock_x, ("股票种类", "股票上市交易所及板块", "股票简称", "股票代码", "变更前股票简称"), strict=True):
        doc.text(cx, y, text, 9.5, align="center")
    y -= 15
    for cx, text in zip(stock_x, ("A股", "上海证券交易所科创板", _A_SHORT, _A_CODE, "不适用"), strict=True):
        doc.text(cx, y, text, 9.5, align="center")
    y -= 26
    doc.text(_LEFT, y, "三、近三年主要会计数据和财务指标", 10.5)
    y -= 20
    key_title = "（一）主要会计数据"
    doc.text(_LEFT, y, key_title, 10.5)
    key_unit = "单位：元 币种：人民币"
    doc.text(_RIGHT, y, key_unit, 9.5, align="right")
    y -= 20
    key_cols = ("2025年", "2024年", "本期比上年同期增减(%)")
    key_rows = [
        _Row("营业收入", (_money(rev[0]), _money(rev[1]), _pct(rev[0], rev[1]))),
        _Row("归属于上市公司股东的净利润", (_money(parent[0]), _money(parent[1]), _pct(parent[0], parent[1]))),
        _Row("归属于上市公司股东的扣除非经常性损益的净利润",
             (_money(recurring[0]), _money(recurring[1]), _pct(recurring[0], recurring[1]))),
        _Row("经营活动产生的现金流量净额", (_money(op_net[0]), _money(op_net[1]), _pct(op_net[0], op_net[1]))),
    ]
    layout = _Layout(_A_KEY_COLS, 104.0, label_width=205.0, headers=[key_cols])
    _draw_table(doc, y, layout, key_rows)
    tables.append(_table(2, key_title, key_unit, "CNY", 1.0, key_cols, key_rows))

    # ---- page 3: 合并利润表
    doc.new_page()
    doc.text(_PAGE_W / 2, 790, "合并利润表", 14, align="center")
    doc.text(_PAGE_W / 2, 770, "2025年1—12月", 10.5, align="center")
    stmt_unit = "单位：元 币种：人民币"
    doc.text(_RIGHT, 752, stmt_unit, 9.5, align="right")
    stmt_cols = ("2025年度", "2024年度")

    def pair(values: tuple[int, ...], zero: str = "-") -> tuple[str, str]:
        return _money(values[0], zero=zero), _money(values[1], zero=zero)

    pl_rows = [
        _Row("一、营业总收入", pair(rev)),
        _Row("其中：营业收入", pair(rev)),
        _Row("二、营业总成本", pair(total_cost)),
        _Row("其中：营业成本", pair(cost)),
        _Row("税金及附加", pair(tax_sur), 3),
        _Row("销售费用", pair(selling), 3),
        _Row("管理费用", pair(admin), 3),
        _Row("研发费用", pair(rnd), 3),
        _Row("财务费用", pair(fin), 3),
        _Row("其中：利息费用", pair(interest_exp), 3),
        _Row("利息收入", pair(interest_inc), 6),
        _Row("加：其他收益", pair(other_inc)),
        _Row("投资收益（损失以“－”号填列）", pair(invest), 2),
        _Row("信用减值损失（损失以“-”号填列）", pair(credit), 2),
        _Row("资产减值损失（损失以“-”号填列）", pair(impair), 2),
        _Row("三、营业利润（亏损以“－”号填列）", pair(op_profit)),
        _Row("加：营业外收入", pair(non_op_inc)),
        _Row("减：营业外支出", pair(non_op_exp)),
        _Row("四、利润总额（亏损总额以“－”号填列）", pair(pre_tax)),
        _Row("减：所得税费用", pair(income_tax)),
        _Row("五、净利润（净亏损以“－”号填列）", pair(net)),
        _Row("1.归属于母公司股东的净利润（净亏损以“-”号填列）", pair(parent), 1),
        _Row("2.少数股东损益（净亏损以“-”号填列）", pair(minority), 1),
        _Row("六、每股收益：", ("", "")),
        _Row("（一）基本每股收益(元/股)", (_per_share(eps[0]), _per_share(eps[1])), 1),
        _Row("（二）稀释每股收益(元/股)", (_per_share(eps[0]), _per_share(eps[1])), 1),
    ]
    layout = _Layout(_A_STMT_COLS, 110.0, label_width=280.0, headers=[stmt_cols])
    _draw_table(doc, 728, layout, pl_rows)
    tables.append(_table(3, "合并利润表", stmt_unit, "CNY", 1.0, stmt_cols, pl_rows))

    # ---- page 4: 合并现金流量表 (excerpt) and the board line
    doc.new_page()
    doc.text(_PAGE_W / 2, 790, "合并现金流量表", 14, align="center")
    doc.text(_PAGE_W / 2, 770, "2025年1—12月", 10.5, align="center")
    doc.text(_RIGHT, 752, stmt_unit, 9.5, align="right")
    cf_rows = [
        _Row("一、经营活动产生的现金流量：", ("", "")),
        _Row("销售商品、提供劳务收到的现金", pair(tuple(v[0] for v in op_in)), 1),
        _Row("收到的税费返还", pair(tuple(v[1] for v in op_in)), 1),
        _Row("收到其他与经营活动有关的现金", pair(tuple(v[2] for v in op_in)), 1),
        _Row("经营活动现金流入小计", pair(op_in_total), 2),
        _Row("购买商品、接受劳务支付的现金", pair(tuple(v[0] for v in op_out)), 1),
        _Row("支付给职工及为职工支付的现金", pair(tuple(v[1] for v in op_out)), 1),
        _Row("支付的各项税费", pair(tuple(v[2] for v in op_out)), 1),
        _Row("支付其他与经营活动有关的现金", pair(tuple(v[3] for v in op_out)), 1),
        _Row("经营活动现金流出小计", pair(op_out_total), 2),
        _Row("经营活动产生的现金流量净额", pair(op_net), 1),
        _Row("二、投资活动产生的现金流量：", ("", "")),
        _Row("收回投资收到的现金", pair(tuple(v[0] for v in inv_in)), 1),
        _Row("取得投资收益收到的现金", pair(tuple(v[1] for v in inv_in)), 1),
        _Row("处置固定资产、无形资产和其他长期资产收回的现金净额", pair(tuple(v[2] for v in inv_in)), 1),
        _Row("投资活动现金流入小计", pair(inv_in_total), 2),
        _Row("购建固定资产、无形资产和其他长期资产支付的现金", pair(tuple(v[0] for v in inv_out)), 1),
        _Row("投资支付的现金", pair(tuple(v[1] for v in inv_out)), 1),
        _Row("投资活动现金流出小计", pair(inv_out_total), 2),
        _Row("投资活动产生的现金流量净额", pair(inv_net), 1),
        _Row("三、筹资活动产生的现金流量：", ("", "")),
        _Row("吸收投资收到的现金", pair(tuple(v[0] for v in fin_in)), 1),
        _Row("取得借款收到的现金", pair(tuple(v[1] for v in fin_in)), 1),
        _Row("筹资活动现金流入小计", pair(fin_in_total), 2),
        _Row("偿还债务支付的现金", pair(tuple(v[0] for v in fin_out)), 1),
        _Row("分配股利、利润或偿付利息支付的现金", pair(tuple(v[1] for v in fin_out)), 1),
        _Row("筹资活动现金流出小计", pair(fin_out_total), 2),
        _Row("筹资活动产生的现金流量净额", pair(fin_net), 1),
        _Row("四、汇率变动对现金及现金等价物的影响", pair(fx)),
        _Row("五、现金及现金等价物净增加额", pair(cash_change)),
        _Row("加：期初现金及现金等价物余额", pair(cash_open), 1),
        _Row("六、期末现金及现金等价物余额", pair(cash_close)),
    ]
    layout = _Layout(_A_CASH_COLS, 110.0, label_width=190.0, wrapped_values="center", headers=[stmt_cols])
    y = _draw_table(doc, 728, layout, cf_rows)
    tables.append(_table(4, "合并现金流量表", stmt_unit, "CNY", 1.0, stmt_cols, cf_rows))
    y -= 24
    doc.text(_LEFT, y, "公司负责人：陈立衡", 9.5)
    doc.text(225, y, "主管会计工作负责人：许若岚", 9.5)
    doc.text(_RIGHT, y, "会计机构负责人：唐子默", 9.5, align="right")
    y -= 36
    doc.text(_RIGHT, y, "董事长：陈立衡", 10.5, align="right")
    doc.text(_RIGHT, y - 18, "董事会批准报送日期：2026年3月28日", 10.5, align="right")
    pages = doc.save()

    filing = ZhFiling("report_a.pdf", _A_NAME, _A_SHORT, (f"{_A_CODE}.SH",), "年度报告", "filing", 2025, "2025-12-31",
                      "FY", "2026-03-28", "zh", pages, tuple(tables))
    return path, filing, doc.log


# ---------------------------------------------------------------------------------------- 2. SZSE 半年度报告

_B_NAME = "岳澜精密制造股份有限公司"
_B_SHORT = "岳澜精密"
_B_CODE = "301873"
_B_KEY_COLS = (345.0, 445.0, 545.0)
_B_BS_COLS = (425.0, 545.0)
_B_PL_COLS = (425.0, 545.0)


def _half_year(folder: Path) -> tuple[Path, ZhFiling, list[_Drawn]]:
    path = folder / "report_b.pdf"
    doc = _Doc(path)
    tables: list[ZhTable] = []

    # ---- page 1: cover (an SZSE report's cover carries no stock code) and 第一节
    doc.text(_PAGE_W / 2, 690, _B_NAME, 22, align="center")
    doc.text(_PAGE_W / 2, 650, "2025年半年度报告", 22, align="center")
    doc.text(_PAGE_W / 2, 612, "公告编号：2025-046", 12, align="center")
    doc.text(_PAGE_W / 2, 540, "2025年8月", 14, align="center")
    y = 440.0
    doc.text(_PAGE_W / 2, y, "第一节 重要提示、目录和释义", 14, align="center")
    y -= 28
    for item in (
        "公司董事会、监事会及董事、监事、高级管理人员保证半年度报告内容的真实、准确、完整，不存在虚假记载、误导性"
        "陈述或重大遗漏，并承担个别和连带的法律责任。",
        "公司负责人周启明、主管会计工作负责人蒋书宁及会计机构负责人(会计主管人员)罗一帆声明：保证本半年度报告中"
        "财务报告的真实、准确、完整。",
        "所有董事均已出席了审议本次半年报的董事会会议。",
        "本报告中所涉及的未来计划、发展战略等前瞻性陈述，不构成公司对投资者的实质承诺，敬请投资者注意投资风险。",
        "公司计划不派发现金红利，不送红股，不以公积金转增股本。",
    ):
        y = doc.paragraph(y, item, 10.5) - 4

    # ---- figures (cents)
    rev = (86_412_374_518, 71_938_205_664)
    cost = (61_273_508_119, 52_174_630_981)
    tax_sur = (427_330_615, 366_018_204)
    selling = (2_208_447_361, 1_874_106_652)
    admin = (4_117_630_208, 3_692_487_015)
    rnd = (5_321_874_440, 4_506_118_237)
    fin = (-183_226_817, 97_415_338)
    other_inc = (512_334_108, 438_207_611)
    invest = (96_445_210, -34_802_117)
    fair = (-41_208_335, 22_617_004)
    credit = (-133_872_069, -98_340_226)
    non_op_inc = (8_204_117, 12_045_390)
    non_op_exp = (3_117_208, 5_410_006)
    income_tax = (1_168_226_404, 803_447_950)
    minority = (41_227_615, 18_330_472)
    shares = 160_000_000
    total_cost = tuple(cost[i] + tax_sur[i] + selling[i] + admin[i] + rnd[i] + fin[i] for i in (0, 1))
    op_profit = tuple(rev[i] - total_cost[i] + other_inc[i] + invest[i] + fair[i] + credit[i] for i in (0, 1))
    pre_tax = tuple(op_profit[i] + non_op_inc[i] - non_op_exp[i] for i in (0, 1))
    net = tuple(pre_tax[i] - income_tax[i] for i in (0, 1))
    parent = tuple(net[i] - minority[i] for i in (0, 1))
    recurring = (parent[0] - 418_227_306, parent[1] - 366_902_147)
    op_cash = (9_417_306_552, 6_028_774_139)
    eps = tuple(Decimal(parent[i]) / 100 / shares for i in (0, 1))
    roe = (Decimal("6.84"), Decimal("5.97"))

    # ---- page 2: 第二节 公司简介和主要财务指标
    doc.new_page()
    doc.text(_PAGE_W / 2, 790, "第二节 公司简介和主要财务指标", 14, align="center")
    y = 755.0
    doc.text(_LEFT, y, "一、公司简介", 10.5)
    y -= 20
    doc.text(_LEFT + 10, y, "股票简称", 9.5)
    doc.text(175, y, _B_SHORT, 9.5)
    doc.text(330, y, "股票代码", 9.5)
    doc.text(430, y, _B_CODE, 9.5)
    y -= 15
    for key, value in (
        ("股票上市证券交易所", "深圳证券交易所"),
        ("公司的中文名称", _B_NAME),
        ("公司的中文简称（如有）", _B_SHORT),
        ("公司的外文名称（如有）", "Yuelan Precision Manufacturing Co., Ltd."),
        ("公司的法定代表人", "周启明"),
    ):
        doc.text(_LEFT + 10, y, key, 9.5)
        doc.text(175, y, value, 9.5)
        y -= 15
    y -= 10
    key_title = "四、主要会计数据和财务指标"
    doc.text(_LEFT, y, key_title, 10.5)
    y -= 20
    doc.text(_LEFT, y, "公司是否需追溯调整或重述以前年度会计数据", 9.5)
    doc.text(330, y, "□是 √否", 9.5)
    y -= 18
    key_unit = "单位：万元 币种：人民币"
    doc.text(_RIGHT, y, key_unit, 9.5, align="right")
    y -= 20
    key_cols = ("本期", "上年同期", "本期比上年同期增减(%)")
    key_rows = [
        _Row("营业收入（万元）", (_wan(rev[0]), _wan(rev[1]), _pct(rev[0], rev[1]))),
        _Row("归属于上市公司股东的净利润（万元）", (_wan(parent[0]), _wan(parent[1]), _pct(parent[0], parent[1]))),
        _Row("归属于上市公司股东的扣除非经常性损益的净利润（万元）",
             (_wan(recurring[0]), _wan(recurring[1]), _pct(recurring[0], recurring[1]))),
        _Row("经营活动产生的现金流量净额（万元）", (_wan(op_cash[0]), _wan(op_cash[1]), _pct(op_cash[0], op_cash[1]))),
        _Row("基本每股收益（元/股）", (_per_share(eps[0]), _per_share(eps[1]),
                                  _pct(eps[0].quantize(_CENT, rounding=ROUND_HALF_UP),
                                       eps[1].quantize(_CENT, rounding=ROUND_HALF_UP)))),
        _Row("加权平均净资产收益率", (f"{roe[0]}%", f"{roe[1]}%", f"{roe[0] - roe[1]:.2f}")),
    ]
    layout = _Layout(_B_KEY_COLS, 98.0, label_width=185.0, wrapped_values="top", headers=[key_cols])
    _draw_table(doc, y, layout, key_rows)
    tables.append(_table(2, key_title, key_unit, "CNY", 1e4, key_cols, key_rows))

    # ---- page 3: 1、合并资产负债表 (excerpt)
    cash = (118_406_227_315, 102_774_390_118)
    trading = (30_000_000_000, 45_000_000_000)
    notes = (4_117_208_336, 3_608_117_224)
    receivable = (54_306_118_207, 47_229_801_663)
    inventory = (38_204_773_610, 35_110_447_208)
    current = tuple(cash[i] + trading[i] + notes[i] + receivable[i] + inventory[i] for i in (0, 1))
    fixed = (62_117_304_552, 60_337_218_049)
    construction = (9_885_204_117, 6_401_338_260)
    intangible = (11_204_338_615, 11_417_092_337)
    non_current = tuple(fixed[i] + construction[i] + intangible[i] for i in (0, 1))
    assets = tuple(current[i] + non_current[i] for i in (0, 1))
    doc.new_page()
    bs_title = "1、合并资产负债表"
    doc.text(_LEFT, 790, "二、财务报表", 10.5)
    doc.text(_LEFT, 770, bs_title, 10.5)
    doc.text(_LEFT, 752, f"编制单位：{_B_NAME}", 9.5)
    doc.text(_PAGE_W / 2, 736, "2025年06月30日", 9.5, align="center")
    bs_unit = "单位：元"
    doc.text(_RIGHT, 736, bs_unit, 9.5, align="right")
    bs_cols = ("期末余额", "期初余额")

    def pair(values: tuple[int, ...], zero: str = "-") -> tuple[str, str]:
        return _money(values[0], zero=zero), _money(values[1], zero=zero)

    bs_rows = [
        _Row("流动资产：", ("", "")),
        _Row("货币资金", pair(cash), 1),
        _Row("交易性金融资产", pair(trading), 1),
        _Row("应收票据", pair(notes), 1),
        _Row("应收账款", pair(receivable), 1),
        _Row("存货", pair(inventory), 1),
        _Row("流动资产合计", pair(current), 2),
        _Row("非流动资产：", ("", "")),
        _Row("固定资产", pair(fixed), 1),
        _Row("在建工程", pair(construction), 1),
        _Row("无形资产", pair(intangible), 1),
        _Row("非流动资产合计", pair(non_current), 2),
        _Row("资产总计", pair(assets)),
    ]
    layout = _Layout(_B_BS_COLS, 110.0, label_width=220.0, headers=[bs_cols])
    _draw_table(doc, 712, layout, bs_rows)
    tables.append(_table(3, bs_title, bs_unit, "CNY", 1.0, bs_cols, bs_rows))

    # ---- page 4: 3、合并利润表 and the board line
    doc.new_page()
    pl_title = "3、合并利润表"
    doc.text(_LEFT, 790, pl_title, 10.5)
    pl_unit = "单位：元"
    doc.text(_RIGHT, 772, pl_unit, 9.5, align="right")
    pl_cols = ("2025年半年度", "2024年半年度")
    pl_rows = [
        _Row("一、营业总收入", pair(rev)),
        _Row("其中：营业收入", pair(rev)),
        _Row("二、营业总成本", pair(total_cost)),
        _Row("其中：营业成本", pair(cost)),
        _Row("税金及附加", pair(tax_sur), 3),
        _Row("销售费用", pair(selling), 3),
        _Row("管理费用", pair(admin), 3),
        _Row("研发费用", pair(rnd), 3),
        _Row("财务费用", pair(fin), 3),
        _Row("加：其他收益", pair(other_inc)),
        _Row("投资收益（损失以“－”号填列）", pair(invest), 2),
        _Row("公允价值变动收益（损失以“－”号填列）", pair(fair), 2),
        _Row("信用减值损失（损失以“－”号填列）", pair(credit), 2),
        _Row("三、营业利润（亏损以“－”号填列）", pair(op_profit)),
        _Row("加：营业外收入", pair(non_op_inc)),
        _Row("减：营业外支出", pair(non_op_exp)),
        _Row("四、利润总额（亏损总额以“－”号填列）", pair(pre_tax)),
        _Row("减：所得税费用", pair(income_tax)),
        _Row("五、净利润（净亏损以“－”号填列）", pair(net)),
        _Row("1.归属于母公司股东的净利润", pair(parent), 1),
        _Row("2.少数股东损益", pair(minority), 1),
    ]
    layout = _Layout(_B_PL_COLS, 110.0, label_width=170.0, wrapped_values="top", headers=[pl_cols])
    y = _draw_table(doc, 748, layout, pl_rows)
    tables.append(_table(4, pl_title, pl_unit, "CNY", 1.0, pl_cols, pl_rows))
    y -= 40
    doc.text(_RIGHT, y, _B_NAME, 10.5, align="right")
    doc.text(_RIGHT, y - 18, "董事会", 10.5, align="right")
    doc.text(_RIGHT, y - 36, "2025年8月26日", 10.5, align="right")
    pages = doc.save()

    filing = ZhFiling("report_b.pdf", _B_NAME, _B_SHORT, (f"{_B_CODE}.SZ",), "半年度报告", "filing", 2025, "2025-06-30",
                      "H1", "2025-08-26", "zh", pages, tuple(tables))
    return path, filing, doc.log


# ------------------------------------------------------------------------------------------- 3. HKEX 中期业绩公告

_C_NAME = "衡岚生物科技有限公司"
_C_NAME_EN = "HENGLAN BIOTECH INC."
_C_SHORT = "衡岚生物"
_C_CODE = "2976"
_C_COLS = (440.0, 545.0)


def _hk_interim(folder: Path) -> tuple[Path, ZhFiling, list[_Drawn]]:
    path = folder / "report_c.pdf"
    doc = _Doc(path)
    tables: list[ZhTable] = []

    # ---- figures (RMB thousands)
    revenue = (412_356, 298_114)
    cost = (-121_870, -96_532)
    gross = tuple(revenue[i] + cost[i] for i in (0, 1))
    other = (18_204, 22_917)
    selling = (-96_310, -71_045)
    admin = (-58_772, -49_660)
    rnd = (-101_443, -128_309)
    other_exp = (-3_108, 0)
    impair = (-1_276, -884)
    finance = (-4_512, -3_907)
    assoc = (-862, 0)
    pre_tax = tuple(gross[i] + other[i] + selling[i] + admin[i] + rnd[i] + other_exp[i] + impair[i] + finance[i]
                    + assoc[i] for i in (0, 1))
    tax = (-6_318, -1_102)
    profit = tuple(pre_tax[i] + tax[i] for i in (0, 1))
    minority = (-1_126, -538)
    owners = tuple(profit[i] - minority[i] for i in (0, 1))
    shares_k = 600_000
    eps = tuple(Decimal(owners[i]) / shares_k for i in (0, 1))

    # ---- page 1: disclaimer, bilingual name, code, title, highlights, the board's announcement
    y = 800.0
    y = doc.paragraph(y, "香港交易及结算所有限公司及香港联合交易所有限公司对本公告的内容概不负责，对其准确性或完整性亦不发表"
                      "任何声明，并明确表示，概不对因本公告全部或任何部分内容而产生或因倚赖该等内容而引致的任何损失"
                      "承担任何责任。", 9.0, indent=0.0, leading=13.0)
    doc.text(_PAGE_W / 2, 720, _C_NAME, 20, align="center")
    doc.text(_PAGE_W / 2, 696, _C_NAME_EN, 16, align="center", font="Helvetica-Bold")
    doc.text(_PAGE_W / 2, 676, "（于开曼群岛注册成立的有限公司）", 10.5, align="center")
    doc.text(_PAGE_W / 2, 658, f"（股份代号：{_C_CODE}）", 10.5, align="center")
    doc.text(_PAGE_W / 2, 614, "截至2025年6月30日止六个月之中期业绩公告", 14, align="center")
    y = 560.0
    y = doc.paragraph(y, f"{_C_NAME}（「本公司」）董事（「董事」）会（「董事会」）欣然宣布本公司及其附属公司（统称"
                      "「本集团」）截至2025年6月30日止六个月（「报告期」）的未经审核简明综合中期业绩，连同2024年同期的"
                      "比较数字。", 10.5, indent=0.0)
    y -= 10
    doc.text(_LEFT, y, "财务摘要", 12)
    y -= 22
    for line in (
        f"• 报告期内收入约为人民币{Decimal(revenue[0]) / 1000:.1f}百万元，较2024年同期增长{_pct(revenue[0], revenue[1])}%。",
        f"• 毛利约为人民币{Decimal(gross[0]) / 1000:.1f}百万元，毛利率为{Decimal(gross[0]) / revenue[0] * 100:.1f}%。",
        f"• 期内利润约为人民币{Decimal(profit[0]) / 1000:.1f}百万元，而2024年同期则录得亏损约人民币"
        f"{Decimal(-profit[1]) / 1000:.1f}百万元。",
        "• 董事会不建议派付截至2025年6月30日止六个月的中期股息。",
    ):
        y = doc.paragraph(y, line, 10.5, indent=0.0, left=_LEFT + 10) - 2

    # ---- page 2: 简明综合损益表
    doc.new_page()
    pl_title = "简明综合损益表"
    doc.text(_PAGE_W / 2, 790, pl_title, 14, align="center")
    doc.text(_PAGE_W / 2, 770, "截至2025年6月30日止六个月", 10.5, align="center")
    unit = "人民币千元"
    pl_cols = ("2025年", "2024年")
    layout = _Layout(_C_COLS, 92.0, label_width=250.0, span=("截至6月30日止六个月", 0, 1),
                     headers=[pl_cols, (unit, unit), ("（未经审核）", "（未经审核）")], item_header="")

    def pair(values: tuple[int, ...]) -> tuple[str, str]:
        return _hk(values[0]), _hk(values[1])

    pl_rows = [
        _Row("收入", pair(revenue)),
        _Row("销售成本", pair(cost)),
        _Row("毛利", pair(gross)),
        _Row("其他收入及收益", pair(other)),
        _Row("销售及分销开支", pair(selling)),
        _Row("行政开支", pair(admin)),
        _Row("研发开支", pair(rnd)),
        _Row("其他开支", pair(other_exp)),
        _Row("金融资产减值亏损净额", pair(impair)),
        _Row("财务成本", pair(finance)),
        _Row("应占联营公司亏损", pair(assoc)),
        _Row("除税前利润/(亏损)", pair(pre_tax)),
        _Row("所得税开支", pair(tax)),
        _Row("期内利润/(亏损)", pair(profit)),
        _Row("以下人士应占：", ("", "")),
        _Row("母公司拥有人", pair(owners), 1),
        _Row("非控股权益", pair(minority), 1),
        _Row("母公司普通股权持有人应占每股盈利/(亏损)", ("", "")),
        _Row("基本及摊薄（人民币元）", (_per_share(eps[0], parens=True), _per_share(eps[1], parens=True)), 1),
    ]
    _draw_table(doc, 745, layout, pl_rows)
    tables.append(_table(2, pl_title, unit, "CNY", 1e3, pl_cols, pl_rows))

    # ---- page 3: 简明综合财务状况表 (excerpt) and the closing lines
    ppe = (486_204, 471_338)
    rou = (38_117, 41_905)
    intang = (22_406, 24_118)
    in_assoc = (14_138, 15_000)
    nca = tuple(ppe[i] + rou[i] + intang[i] + in_assoc[i] for i in (0, 1))
    inv = (96_338, 88_204)
    trade = (142_207, 118_336)
    prepay = (31_404, 27_115)
    cash = (602_338, 617_449)
    ca = tuple(inv[i] + trade[i] + prepay[i] + cash[i] for i in (0, 1))
    payable = (-68_117, -59_204)
    loans = (-120_000, -150_000)
    cl = tuple(payable[i] + loans[i] for i in (0, 1))
    net_current = tuple(ca[i] + cl[i] for i in (0, 1))
    doc.new_page()
    bs_title = "简明综合财务状况表"
    doc.text(_PAGE_W / 2, 790, bs_title, 14, align="center")
    doc.text(_PAGE_W / 2, 770, "于2025年6月30日", 10.5, align="center")
    bs_cols = ("2025年6月30日", "2024年12月31日")
    layout = _Layout(_C_COLS, 92.0, label_width=250.0,
                     headers=[bs_cols, (unit, unit), ("（未经审核）", "（经审核）")], item_header="")
    bs_rows = [
        _Row("非流动资产", ("", "")),
        _Row("物业、厂房及设备", pair(ppe), 1),
        _Row("使用权资产", pair(rou), 1),
        _Row("无形资产", pair(intang), 1),
        _Row("于联营公司的投资", pair(in_assoc), 1),
        _Row("非流动资产总额", pair(nca)),
        _Row("流动资产", ("", "")),
        _Row("存货", pair(inv), 1),
        _Row("贸易应收款项及应收票据", pair(trade), 1),
        _Row("预付款项、其他应收款项及其他资产", pair(prepay), 1),
        _Row("现金及现金等价物", pair(cash), 1),
        _Row("流动资产总额", pair(ca)),
        _Row("流动负债", ("", "")),
        _Row("贸易应付款项", pair(tuple(-v for v in payable)), 1),
        _Row("计息银行借款", pair(tuple(-v for v in loans)), 1),
        _Row("流动负债总额", pair(tuple(-v for v in cl))),
        _Row("流动资产净额", pair(net_current)),
        _Row("资产总额减流动负债", pair(tuple(nca[i] + net_current[i] for i in (0, 1)))),
    ]
    y = _draw_table(doc, 745, layout, bs_rows)
    tables.append(_table(3, bs_title, unit, "CNY", 1e3, bs_cols, bs_rows))
    y -= 30
    doc.text(_RIGHT, y, "承董事会命", 10.5, align="right")
    doc.text(_RIGHT, y - 16, _C_NAME, 10.5, align="right")
    doc.text(_RIGHT, y - 32, "主席", 10.5, align="right")
    doc.text(_RIGHT, y - 48, "林启舟", 10.5, align="right")
    y -= 76
    doc.text(_LEFT, y, "香港，2025年8月20日", 10.5)
    y -= 26
    doc.paragraph(y, "于本公告日期，董事会包括执行董事林启舟博士及韩沐青女士；非执行董事杜文谦先生；以及独立非执行董事"
                  "沈嘉禾教授、吴昭宁女士及梁思远先生。", 9.0, indent=0.0, leading=13.0)
    pages = doc.save()

    filing = ZhFiling("report_c.pdf", _C_NAME, _C_SHORT, (f"{_C_CODE}.HK",), "业绩公告", "filing", 2025, "2025-06-30",
                      "H1", "2025-08-20", "zh", pages, tuple(tables))
    return path, filing, doc.log


# -------------------------------------------------------------------------------------------------------- building


def _build(folder: Path) -> list[tuple[Path, ZhFiling, list[_Drawn]]]:
    folder.mkdir(parents=True, exist_ok=True)
    return [_annual(folder), _half_year(folder), _hk_interim(folder)]


def build_all(folder: Path) -> list[tuple[Path, ZhFiling]]:
    """Write the three PDFs into ``folder``; return each path with what it holds."""
    return [(path, filing) for path, filing, _ in _build(folder)]


if __name__ == "__main__":
    import tempfile

    import pypdfium2 as pdfium

    with tempfile.TemporaryDirectory() as tmp:
        for pdf, info in build_all(Path(tmp)):
            document = pdfium.PdfDocument(pdf)
            print(f"== {pdf.name}: {info.company} {info.tickers} {info.form} {info.period_end} "
                  f"({len(document)} pages, {len(info.tables)} tables)")
            print(document[0].get_textpage().get_text_range())
            document.close()
