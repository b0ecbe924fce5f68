"""Standing index: a directory of clustered articles that new articles join, ids kept stable.

`Index.create(dir, config)` / `Index.open(dir)`, `index.add(records) -> Changes`,
`index.add_embeddings(vectors, ids)`, `index.refit()`, `index.records()`, `index.result()`,
`index.info()`. Modules: `files` (manifest, lock, atomic generations), `state` (what is held in
memory), `grow` (neighbour lists kept up to date), `join` (scoring and clustering the new rows with the
open ones, stable ids), `record` (the next generation written), `store` (the `Index` API).
"""

from __future__ import annotations

from .files import IndexStateError
from .store import Changes, Index

__all__ = ["Changes", "Index", "IndexStateError"]
