"""The encoder Protocol and its implementations.

sentence-transformers is imported lazily, so `import dedup` stays cheap and the logic tests can run
with the deterministic `HashEncoder`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import DedupError, EncoderError, ModelError

_SURROGATES = re.compile("[\ud800-\udfff]")
#: `hash` or `hash-DIM`: the HashEncoder, for tests and dry runs (no model is loaded).
_HASH_NAME = re.compile(r"hash(?:-([1-9][0-9]{0,3}))?")
#: A text whose letters are at least this share unknown to the model's vocabulary cannot be compared.
UNKNOWN_SCRIPT_SHARE = 0.5
_SCRIPT_SAMPLE = 2000  # characters of a text inspected for unknown letters
_KNOWN_CHARS = "known_chars.txt"  # letters of the default model's vocabulary, one string
_SCREENED = "screened.json"  # verdicts on texts with other letters (text hash -> share, letter)
_SCREENED_MAX = 200_000


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns passages into vectors."""

    name: str

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array, one row per text."""
        ...


def check_vectors(vectors: Any, n: int, dim: int | None = None, *, what: str = "encoder") -> np.ndarray:
    """Validate vectors at the boundary: 2-D, n rows, finite, float32; returns a C-contiguous copy."""
    try:
        arr = np.array(vectors, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as exc:
        raise EncoderError(f"{what} returned something that is not a numeric array: {exc}") from exc
    if arr.ndim != 2:
        raise EncoderError(f"{what} returned an array of shape {arr.shape}; expected (n, dim)")
    if arr.shape[0] != n:
        raise EncoderError(f"{what} returned {arr.shape[0]} vectors for {n} texts")
    if dim is not None and arr.shape[1] != dim:
        raise EncoderError(f"{what} returned dimension {arr.shape[1]}; expected {dim}")
    if arr.shape[1] == 0:
        raise EncoderError(f"{what} returned vectors of dimension 0")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise EncoderError(
            f"{what} returned non-finite values (NaN or inf) for {int(bad.sum())} of {n} texts "
            f"(first at row {int(np.argmax(bad))})"
        )
    return np.ascontiguousarray(arr)


class HashEncoder:
    """A tiny deterministic encoder (hashed character 3-grams, random projection).

    For tests and dry runs only: it knows no language, so translations are not close.
    """

    cacheable = False  # cheaper to recompute than to look up

    def __init__(self, dim: int = 64, seed: int = 0) -> None:
        self.name = f"hash-{dim}"
        self._dim = dim
        self._seed = seed

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, t in enumerate(texts):
            s = f"  {t.lower()}  "
            for j in range(len(s) - 2):
                h = hashlib.blake2b(s[j : j + 3].encode("utf-8", "surrogatepass"), digest_size=8).digest()
                k = int.from_bytes(h[:4], "little") % self._dim
                out[i, k] += 1.0 if h[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm > 0 else 1.0 / np.sqrt(self._dim)
        return out


class SentenceTransformerEncoder:
    """A sentence-transformers model by name or path; `e5-small` is the built default model."""

    def __init__(
        self,
        model: str = "e5-small",
        *,
        device: str | None = None,
        batch_size: int = 32,
        progress: bool = False,
    ) -> None:
        self.name = model
        self._device = device
        self._batch_size = batch_size
        self._progress = progress
        self._model: Any = None
        self._prompt: str | None = None
        self._known_chars: frozenset[str] | None = None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        from . import model as model_mod

        check_model(self.name)
        if model_mod.is_default_model(self.name):
            path = str(model_mod.ensure_default_model(progress=self._progress))
        else:
            path = self.name
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not self._progress:
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
            except Exception:  # noqa: BLE001 - cosmetic only
                pass
        try:
            from sentence_transformers import SentenceTransformer

            m = SentenceTransformer(path, device=self._device or "cpu")
        except Exception as exc:  # noqa: BLE001 - many failure types from hub/loaders
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(
                f"cannot load model {self.name!r}: {msg} (give a local sentence-transformers "
                "directory or a model name available offline; the default is e5-small)"
            ) from exc
        prompts = getattr(m, "prompts", None) or {}
        if "passage" in prompts:
            self._prompt = "passage"
        elif "e5" in self.name.lower():
            m.prompts = {**prompts, "passage": "passage: "}
            self._prompt = "passage"
        self._model = m
        return m

    @property
    def dim(self) -> int:
        m = self._load()
        get_dim = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        m = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = m.encode(
            [_SURROGATES.sub("\ufffd", t) for t in texts],  # the tokenizer rejects lone surrogates
            batch_size=self._batch_size,
            prompt_name=self._prompt,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def _known_chars_path(self) -> Path | None:
        """Where the letters known to the default model's tokenizer are kept (None: elsewhere)."""
        from . import model as model_mod

        if not model_mod.is_default_model(self.name.split(":")[0]):
            return None
        path = model_mod.default_model_dir()
        return path / _KNOWN_CHARS if path.is_dir() else None

    def unknown_letters(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """Per text: the share of its letters (of the first 2,000 characters) that the model's
        tokenizer maps to the unknown token, and one such letter ("" when none).

        For the default model, the letters of its tokenizer's vocabulary and the verdicts on the
        texts that had other letters are kept beside the model, so that a text whose letters are
        all in the vocabulary (nearly every text), or that was checked before (every text of a
        re-run), needs neither the model nor its tokenizer.
        """
        path = self._known_chars_path()
        if self._known_chars is None and path is not None and path.is_file():
            with contextlib.suppress(OSError, UnicodeError):
                self._known_chars = frozenset(path.read_text(encoding="utf-8"))
        known = self._known_chars
        if known is None or path is None:
            verdicts = self._unknown_letters_tokenized(texts)
            if path is not None and self._known_chars is not None:  # for the next run
                with contextlib.suppress(OSError):
                    tmp = path.with_name(f".{path.name}.{os.getpid()}")
                    tmp.write_text("".join(sorted(self._known_chars)), encoding="utf-8")
                    os.replace(tmp, path)
            return verdicts
        out: list[tuple[float, str]] = [(0.0, "")] * len(texts)
        todo = [k for k, t in enumerate(texts) if any(ch.isalpha() for ch in set(t[:_SCRIPT_SAMPLE]) - known)]
        if not todo:
            return out
        memo_path = path.with_name(_SCREENED)
        memo: dict[str, list[Any]] = {}
        with contextlib.suppress(OSError, ValueError):
            memo = dict(json.loads(memo_path.read_text(encoding="utf-8")))
        keys = {
            k: hashlib.blake2b(
                texts[k][:_SCRIPT_SAMPLE].encode("utf-8", "surrogatepass"), digest_size=12
            ).hexdigest()
            for k in todo
        }
        need = [k for k in todo if keys[k] not in memo]
        if need:
            got = self._unknown_letters_tokenized([texts[k] for k in need])
            for k, verdict in zip(need, got, strict=True):
                memo[keys[k]] = [verdict[0], verdict[1]]
            if len(memo) <= _SCREENED_MAX:
                with contextlib.suppress(OSError):
                    tmp = memo_path.with_name(f".{memo_path.name}.{os.getpid()}")
                    tmp.write_text(json.dumps(memo), encoding="utf-8")
                    os.replace(tmp, memo_path)
        for k in todo:
            share, ch = memo[keys[k]]
            out[k] = (float(share), str(ch))
        return out

    def _unknown_letters_tokenized(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        m = self._load()
        tok = getattr(m, "tokenizer", None)
        backend = getattr(tok, "backend_tokenizer", None)
        unk = getattr(tok, "unk_token_id", None)
        out: list[tuple[float, str]] = [(0.0, "")] * len(texts)
        if tok is None or backend is None or unk is None:
            return out  # no fast tokenizer or no unknown token (byte-level): every letter is known
        if self._known_chars is None:
            self._known_chars = frozenset("".join(tok.get_vocab()))
        known = self._known_chars
        # Fast path: a text whose letters all occur in the vocabulary needs no tokenizing.
        todo = [k for k, t in enumerate(texts) if any(ch.isalpha() for ch in set(t[:_SCRIPT_SAMPLE]) - known)]
        if not todo:
            return out
        samples = [_SURROGATES.sub("\ufffd", texts[k][:_SCRIPT_SAMPLE]) for k in todo]
        encoded = backend.encode_batch(samples, add_special_tokens=False)
        for k, sample, enc in zip(todo, samples, encoded, strict=True):
            letters = sum(1 for ch in sample if ch.isalpha())
            unknown = [
                ch
                for i, (a, b) in zip(enc.ids, enc.offsets, strict=False)
                if i == unk
                for ch in sample[a:b]
                if ch.isalpha()
            ]
            if letters and unknown:
                out[k] = (len(unknown) / letters, unknown[0])
        return out


def script_name(ch: str) -> str:
    """The Unicode script of a letter as its character name spells it ("Ol Chiki", "Cuneiform")."""
    name = unicodedata.name(ch, "")
    for word in (" LETTER", " SYLLABLE", " SIGN", " CHARACTER", " IDEOGRAPH", " HIEROGLYPH", " DIGIT"):
        at = name.find(word)
        if at > 0:
            return name[:at].title()
    return "unknown script"


def unknown_script(
    encoder: Any, texts: Sequence[str], *, threshold: float = UNKNOWN_SCRIPT_SHARE
) -> list[str | None]:
    """Per text: why the encoder cannot compare it (written in a script its vocabulary lacks), or None.

    Such texts embed to nearly the same vector whatever they say (every word is the unknown
    token), so two unrelated ones would look like duplicates. Encoders without an
    `unknown_letters(texts)` method know every script.
    """
    fn = getattr(encoder, "unknown_letters", None)
    if fn is None:
        return [None] * len(texts)
    # the model as the user named it (the int8 encoder's name also carries its precision)
    name = getattr(encoder, "model_name", None) or getattr(encoder, "name", type(encoder).__name__)
    out: list[str | None] = []
    for share, ch in fn(texts):
        if ch and share >= threshold:
            out.append(
                f"text is in a script the model {name!r} does not know ({script_name(ch)}, e.g. {ch!r} "
                f"U+{ord(ch):04X}: {share:.0%} of its letters are unknown to the model), so it cannot be "
                "compared with other texts"
            )
        else:
            out.append(None)
    return out


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CheckedEncoder:
    """Wraps an encoder so that every `encode` is validated at the boundary.

    Each output must be (n, dim) and finite, where dim is the encoder's declared `dim` (or, if it
    declares none, the dimension of its first output); an exception from the encoder becomes an
    `EncoderError`. Every message names the encoder. Other attributes are the wrapped encoder's.
    """

    def __init__(self, inner: Any) -> None:
        if not callable(getattr(inner, "encode", None)):
            raise ModelError(f"{inner!r} is neither a model name nor an object with an encode() method")
        self.inner = inner
        self.name = str(getattr(inner, "name", None) or type(inner).__name__)
        self._dim: int | None = None
        self._declared_checked = False

    def __getattr__(self, attr: str) -> Any:  # only called for attributes not found on self
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def _declared(self) -> int | None:
        try:
            d = getattr(self.inner, "dim", None)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - a custom encoder's property
            raise EncoderError(
                f"encoder {self.name!r} failed to report its dimension: {_one_line(exc)}"
            ) from exc
        if d is None:
            return None
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or int(d) < 1:
            raise EncoderError(f"encoder {self.name!r} declares dimension {d!r}; expected a positive integer")
        return int(d)

    @property
    def dim(self) -> int:
        if self._dim is None and not self._declared_checked:
            self._dim = self._declared()
            self._declared_checked = True
        if self._dim is None:  # nothing declared and nothing encoded yet
            self._dim = int(self.encode(["dimension probe"]).shape[1])
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if self._dim is None and not self._declared_checked:
            self._dim = self._declared()
            self._declared_checked = True
        try:
            out = self.inner.encode(texts)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a custom or third-party encoder raises
            raise EncoderError(
                f"encoder {self.name!r} failed on a batch of {len(texts)} texts: {_one_line(exc)}"
            ) from exc
        vec = check_vectors(out, len(texts), self._dim, what=f"encoder {self.name!r}")
        if self._dim is None:
            self._dim = int(vec.shape[1])
        return vec


def validated(encoder: Any) -> CheckedEncoder:
    """`encoder` wrapped in a `CheckedEncoder` (unchanged if it already is one)."""
    return encoder if isinstance(encoder, CheckedEncoder) else CheckedEncoder(encoder)


def check_model(name: str) -> None:
    """Raise ModelError at once for a model name that cannot be loaded, without loading anything.

    Accepted: the built-in names (e5-small, ...), `hash`/`hash-DIM`, a local directory with a
    modules.json or config.json, and a Hugging Face name that is in the local cache (or any
    name when downloads are allowed, i.e. HF_HUB_OFFLINE=0).
    """
    from . import model as model_mod

    if not isinstance(name, str) or not name.strip():
        raise ModelError("empty model name (use e5-small, a local sentence-transformers directory or a name)")
    if model_mod.is_default_model(name) or _HASH_NAME.fullmatch(name):
        return
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model {name!r} is a file; give a sentence-transformers model directory")
        if not any((path / f).is_file() for f in ("modules.json", "config.json")):
            raise ModelError(
                f"model directory {name!r} holds no sentence-transformers model (no modules.json or "
                "config.json in it)"
            )
        return
    if name.startswith((".", "/", "~", "\\")) or name.count("/") > 1 or os.sep != "/" and os.sep in name:
        raise ModelError(f"model directory not found: {name}")
    offline = os.environ.get("HF_HUB_OFFLINE", "1").strip().lower() not in ("0", "false", "no", "off", "")
    if offline and not _in_hf_cache(name):
        raise ModelError(
            f"unknown model {name!r}: not a built-in name (e5-small), not a local directory, and not "
            "in the Hugging Face cache (dedup works offline: give a local sentence-transformers "
            "directory, or download the model first)"
        )


def _in_hf_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        return True  # cannot tell: let the loader decide
    repos = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo in repos:
        for filename in ("modules.json", "config.json"):
            try:
                found = try_to_load_from_cache(repo, filename)
            except Exception:  # noqa: BLE001 - not a valid repository id
                continue
            if isinstance(found, str):
                return True
    return False


class _TokenizerShim:
    """What `SentenceTransformerEncoder.unknown_letters` needs of a tokenizer, over `tokenizers`."""

    def __init__(self, tok: Any) -> None:
        self.backend_tokenizer = tok
        self.unk_token_id = tok.token_to_id("<unk>")

    def get_vocab(self) -> dict[str, int]:
        return dict(self.backend_tokenizer.get_vocab())


class _OrtSentenceModel:
    """The int8 ONNX graph (pooling and normalisation inside) behind the small part of the
    SentenceTransformer interface that `SentenceTransformerEncoder` uses. Texts are sorted by
    token count before batching, so a batch carries little padding."""

    def __init__(self, path: Path, threads: int | None = None, max_length: int = 512) -> None:
        import json

        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(max_length)
        tok.no_padding()
        self._tok = tok
        self._pad = tok.token_to_id("<pad>")
        self._pad = 1 if self._pad is None else int(self._pad)
        self.tokenizer = _TokenizerShim(tok)
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self._dim = int(json.loads((path / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self._path = path
        self._threads = threads
        self._session: Any = None  # loaded on the first encode (a re-run from the cache needs none)

    def _sess(self) -> Any:
        if self._session is None:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = self._threads or _cpu_count()
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(
                str(self._path / "model.onnx"), so, providers=["CPUExecutionProvider"]
            )
        return self._session

    #: padded tokens per batch: a batch of long passages is cut short, which keeps the attention
    #: buffers (and the peak memory) small and runs faster on two cores than 32 long texts at once
    max_batch_tokens = 4096

    def get_sentence_embedding_dimension(self) -> int:
        return self._dim

    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        prompt_name: str | None = None,
        **_: Any,
    ) -> np.ndarray:
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        enc = self._tok.encode_batch([prefix + s for s in sentences])
        lengths = np.array([len(e.ids) for e in enc], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(sentences), self._dim), dtype=np.float32)
        for idx in _token_batches(lengths[order], batch_size, self.max_batch_tokens):
            idx = order[idx]
            width = int(lengths[idx].max()) if idx.size else 0
            ids = np.full((idx.size, width), self._pad, dtype=np.int64)
            mask = np.zeros((idx.size, width), dtype=np.int64)
            for j, k in enumerate(idx.tolist()):
                row = enc[k].ids
                ids[j, : len(row)] = row
                mask[j, : len(row)] = 1
            out[idx] = self._sess().run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


def _token_batches(lengths: np.ndarray, batch_size: int, max_tokens: int) -> list[np.ndarray]:
    """Consecutive batches of positions in `lengths` (sorted longest first): at most `batch_size`
    texts and at most `max_tokens` padded tokens each (one long text may exceed it alone)."""
    out: list[np.ndarray] = []
    start, n = 0, len(lengths)
    while start < n:
        per = max(1, min(batch_size, max_tokens // max(1, int(lengths[start]))))
        out.append(np.arange(start, min(n, start + per)))
        start += per
    return out


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Int8OnnxEncoder(SentenceTransformerEncoder):
    """The default model (e5-small) as an int8 ONNX Runtime graph on the CPU.

    Built once beside the fp32 model (`dedup.model.ensure_int8_model`): MatMul and attention
    weights quantised to int8 per channel, activations quantised on the fly (VNNI on AVX-512
    CPUs), each token's activations with their own scale, so a text's vector does not depend on
    the texts batched with it. About three times as fast as the fp32 model on two cores;
    embeddings keep a mean cosine of 0.999 with fp32 ones (see benchmarks/README.md). Named
    `<model>:int8`; its vectors are cached apart from fp32 ones and from other graph formats.
    """

    precision = "int8"

    def __init__(
        self,
        model: str = "e5-small",
        *,
        batch_size: int = 32,
        progress: bool = False,
        threads: int | None = None,
    ) -> None:
        super().__init__(model, device="cpu", batch_size=batch_size, progress=progress)
        self.name = f"{model}:int8"
        self.model_name = model
        from .model import INT8_FORMAT

        # vectors of another build of the graph (format) are cached apart
        self.cache_key = f"{self.name}/graph{INT8_FORMAT}"
        self._threads = threads

    def _dir(self) -> Path:
        from . import model as model_mod

        return model_mod.ensure_int8_model(progress=self._progress)

    @property
    def dim(self) -> int:
        if self._model is None:  # without loading the tokenizer
            import json

            try:
                cfg = json.loads((self._dir() / "config.json").read_text(encoding="utf-8"))
                return int(cfg["hidden_size"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return super().dim

    def _known_chars_path(self) -> Path | None:
        return self._dir() / _KNOWN_CHARS

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        try:
            path = self._dir()
            self._model = _OrtSentenceModel(path, threads=self._threads)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - export, optimizer and runtime failures
            raise ModelError(
                f"cannot build or load the int8 model of {self.name!r}: {_one_line(exc)} "
                "(Config(precision='fp32') uses the fp32 model)"
            ) from exc
        self._prompt = "passage"
        return self._model


def get_encoder(
    model: str | Encoder,
    *,
    device: str | None = None,
    batch_size: int = 32,
    progress: bool = False,
    precision: str = "fp32",
) -> Encoder:
    """An Encoder for a model name/path, or the given Encoder unchanged.

    `hash` (or `hash-DIM`) names the `HashEncoder`: no model, for tests and dry runs. With
    `precision="int8"` the default model on the CPU runs as an int8 ONNX graph
    (`Int8OnnxEncoder`, when onnxruntime is installed); every other case runs in
    sentence-transformers.
    """
    if isinstance(model, str):
        m = _HASH_NAME.fullmatch(model)
        if m is not None:
            return HashEncoder(int(m.group(1) or 64))
        from . import model as model_mod

        if (
            str(getattr(precision, "value", precision)) == "int8"
            and (device is None or device == "cpu")
            and model_mod.is_default_model(model)
            and _has_onnxruntime()
        ):
            return Int8OnnxEncoder(model, batch_size=batch_size, progress=progress)
        return SentenceTransformerEncoder(model, device=device, batch_size=batch_size, progress=progress)
    if not hasattr(model, "encode"):
        raise ModelError(f"{model!r} is neither a model name nor an object with an encode() method")
    return model


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
