"""`python -m dedup.cli`: the command line."""

from . import app

app()
