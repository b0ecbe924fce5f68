"""Shared test helpers: data paths, record builders, fake encoders and the CLI runner.

Fixtures (`seed_articles`, `seed_expected`, `private_home`) are found by pytest; the plain helpers
and fakes are imported as `from conftest import ...` (tests/ is on sys.path while pytest runs).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

import dedup
import dedup.pipeline

# ------------------------------------------------------------------------------------ data paths

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "seeds"
BAD = ROOT / "tests" / "data" / "bad"  # the bad-input corpus (see its README.md)
RECORDS = BAD / "records"
GOOD = BAD / "storm_en.txt"  # a plain English article that every run can keep
ARTICLE_SUFFIXES = {".txt", ".html", ".htm"}


@pytest.fixture(scope="session")
def seed_articles() -> list[dict[str, str]]:
    return [{"id": p.stem, "text": p.read_text("utf-8")} for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def seed_expected() -> dict[str, Any]:
    return json.loads((SEEDS / "expected.json").read_text("utf-8"))


@pytest.fixture
def private_home(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path | None:
    """Fast tests keep their caches (e.g. the hash encoder's language priors) out of the user's
    home; tests marked `slow` need the built default model, so they keep the real home (and pass
    a --cache-dir of their own). Use it as `pytestmark = pytest.mark.usefixtures("private_home")`."""
    if "slow" in request.keywords:
        return None
    home = tmp_path / "dedup-home"
    monkeypatch.setenv("DEDUP_HOME", str(home))
    return home


# ------------------------------------------------------------------------------------ records

BUDGET = "The council approved the budget on Monday. Taxes rise by 2 percent."
STORM = "A storm hit the coast of Norway. Power was cut to 40,000 homes."
#: Two unrelated articles: the smallest corpus that clusters.
TWO_ARTICLES: list[dict[str, Any]] = [{"id": "a", "text": BUDGET}, {"id": "b", "text": STORM}]


#: Two near-identical copies (a1, a2) and two unrelated articles.
FOUR_ARTICLES: list[dict[str, Any]] = [
    {"id": "a1", "text": "The city council approved the new budget on Monday. Taxes rise by 2 percent."},
    {"id": "a2", "text": "The city council approved the new budget on Monday. Taxes rise by 2 percent!"},
    {"id": "b1", "text": "A storm hit the coast of Norway, cutting power to 40,000 homes overnight."},
    {"id": "c1", "text": "Researchers found a new species of frog in the rainforest of Peru."},
]
#: Extra fields of many types; "b" is a near-copy of "a" (one duplicate cluster); 7 is an integer
#: id that comes after the text (input field order is kept).
TYPED_RECORDS: list[dict[str, Any]] = [
    {
        "id": "a",
        "text": BUDGET,
        "n": 3,
        "big": 2**53 + 1,
        "x": 1.5,
        "tiny": 1e-300,
        "ok": True,
        "none": None,
        "tags": ["a", 1, 2.5, None, False, {"k": [1, 2]}],
        "meta": {"words": 12, "authors": [{"name": "Đặng", "id": 7}], "empty": {}},
        "uni": "Đà Nẵng 東京 🙂 \u2028 «quotes»",
    },
    {"id": "b", "text": BUDGET[:-1] + "!", "n": -7, "x": 0.0, "ok": False, "tags": [], "meta": {}, "uni": ""},
    {"text": STORM, "id": 7, "only_here": {"z": None}, "n": 0},
]


def assert_pass_through(got: dict[str, Any], given: dict[str, Any]) -> None:
    """An output record holds every input field with the same value and type, in input order, then
    dedup's fields (in `DEDUP_FIELDS` order; the canonical reasons only on canonical articles)."""
    from dedup.result import DEDUP_FIELDS

    assert list(got)[: len(given)] == list(given)
    for k, v in given.items():
        assert got[k] == v and type(got[k]) is type(v), (k, got[k], v)
    tail = list(got)[len(given) :]
    assert tail == [f for f in DEDUP_FIELDS if f in got]
    assert set(DEDUP_FIELDS) - set(tail) <= {"canonical_reason", "story_canonical_reason"}


def numbered_articles(n: int) -> list[dict[str, str]]:
    """`n` one-sentence articles, each with a text of its own ("Sentence number K about ...")."""
    return [{"id": f"a{i}", "text": f"Sentence number {i} about topic {i * 7}."} for i in range(n)]


def read_jsonl(path: Path) -> list[dict[str, Any]] | None:
    """The records of a JSON Lines file; None when it does not exist."""
    if not path.exists():
        return None
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def article_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix in ARTICLE_SUFFIXES]


