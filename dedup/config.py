"""Settings: one frozen, validated configuration object holding every default, echoed in every result."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
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


class OnError(str, enum.Enum):
    """What happens to a record that cannot be used."""

    REJECT = "reject"  # set it aside with its reason (Result.rejects, the CLI's --rejects file)
    FAIL = "fail"  # stop at the first one with an InputError naming it


class Keep(str, enum.Enum):
    """Which articles the deduplicated corpus keeps (`Result.canonical_records`, `--keep`)."""

    ALL = "all"  # every article, each with its verdicts
    CANONICAL = "canonical"  # the canonical article of each duplicate cluster
    STORY = "story"  # the canonical article of each story


class Engine(str, enum.Enum):
    """Where the per-article stages run."""

    LOCAL = "local"  # this process
    RAY = "ray"  # Ray Data on a Ray cluster (`pip install 'dedup[ray]'`); the same result


DEFAULT_MODEL = "e5-small"
#: Inclusive ranges of the numeric settings (the CLI's options are bounded by the same).
BOUNDS: dict[str, tuple[float, float]] = {
    "duplicate_threshold": (0.0, 1.0),
    "story_threshold": (0.0, 1.0),
    "neighbours": (1, 1000),
    "max_units": (1, 10_000),
    "batch_size": (1, 4096),
    "story_idle_days": (1, 36500),
    "driver_max_articles": (2, 1_000_000_000),
}


@dataclass(frozen=True)
class Config:
    """Settings of one run. Thresholds apply to the pair scores of `dedup.score`."""

    model: str = DEFAULT_MODEL
    duplicate_threshold: float = 0.45  # duplicate score (mostly sentence coverage) to join a cluster
    story_threshold: float = 0.4  # story probability (mean of the strongest cross pairs) to join a story
    neighbours: int = 20  # candidate partners searched per article (FAISS nearest neighbours)
    canonical_policy: CanonicalPolicy = CanonicalPolicy.LONGEST
    prefer_lang: tuple[str, ...] = ()
    source_priority: tuple[str, ...] = ()
    batch_size: int = 32  # texts per encoder batch
    device: str | None = None
    precision: Precision = Precision.INT8  # of the default model on the CPU (other models: fp32)
    max_units: int = 9  # units embedded per article: its title and first sentences (the lead)
    progress: bool = False
    cache_priors: bool = True  # keep the model's neutral-text language means on disk
    cache: bool = True  # persistent embedding cache
    cache_dir: str | None = None  # default: $DEDUP_HOME/cache
    on_error: OnError = OnError.REJECT  # a record that cannot be used: set aside, or stop
    #: a standing index closes a story with no new member for this many days (by the articles'
    #: `published` dates, else the day they were added): a closed story is no longer a candidate
    story_idle_days: float = 28.0
    engine: Engine = Engine.LOCAL  # where reading, cleaning and embedding run (dedup.distributed)
    ray_address: str | None = None  # the Ray cluster to join (engine ray); None: join or start a local one
    #: engine ray: a corpus of more articles is indexed and scored in blocks on the workers (time
    #: windows, FAISS cells), not on the driver, whose memory docs/scale.md puts at about this size
    driver_max_articles: int = 200_000

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (low <= v <= high):
                raise ConfigError(f"{name} must be within [{low}, {high}], got {v!r}")
        enums: tuple[tuple[str, type[enum.Enum]], ...] = (
            ("precision", Precision),
            ("canonical_policy", CanonicalPolicy),
            ("on_error", OnError),
            ("engine", Engine),
        )
        for name, kind in enums:
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
        d["on_error"] = self.on_error.value
        d["engine"] = self.engine.value
        d["prefer_lang"] = list(self.prefer_lang)
        d["source_priority"] = list(self.source_priority)
        return d
