"""The `dedup` command line: a thin typer layer over the library (`dedup.cli:app`).

One module per command (`cluster`, `explain`, `model`, `index`, ...); `common` holds the error handling, the
output checks and the run options every pipeline command shares; `app` the typer application.
"""

from __future__ import annotations

from . import cluster as _cluster
from . import explain as _explain
from . import index as _index
from . import model as _model
from . import report as _report
from . import thresholds as _thresholds
from .app import app, model_app
from .cluster import cluster_cmd
from .explain import explain_cmd

__all__ = ["app", "cluster_cmd", "explain_cmd", "model_app"]
del _cluster, _explain, _index, _model, _thresholds
del _report
