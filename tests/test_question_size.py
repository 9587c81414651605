"""Question size is bounded: over-long questions are refused before any work, and the encoders read a fixed window."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings, load_settings
from rag.embeddings import Embedder, SentenceTransformerEmbeddings
from rag.errors import ConfigError
from rag.store import ChunkStore
from rag.types import Answer, Filters
from rag.use_embeddings import UniversalSentenceEncoderEmbeddings

DEALS = "How many license-out deals did Chinese drugmakers conclude in 2025?"


def refusal(length: int, limit: int = 2000) -> str:
    return (f"the question is {length:,} characters long, over the limit of {limit:,} "
            "(SECTORCHAT_MAX_QUESTION_CHARS): ask a shorter question, or raise the setting")


class CountingEmbedder:
    """The real embedder, recording the length of every text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.lengths: list[int] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_offsets(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.lengths += [len(t) for t in texts]
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.lengths.append(len(text))
        # No question this long may get here; stop before the encoder spends a minute and gigabytes on it.
        assert len(text) <= 10_000, f"the encoder was asked to embed a {len(text):,}-character question"
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    tmp = tmp_path_factory.mktemp("size")
    settings = Settings(index=tmp / "index")
    shutil.copytree(CORPUS, tmp / "corpus")
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension)
    assert len(Ingestor(settings, embedder, store).run([tmp / "corpus"]).added) == 2
    return settings.index


def counted(index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
            **settings: Any) -> tuple[Assistant, CountingEmbedder, list[str]]:
    """An assistant on the real index and embedder, with the embedder's texts and the retriever's calls counted."""
    counting = CountingEmbedder(embedder)
    assistant = build_assistant(Settings(index=index, **settings), embedder=counting)
    retrieved: list[str] = []
    real = assistant.retriever.retrieve

    def retrieve(intent: Any, **kwargs: Any) -> Any:
        retrieved.append(intent.question)
        return real(intent, **kwargs)

    monkeypatch.setattr(assistant.retriever, "retrieve", retrieve)
    return assistant, counting, retrieved


@pytest.mark.parametrize("question", [
    "x" * 2001,
    DEALS + " " * (2001 - len(DEALS)),  # trailing white space counts: it is what the client sent
    "2025年对外授权交易的首付款总额是多少？" * 5000,
    f"{DEALS} type:news " * 20_000,  # inline filters are not even read
    "What was the revenue? " * 50_000,  # 1.1M characters
], ids=["2001 x", "2001 padded", "100k Chinese", "filters", "1.1M"])
def test_overlong_question_is_refused_before_any_work(index: Path, embedder: Embedder,
                                                      monkeypatch: pytest.MonkeyPatch, question: str) -> None:
    assistant, counting, retrieved = counted(index, embedder, monkeypatch)
    answer = assistant.ask(question, filters=Filters(doc_types=("news",)))
    message = refusal(len(question))
    assert (answer.error, answer.answer, answer.refusal_reason) == (message, f"Error: {message}", message)
    assert answer.refused and answer.citations == () and answer.figures == () and answer.retrieved == ()
    streamed = list(assistant.stream(question))
    assert streamed[0] == f"Error: {message}" and len(streamed) == 2
    assert isinstance(streamed[1], Answer) and streamed[1].error == message
    assert (counting.lengths, retrieved) == ([], [])  # neither the encoder nor the retriever saw it
    assert answer.timings_ms.keys() == {"total"}


