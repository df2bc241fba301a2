"""Which optional extra brings which driver, and an import error that says what to install.

The persistent stores need drivers the core does not depend on. Without this, a store
whose extra is missing fails with ``No module named 'bson'``, which says nothing about
``pip install "asyncz-like[mongodb]"``. Every place that imports an optional driver does
so inside :func:`extra_needed`, so the advice is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: top-level module -> the extra of the ``asyncz-like`` distribution that installs it
EXTRA_OF_MODULE: dict[str, str] = {
    "sqlalchemy": "sqlalchemy",
    "psycopg": "postgres",
    "psycopg2": "postgres",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "redis": "redis",
    "hiredis": "redis",
    "pymongo": "mongodb",
    "bson": "mongodb",
    "gridfs": "mongodb",
    "cryptography": "encryption",
    "prometheus_client": "metrics",
    "opentelemetry": "tracing",
}

#: drivers the extras do not install, but SQLAlchemy picks for a URL without ``+driver``
_OTHER_DRIVER_HINTS: dict[str, str] = {
    "psycopg2": "the 'postgres' extra installs psycopg 3: write the URL as 'postgresql+psycopg://...'",
    "MySQLdb": "the 'mysql' extra installs PyMySQL: write the URL as 'mysql+pymysql://...'",
}


class MissingExtraError(ModuleNotFoundError):
    """An optional driver is not installed; the message names the extra that installs it.

    A :class:`ModuleNotFoundError` (so an ``ImportError``), with ``.name`` the missing
    module and ``.extra`` the extra to install."""

    def __init__(self, message: str, *, name: str, extra: str) -> None:
        super().__init__(message, name=name)
        self.extra = extra


def missing_extra_error(error: ModuleNotFoundError, needed_by: str) -> MissingExtraError | None:
    """The advice for ``error`` raised while ``needed_by`` imported its driver; None when the
    missing module is not one an extra installs (a bug to report as it is)."""
    if isinstance(error, MissingExtraError):
        return error
    module = (error.name or "").split(".", 1)[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    message = (
        f"{needed_by} needs the {module!r} module, which is not installed: "
        f'pip install "asyncz-like[{extra}]" (or, from a clone, pip install ".[{extra}]")'
    )
    hint = _OTHER_DRIVER_HINTS.get(module)
    if hint:
        message = f"{message}; {hint}"
    return MissingExtraError(message, name=module, extra=extra)


@contextmanager
def extra_needed(needed_by: str) -> Iterator[None]:
    """Run imports of optional drivers; a missing one raises :class:`MissingExtraError`
    naming the extra. ``needed_by`` says who needs it (``"the redis store"``)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        advice = missing_extra_error(exc, needed_by)
        if advice is None or advice is exc:
            raise
        raise advice from exc
