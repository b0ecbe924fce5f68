"""The Ray engine (`Config(engine="ray")`, `dedup cluster --engine ray`): the read, clean and embed
stages on a Ray cluster, the rest on the driver, the same result as the local engine; past
`Config.driver_max_articles` articles, the index and score stages too, in blocks (not the same).

- `session`: joins (or starts) the Ray cluster and sizes the actor pool from its resources;
- `work`: Ray Data maps: shards read in parallel (`read_on_ray`), articles cleaned in blocks
  (`map_on_ray`), the encoder's batches embedded by an actor pool (`encode_on_ray`);
- `engine`: `prepare_on_ray`, the pipeline's per-article preparation (`dedup.prepared`) with its
  cleaning and embedding handed to `work`;
- `blocks` and `stitch`: past `Config.driver_max_articles`, `score_on_blocks`: the index and score
  stages in blocks (time windows, FAISS coarse cells) on the workers, stitched on the driver.

Ray is imported only when one of these runs (`import dedup` never imports it); without Ray they
raise `EngineError` saying `pip install 'dedup[ray]'`. docs/scale.md says what runs where.
"""

from __future__ import annotations

from .engine import prepare_on_ray
from .stitch import score_on_blocks
from .work import read_on_ray

__all__ = ["prepare_on_ray", "read_on_ray", "score_on_blocks"]
