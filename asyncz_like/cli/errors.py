"""Exit statuses of ``asyncz-like`` and the one-line message for each failure."""

from __future__ import annotations

from enum import IntEnum

import click
from pydantic import ValidationError

from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.operations.errors import is_store_unreachable
from asyncz_like.operations.features import FeatureUnavailableError
from asyncz_like.operations.redact import Redactor

PROG = "asyncz-like"


class ExitCode(IntEnum):
    """Documented in docs/operations.md; scripts may rely on them."""

    OK = 0
    #: a task run raised, health is failing, or something unexpected went wrong
    FAILED = 1
    #: bad usage or invalid input (an unknown option, a bad cron field, a missing store URL)
    USAGE = 2
    #: no task has that id
    NOT_FOUND = 3
    #: a task with that id already exists
    CONFLICT = 4
    #: the store could not be reached
    STORE_UNAVAILABLE = 5
    #: the feature (run history, health) is not available in this installation
    FEATURE_UNAVAILABLE = 6
    #: stopped by Ctrl-C (``run`` and ``serve`` stop cleanly with 0)
    INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, TaskLookupError):
        return ExitCode.NOT_FOUND
    if isinstance(exc, ConflictIdError):
        return ExitCode.CONFLICT
    if isinstance(exc, FeatureUnavailableError):
        return ExitCode.FEATURE_UNAVAILABLE
    if is_store_unreachable(exc):
        return ExitCode.STORE_UNAVAILABLE
    if isinstance(exc, click.ClickException):
        return ExitCode(exc.exit_code) if exc.exit_code in {code.value for code in ExitCode} else ExitCode.USAGE
    if isinstance(exc, (ValueError, TypeError, LookupError, ImportError, ValidationError)):
        return ExitCode.USAGE
    return ExitCode.FAILED


def one_line(exc: BaseException, redactor: Redactor) -> str:
    """The error's message, first line only, secrets masked."""
    if isinstance(exc, click.ClickException):
        message = exc.format_message()
        context = getattr(exc, "ctx", None)
        if isinstance(exc, click.UsageError) and context is not None:
            message = f"{message.splitlines()[0] if message else 'bad usage'} (see '{context.command_path} --help')"
    elif isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        msg = str(error["msg"]).removeprefix("Value error, ")
        message = f"{where}: {msg}" if where else msg
    else:
        message = str(exc) or type(exc).__name__
        if exit_code_for(exc) is ExitCode.FAILED:
            message = f"{type(exc).__name__}: {message}"
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return redactor.text(lines[0] if lines else type(exc).__name__)


def fail(exc: BaseException, redactor: Redactor) -> ExitCode:
    """Print ``asyncz-like: error: ...`` to stderr; return the exit status."""
    click.echo(f"{PROG}: error: {one_line(exc, redactor)}", err=True)
    return exit_code_for(exc)
