"""Settings: every knob of sectorchat, read from arguments or SECTORCHAT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

MINILM = "all-MiniLM-L6-v2"
USE_MULTILINGUAL = "universal-sentence-encoder-multilingual-3"
# Chosen on the eval suites (README "Embedding model"): same scores as MiniLM, multilingual, ~7x faster answers.
DEFAULT_EMBEDDING_MODEL = USE_MULTILINGUAL


class Settings(BaseSettings):
    """All settings; built once at an entry point and passed down.

    Every field can be set with an environment variable ``SECTORCHAT_<FIELD>`` (for example
    ``SECTORCHAT_INDEX=/data/idx``) or passed as a keyword argument.
    """

    model_config = SettingsConfigDict(env_prefix="SECTORCHAT_", extra="forbid", frozen=True)

    index: Path = Field(default=Path("index"), description="Folder of the embedded index (Chroma + side files).")
    chroma_host: str | None = Field(default=None, description="Chroma server host; unset means embedded Chroma.")
    chroma_port: int = Field(default=8000, ge=1, le=65535, description="Chroma server port.")
    collection: str = Field(default="sectorchat", description="Name of the Chroma collection of chunks.")
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="'universal-sentence-encoder-multilingual-3' (alias 'use-multilingual'), 'all-MiniLM-L6-v2' "
        "(both packaged), or a path to a local sentence-transformers model folder.",
    )
    embedding_backend: Literal["torch", "onnx", "onnx-int8", "openvino"] = Field(
        default="torch",
        description="How a sentence-transformers model runs: 'torch', or from a one-time local ONNX export "
        "'onnx' (ONNX Runtime), 'onnx-int8' (8-bit weights) or 'openvino'; these need pip install 'sectorchat[onnx]' "
        "(openvino: 'sectorchat[openvino]'). The USE model always runs on numpy.",
    )
    embed_batch_size: int = Field(default=32, ge=1, le=4096, description="Texts per embedding batch.")
    write_batch: int = Field(
        default=2048, ge=1, le=100_000,
        description="Chunks an ingest run collects before it writes them (and switches their documents) at once.",
    )
    chunk_tokens: int = Field(default=200, ge=32, description="Largest chunk, in tokens of the embedding model.")
    chunk_overlap: int = Field(default=40, ge=0, description="Tokens of trailing sentences repeated in the next chunk.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Files larger than this are refused.")
    llm: str = Field(
        default="extractive", description="Answer backend: 'extractive', 'openai:MODEL' or 'gguf:/path/model.gguf'."
    )
    llm_base_url: str = Field(
        default="http://127.0.0.1:11434/v1", description="OpenAI-compatible endpoint (default: a local Ollama)."
    )
    llm_model: str = Field(default="", description="Model name for SECTORCHAT_LLM=openai.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key of the endpoint (never logged).")
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds before an LLM call is given up.")
    llm_fallback: bool = Field(
        default=True, description="Show the extractive answer when the LLM answer has an unverified figure."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Chunks passed to the answer backend.")
    # A 1M-character question took 1-2 minutes and 4.5 GB in Assistant.ask before it was refused at once
    # (benchmarks/results/question_size.md); the ceiling keeps a setting from turning that protection off.
    max_question_chars: int = Field(
        default=2000, ge=1, le=100_000,
        description="Longest question, in characters, that is answered; longer ones are refused at once.",
    )
    reranker: str = Field(
        default="features", description="'features' (default), 'none', or 'cross-encoder:/path/to/model'."
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be less than chunk_tokens.")
        if self.llm != "extractive" and not self.llm.startswith(("openai", "gguf:")):
            raise ValueError("llm must be 'extractive', 'openai:MODEL' or 'gguf:/path/model.gguf'.")
        if self.reranker not in ("features", "none") and not self.reranker.startswith("cross-encoder:"):
            raise ValueError("reranker must be 'features', 'none' or 'cross-encoder:/path/to/model'.")
        if not self.collection or len(self.collection) < 3:
            raise ValueError("collection must have at least 3 characters.")
        return self

    @property
    def chunks_collection(self) -> str:
        return self.collection

    @property
    def documents_collection(self) -> str:
        return f"{self.collection}-documents"


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment plus explicit overrides, as a ConfigError on bad values.

    Raises:
        ConfigError: naming each field that was wrong and why.
    """
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings (env prefix SECTORCHAT_): {problems}") from exc
