"""Report stage, the consistency check: does an output file written by `dedup cluster` hold the
clusters of a result?

Takes the output's path (any format `dedup cluster` writes, every article or only the canonical
ones) and the result of re-running the pipeline on the input with the given settings; gives nothing
when every article written is in the same duplicate cluster and story in both, else a `DedupError`
saying that the output and the input/settings disagree (with an example).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DedupError, InputError
from ..io import FieldMap, read_articles
from ..result import Result

_HINT = "give the input and the options that `dedup cluster` wrote it with"


def read_clusters(path: str | Path, id_field: str | None = None) -> dict[str, tuple[str, str]]:
    """Article id -> (cluster, story) of an output file of `dedup cluster`."""
    try:
        rr = read_articles(path, fields=FieldMap(id=id_field or "id", text="cluster"))
    except InputError as exc:
        if id_field:  # a slim output has only `id`
            return read_clusters(path)
        raise DedupError(f"{path} is not an output of `dedup cluster` ({exc})") from exc
    if rr.rejects:
        if id_field:
            return read_clusters(path)
        r = rr.rejects[0]
        raise DedupError(
            f"{path} is not an output of `dedup cluster`: line {r.line} has no usable `id` and "
            f"`cluster` ({r.reason})"
        )
    out: dict[str, tuple[str, str]] = {}
    for a in rr.articles:
        story: Any = a.fields.get("story")
        if story is None:
            raise DedupError(f"{path} is not an output of `dedup cluster`: id {a.id!r} has no `story`")
        out[a.id] = (str(a.fields["cluster"]), str(story))
    return out


def check_output(result: Result, path: str | Path, id_field: str | None = None) -> None:
    """Raise DedupError unless the output at `path` holds `result`'s clusters at both levels: every
    article (`--keep all`), or the canonical articles of its duplicate clusters or stories (`--keep
    canonical`, `--keep story`), each with the same duplicate cluster and story."""
    written = read_clusters(path, id_field)
    now = {aid: (c, s) for aid, c, s in zip(result.ids, result.cluster_of, result.story_of, strict=True)}
    kept = [
        set(now),
        {aid for aid, (c, _) in now.items() if aid == c},
        {aid for aid, (_, s) in now.items() if aid == s},
    ]
    unknown = sorted(set(written) - set(now))
    if unknown or set(written) not in kept:
        missing = sorted(set(now) - set(written))
        example = f"{unknown[0]!r} is only in {path}" if unknown else f"{missing[0]!r} is not in {path}"
        raise DedupError(
            f"{path} and the input/settings disagree: it holds {len(written)} articles, the input "
            f"{len(now)} usable ones ({example}); {_HINT}"
        )
    differ = sorted(aid for aid in written if written[aid] != now[aid])
    if differ:
        aid = differ[0]
        level, k = ("cluster", 0) if written[aid][0] != now[aid][0] else ("story", 1)
        raise DedupError(
            f"{path} and the input/settings disagree: {len(differ)} of {len(written)} articles are "
            f"clustered differently (e.g. {aid!r}: {level} {written[aid][k]!r} in {path}, "
            f"{now[aid][k]!r} now); {_HINT}"
        )


__all__ = ["check_output", "read_clusters"]
