"""`python -m generator` runs the newsgen command line."""

from .cli import run

run()
