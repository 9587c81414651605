"""Embedding backends (SECTORCHAT_EMBEDDING_BACKEND): the setting, the missing-extra error, and ONNX vs torch vectors."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.config import MINILM, Settings, load_settings
from rag.embeddings import (
    SentenceTransformerEmbeddings,
    check_backend,
    export_cache_dir,
    make_embedder,
    missing_backend_packages,
)
from rag.errors import ConfigError

TEXTS = [
    "Domestic pharmaceutical companies concluded 94 license-out deals in 2024, worth $51.9 billion in total.",
    "short",
    "净利润约191.51亿元，同比增长102.65%。第二段：BD交易金额1356.55亿美元",
    "The 44th J.P. Morgan Healthcare Conference was held in the United States from January 12 to 15. " * 12,
    "CXO公司2025年预计营业收入是多少？",
]
ONNX_MISSING = missing_backend_packages("onnx")
OPENVINO_MISSING = missing_backend_packages("openvino")
needs_onnx = pytest.mark.skipif(
    bool(ONNX_MISSING),
    reason=f"optional extra not installed ({', '.join(ONNX_MISSING)}): pip install -c requirements.lock -e '.[onnx]'",
)
needs_openvino = pytest.mark.skipif(
    bool(OPENVINO_MISSING),
    reason=f"optional extra not installed ({', '.join(OPENVINO_MISSING)}): "
    "pip install -c requirements.lock -e '.[openvino]'",
)


def test_default_backend_is_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECTORCHAT_EMBEDDING_BACKEND", raising=False)
    assert Settings().embedding_backend == "torch"
    monkeypatch.setenv("SECTORCHAT_EMBEDDING_BACKEND", "onnx-int8")
    assert Settings().embedding_backend == "onnx-int8"


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="embedding_backend"):
        load_settings(embedding_backend="tensorrt")
    with pytest.raises(ConfigError, match="SECTORCHAT_EMBEDDING_BACKEND"):
        check_backend("tensorrt")


def test_missing_extra_names_the_setting_and_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    with pytest.raises(ConfigError) as err:
        SentenceTransformerEmbeddings(MINILM, backend="onnx")
    msg = str(err.value)
    assert "SECTORCHAT_EMBEDDING_BACKEND=onnx" in msg and "pip install" in msg and ".[onnx]" in msg
    with pytest.raises(ConfigError, match=r"\.\[openvino\]"):
        SentenceTransformerEmbeddings(MINILM, backend="openvino")
    SentenceTransformerEmbeddings(MINILM, backend="torch")  # torch needs no extra


def test_backend_with_the_use_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="numpy"):
        make_embedder(Settings(embedding_model="use-multilingual", embedding_backend="onnx"))


def test_export_cache_dir_is_under_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECTORCHAT_ONNX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert export_cache_dir() == tmp_path / "sectorchat" / "onnx"
    monkeypatch.setenv("SECTORCHAT_ONNX_CACHE", str(tmp_path / "x"))
    assert export_cache_dir() == tmp_path / "x"


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports go to a temporary folder, not the user's cache."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECTORCHAT_ONNX_CACHE", str(folder))
        yield folder


def _vectors(backend: str) -> tuple[SentenceTransformerEmbeddings, np.ndarray]:
    emb = SentenceTransformerEmbeddings(MINILM, batch_size=2, backend=backend)  # batches of mixed lengths
    return emb, np.asarray(emb.embed_documents(TEXTS), dtype=np.float32)


@needs_onnx
def test_onnx_matches_torch(minilm: SentenceTransformerEmbeddings, onnx_cache: Path) -> None:
    ref = np.asarray(minilm.embed_documents(TEXTS), dtype=np.float32)
    emb, vecs = _vectors("onnx")
    assert np.abs(vecs - ref).max() < 1e-4
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert emb.name == minilm.name  # same vectors, same index identity
    assert emb.max_tokens == minilm.max_tokens == 256
    assert emb.count_tokens(TEXTS) == minilm.count_tokens(TEXTS)
    assert emb.token_offsets(TEXTS[2]) == minilm.token_offsets(TEXTS[2])
    assert emb.embed_query(TEXTS[0]) == pytest.approx(vecs[0].tolist(), abs=1e-6)
    assert emb.embed_documents([]) == []
    assert list(onnx_cache.glob("*/model.onnx")), "the export lands in the configured cache folder"


@needs_onnx
def test_onnx_int8_stays_close_to_torch(minilm: SentenceTransformerEmbeddings, onnx_cache: Path) -> None:
    ref = np.asarray(minilm.embed_documents(TEXTS), dtype=np.float32)
    emb, vecs = _vectors("onnx-int8")
    cos = (vecs * ref).sum(1)
    assert cos.min() > 0.995, cos
    assert emb.name == minilm.name
    # nearest passage of each question is unchanged
    assert int(np.argmax(vecs[:4] @ vecs[4])) == int(np.argmax(ref[:4] @ ref[4]))


@needs_openvino
def test_openvino_matches_torch(minilm: SentenceTransformerEmbeddings, onnx_cache: Path) -> None:
    ref = np.asarray(minilm.embed_documents(TEXTS), dtype=np.float32)
    _, vecs = _vectors("openvino")
    assert np.abs(vecs - ref).max() < 1e-3


def test_counting_tokens_in_one_thread_leaves_the_encoders_tokenizer_alone(
    minilm: SentenceTransformerEmbeddings,
) -> None:
    # The ingest loader thread counts tokens (chunking) while the writer thread encodes. A fast tokenizer's
    # padding setting is shared state that each call resets, so counting on the encoder's own tokenizer broke
    # encodes of texts of different lengths ("Unable to create tensor ... padding=True").
    shared = minilm.tokenizer._tokenizer
    shared.enable_padding()
    try:
        assert minilm.count_tokens(["one two three", "four"]) == [3, 1]
        assert minilm.token_offsets("one two") == [(0, 3), (4, 7)]
        assert shared.padding is not None
    finally:
        shared.no_padding()


def test_encoding_while_another_thread_counts_tokens(minilm: SentenceTransformerEmbeddings) -> None:
    import threading

    texts = [" ".join(["word"] * n) for n in (3, 40, 90, 7, 150, 22, 64, 5)]
    stop = threading.Event()
    errors: list[str] = []

    def count() -> None:
        while not stop.is_set():
            minilm.count_tokens(texts[:4])

    counter = threading.Thread(target=count)
    counter.start()
    try:
        for _ in range(8):
            try:
                assert len(minilm.embed_documents(texts)) == len(texts)
            except ValueError as exc:
                errors.append(str(exc)[:80])
    finally:
        stop.set()
        counter.join()
    assert errors == []
