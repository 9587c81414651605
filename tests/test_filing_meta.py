"""Filing metadata read from the documents themselves: the eight real shared filings and three Chinese filings
built to the layouts of A-share and HKEX reports. Every field of every document, exactly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FILINGS
from zh_filings import ZhFiling, build_all

from ingest.filing import FilingFacts, load_forms, recognise
from ingest.loaders import load_document
from ingest.metadata import build_meta, date_from_name
from rag.types import DocumentMeta

needs_filings = pytest.mark.skipif(not (FILINGS / "APPLE_2022_10K.pdf").is_file(),
                                   reason=f"the shared filings are not in {FILINGS} (a clone without ../shared)")

FIELDS = ("title", "company", "tickers", "form", "doc_type", "fiscal_year", "period_end", "period_type", "date",
          "language")
# What each shared filing says it is, read by hand from its cover, first pages and signatures page.
SHARED: dict[str, dict[str, Any]] = {
    "APPLE_2022_10K.pdf": dict(
        title="Apple Inc. — Form 10-K for the fiscal year ended September 24, 2022", company="Apple Inc.",
        tickers=("AAPL",), form="10-K", doc_type="filing", fiscal_year=2022, period_end="2022-09-24",
        period_type="FY", date="2022-10-27", language="en"),
    "ORACLE_2023_10K.pdf": dict(
        title="Oracle Corporation — Form 10-K for the fiscal year ended May 31, 2023", company="Oracle Corporation",
        tickers=("ORCL",), form="10-K", doc_type="filing", fiscal_year=2023, period_end="2023-05-31",
        period_type="FY", date="2023-06-20", language="en"),
    "MCDONALDS_2022_10K.pdf": dict(
        title="McDonald’s Corporation — Form 10-K for the fiscal year ended December 31, 2022",
        company="McDonald’s Corporation", tickers=("MCD",), form="10-K", doc_type="filing", fiscal_year=2022,
        period_end="2022-12-31", period_type="FY", date="2023-02-24", language="en"),
    "FEDEX_2023_annualreport.pdf": dict(
        title="FedEx Corporation — 2023 Annual Report (with its Form 10-K for the fiscal year ended May 31, 2023)",
        company="FedEx Corporation", tickers=("FDX",), form="annual report", doc_type="filing", fiscal_year=2023,
        period_end="2023-05-31", period_type="FY", date="2023-07-17", language="en"),
    "EBAY_2023Q2_10Q.pdf": dict(
        title="eBay Inc. — Form 10-Q for the quarterly period ended June 30, 2023", company="eBay Inc.",
        tickers=("EBAY",), form="10-Q", doc_type="filing", fiscal_year=2023, period_end="2023-06-30",
        period_type="Q2", date="2023-07-27", language="en"),
    "EBAY_2023Q1_8K.pdf": dict(
        title="eBay Inc. — Form 8-K of February 7, 2023", company="eBay Inc.", tickers=("EBAY",), form="8-K",
        doc_type="filing", fiscal_year=None, period_end="", period_type="", date="2023-02-07", language="en"),
    "INTEL_2022Q4_EARNINGS.pdf": dict(
        title="Intel Reports Fourth-Quarter and Full-Year 2022 Financial Results", company="Intel Corporation",
        tickers=("INTC",), form="earnings release", doc_type="filing", fiscal_year=2022, period_end="2022-12-31",
        period_type="Q4", date="2023-01-26", language="en"),
    "SALESFORCE_2024Q1_EARNINGS.pdf": dict(
        title="Salesforce Announces Strong First Quarter Fiscal 2024 Results", company="Salesforce, Inc.",
        tickers=("CRM",), form="earnings release", doc_type="filing", fiscal_year=2024, period_end="2023-04-30",
        period_type="Q1", date="2023-05-31", language="en"),
}


def fields_of(meta: DocumentMeta) -> dict[str, Any]:
    return {k: getattr(meta, k) for k in FIELDS}


@pytest.fixture(scope="module")
def shared_meta() -> dict[str, DocumentMeta]:
    out = {}
    for name in SHARED:
        path = FILINGS / name
        # the file is read under a neutral name: nothing may come from "APPLE_2022_10K"
        out[name] = load_document(path.read_bytes(), source=f"/in/{name}", file_name="upload.pdf").meta
    return out


@needs_filings
@pytest.mark.parametrize("name", sorted(SHARED))
def test_a_shared_filing_says_what_it_is(shared_meta: dict[str, DocumentMeta], name: str) -> None:
    assert fields_of(shared_meta[name]) == SHARED[name]


@pytest.fixture(scope="module")
def chinese(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[ZhFiling, DocumentMeta]]:
    folder = tmp_path_factory.mktemp("zh")
    return [(z, load_document(p.read_bytes(), source=str(p), file_name=p.name).meta) for p, z in build_all(folder)]


def test_chinese_filings_say_what_they_are(chinese: list[tuple[ZhFiling, DocumentMeta]]) -> None:
    got = {z.file_name: fields_of(m) for z, m in chinese}
    assert got == {
        "report_a.pdf": dict(title="澄川生物医药股份有限公司 2025年年度报告", company="澄川生物医药股份有限公司",
                             tickers=("688917.SH",), form="年度报告", doc_type="filing", fiscal_year=2025,
                             period_end="2025-12-31", period_type="FY", date="2026-03-28", language="zh"),
        "report_b.pdf": dict(title="岳澜精密制造股份有限公司 2025年半年度报告", company="岳澜精密制造股份有限公司",
                             tickers=("301873.SZ",), form="半年度报告", doc_type="filing", fiscal_year=2025,
                             period_end="2025-06-30", period_type="H1", date="2025-08-26", language="zh"),
        "report_c.pdf": dict(title="衡岚生物科技有限公司 截至2025年6月30日止六个月之中期业绩公告",
                             company="衡岚生物科技有限公司", tickers=("2976.HK",), form="业绩公告", doc_type="filing",
                             fiscal_year=2025, period_end="2025-06-30", period_type="H1", date="2025-08-20",
                             language="zh"),
    }
    # and they agree with what the builder put on the page
    for z, m in chinese:
        assert (m.company, m.tickers, m.form, m.fiscal_year, m.period_end, m.period_type, m.date) == (
            z.company, z.tickers, z.form, z.fiscal_year, z.period_end, z.period_type, z.date)


def test_chunks_carry_the_typed_fields(chinese: list[tuple[ZhFiling, DocumentMeta]], minilm: Any) -> None:
    from ingest.chunking import Chunker
    from rag.types import LoadedDocument, Page

    _, meta = chinese[0]
    doc = LoadedDocument("/x/report_a.pdf", meta, (Page("营业收入为人民币1,234万元。" * 3, 1),))
    chunk = Chunker(minilm.count_tokens, minilm.token_offsets, max_tokens=200, overlap=20).chunk(doc)[0]
    assert (chunk.company, chunk.tickers, chunk.form, chunk.fiscal_year, chunk.period_end, chunk.period_type) == (
        "澄川生物医药股份有限公司", ("688917.SH",), "年度报告", 2025, "2025-12-31", "FY")


def test_an_accession_number_is_never_a_title_and_a_bare_year_in_a_name_is_never_a_date() -> None:
    meta, _ = build_meta({}, text="Some text without a cover.", file_name="PFIZER_2018_10K.pdf",
                         fallback_title="0000078003-19-000015")
    assert (meta.title, meta.date) == ("Some text without a cover.", "")
    assert date_from_name("PFIZER_2018_10K.pdf") == ""
    assert date_from_name("report-2026-01-13.pdf") == "2026-01-13"
    assert date_from_name("note_20260113.md") == "2026-01-13"


def test_a_news_article_about_a_report_is_no_filing() -> None:
    article = "恒瑞医药发布2025年年度报告\n公司营业收入同比增长。分析师认为……"
    assert recognise([article]) == FilingFacts()
    assert recognise(["Acme posts record quarterly results, analysts say"], releases=False) == FilingFacts()


def test_the_forms_vocabulary_is_checked_when_loaded(tmp_path: Path) -> None:
    forms = load_forms()
    assert {"10-K", "10-Q", "8-K", "20-F", "6-K", "earnings release", "annual report", "年度报告", "半年度报告",
            "季度报告", "业绩预告", "业绩公告", "公告"} <= {f.name for f in forms}
    cases = {
        "forms: [{name: X, kind: sec, cover: 'FORM X', period: FY, extra: 1}]": "needs exactly the keys",
        "forms: [{name: X, kind: blog, cover: 'FORM X', period: FY}]": "kind 'blog' is not one of",
        "forms: [{name: X, kind: sec, cover: 'FORM (X', period: FY}]": "cover is not a regular expression",
        "forms: [{name: X, kind: sec, cover: 'FORM X', period: Q9}]": "period 'Q9' is not",
        "other: 1": "expected a mapping with a 'forms' list",
    }
    for text, message in cases.items():
        path = tmp_path / "forms.yaml"
        path.write_text(text, encoding="utf-8")
        load_forms.cache_clear()
        try:
            with pytest.raises(ValueError, match=re.escape(message)):
                load_forms(path)
        finally:
            load_forms.cache_clear()
