"""One frozen, validated configuration object, echoed in every result."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import ConfigError


class CanonicalPolicy(str, enum.Enum):
    """How the canonical article of a cluster is chosen."""

    LONGEST = "longest"  # most complete report: longest main text after cleaning
    EARLIEST = "earliest"  # earliest `published`
    SOURCE = "source"  # first by a source priority list, then longest
    MEDOID = "medoid"  # the member closest to all others


class Precision(str, enum.Enum):
    """How the default model runs on the CPU."""

    INT8 = "int8"  # int8 ONNX Runtime graph (VNNI): about 2-3x faster, same clusters on the benchmarks
    FP32 = "fp32"  # the fp32 torch model through sentence-transformers


DEFAULT_MODEL = "e5-small"


@dataclass(frozen=True)
class Config:
    """Settings of one run. Thresholds apply to the pair scores of `dedup.score`."""

    model: str = DEFAULT_MODEL
    duplicate_threshold: float = 0.45
    story_threshold: float = 0.45
    neighbours: int = 20
    canonical_policy: CanonicalPolicy = CanonicalPolicy.LONGEST
    prefer_lang: tuple[str, ...] = ()
    source_priority: tuple[str, ...] = ()
    batch_size: int = 32
    device: str | None = None
    precision: Precision = Precision.INT8  # of the default model on the CPU (other models: fp32)
    max_units: int = 9  # units embedded per article: its title and first sentences (the lead)
    progress: bool = False
    cache_priors: bool = True
    cache: bool = True  # persistent embedding cache
    cache_dir: str | None = None  # default: $DEDUP_HOME/cache
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("duplicate_threshold", "story_threshold"):
            v = getattr(self, name)
            if not (0.0 <= float(v) <= 1.0):
                raise ConfigError(f"{name} must be within [0, 1], got {v}")
        if self.story_threshold > self.duplicate_threshold:
            raise ConfigError(
                "story_threshold must not exceed duplicate_threshold "
                f"({self.story_threshold} > {self.duplicate_threshold}): stories contain duplicates"
            )
        for name, high in (("neighbours", 1000), ("max_units", 10_000), ("batch_size", 4096)):
            v = getattr(self, name)
            if not (1 <= v <= high):
                raise ConfigError(f"{name} must be within [1, {high}], got {v}")
        for name, kind in (("precision", Precision), ("canonical_policy", CanonicalPolicy)):
            v = getattr(self, name)
            try:
                object.__setattr__(self, name, kind(v))
            except ValueError as exc:
                choices = ", ".join(p.value for p in kind)
                raise ConfigError(f"unknown {name.replace('_', ' ')} {v!r}; choose {choices}") from exc
        object.__setattr__(
            self, "prefer_lang", tuple(x.strip().lower() for x in self.prefer_lang if x.strip())
        )
        object.__setattr__(
            self, "source_priority", tuple(x.strip() for x in self.source_priority if x.strip())
        )

    def with_(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready echo of the settings."""
        d = asdict(self)
        d["canonical_policy"] = self.canonical_policy.value
        d["precision"] = self.precision.value
        d["prefer_lang"] = list(self.prefer_lang)
        d["source_priority"] = list(self.source_priority)
        d.pop("extra", None)
        return d
