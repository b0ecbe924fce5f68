"""Input and output: the read stage (files, stdin, directories, DataFrames or in-memory records ->
validated `Article`s and `Reject`s) and the write stage (records -> JSON Lines, JSON, CSV, TSV,
Parquet, DataFrames).

- `formats`: extensions and format names, one table for input and output;
- `records`: `Article`, `FieldMap`, `Reject`, `ReadResult`, `where` and the one record
  validation (`validate_records` for in-memory records);
- `readers`: `read_articles`;
- `writers`: `write_records`, `write_rejects`, `check_target` (atomic writes), `write_shards`;
- `shards`: `shard_files` (a directory or glob of record files as one input), `is_shard_dir`;
- `frames`: pandas/polars DataFrames in (`read_frame`: the same validation) and out
  (`records_to_pandas`, `records_to_polars`); pandas and polars are optional.
"""

from __future__ import annotations

from .formats import EXTENSIONS, INPUT_FORMATS, OUTPUT_FORMATS, input_format, output_format
from .frames import as_field_map, is_frame, read_frame, records_to_pandas, records_to_polars
from .readers import read_articles
from .records import Article, FieldMap, ReadResult, Reject, validate_records, where
from .shards import shard_files
from .writers import check_target, write_records, write_rejects, write_shards

__all__ = [
    "EXTENSIONS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "Article",
    "FieldMap",
    "ReadResult",
    "Reject",
    "as_field_map",
    "check_target",
    "input_format",
    "is_frame",
    "output_format",
    "read_articles",
    "read_frame",
    "records_to_pandas",
    "records_to_polars",
    "validate_records",
    "where",
    "write_records",
    "write_rejects",
    "write_shards",
    "shard_files",
]
