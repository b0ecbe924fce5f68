"""Tests of dedup.io on real files: formats, field mapping, validation, rejects, pass-through of
every input field, atomic writes."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import typed_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
import dedup.io.writers as write_mod
from dedup.errors import ConfigError, DedupError, InputError, OutputError
from dedup.io import (
    Article,
    FieldMap,
    ReadResult,
    Reject,
    input_format,
    output_format,
    read_articles,
    validate_records,
    write_records,
    write_rejects,
)

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"

RECORDS = [
    {
        "id": "a1",
        "text": "Trương Thị Mai held talks with Shii Kazuo in Hà Nội.",
        "title": "Talks",
        "lang": "VI",
        "published": "2023-12-05",
        "url": "https://example.org/a1",
        "source": "VNA",
        "tags": ["politics", "japan"],
        "meta": {"words": 12, "paywall": False},
        "score": 0.5,
    },
    {
        "id": "a2",
        "text": "Svensk text om mötet.\nAndra raden.",
        "published": "2023-12-05T10:30:00+07:00",
        "tags": [],
        "meta": {"words": 5, "paywall": True},
        "score": 1.25,
    },
]


def jsonl(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


def check_total(r: ReadResult) -> None:
    assert r.total == len(r.articles) + len(r.rejects)


def only_reject(r: ReadResult) -> Reject:
    check_total(r)
    assert len(r.rejects) == 1, r.rejects
    return r.rejects[0]


# ---------------------------------------------------------------- round trips


def test_jsonl_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "in.jsonl"
    write_records(RECORDS, out)
    raw = out.read_bytes()
    assert "Trương Thị Mai".encode() in raw  # UTF-8, not \u escapes
    assert [json.loads(line) for line in raw.decode().splitlines()] == RECORDS
    r = read_articles(out)
    check_total(r)
    assert r.rejects == ()
    a1, a2 = r.articles
    assert (a1.id, a1.text, a1.title, a1.lang, a1.url, a1.source) == (
        "a1",
        RECORDS[0]["text"],
        "Talks",
        "vi",
        "https://example.org/a1",
        "VNA",
    )
    assert a1.published == "2023-12-05"
    assert a2.published == "2023-12-05T10:30:00+07:00"
    assert a1.fields == RECORDS[0] and list(a1.fields) == list(RECORDS[0])  # every field, in order
    assert a2.fields == RECORDS[1]
    assert a2.title is None and a2.html is False
    assert a2.text == RECORDS[1]["text"]


def test_ndjson_and_gzip(tmp_path: Path) -> None:
    write_records(RECORDS, tmp_path / "in.ndjson")
    assert [a.id for a in read_articles(tmp_path / "in.ndjson").articles] == ["a1", "a2"]
    gz = tmp_path / "in.jsonl.gz"
    gz.write_bytes(gzip.compress((tmp_path / "in.ndjson").read_bytes()))
    assert [a.id for a in read_articles(gz).articles] == ["a1", "a2"]


def test_json_array_and_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "in.json"
    write_records(RECORDS, out)
    assert json.loads(out.read_text()) == RECORDS  # a .json output is one JSON array
    r = read_articles(out)
    assert [a.id for a in r.articles] == ["a1", "a2"]
    arr = tmp_path / "arr.json"
    arr.write_text('[\n  {"id": "x", "text": "one"},\n  {"id": "y",\n   "text": ""},\n  7\n]\n')
    r = read_articles(arr)
    check_total(r)
    assert [a.id for a in r.articles] == ["x"]
    assert [(j.line, j.id) for j in r.rejects] == [(3, "y"), (5, None)]
    lines = jsonl(tmp_path / "lines.json", '{"id": "x", "text": "one"}', '{"id": "y", "text": "two"}')
    assert [a.id for a in read_articles(lines).articles] == ["x", "y"]
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"id": "x", "text": "one"},\n {"id": , "text": "t"}\n]\n')
    with pytest.raises(InputError, match=r"broken\.json line 3: malformed JSON array"):
        read_articles(broken)


def test_csv_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "in.csv"
    write_records(RECORDS, out)
    r = read_articles(out)
    check_total(r)
    a1, a2 = r.articles
    assert a1.text == RECORDS[0]["text"] and a2.text == RECORDS[1]["text"]  # multi-line field
    assert a1.lang == "vi" and a1.published == "2023-12-05"
    assert a2.title is None and a2.url is None  # empty cells are absent values
    # CSV carries text: nested values come back JSON-encoded, booleans as true/false
    assert a1.fields["tags"] == '["politics", "japan"]'
    assert json.loads(a1.fields["meta"]) == {"words": 12, "paywall": False}
    assert a1.fields["score"] == "0.5"
    assert a2.fields["title"] == "" and a2.fields["lang"] == ""  # cells exactly as read


def test_csv_writes_booleans_nested_and_missing_keys(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    write_records([{"id": "1", "ok": True}, {"id": "2", "n": [1, {"é": None}]}], out)
    assert out.read_text(encoding="utf-8") == 'id,ok,n\n1,true,\n2,,"[1, {""é"": null}]"\n'


def test_tsv(tmp_path: Path) -> None:
    out = tmp_path / "o.tsv"
    write_records(RECORDS, out)
    assert out.read_text().startswith("id\ttext\t")
    assert [a.id for a in read_articles(out).articles] == ["a1", "a2"]


def test_parquet_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "in.parquet"
    write_records(RECORDS, out)
    table = pq.read_table(out)
    assert table.column("meta").to_pylist()[1] == {"words": 5, "paywall": True}
    assert pa.types.is_boolean(table.schema.field("meta").type.field("paywall").type)
    r = read_articles(out)
    check_total(r)
    a1, a2 = r.articles
    assert a1.text == RECORDS[0]["text"] and a1.lang == "vi"
    assert a1.fields == RECORDS[0]
    assert a2.title is None and a2.fields["tags"] == [] and a2.fields["title"] is None


def test_parquet_native_types_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    table = pa.table(
        {
            "id": pa.array([10, 11], pa.int64()),
            "text": ["first", "second"],
            "published": pa.array([dt.datetime(2023, 12, 5, 10, 30), None], pa.timestamp("us")),
            "day": pa.array([dt.date(2024, 1, 2), dt.date(2024, 1, 3)], pa.date32()),
            "blob": pa.array([b"\xff\x00", b"ok"], pa.binary()),
            "n": pa.array([1, 2], pa.int8()),
        }
    )
    pq.write_table(table, path)
    r = read_articles(path)
    a, b = r.articles
    assert (a.id, b.id) == ("10", "11")
    assert a.published == "2023-12-05T10:30:00" and b.published is None
    assert a.fields == {
        "id": 10,
        "text": "first",
        "published": dt.datetime(2023, 12, 5, 10, 30),
        "day": dt.date(2024, 1, 2),
        "blob": b"\xff\x00",
        "n": 1,
    }
    assert b.fields["blob"] == b"ok"
    out = tmp_path / "typed.jsonl"  # the JSON writer makes them JSON: ISO dates, base64 or UTF-8 text
    write_records([a.fields, b.fields], out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0] == {
        "id": 10,
        "text": "first",
        "published": "2023-12-05T10:30:00",
        "day": "2024-01-02",
        "blob": "/wA=",
        "n": 1,
    }
    assert rows[1]["blob"] == "ok" and rows[1]["published"] is None


def test_parquet_writes_mixed_columns_as_text(tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    write_records([{"id": "1", "v": 1, "e": {}}, {"id": "2", "v": "x", "only2": True}], out)
    assert pq.read_table(out).to_pylist() == [
        {"id": "1", "v": "1", "e": "{}", "only2": None},
        {"id": "2", "v": "x", "e": None, "only2": True},
    ]


def test_empty_outputs(tmp_path: Path) -> None:
    for name in ("e.jsonl", "e.csv", "e.parquet", "e.json"):
        write_records([], tmp_path / name)
        assert read_articles(tmp_path / name) == ReadResult((), (), 0)


def test_stdin_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (
        b'{"id": "s1", "text": "caf\xc3\xa9"}\n\n{"id": "s2", "text": "x\xff"}\n{"id": "s3", "text": "ok"}\n'
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    r = read_articles("-")
    assert [a.id for a in r.articles] == ["s1", "s3"]
    assert r.articles[0].text == "café"
    rej = only_reject(r)
    assert (rej.line, rej.source) == (3, "-") and "not valid UTF-8" in rej.reason


def test_stdin_text_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": 1, "text": "hé"}\n{"id": 1, "text": "x"}\n'))
    r = read_articles("-")
    assert [(a.id, a.text) for a in r.articles] == [("1", "hé")]
    assert only_reject(r).line == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": 1}\n'))
    with pytest.raises(InputError, match=r"^stdin line 1: missing 'text'"):
        read_articles("-", on_error="fail")


def test_stdin_csv_with_fmt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("id,text\n1,hello\n"))
    assert [a.text for a in read_articles("-", fmt="csv").articles] == ["hello"]


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "pages"
    d.mkdir()
    (d / "b.txt").write_text("plain text article", encoding="utf-8")
    (d / "a.html").write_text("<html><body><p>Một bài báo</p></body></html>", encoding="utf-8")
    (d / "c.HTM").write_text("<p>upper-case extension</p>", encoding="utf-8")
    (d / "notes.md").write_text("ignored")
    (d / "data.json").write_text("{}")
    (d / ".hidden.txt").write_text("ignored")
    (d / "sub").mkdir()
    (d / "sub" / "z.txt").write_text("ignored")
    (d / "bom.txt").write_bytes(b"\xef\xbb\xbfwith BOM")
    r = read_articles(d)
    check_total(r)
    assert r.rejects == ()
    assert [(a.id, a.html) for a in r.articles] == [
        ("a", True),
        ("b", False),
        ("bom", False),
        ("c", True),
    ]
    assert r.articles[0].text.startswith("<html>")
    assert r.articles[2].text == "with BOM"
    assert r.articles[1].fields == {"id": "b", "text": "plain text article"}
    assert r.articles[2].fields == {"id": "bom", "text": "with BOM"}


def test_directory_rejects(tmp_path: Path) -> None:
    d = tmp_path / "pages"
    d.mkdir()
    (d / "a.html").write_text("<p>x</p>")
    (d / "a.txt").write_text("same id as a.html")
    (d / "bad.txt").write_bytes(b"caf\xe9 latin-1")
    (d / "empty.txt").write_text("  \n")
    (d / "junk.txt").write_bytes(bytes(range(1, 9)) * 20)
    r = read_articles(d)
    check_total(r)
    assert [a.id for a in r.articles] == ["a"]
    got = {Path(j.source).name: (j.line, j.id, j.reason) for j in r.rejects}
    assert got["a.txt"][:2] == (0, "a") and "duplicate id 'a' (first seen in a.html" in got["a.txt"][2]
    assert got["bad.txt"][1] == "bad" and got["bad.txt"][2].startswith("not valid UTF-8")
    assert "empty 'text'" in got["empty.txt"][2]
    assert "control characters" in got["junk.txt"][2]
    with pytest.raises(InputError, match=r"a\.txt: duplicate id"):
        read_articles(d, on_error="fail")


def test_empty_directory_and_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    assert read_articles(tmp_path / "d") == ReadResult((), (), 0)
    (tmp_path / "e.jsonl").write_bytes(b"\n\n  \n")
    assert read_articles(tmp_path / "e.jsonl") == ReadResult((), (), 0)
    (tmp_path / "e.csv").write_bytes(b"")
    assert read_articles(tmp_path / "e.csv") == ReadResult((), (), 0)
    (tmp_path / "h.csv").write_text("id,text\n")
    assert read_articles(tmp_path / "h.csv") == ReadResult((), (), 0)


def test_seed_directory() -> None:
    r = read_articles(SEEDS)
    check_total(r)
    assert r.rejects == ()
    assert [a.id for a in r.articles] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert len(r.articles) == 5
    assert all(not a.html and len(a.text) > 200 for a in r.articles)
    assert "000_134a85180f117a65" in {a.id for a in r.articles}


# ---------------------------------------------------------------- field mapping


def test_field_map_jsonl(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "m.jsonl",
        json.dumps({"doc_id": 7, "body": "mapped", "text": "an extra now", "headline": "H"}),
        json.dumps({"doc_id": 8, "text": "no body"}),
    )
    fields = FieldMap(text="body", id="doc_id", title="headline")
    r = read_articles(path, fields=fields)
    (a,) = r.articles
    assert (a.id, a.text, a.title) == ("7", "mapped", "H")
    assert a.fields == {"doc_id": 7, "body": "mapped", "text": "an extra now", "headline": "H"}
    rej = only_reject(r)
    assert (rej.line, rej.id) == (2, "8")
    assert rej.reason == "missing 'body' (map another field with --text-field)"


def test_field_map_csv_and_parquet(tmp_path: Path) -> None:
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("doc_id,body,lang\nx,hello,EN\n")
    fields = FieldMap(text="body", id="doc_id")
    (a,) = read_articles(csv_path, fields=fields).articles
    assert (a.id, a.text, a.lang) == ("x", "hello", "en")
    assert a.fields == {"doc_id": "x", "body": "hello", "lang": "EN"}
    pq_path = tmp_path / "m.parquet"
    write_records([{"doc_id": "y", "body": "hi", "k": 1}], pq_path)
    (b,) = read_articles(pq_path, fields=fields).articles
    assert (b.id, b.text, b.fields) == ("y", "hi", {"doc_id": "y", "body": "hi", "k": 1})


def test_html_flag_in_records(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "h.jsonl",
        '{"id": "1", "text": "<p>x</p>", "html": true}',
        '{"id": "2", "text": "x", "html": "<p>raw page</p>"}',
    )
    a, b = read_articles(path).articles
    assert a.html is True and a.fields["html"] is True
    assert b.html is False and b.fields == {"id": "2", "text": "x", "html": "<p>raw page</p>"}


# ---------------------------------------------------------------- bad records

BAD_JSONL: list[tuple[str | bytes, str]] = [
    ('{"id": "1", "text": "ok"', "malformed JSON"),
    ("[1, 2]", "expected a JSON object with 'id' and 'text', got array"),
    ('"just a string"', "got string"),
    (
        '{"text": "no id"}',
        "missing 'id' (give every record a unique id, or map another field with --id-field)",
    ),
    ('{"id": "  ", "text": "blank id"}', "blank 'id'"),
    ('{"id": null, "text": "null id"}', "missing 'id'"),
    ('{"id": true, "text": "bool id"}', "'id' must be a string or an integer"),
    ('{"id": [1], "text": "list id"}', "'id' must be a string or an integer, got array"),
    ('{"id": "x"}', "missing 'text' (map another field with --text-field)"),
    ('{"id": "x", "text": null}', "missing 'text'"),
    ('{"id": "x", "text": ""}', "empty 'text'"),
    ('{"id": "x", "text": " \\n\\t "}', "empty 'text'"),
    ('{"id": "x", "text": 42}', "'text' must be a string, got number"),
    ('{"id": "x", "text": "a\\u0000b"}', "'text' contains NUL bytes"),
    ('{"id": "x", "text": "\\u0001\\u0002\\u0003\\u0004abc"}', "mostly control characters"),
    ('{"id": "x", "text": "lone \\udc80 surrogate"}', "not valid Unicode"),
    (b'{"id": "x", "text": "caf\xe9"}', "not valid UTF-8"),
    (b'{"id": "x", "text": "\xff\xfe\x00\x01"}', "not valid UTF-8"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_JSONL)
def test_bad_jsonl_record(tmp_path: Path, line: str | bytes, reason: str) -> None:
    path = jsonl(
        tmp_path / "data.jsonl",
        '{"id": "first", "text": "good"}',
        "",
        line,
        '{"id": "last", "text": "good too"}',
    )
    r = read_articles(path)
    rej = only_reject(r)
    assert [a.id for a in r.articles] == ["first", "last"]
    assert rej.line == 3 and rej.source == str(path)
    assert reason in rej.reason
    assert "\n" not in rej.reason
    with pytest.raises(InputError, match=r"data\.jsonl line 3: ") as info:
        read_articles(path, on_error="fail")
    assert reason in str(info.value)


def test_on_error_fail_message(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "data.jsonl",
        *[json.dumps({"id": str(i), "text": "t"}) for i in range(6)],
        '{"id": "6"}',
    )
    with pytest.raises(InputError) as info:
        read_articles(path, on_error="fail")
    assert str(info.value) == f"{path} line 7: missing 'text' (map another field with --text-field)"
    assert isinstance(info.value, DedupError)


def test_duplicate_ids(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "d.jsonl",
        '{"id": 5, "text": "first"}',
        '{"id": "6", "text": ""}',
        '{"id": "5", "text": "second"}',
        '{"id": "6", "text": "valid after a rejected one"}',
        '{"id": 5, "text": "third"}',
    )
    r = read_articles(path)
    check_total(r)
    assert [(a.id, a.text) for a in r.articles] == [
        ("5", "first"),
        ("6", "valid after a rejected one"),
    ]
    dupes = [j for j in r.rejects if "duplicate" in j.reason]
    assert [(j.line, j.id) for j in dupes] == [(3, "5"), (5, "5")]
    assert all("first seen on line 1" in j.reason for j in dupes)


def test_every_record_accounted_for(tmp_path: Path) -> None:
    lines: list[str | bytes] = [line for line, _ in BAD_JSONL]
    lines += [json.dumps({"id": f"ok{i}", "text": "fine"}) for i in range(5)]
    path = jsonl(tmp_path / "mix.jsonl", *lines, "", "   ")
    r = read_articles(path)
    check_total(r)
    assert r.total == len(lines)
    assert len(r.articles) == 5
    assert sorted(j.line for j in r.rejects) == list(range(1, len(BAD_JSONL) + 1))


def test_big_article_is_kept(tmp_path: Path) -> None:
    text = ("Một câu rất dài về chính trị. " * 200_000)[:5_000_000]
    path = jsonl(tmp_path / "big.jsonl", json.dumps({"id": "big", "text": text}, ensure_ascii=False))
    (a,) = read_articles(path).articles
    assert a.text == text and len(a.text) == 5_000_000
    csv_path = tmp_path / "big.csv"
    write_records([{"id": "big", "text": text}], csv_path)
    (b,) = read_articles(csv_path).articles
    assert b.text == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-12-05", "2023-12-05"),
        ("2023-12-05T10:30:00Z", "2023-12-05T10:30:00Z"),
        ("2023-12-05 10:30", "2023-12-05 10:30"),
        ("2023-12-05T10:30:00.123456+07:00", "2023-12-05T10:30:00.123456+07:00"),
        (" 2023-12-05T10:30:00+0700 ", "2023-12-05T10:30:00+0700"),
        ("2023-13-05", None),
        ("2023-02-30", None),
        ("5 Dec 2023", None),
        ("yesterday", None),
        ("", None),
        (20231205, None),
    ],
)
def test_published(tmp_path: Path, value: object, expected: str | None) -> None:
    path = jsonl(tmp_path / "p.jsonl", json.dumps({"id": "1", "text": "t", "published": value}))
    (a,) = read_articles(path).articles  # an unparseable date never rejects the record
    assert a.published == expected


def test_csv_rejects_and_record_numbers(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(
        b"id,text,extra\n"  # record 1
        b'a,"two\nlines",1\n'  # record 2
        b"\n"  # blank: not a record
        b"b,,2\n"  # record 3: empty text
        b"c,caf\xe9,3\n"  # record 4: not UTF-8
        b"d,only two\n"  # record 5: too few fields
        b"a,again,5\n"  # record 6: duplicate
        b",no id,6\n"  # record 7: blank id
        b"e,fine,7\n"  # record 8
    )
    r = read_articles(path)
    check_total(r)
    assert [a.id for a in r.articles] == ["a", "e"]
    assert r.articles[0].fields == {"id": "a", "text": "two\nlines", "extra": "1"}
    got = [(j.line, j.id, j.reason.split(" (")[0]) for j in r.rejects]
    assert got == [
        (3, "b", "empty 'text'"),
        (4, "c", "not valid UTF-8"),
        (5, "d", "row has 2 fields but the header has 3"),
        (6, "a", "duplicate id 'a'"),
        (7, None, "blank 'id'"),
    ]
    assert "first seen on line 2" in r.rejects[3].reason
    with pytest.raises(InputError, match=r"data\.csv line 3: empty 'text'"):
        read_articles(path, on_error="fail")


@pytest.mark.parametrize("name", ["u16.jsonl", "u16.csv"])
def test_utf16_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes("id,text\n1,x\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16, not UTF-8"):
        read_articles(path)


def test_csv_bom_and_header_spaces(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid , text\r\n1,hello\r\n")
    (a,) = read_articles(path).articles
    assert (a.id, a.text) == ("1", "hello")


@pytest.mark.parametrize(
    ("header", "missing", "option"),
    [("id,body,title", "text", "--text-field"), ("doc,text", "id", "--id-field")],
)
def test_csv_missing_column(tmp_path: Path, header: str, missing: str, option: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(header + "\n1,x,y\n")
    with pytest.raises(InputError) as info:
        read_articles(path)
    msg = str(info.value)
    assert f"no '{missing}' column" in msg
    assert f"columns: {', '.join(header.split(','))}" in msg
    assert f"{option} NAME" in msg and str(path) in msg and "\n" not in msg


def test_csv_duplicate_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,text,text\n1,x,y\n")
    with pytest.raises(InputError, match="duplicate column names in the header: text"):
        read_articles(path)


def test_parquet_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["1"], "body": ["x"]}), path)
    with pytest.raises(InputError, match=r"no 'text' column \(columns: id, body\).*--text-field NAME"):
        read_articles(path)


def test_parquet_rejects(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["1", None, "3", "1"], "text": ["x", "y", " ", "z"]}), path)
    r = read_articles(path)
    check_total(r)
    assert [a.id for a in r.articles] == ["1"]
    assert [(j.line, j.id) for j in r.rejects] == [(2, None), (3, "3"), (4, "1")]


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_articles(path)


def test_input_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError) as info:
        read_articles(missing)
    assert str(info.value) == f"input not found: {missing}"


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "data.xml"
    path.write_text("<a/>")
    with pytest.raises(InputError, match="cannot tell the format") as info:
        read_articles(path)
    assert "--input-format" in str(info.value) and "--format)" not in str(info.value)
    path.write_text('{"id": "1", "text": "x"}\n')
    assert read_articles(path, fmt="jsonl").articles[0].id == "1"
    with pytest.raises(InputError, match="unknown input format"):
        read_articles(path, fmt="xml")


# ---------------------------------------------------------------- writing


def test_write_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_records([{"id": "1", "canonical": True, "x": None, "t": "é"}], "-")
    assert capsys.readouterr().out == '{"id": "1", "canonical": true, "x": null, "t": "é"}\n'


def test_write_values_that_json_does_not_know(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    out = tmp_path / "o.jsonl"
    rec = {
        "f": np.float32(0.5),
        "i": np.int64(3),
        "b": np.bool_(True),
        "v": np.arange(3),
        "d": dt.date(2024, 1, 2),
        "nan": float("nan"),
        "s": {"b", "a"},
    }
    write_records([rec], out)
    assert json.loads(out.read_text()) == {
        "f": 0.5,
        "i": 3,
        "b": True,
        "v": [0, 1, 2],
        "d": "2024-01-02",
        "nan": None,
        "s": ["a", "b"],
    }
    write_records([rec], tmp_path / "o.parquet")
    row = pq.read_table(tmp_path / "o.parquet").to_pylist()[0]
    assert row["b"] is True and row["i"] == 3 and row["v"] == [0, 1, 2]
    write_records([rec], tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[
        1
    ] == '0.5,3,true,"[0, 1, 2]",2024-01-02,,"[""a"", ""b""]"'


def test_write_rejects(tmp_path: Path) -> None:
    rejects = [
        Reject(3, "x", "empty 'text' (fill it in)", "in.jsonl"),
        Reject(4, None, "malformed JSON", "-"),
    ]
    out = tmp_path / "rejects.jsonl"
    write_rejects(rejects, out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [r.to_dict() for r in rejects]
    assert rows[0] == {
        "line": 3,
        "id": "x",
        "reason": "empty 'text' (fill it in)",
        "source": "in.jsonl",
    }


def test_reject_round_trip_from_reader(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "in.jsonl", '{"id": "1"}', "oops")
    r = read_articles(path)
    out = tmp_path / "rej.txt"  # rejects are JSON Lines whatever the extension
    write_rejects(r.rejects, out)
    assert [json.loads(x)["line"] for x in out.read_text().splitlines()] == [1, 2]


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv", "out.parquet", "out.json"])
def test_atomic_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    out = tmp_path / name
    out.write_bytes(b"old content")
    calls = {"n": 0}
    real = write_mod._dumps if not name.endswith(".parquet") else write_mod._arrow_value

    def flaky(value: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(value)

    records = [{"id": str(i), "n": [i]} for i in range(10)]
    target = "_arrow_value" if name.endswith(".parquet") else "_dumps"
    monkeypatch.setattr(write_mod, target, flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_records(records, out)
    assert out.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left behind


def test_atomic_write_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")

    def interrupt(value: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(write_mod, "_dumps", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_records([{"id": "1"}], out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    write_records([{"id": "1"}], out)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # like a plain open()
    out.chmod(0o640)
    write_records([{"id": "2"}], out)
    assert out.read_text() == '{"id": "2"}\n'
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_write_through_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    write_records([{"id": "1"}], link)
    assert link.is_symlink() and real.read_text() == '{"id": "1"}\n'


def test_unwritable_paths(tmp_path: Path) -> None:
    cases = {
        tmp_path / "missing" / "out.jsonl": "does not exist",
        tmp_path: "it is a directory",
    }
    (tmp_path / "afile").write_text("x")
    cases[tmp_path / "afile" / "out.csv"] = "is not a directory"
    for path, why in cases.items():
        with pytest.raises(OutputError) as info:
            write_records([{"id": "1"}], path)
        msg = str(info.value)
        assert msg.startswith(f"cannot write {path}: ") and why in msg and "\n" not in msg
        assert isinstance(info.value, DedupError)
    with pytest.raises(OutputError, match="cannot tell the output format"):
        write_records([{"id": "1"}], tmp_path / "out.xml")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / "out.jsonl"
    if os.geteuid() != 0:  # root may write anywhere: simulate the refusal instead
        locked.chmod(0o500)
    else:
        monkeypatch.setattr(os, "access", lambda *a, **k: False)
    try:
        with pytest.raises(OutputError) as info:
            write_records([{"id": "1"}], out)
    finally:
        locked.chmod(0o700)
    assert str(info.value) == f"cannot write {out}: permission denied"


def test_os_error_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.jsonl"

    def full(value: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_mod, "_dumps", full)
    with pytest.raises(OutputError, match=r"cannot write .*out\.jsonl: No space left on device"):
        write_records([{"id": "1"}], out)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- property: any text survives

AWKWARD = [
    "x\r\ny",
    "x\r",
    "\ry",
    "a\rb",
    "a\u2028b\u0085c",
    '"q"\n,',
    "\x0bv\x0c",
    "é\n\n\n",
    "tab\there",
]


@pytest.mark.parametrize("ext", [".jsonl", ".json", ".csv", ".tsv", ".parquet"])
def test_awkward_texts_round_trip(tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"t{ext}"
    write_records([{"id": str(i), "text": t} for i, t in enumerate(AWKWARD)], out)
    r = read_articles(out)
    assert r.rejects == ()
    assert [a.text for a in r.articles] == AWKWARD


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t\"',;\u2028"),
    min_size=1,
    max_size=60,
).filter(lambda s: bool(s.strip()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(TEXT, min_size=1, max_size=5),
    ext=st.sampled_from([".jsonl", ".csv", ".parquet", ".json"]),
)
def test_texts_survive_round_trip(tmp_path: Path, texts: list[str], ext: str) -> None:
    records = [{"id": f"r{i}", "text": t, "title": t} for i, t in enumerate(texts)]
    out = tmp_path / f"prop{ext}"
    write_records(records, out)
    r = read_articles(out)
    assert r.rejects == ()
    assert [(a.id, a.text) for a in r.articles] == [(x["id"], x["text"]) for x in records]


# ---------------------------------------------------------------- formats: --input-format

FORMATS = ["jsonl", "json", "csv", "tsv", "parquet"]


def test_format_names() -> None:
    assert input_format("data.bin", "NDJSON") == "jsonl"
    assert input_format("data.bin", ".csv") == "csv"
    assert input_format("data.bin", "pq") == "parquet"
    assert input_format("-", "tsv") == "tsv" and input_format("-") == "jsonl"
    assert input_format("x", "dir") == "dir"
    assert output_format("x.bin", "ndjson") == "jsonl" and output_format("x.csv") == "csv"
    with pytest.raises(OutputError, match="unknown output format 'dir'"):
        output_format("x", "dir")
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        input_format("x.jsonl", "xml")


def _feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize("kind", FORMATS)
def test_stdin_with_input_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    src = tmp_path / f"src.{kind}"
    write_records(RECORDS, src)
    _feed_stdin(monkeypatch, src.read_bytes())
    r = read_articles("-", fmt=kind)
    check_total(r)
    assert r.rejects == () and [a.id for a in r.articles] == ["a1", "a2"]
    assert [a.text for a in r.articles] == [x["text"] for x in RECORDS]
    assert r.positions[0][0] == "-"
    if kind in ("jsonl", "json", "parquet"):  # typed formats: the records as written
        assert r.articles[0].fields == RECORDS[0]


def test_stdin_dir_format_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _feed_stdin(monkeypatch, b"")
    with pytest.raises(InputError, match="cannot read the 'dir' format from stdin"):
        read_articles("-", fmt="dir")


@pytest.mark.parametrize("kind", FORMATS)
def test_odd_extension_with_input_format(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "export.data"
    write_records(RECORDS, path, fmt=kind)
    with pytest.raises(InputError, match="--input-format"):
        read_articles(path)
    r = read_articles(path, fmt=kind)
    assert r.rejects == () and [a.id for a in r.articles] == ["a1", "a2"]


def test_odd_extension_gzip_with_input_format(tmp_path: Path) -> None:
    plain = tmp_path / "x.jsonl"
    write_records(RECORDS, plain)
    gz = tmp_path / "dump.txt.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert [a.fields for a in read_articles(gz, fmt="jsonl").articles] == RECORDS


# ---------------------------------------------------------------- validate_records (the library)


def test_validate_records_good() -> None:
    recs: list[Any] = [
        {"id": 1, "text": "one", "lang": "EN", "tags": ["a"], "n": 2},
        Article(id="two", text="two"),
        {"doc": "3", "body": "three", "published": "2024-02-30"},
    ]
    r = validate_records(recs[:2])
    assert r.rejects == () and r.total == 2
    a, b = r.articles
    assert (a.id, a.lang, a.fields) == ("1", "en", recs[0])
    assert b is recs[1] and b.fields == {}  # an Article is taken as it is
    assert r.positions == (("records", 1), ("records", 2))
    recs[0]["tags"].append("b")  # the fields are a copy of the record, not the record
    recs[0]["n"] = 3
    assert a.fields["n"] == 2
    (c,) = validate_records(iter(recs[2:]), fields=FieldMap(id="doc", text="body")).articles
    assert (c.id, c.text, c.published, c.fields) == ("3", "three", None, recs[2])


def test_validate_records_bad() -> None:
    recs: list[Any] = [
        {"id": "ok", "text": "fine"},
        {"id": "x"},
        ["not", "a", "record"],
        {"id": True, "text": "bool id"},
        {"id": "y", "text": "a\x00b"},
        {"id": "z", "text": "  "},
        {"id": "last", "text": "fine too"},
    ]
    r = validate_records(recs, source="batch")
    check_total(r)
    assert r.total == len(recs)
    assert [a.id for a in r.articles] == ["ok", "last"]
    assert r.positions == (("batch", 1), ("batch", 7))
    got = [(j.line, j.id, j.source, j.reason) for j in r.rejects]
    assert got == [
        (2, "x", "batch", "missing 'text' (map another field with FieldMap(text=...))"),
        (3, None, "batch", "expected a mapping (dict) or an Article with 'id' and 'text', got array"),
        (
            4,
            None,
            "batch",
            "'id' must be a string or an integer, got a boolean "
            "(give every record a unique id, or map another field with FieldMap(id=...))",
        ),
        (5, "y", "batch", "'text' contains NUL bytes (binary data, not text)"),
        (6, "z", "batch", "empty 'text' (no text to compare; fill it in or drop the record)"),
    ]


def test_validate_records_duplicate_ids() -> None:
    recs: list[Any] = [
        {"id": 5, "text": "first"},
        {"id": "6", "text": ""},
        {"id": "5", "text": "same id as a string"},
        Article(id="5", text="an Article with a seen id"),
        Article(id="6", text="the first valid 6"),
        {"id": "6", "text": "second valid 6"},
    ]
    r = validate_records(recs)
    check_total(r)
    assert [(a.id, a.text) for a in r.articles] == [("5", "first"), ("6", "the first valid 6")]
    dupes = [(j.line, j.id, j.reason) for j in r.rejects if "duplicate" in j.reason]
    assert dupes == [
        (3, "5", "duplicate id '5' (first seen on line 1; give every record a unique id)"),
        (4, "5", "duplicate id '5' (first seen on line 1; give every record a unique id)"),
        (6, "6", "duplicate id '6' (first seen on line 5; give every record a unique id)"),
    ]


def test_validate_records_fail() -> None:
    recs = [{"id": "a", "text": "x"}, {"id": "b", "body": "y"}, {"id": "c"}]
    with pytest.raises(InputError) as info:
        validate_records(recs, on_error="fail")
    assert str(info.value) == "records line 2: missing 'text' (map another field with FieldMap(text=...))"
    with pytest.raises(InputError, match=r"^records line 2: duplicate id 'a' \(first seen on line 1"):
        validate_records([{"id": "a", "text": "x"}, Article("a", "y")], on_error="fail")
    with pytest.raises(ConfigError, match="on_error"):
        validate_records(recs, on_error="skip")  # type: ignore[arg-type]
    assert validate_records([]) == ReadResult((), (), 0)
    with pytest.raises(InputError, match="expected an iterable of records, got one dict"):
        validate_records(cast(Any, {"id": "a", "text": "x"}))


AGREE = [
    {"id": "1", "text": "t", "published": "2023-12-05"},
    {"id": "2", "text": "t", "published": "2023-12-05T10:30:00+07:00"},
    {"id": "3", "text": "t", "published": " 2023-12-05 10:30 "},
    {"id": "4", "text": "t", "published": "yesterday"},
    {"id": "5", "text": "t", "published": "2023-02-30"},
    {"id": "6", "text": "t", "published": 20231205},
    {"id": "7", "text": "t", "published": ""},
    {"id": "8", "text": "<p>t</p>", "html": True},
    {"id": "9", "text": "t", "html": False},
    {"id": "10", "text": "t", "html": "yes"},
    {"id": "11", "text": "t", "html": 1},
    {"id": "12", "text": "t", "html": "<p>a raw page</p>", "lang": " VI "},
]


@pytest.mark.parametrize("rec", AGREE, ids=lambda r: r["id"])
def test_library_and_reader_agree(tmp_path: Path, rec: dict[str, Any]) -> None:
    path = jsonl(tmp_path / "one.jsonl", json.dumps(rec))
    (from_file,) = read_articles(path).articles
    (from_library,) = validate_records([rec]).articles
    from_mapping = Article.from_mapping(rec)
    assert from_file == from_library == from_mapping  # every standard field, `published` and `html` too
    assert from_file.fields == from_library.fields == from_mapping.fields == rec
    assert (from_file.published, from_file.html) == {
        "1": ("2023-12-05", False),
        "2": ("2023-12-05T10:30:00+07:00", False),
        "3": ("2023-12-05 10:30", False),
        "8": (None, True),
    }.get(rec["id"], (None, False))


def test_library_and_reader_reject_alike(tmp_path: Path) -> None:
    bad: list[Any] = [{"id": "x", "text": 3}, {"text": "no id"}, {"id": "x", "text": "\x01\x02\x03\x04a"}]
    path = jsonl(tmp_path / "bad.jsonl", *[json.dumps(b) for b in bad])
    file_reasons = [j.reason.split(" (")[0] for j in read_articles(path).rejects]
    lib_reasons = [j.reason.split(" (")[0] for j in validate_records(bad).rejects]
    assert file_reasons == lib_reasons and len(lib_reasons) == 3
    with pytest.raises(InputError, match=r"^article 0 \(id x\): 'text' must be a string, got number"):
        Article.from_mapping(bad[0], where="article 0")


def test_article_fields() -> None:
    a = Article(id="a", text="t")
    assert a.fields == {}
    assert a == Article(id="a", text="t", fields={"id": "a", "text": "t", "x": 1})  # not compared
    assert "fields" not in repr(a)
    assert hash(a) == hash(Article(id="a", text="t", fields={"tags": ["a list"]}))
    assert dedup.Article is Article  # the package exports the io record type


# ---------------------------------------------------------------- pass-through of every field


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, all the way down (1 != 1.0 != True), dict keys in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


TYPED = [
    {
        "id": "t1",
        "text": "Trương Thị Mai held talks.",
        "n": 3,
        "big": 2**70,
        "neg": -1,
        "x": 0.1,
        "whole": 2.0,
        "ok": True,
        "no": False,
        "nothing": None,
        "tags": ["a", 1, 2.5, None, True, {"k": [1, 2]}],
        "meta": {"words": 12, "paywall": False, "authors": [{"name": "Đặng", "id": 7}], "e": {}},
        "empty_list": [],
        "emoji": "🗞️ ✓ \u2028 line",
        "published": "2023-12-05",
    },
    {"id": "t2", "text": "Svensk text.", "only_here": {"z": None}, "n": -5, "ok": False},
    {"text": "id comes later", "id": 9, "n": 0},
]


def test_jsonl_pass_through(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "in.jsonl", *[json.dumps(r, ensure_ascii=False) for r in TYPED])
    r = read_articles(src)
    assert r.rejects == ()
    for a, rec in zip(r.articles, TYPED, strict=True):
        assert same(dict(a.fields), rec)
    out = tmp_path / "out.jsonl"
    write_records([{**a.fields, "cluster": "c", "canonical": a.id == "t1"} for a in r.articles], out)
    back = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(back) == 3
    for got, rec, a in zip(back, TYPED, r.articles, strict=True):
        assert same(got, {**rec, "cluster": "c", "canonical": a.id == "t1"})  # no keys of other rows
    assert "Trương" in out.read_text("utf-8")  # UTF-8, not escapes


def test_jsonl_writes_datetimes_as_iso_strings(tmp_path: Path) -> None:
    when = dt.datetime(2023, 12, 5, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    (a,) = validate_records(
        [{"id": "d", "text": "t", "published": when, "day": dt.date(2024, 1, 2)}]
    ).articles
    assert a.published == "2023-12-05T10:30:00+07:00" and a.fields["published"] is when
    out = tmp_path / "o.jsonl"
    write_records([dict(a.fields)], out)
    assert json.loads(out.read_text()) == {
        "id": "d",
        "text": "t",
        "published": "2023-12-05T10:30:00+07:00",
        "day": "2024-01-02",
    }


CSV_INPUT = (
    "id,text,title,score,flag,code,tags,note,empty\r\n"
    'a1,"Hello, ""world""\r\nsecond line",Tiêu đề,0.50,true,007,"[1, 2]", lead and trail ,\r\n'
    'a2,Plain text,,1e3,FALSE,0x1F,{"k": 1},"tab\there",\r\n'
)
TSV_INPUT = (
    "id\ttext\ttitle\tscore\tflag\tcode\ttags\tnote\tempty\n"
    'a1\t"Hello, ""world""\nsecond line"\tTiêu đề\t0.50\ttrue\t007\t[1, 2]\t lead and trail \t\n'
    'a2\tPlain text\t\t1e3\tFALSE\t0x1F\t{"k": 1}\t"tab\there"\t\n'
)


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_pass_through_identical_cells(tmp_path: Path, delimiter: str) -> None:
    ext, text = ("csv", CSV_INPUT) if delimiter == "," else ("tsv", TSV_INPUT)
    src = tmp_path / f"in.{ext}"
    src.write_bytes(text.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, cells = rows[0], rows[1:]
    r = read_articles(src)
    assert r.rejects == ()
    for a, row in zip(r.articles, cells, strict=True):
        assert a.fields == dict(zip(header, row, strict=True)) and list(a.fields) == header
        assert all(type(v) is str for v in a.fields.values())
    out = tmp_path / f"out.{ext}"
    write_records([{**a.fields, "cluster": "a1"} for a in r.articles], out)
    with open(out, encoding="utf-8", newline="") as fh:
        back = list(csv.reader(fh, delimiter=delimiter))
    assert back[0] == [*header, "cluster"]
    assert back[1:] == [[*row, "a1"] for row in cells]  # every cell exactly as it came in
    again = read_articles(out)  # and what dedup reads back is the same
    assert [dict(a.fields) for a in again.articles] == [{**a.fields, "cluster": "a1"} for a in r.articles]


def test_parquet_pass_through_keeps_arrow_types(tmp_path: Path) -> None:
    table = typed_table(["first text", "second text", "third"], [0.5, float("nan"), None])
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    r = read_articles(src)
    assert r.rejects == ()
    expected = pq.read_table(src).to_pylist()
    for a, row in zip(r.articles, expected, strict=True):
        assert list(a.fields) == table.column_names
        assert all(same(a.fields[k], v) or (k == "x" and v != v) for k, v in row.items())
    assert r.articles[0].published == "2023-12-05T10:30:00+00:00"
    out = tmp_path / "out.parquet"
    write_records([{**a.fields, "cluster": "p1", "canonical": a.id == "p1"} for a in r.articles], out)
    back = pq.read_table(out)
    assert back.column_names == [*table.column_names, "cluster", "canonical"]
    for name in table.column_names:
        assert back.schema.field(name).type == table.schema.field(name).type, name
    assert back.schema.field("canonical").type == pa.bool_()
    got = back.to_pylist()
    for row, want in zip(got, expected, strict=True):
        for k, v in want.items():
            assert same(row[k], v) or (k == "x" and v != v and row[k] != row[k]), (k, row[k], v)


def test_parquet_pass_through_to_jsonl_and_csv(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(typed_table(["first text", "second text", "third"], [0.5, float("nan"), None]), src)
    (a, *_) = read_articles(src).articles
    write_records([dict(a.fields)], tmp_path / "o.jsonl")
    row = json.loads((tmp_path / "o.jsonl").read_text())
    assert row["published"] == "2023-12-05T10:30:00+00:00" and row["meta"] == {"words": 12, "who": "Đặng"}
    assert row["n"] == 1 and row["ok"] is True and row["blob"] == "/wA=" and row["nothing"] is None
    write_records([dict(a.fields)], tmp_path / "o.csv")
    with open(tmp_path / "o.csv", encoding="utf-8", newline="") as fh:
        header, cells = list(csv.reader(fh))
    got = dict(zip(header, cells, strict=True))
    assert got["published"] == "2023-12-05T10:30:00+00:00" and got["ok"] == "true" and got["nothing"] == ""
    assert json.loads(got["tags"]) == ["a", "b"] and got["n"] == "1"


def test_columns_in_only_some_records(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        {"id": "1", "text": "a", "kicker": "Breaking", "n": 1},
        {"id": "2", "text": "b", "tags": ["x"], "n": 2},
        {"id": "3", "text": "c", "meta": {"k": True}},
    ]
    src = jsonl(tmp_path / "in.jsonl", *[json.dumps(r) for r in records])
    arts = read_articles(src).articles
    rows = [{**a.fields, "cluster": "1"} for a in arts]
    write_records(rows, tmp_path / "o.jsonl")
    back = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert all(same(b, r) for b, r in zip(back, rows, strict=True))  # each record keeps its own keys
    write_records(rows, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines() == [
        "id,text,kicker,n,cluster,tags,meta",
        "1,a,Breaking,1,1,,",
        '2,b,,2,1,"[""x""]",',
        '3,c,,,1,,"{""k"": true}"',
    ]
    write_records(rows, tmp_path / "o.parquet")
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.column_names == ["id", "text", "kicker", "n", "cluster", "tags", "meta"]
    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.column("meta").to_pylist() == [None, None, {"k": True}]
    assert table.column("kicker").to_pylist() == ["Breaking", None, None]