def folder_with(tmp_path: Path, *files: Path, name: str = "in") -> Path:
    """A new folder `tmp_path/name` holding copies of `files`."""
    d = tmp_path / name
    d.mkdir()
    for f in files:
        shutil.copy(f, d / f.name)
    return d


def co_membership(records: Sequence[dict[str, Any]], field: str) -> dict[tuple[str, str], bool]:
    """For every pair of ids (sorted), whether the two records share `field` (cluster or story)."""
    lab = {str(r["id"]): r[field] for r in records}
    ids = sorted(lab)
    return {(a, b): lab[a] == lab[b] for i, a in enumerate(ids) for b in ids[i + 1 :]}


def partition(labels: dict[str, str]) -> list[list[str]]:
    """The groups of ids sharing a label, sorted (comparable across runs and orders)."""
    out: dict[str, list[str]] = {}
    for aid, lab in labels.items():
        out.setdefault(lab, []).append(aid)
    return sorted(sorted(g) for g in out.values())


# ------------------------------------------------------------------------------------ vectors


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def planted_vectors(n: int = 3000, pairs: int = 300, d: int = 64, seed: int = 0) -> np.ndarray:
    """Random unit vectors whose last `pairs` rows are near-copies of the first `pairs`."""
    rng = np.random.default_rng(seed)
    x = unit_rows(rng.standard_normal((n, d)))
    x[n - pairs :] = unit_rows(x[:pairs] + 0.03 * rng.standard_normal((pairs, d)))
    return x


# ------------------------------------------------------------------------------------ fake encoders


class CountingEncoder:
    """A HashEncoder that counts what it embeds and declares a `cache_key` (as the real encoders
    do), so its embeddings and results are cached.

    `calls` counts encode() calls, `seen` the texts embedded, `counted` those starting with
    `prefix` (e.g. an article's texts, not the language priors'); call number `stop_at` raises
    KeyboardInterrupt (Ctrl-C in the middle of embedding).
    """

    def __init__(
        self,
        dim: int = 16,
        *,
        name: str = "counting-test",
        cache_key: str | None = "counting-test/v1",
        prefix: str | None = None,
        stop_at: int | None = None,
    ) -> None:
        self.inner = dedup.HashEncoder(dim)
        self.name, self.dim, self.cache_key = name, dim, cache_key
        self.prefix, self.stop_at = prefix, stop_at
        self.calls = self.seen = self.counted = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        self.seen += len(texts)
        if self.prefix is not None:
            self.counted += sum(1 for t in texts if t.startswith(self.prefix))
        return self.inner.encode(texts)


class BadEncoder:
    """An encoder whose output is `fn(number of texts, call number)`: NaN, the wrong shape, ..."""

    def __init__(self, name: str, dim: Any, fn: Callable[[int, int], Any]) -> None:
        self.name, self.dim, self.fn, self.calls = name, dim, fn, 0

    def encode(self, texts: Sequence[str]) -> Any:
        self.calls += 1
        return self.fn(len(texts), self.calls)


