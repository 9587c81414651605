"""Market data asked without a year ("最近成交额", "基金净值"): the sentence that names the asked item answers, not
the card's first line (its time or fund code); a question that gives amounts to compute with is not answered by
quoting one of its inputs as if it were the result. Passages are FinEval quote cards (../shared/benchmarks)."""

from __future__ import annotations


import pytest

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.query import analyze
from rag.store import ChunkStore
from rag.types import Chunk
from rag.verify import check_figures

STOCK = ("文章标题：2025年05月15日沈阳化工成交量(成交数量)、成交额。 发布时间：2025年05月15日 星期四 文章内容：沈阳化工（沈阳化工"
         "(000698.sz)）属于深圳证券交易所，当前时间为2025年05月15日22时24分，当日为交易日，当前市场交易状态为：已收盘；2025年05月15日"
         "截止目前沈阳化工的当前价为3.70元、最高价为3.78元、最低价为3.69元、涨跌幅为-0.54%、涨跌额为-0.02元；2025年05月15日沈阳化工"
         "的成交量为20.11万手、上一交易日2025年05月14日成交金额为8495.01万元、成交额为7509.19万元。\n")
FUND = ("文章标题：2025年05月14日光大阳光启明星创新驱动主题混合C单位净值(基金净值)。 发布时间：2025年05月14日 星期三 文章内容："
        "光大阳光启明星创新驱动主题混合C（光大阳光启明星创新驱动主题混合型集合资产管理计划c类）基金代码为860053；基金成立时间为20200818；"
        "截止2025年05月14日光大阳光启明星创新驱动主题混合C单位净值(基金净值)为0.6812。\n")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    tmp = tmp_path_factory.mktemp("market")
    (tmp / "docs").mkdir()
    (tmp / "docs" / "stock.txt").write_text(STOCK, encoding="utf-8")
    (tmp / "docs" / "fund.txt").write_text(FUND, encoding="utf-8")
    s = Settings(index=tmp / "index")
    Ingestor(s, embedder, ChunkStore(s, model_name=embedder.name, dimension=embedder.dimension)).run([tmp / "docs"])
    return build_assistant(s, embedder=embedder)


def test_the_sentence_naming_the_asked_item_answers(assistant: Assistant) -> None:
    a = assistant.ask("沈阳化工(000698.SZ)最近成交额是多少")
    assert "成交额为7509.19万元" in a.answer and "22时24分" not in a.answer
    assert ("7509.19万元", 75_091_900.0, "verified") in [(f.text, f.value, f.status) for f in a.figures]
    b = assistant.ask("光大阳光启明星创新驱动主题混合C基金净值是多少")
    assert b.answer.startswith("截止2025年05月14日光大阳光启明星创新驱动主题混合C单位净值(基金净值)为0.6812。")
    assert [(f.text, f.status) for f in b.figures] == [("0.6812", "verified")]


def test_an_input_of_the_asked_computation_is_only_quoted() -> None:
    chunk = Chunk(id="c", text=FUND, source="fund.txt", title="", doc_type="other", date="", publisher="", company="",
                  tickers=(), language="zh", page=None, char_start=0, char_end=len(FUND))
    q = analyze("光大阳光启明星创新驱动主题混合C当前净值0.6812，持有3284份价值多少？")
    got = check_figures("单位净值为0.6812 [1]", [chunk], q)
    assert [(f.text, f.status) for f in got] == [("0.6812", "quoted")]
    assert got[0].reason.endswith("as an input of the computation the question asks for, not its result")
