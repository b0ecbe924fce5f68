"""The Ray engine, its cluster: joins the running Ray instance, the one at `ray_address`, or starts a
local one, and sizes the embedding actor pool from the cluster's resources.

Takes a `Config`; gives the `ray` module ready to use (`connect`) and a `Pool` (how many embedding
actors, and the CPUs and GPUs of each). A Ray instance started here is shut down when the process
exits; one that was running already is left as it was.
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..config import Config
from ..errors import EngineError

#: CPUs (threads) of one embedding actor: ONNX Runtime and torch scale well to about four threads on
#: short texts; more actors of fewer threads each keep every core busy between batches
MAX_CPUS_PER_ACTOR = 4


def require_ray() -> ModuleType:
    """The `ray` module, or an EngineError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships as the `data` extra
    except ImportError as exc:
        raise EngineError(f"the Ray engine needs Ray Data ({exc.msg}): pip install 'dedup[ray]'") from None
    return ray


def connect(config: Config) -> ModuleType:
    """`ray`, initialised: the running instance, else `config.ray_address` (or RAY_ADDRESS), else a
    new local one (loopback only, no dashboard)."""
    ray = require_ray()
    if not ray.is_initialized():
        try:
            ray.init(
                address=config.ray_address,
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
                configure_logging=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = config.ray_address or "a local Ray instance"
            raise EngineError(f"cannot start or join {where}: {' '.join(str(exc).split())}") from exc
        atexit.register(ray.shutdown)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = bool(config.progress)
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.INFO if config.progress else logging.WARNING)
    return ray


@dataclass(frozen=True)
class Pool:
    """The embedding actor pool: `actors` actors of `cpus` CPUs (threads) and `gpus` GPUs each."""

    actors: int
    cpus: int
    gpus: float

    @property
    def device(self) -> str | None:
        return "cuda" if self.gpus else None


def pool_for(ray: Any, config: Config) -> Pool:
    """One actor per GPU when the run asks for CUDA (`device="cuda"`) and the cluster has GPUs;
    otherwise CPU actors of up to `MAX_CPUS_PER_ACTOR` threads, as many as the CPUs allow."""
    res = ray.cluster_resources()
    cpus = max(1, int(res.get("CPU", 1)))
    gpus = int(res.get("GPU", 0))
    if gpus and str(config.device or "").startswith("cuda"):
        return Pool(actors=gpus, cpus=max(1, min(MAX_CPUS_PER_ACTOR, cpus // gpus)), gpus=1.0)
    per = max(1, min(MAX_CPUS_PER_ACTOR, cpus // 2))
    return Pool(actors=max(1, cpus // per), cpus=per, gpus=0.0)
