"""The ``asyncz-like`` command line (also ``python -m asyncz_like``), built on click."""

from asyncz_like.cli.app import cli, main, run
from asyncz_like.cli.errors import ExitCode

__all__ = ["ExitCode", "cli", "main", "run"]
