"""Input and output: the read stage (files, stdin, directories or in-memory records -> validated
`Article`s and `Reject`s) and the write stage (records -> JSON Lines, JSON, CSV, TSV, Parquet).

- `formats`: extensions and format names, one table for input and output;
- `records`: `Article`, `FieldMap`, `Reject`, `ReadResult`, `where` and the one record
  validation (`validate_records` for in-memory records);
- `readers`: `read_articles`;
- `writers`: `write_records`, `write_rejects`, `check_target` (atomic writes).
"""

from __future__ import annotations

from .formats import EXTENSIONS, INPUT_FORMATS, OUTPUT_FORMATS, input_format, output_format
from .readers import read_articles
from .records import Article, FieldMap, ReadResult, Reject, validate_records, where
from .writers import check_target, write_records, write_rejects

__all__ = [
    "EXTENSIONS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "Article",
    "FieldMap",
    "ReadResult",
    "Reject",
    "check_target",
    "input_format",
    "output_format",
    "read_articles",
    "validate_records",
    "where",
    "write_records",
    "write_rejects",
]
