"""An EDGAR inline-XBRL 10-K (.htm) of Apple's fiscal 2022, built from the hand-checked cells of its real filing.

The figures, labels, headers and unit lines are those recorded from the real PDF in tests/data/filing_cells.yaml
(three primary statements, 210 cells); the markup is the one EDGAR filings use (Workiva-style: a label cell,
then per period a "$" cell, the tagged number's cell, a ")" cell and a spacer; "Years ended" spanning the
periods; contexts, units and hidden dei facts in a hidden ix:header; page breaks between printed pages). No real
EDGAR .htm is available offline here, so the document is rebuilt, not downloaded.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import yaml

CELLS = Path(__file__).parent / "data" / "filing_cells.yaml"
PERIODS = {  # Apple's fiscal years: context id -> (start, end)
    "FY2022": ("2021-09-26", "2022-09-24"), "FY2021": ("2020-09-27", "2021-09-25"),
    "FY2020": ("2019-09-29", "2020-09-26"),
}
INSTANTS = {"I2022": "2022-09-24", "I2021": "2021-09-25", "I2020": "2020-09-26", "I2019": "2019-09-28"}
# concept names of the real filing for the rows tests look at; other rows get an issuer concept of their label
CONCEPTS = {
    ("Net sales", "Products"): "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax|product",
    ("Net sales", "Services"): "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax|service",
    ("Net sales", "Total net sales"): "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
    ("Cost of sales", "Total cost of sales"): "us-gaap:CostOfGoodsAndServicesSold",
    ("Operating expenses", "Research and development"): "us-gaap:ResearchAndDevelopmentExpense",
    ("Operating expenses", "Operating income"): "us-gaap:OperatingIncomeLoss",
    ("Operating expenses", "Net income"): "us-gaap:NetIncomeLoss",
    ("Operating activities", "Net income"): "us-gaap:NetIncomeLoss",
    ("Earnings per share", "Diluted"): "us-gaap:EarningsPerShareDiluted",
    ("Shares used in computing earnings per share", "Diluted"): "us-gaap:WeightedAverageNumberOfDilutedSharesOutstanding",
    ("Current assets", "Inventories"): "us-gaap:InventoryNet",
    ("Non-current assets", "Total assets"): "us-gaap:Assets",
    ("Non-current assets", "Property, plant and equipment, net"): "us-gaap:PropertyPlantAndEquipmentNet",
    ("Investing activities", "Payments for acquisition of property, plant and equipment"):
        "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment",
    ("Changes in operating assets and liabilities", "Inventories"): "us-gaap:IncreaseDecreaseInInventories",
}
# cash-flow rows whose tagged concept is an outflow or an increase of an asset: in parentheses when positive
OUTFLOW = re.compile(r"^(Payments|Purchases|Repurchases|Repayments|Accounts receivable|Vendor non-trade|"
                     r"Other current and non-current assets|Inventories$)")


def statements() -> list[dict[str, Any]]:
    return [t for t in yaml.safe_load(CELLS.read_text(encoding="utf-8")) if t["file"] == "APPLE_2022_10K.pdf"]


def _concept(section: str, label: str) -> tuple[str, str]:
    found = CONCEPTS.get((section, label), "")
    if not found:
        words = re.sub(r"[^A-Za-z ]", " ", f"{label}").title().replace(" ", "")
        found = f"aapl:{words[:60]}"
    name, _, member = found.partition("|")
    return name, member


def _number(text: str) -> tuple[str, bool, bool]:
    """("316,199", has a $, printed in parentheses) of a cell as recorded ("$ 316,199", "(334)")."""
    t = text.replace(" ", "")
    dollar = t.startswith("$")
    t = t.lstrip("$")
    neg = t.startswith("(")
    return t.strip("()"), dollar, neg


def _cell(value: str, ctx: str, concept: str, unit: str, scale: int, decimals: str, sign: str, fid: str) -> str:
    number, dollar, neg = _number(value)
    sign_attr = ' sign="-"' if sign == "-" else ""
    tag = (f'<ix:nonFraction unitRef="{unit}" contextRef="{ctx}" decimals="{decimals}" name="{concept}" '
           f'format="ixt:num-dot-decimal" scale="{scale}" id="{fid}"{sign_attr}>{number}</ix:nonFraction>')
    left = '<td style="padding:2px 0 2px 2pt"><span>$</span></td>' if dollar else '<td style="padding:2px 0"></td>'
    open_paren = "(" if neg else ""
    close = '<td style="padding:2px 1pt 2px 0"><span>)</span></td>' if neg else '<td style="padding:2px 1pt"></td>'
    return (f'{left}<td style="padding:2px 0;text-align:right"><span>{open_paren}{tag}</span></td>{close}'
            f'<td style="padding:0 1pt"></td>')


def _statement(t: dict[str, Any], contexts: list[str], fid: list[int], cash: bool = False) -> str:
    rows: dict[tuple[str, str, int], list[str]] = {}
    per_share: dict[tuple[str, str, int], bool] = {}
    order: list[tuple[str, str, int]] = []
    for c in t["cells"]:
        key = (c["section"], c["label"], c["nth"])
        if key not in rows:
            rows[key] = [""] * len(t["columns"])
            order.append(key)
        rows[key][c["column"]] = c["value"]
        per_share[key] = c["per_share"]
    n = len(t["columns"])
    out = [f'<p style="text-align:center;font-weight:bold"><span>{html.escape(t["title"])}</span></p>',
           f'<p style="text-align:center"><span>{html.escape(t["unit_text"])}</span></p>',
           '<table style="border-collapse:collapse;width:100%">']
    headers = [c["header"] for c in t["columns"]]
    if all(h.startswith("Years ended ") for h in headers):
        out.append(f'<tr><td></td><td colspan="{4 * n - 1}" style="text-align:center"><span>Years ended</span></td>'
                   '<td></td></tr>')
        headers = [h[len("Years ended "):] for h in headers]
    out.append("<tr><td></td>" + "".join(f'<td colspan="3" style="text-align:center"><span>{html.escape(h)}</span></td>'
                                         '<td></td>' for h in headers) + "</tr>")
    section = None
    for key in order:
        sec, label, _ = key
        if sec and sec != section:
            out.append(f'<tr><td colspan="{4 * n + 1}"><span>{html.escape(sec)}:</span></td></tr>')
        section = sec
        concept, member = _concept(sec, label)
        eps, shares = "per share" in sec.lower(), sec.startswith("Shares used")
        unit, scale, dec = ("shares", 3, "-3") if shares else ("usdPerShare", 0, "2") if eps else ("usd", 6, "-6")
        cells = []
        for i, value in enumerate(rows[key]):
            if not value:
                cells.append('<td></td><td></td><td></td><td></td>')
                continue
            fid[0] += 1
            ctx = contexts[i] + (f"_{member}" if member else "")
            _, _, neg = _number(value)
            sign = "-" if neg != bool(cash and OUTFLOW.match(label)) else ""
            cells.append(_cell(value, ctx, concept, unit, scale, dec, sign, f"f-{fid[0]}"))
        indent = "padding-left:9pt" if label.startswith("Total") or label in ("Products", "Services") else "padding-left:0"
        out.append(f'<tr><td style="{indent}"><span>{html.escape(label)}</span></td>{"".join(cells)}</tr>')
    out.append("</table>")
    return "\n".join(out)


def _contexts() -> str:
    parts = []
    for cid, (start, end) in PERIODS.items():
        period = f"<xbrli:startDate>{start}</xbrli:startDate><xbrli:endDate>{end}</xbrli:endDate>"
        parts.append(f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
                     f'0000320193</xbrli:identifier></xbrli:entity><xbrli:period>{period}</xbrli:period></xbrli:context>')
        for member, name in (("product", "us-gaap:ProductMember"), ("service", "us-gaap:ServiceMember")):
            parts.append(
                f'<xbrli:context id="{cid}_{member}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
                f'0000320193</xbrli:identifier><xbrli:segment><xbrldi:explicitMember dimension="srt:ProductOrServiceAxis">'
                f'{name}</xbrldi:explicitMember></xbrli:segment></xbrli:entity><xbrli:period>{period}</xbrli:period>'
                '</xbrli:context>')
    for cid, day in INSTANTS.items():
        parts.append(f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
                     f'0000320193</xbrli:identifier></xbrli:entity><xbrli:period><xbrli:instant>{day}</xbrli:instant>'
                     '</xbrli:period></xbrli:context>')
    parts.append('<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>')
    parts.append('<xbrli:unit id="shares"><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unit>')
    parts.append('<xbrli:unit id="usdPerShare"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD'
                 '</xbrli:measure></xbrli:unitNumerator><xbrli:unitDenominator><xbrli:measure>xbrli:shares'
                 '</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>')
    return "\n".join(parts)


BREAK = '<hr style="page-break-after:always"/>'


def apple_10k_html() -> str:
    """The whole .htm: cover, contents, a page of MD&A with tagged figures in prose, three statements, signatures."""
    fid = [0]
    stmts = statements()
    by_kind = {t["statement"]: t for t in stmts}
    income = _statement(by_kind["income statement"], ["FY2022", "FY2021", "FY2020"], fid)
    balance = _statement(by_kind["balance sheet"], ["I2022", "I2021"], fid)
    cash = _statement(by_kind["cash flow"], ["FY2022", "FY2021", "FY2020"], fid, cash=True)
    # the cash flow's beginning balances are instants a year earlier, as the real filing tags them
    cash = re.sub(r'contextRef="FY(\d{4})"(?=[^>]*name="aapl:CashCashEquivalentsAndRestrictedCashBeginningBalances")',
                  lambda m: f'contextRef="I{int(m[1]) - 1}"', cash)
    cash = re.sub(r'contextRef="FY(\d{4})"(?=[^>]*name="aapl:CashCashEquivalentsAndRestrictedCashEndingBalances")',
                  lambda m: f'contextRef="I{m[1]}"', cash)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"
 xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:xbrldi="http://xbrl.org/2006/xbrldi"
 xmlns:us-gaap="http://fasb.org/us-gaap/2022" xmlns:dei="http://xbrl.sec.gov/dei/2022"
 xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12" xmlns:aapl="http://www.apple.com/20220924">
<head><title>aapl-20220924</title></head>
<body>
<div style="display:none"><ix:header><ix:hidden>
<ix:nonNumeric name="dei:AmendmentFlag" contextRef="FY2022">false</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalYearFocus" contextRef="FY2022">2022</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalPeriodFocus" contextRef="FY2022">FY</ix:nonNumeric>
<ix:nonNumeric name="dei:EntityCentralIndexKey" contextRef="FY2022">0000320193</ix:nonNumeric>
</ix:hidden><ix:resources>
{_contexts()}
</ix:resources></ix:header></div>
<div><p style="text-align:center"><span>UNITED STATES</span></p>
<p style="text-align:center"><span>SECURITIES AND EXCHANGE COMMISSION</span></p>
<p style="text-align:center"><span>Washington, D.C. 20549</span></p>
<p style="text-align:center"><span>FORM <ix:nonNumeric name="dei:DocumentType" contextRef="FY2022">10-K</ix:nonNumeric></span></p>
<p><span>(Mark One)</span></p>
<table><tr><td><span>&#9746;</span></td><td><span>ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934</span></td></tr></table>
<p style="text-align:center"><span>For the fiscal year ended <ix:nonNumeric name="dei:DocumentPeriodEndDate" contextRef="FY2022" format="ixt:date-monthname-day-year-en">September 24, 2022</ix:nonNumeric></span></p>
<p style="text-align:center"><span>or</span></p>
<table><tr><td><span>&#9744;</span></td><td><span>TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934</span></td></tr></table>
<p style="text-align:center"><span>For the transition period from &#160; to &#160;.</span></p>
<p style="text-align:center"><span>Commission File Number: <ix:nonNumeric name="dei:EntityFileNumber" contextRef="FY2022">001-36743</ix:nonNumeric></span></p>
<p style="text-align:center;font-weight:bold"><span><ix:nonNumeric name="dei:EntityRegistrantName" contextRef="FY2022">Apple Inc.</ix:nonNumeric></span></p>
<p style="text-align:center"><span>(Exact name of Registrant as specified in its charter)</span></p>
<table><tr><td><span><ix:nonNumeric name="dei:EntityIncorporationStateCountryCode" contextRef="FY2022">California</ix:nonNumeric></span></td><td><span>94-2404110</span></td></tr>
<tr><td><span>(State or other jurisdiction of incorporation or organization)</span></td><td><span>(I.R.S. Employer Identification No.)</span></td></tr></table>
<p style="text-align:center"><span>One Apple Park Way, Cupertino, California 95014</span></p>
<p><span>Securities registered pursuant to Section 12(b) of the Act:</span></p>
<table>
<tr><td><span>Title of each class</span></td><td><span>Trading symbol(s)</span></td><td><span>Name of each exchange on which registered</span></td></tr>
<tr><td><span>Common Stock, $0.00001 par value per share</span></td><td><span><ix:nonNumeric name="dei:TradingSymbol" contextRef="FY2022">AAPL</ix:nonNumeric></span></td><td><span>The Nasdaq Stock Market LLC</span></td></tr>
<tr><td><span>1.000% Notes due 2022</span></td><td><span>&#8212;</span></td><td><span>The Nasdaq Stock Market LLC</span></td></tr>
<tr><td><span>1.375% Notes due 2024</span></td><td><span>&#8212;</span></td><td><span>The Nasdaq Stock Market LLC</span></td></tr>
</table>
<p><span>Securities registered pursuant to Section 12(g) of the Act: None</span></p>
<p><span>Indicate by check mark if the Registrant is a well-known seasoned issuer, as defined in Rule 405 of the Securities Act.</span></p>
</div>
{BREAK}
<div><p style="text-align:center;font-weight:bold"><span>TABLE OF CONTENTS</span></p>
<table><tr><td><span>Item 1.</span></td><td><span>Business</span></td><td><span>1</span></td></tr>
<tr><td><span>Item 7.</span></td><td><span>Management&#8217;s Discussion and Analysis of Financial Condition and Results of Operations</span></td><td><span>20</span></td></tr>
<tr><td><span>Item 8.</span></td><td><span>Financial Statements and Supplementary Data</span></td><td><span>28</span></td></tr></table>
</div>
{BREAK}
<div><p style="font-weight:bold"><span>Item 7. Management&#8217;s Discussion and Analysis of Financial Condition and Results of Operations</span></p>
<p><span>The Company&#8217;s total net sales were $<ix:nonFraction unitRef="usd" contextRef="FY2022" decimals="-8" name="us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax" format="ixt:num-dot-decimal" scale="9" id="p-1">394.3</ix:nonFraction> billion during 2022. The Company repurchased $<ix:nonFraction unitRef="usd" contextRef="FY2022" decimals="-8" name="us-gaap:StockRepurchasedDuringPeriodValue" format="ixt:num-dot-decimal" scale="9" id="p-2">90.2</ix:nonFraction> billion of its common stock and paid dividends and dividend equivalents of $<ix:nonFraction unitRef="usd" contextRef="FY2022" decimals="-8" name="us-gaap:PaymentsOfDividends" format="ixt:num-dot-decimal" scale="9" id="p-3">14.8</ix:nonFraction> billion during 2022.</span></p>
</div>
{BREAK}
<div>{income}</div>
{BREAK}
<div>{balance}</div>
{BREAK}
<div>{cash}</div>
{BREAK}
<div><p style="text-align:center;font-weight:bold"><span>SIGNATURES</span></p>
<p><span>Pursuant to the requirements of Section 13 or 15(d) of the Securities Exchange Act of 1934, the Registrant has duly caused this report to be signed on its behalf by the undersigned, thereunto duly authorized.</span></p>
<table><tr><td><span>Date: October 27, 2022</span></td><td><span>Apple Inc.</span></td></tr>
<tr><td></td><td><span>By: /s/ Luca Maestri</span></td></tr>
<tr><td></td><td><span>Luca Maestri Senior Vice President, Chief Financial Officer</span></td></tr></table>
</div>
</body></html>
"""