class PickyEncoder(dedup.HashEncoder):
    """The hash encoder, but it cannot read Ol Chiki (as the real model cannot): texts with 'ᱥ' are
    screened out as written in an unknown script."""

    def unknown_letters(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        return [(1.0, "ᱥ") if "ᱥ" in t else (0.0, "") for t in texts]


def use_encoder(monkeypatch: pytest.MonkeyPatch, encoder: Any) -> None:
    """Make the pipeline (and so the CLI) embed with `encoder`, whatever the model option."""
    monkeypatch.setattr(dedup.pipeline, "get_encoder", lambda *a, **k: encoder)


# ------------------------------------------------------------------------------------ the CLI


def cli(*args: Any, input: str | bytes | None = None, allow_exception: bool = False) -> Result:
    """`dedup ARGS` in-process; asserts that no exception escaped (no traceback) unless allowed."""
    from dedup.cli import app

    r = CliRunner().invoke(app, [str(a) for a in args], input=input)
    if not allow_exception:
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert "Traceback" not in r.output
    return r


def run_cluster(
    tmp_path: Path, input_path: Path | str, *extra: Any, quiet: bool = True
) -> tuple[Result, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """`dedup cluster INPUT -o out.jsonl --rejects rej.jsonl --model hash EXTRA`: the run, the
    output records and the rejects (None for a file not written)."""
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    args = ["cluster", input_path, "-o", out, "--rejects", rej, "--model", "hash", *extra]
    r = cli(*args, *(["-q"] if quiet else []))
    return r, read_jsonl(out), read_jsonl(rej)


def one_line_error(r: Result, code: int = 1) -> str:
    """The error message of a failed run: exactly one line "dedup: error: ..." on stderr."""
    assert r.exit_code == code, (r.exit_code, r.output)
    err = r.stderr.strip()
    assert err.startswith("dedup: error: "), err
    assert "\n" not in err, err
    return err


def usage_error(r: Result) -> str:
    """typer's usage error (exit code 2) without its box drawing and line wrapping."""
    assert r.exit_code == 2, (r.exit_code, r.output)
    return " ".join(r.stderr.replace("│", " ").split())


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m dedup` subprocess: a private home, this checkout first."""
    env = {**os.environ, "DEDUP_HOME": str(tmp_path / "dedup-home"), **extra}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def typed_table(texts: list[str], floats: list[float | None]) -> Any:
    """A Parquet table of three records with a column of every common Arrow type (pass-through tests)."""
    import datetime as dt

    import pyarrow as pa

    utc = dt.timezone.utc
    return pa.table(
        {
            "id": pa.array(["p1", "p2", "p3"], pa.string()),
            "text": pa.array(texts, pa.string()),
            "n": pa.array([1, None, 2**40], pa.int64()),
            "x": pa.array(floats, pa.float64()),
            "ok": pa.array([True, False, None], pa.bool_()),
            "published": pa.array(
                [dt.datetime(2023, 12, 5, 10, 30, tzinfo=utc), None, dt.datetime(2024, 1, 1, tzinfo=utc)],
                pa.timestamp("us", tz="UTC"),
            ),
            "seen": pa.array([dt.datetime(2023, 1, 2, 3, 4, 5, 6), None, None], pa.timestamp("us")),
            "day": pa.array([dt.date(2024, 1, 2), None, dt.date(2024, 1, 3)], pa.date32()),
            "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
            "nums": pa.array([[1, 2], [3], []], pa.list_(pa.int64())),
            "meta": pa.array(
                [{"words": 12, "who": "Đặng"}, None, {"words": None, "who": "x"}],
                pa.struct([("words", pa.int64()), ("who", pa.string())]),
            ),
            "nothing": pa.array([None, None, None], pa.null()),
            "blob": pa.array([b"\xff\x00", b"ok", None], pa.binary()),
        }
    )


@pytest.fixture
def fake_writer(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the real (slow, 470 MB) fp32 model writer by one that writes two small files; the
    list collects the directories it wrote."""
    calls: list[Path] = []

    def write(weights_path: Path, out: Path, progress: bool) -> dict[str, Any]:
        calls.append(out)
        (out / "config.json").write_text('{"hidden_size": 384}', encoding="utf-8")
        (out / "model.safetensors").write_bytes(b"\0" * 64)
        return {"tokenizer": "fake"}

    monkeypatch.setattr("dedup.model.fp32._write_model", write)
    return calls
