"""The ``asyncz-like`` command group and its entry point: every failure ends in one line on
stderr and a documented exit status (``ExitCode``)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from asyncz_like import __version__
from asyncz_like.cli.errors import PROG, ExitCode, fail
from asyncz_like.cli.logs import DEBUG_ENV
from asyncz_like.cli.session import CURRENT
from asyncz_like.operations.redact import Redactor

EPILOG = (
    "Exit status: 0 ok, 1 failed (a run raised, health failing), 2 bad usage or input, 3 no such task, "
    "4 id already taken, 5 store unreachable, 6 feature not available, 130 interrupted."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, epilog=EPILOG)
@click.version_option(__version__, prog_name=PROG)
def cli() -> None:
    """Look after asyncz_like schedulers: list, add, pause, resume, run, reschedule and delete
    tasks in any store, see run history and health, run a scheduler, serve the dashboard.

    Commands work on the store directly, with no scheduler running; running schedulers
    honour the changes (announced through the store, or found at their next poll).
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a script, exits with) the exit status."""
    from asyncz_like.cli import commands, serving  # noqa: F401  (registers the commands)

    CURRENT.clear()
    args = list(sys.argv[1:] if argv is None else argv)
    args = args or ["--help"]  # a bare command shows the help, not an error
    try:
        result = cli.main(args=args, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(f"{PROG}: aborted", err=True)
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        click.echo(f"{PROG}: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except Exception as exc:
        redactor = CURRENT[-1].redactor if CURRENT else Redactor()
        if os.environ.get(DEBUG_ENV):
            click.echo(redactor.text(traceback.format_exc()), err=True)
        return fail(exc, redactor)
    return int(result) if isinstance(result, int) else ExitCode.OK


def run() -> None:
    """The console script."""
    sys.exit(main())
