"""One exception family for the whole library: the CLI turns any of them into a one-line message."""

from __future__ import annotations

from typing import Any


class DedupError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(DedupError):
    """An input file or record cannot be read; the message names the record and the fix."""


class ConfigError(DedupError):
    """A configuration value is out of range or inconsistent."""


class ModelError(DedupError):
    """The embedding model cannot be built, found or loaded."""


class EncoderError(DedupError):
    """An encoder returned vectors of the wrong shape, dtype or with non-finite values."""


class OutputError(DedupError):
    """An output file cannot be written; the message names the path and the cause."""


class NoUsableRecords(InputError):
    """Every record of the input was rejected; `rejects` says which and why."""

    def __init__(self, message: str, rejects: tuple[Any, ...]) -> None:
        super().__init__(message)
        self.rejects = rejects


class EngineError(DedupError):
    """The Ray engine cannot run: Ray is not installed, or its cluster cannot be reached."""