def test_question_at_the_limit_is_answered(index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant, counting, retrieved = counted(index, embedder, monkeypatch)
    question = DEALS + " " * (2000 - len(DEALS))
    answer = assistant.ask(question)
    assert not answer.error and any(f.value == 157 and f.status == "verified" for f in answer.figures)
    assert retrieved == [DEALS.strip()] and counting.lengths[0] == len(DEALS)


def test_limit_is_the_setting(index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant, counting, retrieved = counted(index, embedder, monkeypatch, max_question_chars=40)
    assert assistant.ask(DEALS).error == refusal(len(DEALS), 40)
    assert (counting.lengths, retrieved) == ([], [])
    wide, _, _ = counted(index, embedder, monkeypatch, max_question_chars=5000)
    assert not wide.ask(DEALS + " " * 4000).error


def test_overlong_question_in_the_history_does_not_refuse_the_follow_up(
        index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant, _, retrieved = counted(index, embedder, monkeypatch)
    huge = "x" * 1_000_000
    answer = assistant.ask("and in 2024?", history=[(DEALS, "157"), (huge, f"Error: {refusal(len(huge))}")])
    assert not answer.error and any(f.value == 94 and f.status == "verified" for f in answer.figures)
    assert len(retrieved) == 1 and "x" * 100 not in retrieved[0]


@pytest.mark.parametrize(("value", "reason"), [
    (0, "Input should be greater than or equal to 1"),
    (-5, "Input should be greater than or equal to 1"),
    (100_001, "Input should be less than or equal to 100000"),
    ("lots", "Input should be a valid integer, unable to parse string as an integer"),
])
def test_limit_setting_is_checked_where_it_enters(value: object, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(max_question_chars=value)
    assert str(err.value) == f"invalid settings (env prefix SECTORCHAT_): max_question_chars: {reason}"


# --- the encoders' window --------------------------------------------------------------------------------------

def long_text(kind: str, size: int = 1_000_000) -> str:
    rng = random.Random(7)
    words = {
        "english": "revenue profit upfront milestone payment license deal bispecific antibody increased".split(),
        "chinese": "收入 增长 首付款 里程碑 授权 交易 双抗 恒瑞医药 百济神州 同比".split(),
        "mixed": "Hengrui 恒瑞 RMB 2,356.8 million 38.2% 2025年 PD-1/VEGF (US$) 净利润 —".split(),
    }[kind]
    sep = "" if kind == "chinese" else " "
    out: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(words)
        out.append(w)
        n += len(w) + len(sep)
    return sep.join(out)[:size]


def guard(monkeypatch: pytest.MonkeyPatch, owner: object, bound: int) -> list[int]:
    """Record the length of every text the encoder itself gets; fail before it runs on more than ``bound``."""
    seen: list[int] = []
    real: Callable[..., Any] = owner.encode  # type: ignore[attr-defined]

    def encode(texts: Any, *args: Any, **kwargs: Any) -> Any:
        lengths = [len(t) for t in ([texts] if isinstance(texts, str) else texts)]
        seen.extend(lengths)
        assert max(lengths) <= bound, f"the encoder was given {max(lengths):,} characters"
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(owner, "encode", encode)
    return seen


@pytest.mark.parametrize("kind", ["english", "chinese", "mixed"])
def test_use_reads_the_first_window_of_tokens_of_any_text(embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
                                                          kind: str) -> None:
    from rag.use_embeddings import MAX_INPUT_TOKENS

    assert isinstance(embedder, UniversalSentenceEncoderEmbeddings)
    text = long_text(kind)
    spans = embedder.token_offsets(text[:30_000])
    window, shorter = text[: spans[MAX_INPUT_TOKENS - 1][1]], text[: spans[MAX_INPUT_TOKENS - 2][1]]
    assert embedder.count_tokens([window]) == [MAX_INPUT_TOKENS]
    seen = guard(monkeypatch, embedder.model, len(window))
    whole = np.asarray(embedder.embed_query(text))
    assert seen == [len(window)]  # the encoder got the window, not the million characters
    assert np.array_equal(whole, np.asarray(embedder.embed_query(window)))
    assert not np.array_equal(whole, np.asarray(embedder.embed_query(shorter)))  # the window is not smaller
    short = "恒瑞医药2025年收入"
    docs = np.asarray(embedder.embed_documents([text, short, text[:200_000]]))
    assert np.array_equal(docs[0], whole) and np.array_equal(docs[2], whole)
    assert np.array_equal(docs[1], np.asarray(embedder.embed_query(short)))


@pytest.mark.parametrize("kind", ["english", "chinese", "mixed"])
def test_minilm_reads_the_first_window_of_tokens_of_any_text(minilm: SentenceTransformerEmbeddings,
                                                             monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from rag.embeddings import MAX_CHARS_PER_TOKEN

    text = long_text(kind)
    words = minilm.max_tokens - 2  # [CLS] and [SEP] are part of the model's 256
    spans = minilm.token_offsets(text[:20_000])
    window, shorter = text[: spans[words - 1][1]], text[: spans[words - 2][1]]
    assert minilm.count_tokens([window]) == [words]
    seen = guard(monkeypatch, minilm.model, minilm.max_tokens * MAX_CHARS_PER_TOKEN)
    whole = np.asarray(minilm.embed_query(text))
    assert seen == [minilm.max_tokens * MAX_CHARS_PER_TOKEN]
    assert np.allclose(whole, np.asarray(minilm.embed_query(window)), atol=1e-6)
    assert not np.allclose(whole, np.asarray(minilm.embed_query(shorter)), atol=1e-6)
