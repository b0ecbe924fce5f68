"""DataFrames in and out (`dedup.io.frames`): `dedup.cluster(df, fields=...)` validates a pandas or
polars DataFrame's rows as a file's records (a bad row is rejected with its row number), and
`Result.to_pandas()` / `to_polars()` give the input columns, typed as given, then dedup's fields.

Fast tests use the hash encoder; the slow one runs the real model on the seeds in every input form."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FOUR_ARTICLES, SEEDS, cli, partition, read_jsonl, write_jsonl

import dedup
from dedup import Config, FieldMap, HashEncoder
from dedup.io import read_articles, read_frame, validate_records
from dedup.result import DEDUP_FIELDS

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.usefixtures("private_home")
UTC = dt.timezone.utc
FAST = Config(cache=False)


def _cluster(data: Any, **kw: Any) -> dedup.Result:
    return dedup.cluster(data, FAST, encoder=HashEncoder(), **kw)


WHEN = ["2024-01-01 10:00", "2024-01-01 11:00", None, "2024-02-03 00:00"]


def typed_pandas() -> Any:
    """FOUR_ARTICLES with columns of several pandas dtypes."""
    return pd.DataFrame(
        {
            "id": [a["id"] for a in FOUR_ARTICLES],
            "text": [a["text"] for a in FOUR_ARTICLES],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "x": [1.5, 2.5, float("nan"), 0.0],
            "ok": [True, False, True, True],
            "kind": pd.Categorical(["news", "news", "blog", "news"]),
            "when": pd.to_datetime(WHEN).tz_localize("UTC"),
            "tags": [["a"], [], ["b", "c"], None],
        }
    )


def test_pandas_in_and_out_keeps_columns_and_dtypes():
    df = typed_pandas()
    r = _cluster(df)
    assert r.ids == tuple(df["id"]) and r.rejects == ()
    assert r.canonical["a1"] == r.canonical["a2"] != r.canonical["b1"]  # the clusters of the records
    out = r.to_pandas()
    assert list(out.columns)[: len(df.columns)] == list(df.columns)
    assert [c for c in out.columns if c not in df.columns] == [c for c in DEDUP_FIELDS if c in out.columns]
    for c in df.columns:
        assert out[c].dtype == df[c].dtype, c
    pd.testing.assert_frame_equal(out[list(df.columns)], df, check_categorical=False)
    recs = r.to_records()
    assert out["cluster"].tolist() == [x["cluster"] for x in recs]
    assert out["canonical"].dtype == bool and out["canonical"].tolist() == [x["canonical"] for x in recs]


def test_polars_in_and_out_keeps_the_schema():
    df = pl.DataFrame(
        {
            "id": [a["id"] for a in FOUR_ARTICLES],
            "text": [a["text"] for a in FOUR_ARTICLES],
            "n": pl.Series([1, None, 3, 4], dtype=pl.Int32),
            "when": [dt.datetime(2024, 1, 1, tzinfo=UTC), None, None, dt.datetime(2024, 3, 1, tzinfo=UTC)],
            "day": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 2), None],
            "meta": [{"w": 1, "who": "Đặng"}, None, {"w": 2, "who": "x"}, {"w": None, "who": None}],
            "nums": [[1, 2], [], None, [3]],
        }
    )
    r = _cluster(df)
    out = r.to_polars()
    assert out.columns[: df.width] == df.columns
    assert {c: out.schema[c] for c in df.columns} == dict(df.schema)
    assert out.select(df.columns).equals(df)
    assert out["cluster"].to_list() == [x["cluster"] for x in r.to_records()]
    lazy = _cluster(df.lazy())  # a LazyFrame is collected
    assert lazy.to_records() == r.to_records()


def test_a_frame_clusters_as_its_records_do():
    records = [{**a, "n": k} for k, a in enumerate(FOUR_ARTICLES)]
    want = _cluster(records)
    for frame in (pd.DataFrame(records), pl.DataFrame(records), pa.Table.from_pylist(records)):
        got = _cluster(frame)
        assert got.to_records() == want.to_records(), type(frame)


def test_other_outputs_from_records_and_across_libraries():
    r = _cluster(FOUR_ARTICLES)
    out = r.to_pandas()
    assert out["id"].tolist() == [a["id"] for a in FOUR_ARTICLES]
    assert out.to_dict("records")[0]["text"] == FOUR_ARTICLES[0]["text"]
    assert r.to_polars()["canonical"].to_list() == [x["canonical"] for x in r.to_records()]
    kept = r.to_pandas(keep="canonical", slim=True)
    assert kept["id"].tolist() == [x["id"] for x in r.canonical_records()]
    assert "text" not in kept.columns
    from_pandas = _cluster(typed_pandas()).to_polars()  # pandas in, polars out
    assert from_pandas.schema["n"] == pl.Int64 and from_pandas["n"].to_list() == [1, None, 3, 4]


def _bad_rows() -> list[dict[str, Any]]:
    return [
        {"id": "a", "text": FOUR_ARTICLES[0]["text"]},
        {"id": "b", "text": "   "},  # blank text
        {"id": None, "text": FOUR_ARTICLES[2]["text"]},  # no id
        {"id": "a", "text": FOUR_ARTICLES[3]["text"]},  # a duplicate id
        {"id": "e", "text": None},  # no text
        {"id": "f", "text": FOUR_ARTICLES[2]["text"]},
    ]


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_bad_rows_are_rejected_with_their_row_number_as_file_records_are(tmp_path: Path, kind: str):
    rows = _bad_rows()
    df = pd.DataFrame(rows) if kind == "pandas" else pl.DataFrame(rows)
    r = _cluster(df)
    assert [x["id"] for x in r.to_records()] == ["a", "f"]
    got = [(j.line, j.id, j.reason, j.source) for j in r.rejects]
    assert [line for line, *_ in got] == [2, 3, 4, 5]  # row k is line k + 1
    assert {source for *_, source in got} == {"DataFrame"}
    # the same lines, ids and reasons as the same records in memory ...
    mem = validate_records(rows).rejects
    assert [(j.line, j.id, j.reason) for j in mem] == [g[:3] for g in got]
    # ... and as a Parquet file of them (its reasons name the CLI's options, not FieldMap)
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert [(j.line, j.id) for j in read_articles(path).rejects] == [g[:2] for g in got]
    with pytest.raises(dedup.InputError, match=r"^DataFrame line 2: empty 'text'"):
        dedup.cluster(df, Config(cache=False, on_error="fail"), encoder=HashEncoder())


def test_field_mapping_as_a_fieldmap_or_keywords():
    df = pd.DataFrame(
        {"doc": ["x1", "x2"], "body": [a["text"] for a in FOUR_ARTICLES[:2]], "headline": ["One", "Two"]}
    )
    by_map = _cluster(df, fields=FieldMap(id="doc", text="body", title="headline"))
    by_keywords = _cluster(df, fields={"id_field": "doc", "text": "body", "title_field": "headline"})
    assert by_map.ids == by_keywords.ids == ("x1", "x2")
    assert by_map.to_records() == by_keywords.to_records()
    assert by_map.title("x1") == "One"  # the summary reads the mapped title
    records = _cluster(df.to_dict("records"), fields={"id": "doc", "text": "body"})  # not only frames
    assert records.ids == ("x1", "x2")
    with pytest.raises(dedup.ConfigError, match="unknown field 'body_text'"):
        _cluster(df, fields={"body_text": "body"})
    with pytest.raises(
        dedup.InputError, match=r"no 'text' column \(columns: doc, body, headline\).*FieldMap"
    ):
        _cluster(df, fields={"id": "doc"})


def test_columns_arrow_cannot_hold_pass_through():
    mixed = [1, "two", None, {"k": 3}]
    df = pd.DataFrame({"id": [a["id"] for a in FOUR_ARTICLES], "text": [a["text"] for a in FOUR_ARTICLES]})
    df["mixed"] = pd.Series(mixed, dtype=object)
    r = _cluster(df)
    assert [x["mixed"] for x in r.to_records()] == mixed
    assert r.to_pandas()["mixed"].tolist() == mixed
    assert r.to_polars()["mixed"].to_list() == ["1", "two", None, '{"k": 3}']  # as Parquet stores it
    objects = pl.DataFrame(
        {"id": df["id"].tolist(), "text": df["text"].tolist(), "o": pl.Series(mixed, dtype=pl.Object)}
    )
    assert [x["o"] for x in _cluster(objects).to_records()] == mixed  # the objects, not their addresses


def test_a_named_index_is_a_column_and_duplicate_names_are_refused():
    df = pd.DataFrame(FOUR_ARTICLES).set_index("id")
    r = _cluster(df)
    assert r.ids == tuple(a["id"] for a in FOUR_ARTICLES)
    assert list(r.to_pandas().columns[:2]) == ["id", "text"]
    twice = pd.DataFrame([[a["id"], a["text"], 1] for a in FOUR_ARTICLES], columns=["id", "text", "id"])
    with pytest.raises(dedup.InputError, match="duplicate column names: id"):
        _cluster(twice)


def test_an_empty_frame_gives_an_empty_result_with_its_columns():
    df = pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str), "n": []})
    rr = read_frame(df)
    assert rr.total == 0
    out = _cluster(df).to_pandas()
    assert len(out) == 0 and list(out.columns[:3]) == ["id", "text", "n"]


@pytest.mark.parametrize(("package", "method"), [("pandas", "to_pandas"), ("polars", "to_polars")])
def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch, package: str, method: str):
    r = _cluster(FOUR_ARTICLES)
    monkeypatch.setitem(sys.modules, package, None)  # `import package` now fails
    with pytest.raises(
        dedup.ConfigError, match=rf"{package} is not installed.*pip install 'dedup\[{package}\]'"
    ):
        getattr(r, method)()
    with pytest.raises(dedup.DedupError):
        getattr(r, method)()


# ------------------------------------------------------------------------------------ the seeds


@pytest.mark.slow
def test_every_input_form_gives_the_seeds_the_same_clusters(tmp_path: Path, seed_articles, seed_expected):
    """JSON Lines, CSV, Parquet, the folder of .txt, stdin and DataFrames: the same clusters."""
    cache = tmp_path / "cache"
    want = {
        "cluster": sorted(sorted(g) for g in seed_expected["duplicate"]),
        "story": sorted(sorted(g) for g in seed_expected["story"]),
    }

    def check(records: list[dict[str, Any]], form: str) -> None:
        assert sorted(str(x["id"]) for x in records) == sorted(a["id"] for a in seed_articles), form
        for level, groups in want.items():
            assert partition({str(x["id"]): x[level] for x in records}) == groups, (form, level)

    jsonl = write_jsonl(tmp_path / "seeds.jsonl", seed_articles)
    pd.DataFrame(seed_articles).to_csv(tmp_path / "seeds.csv", index=False)
    pq.write_table(pa.Table.from_pylist(seed_articles), tmp_path / "seeds.parquet")
    for form, source in [
        ("jsonl", jsonl),
        ("csv", tmp_path / "seeds.csv"),
        ("parquet", tmp_path / "seeds.parquet"),
        ("folder", SEEDS),
    ]:
        out = tmp_path / f"out-{form}.jsonl"
        r = cli("cluster", source, "-o", out, "--cache-dir", cache, "-q")
        assert r.exit_code == 0, (form, r.output)
        check(read_jsonl(out) or [], form)
    r = cli("cluster", "-", "--input-format", "jsonl", "--cache-dir", cache, "-q", input=jsonl.read_bytes())
    assert r.exit_code == 0, r.output
    check([json.loads(line) for line in r.stdout.splitlines()], "stdin")
    config = Config(cache_dir=str(cache))
    for form, frame in [("pandas", pd.DataFrame(seed_articles)), ("polars", pl.DataFrame(seed_articles))]:
        result = dedup.cluster(frame, config)
        check(result.to_records(), form)
        assert result.to_pandas()["text"].tolist() == [a["text"] for a in seed_articles]
