"""`python -m dedup` runs the CLI."""

from .cli import app

app(prog_name="dedup")
