"""Log output of the CLI: secrets masked always; short commands print warnings as one line,
``run`` and ``serve`` log at INFO with tracebacks (they are long-running services)."""

from __future__ import annotations

import logging
import os

from asyncz_like.operations.redact import Redactor

DEBUG_ENV = "ASYNCZ_LIKE_DEBUG"
_HANDLER_NAME = "asyncz-like-cli"


class RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor, fmt: str, tracebacks: bool) -> None:
        super().__init__(fmt)
        self.redactor = redactor
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if not self.tracebacks and (record.exc_info or record.exc_text):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return self.redactor.text(super().format(record))


def configure(redactor: Redactor, service: bool = False) -> None:
    """One handler on the library's logger (replacing an earlier one of ours)."""
    debug = bool(os.environ.get(DEBUG_ENV))
    logger = logging.getLogger("asyncz_like")
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    if service:
        handler.setFormatter(RedactingFormatter(redactor, "%(asctime)s %(levelname)s %(name)s: %(message)s", True))
        logger.setLevel(logging.DEBUG if debug else logging.INFO)
    else:
        handler.setFormatter(RedactingFormatter(redactor, "asyncz-like: %(levelname)s: %(message)s", debug))
        logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.addHandler(handler)
    logger.propagate = False
