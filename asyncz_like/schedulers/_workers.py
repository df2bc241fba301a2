"""Is this process one of several web-server workers? Then a memory store is a mistake.

``uvicorn --workers 4`` imports the app in four processes, each starting its own
scheduler; on the in-memory store every job then runs four times. Nothing in the
scheduler can see the other processes, but the server's command line and environment
say how many there are: uvicorn and gunicorn read ``--workers``/``-w`` or
``WEB_CONCURRENCY``, gunicorn also ``GUNICORN_CMD_ARGS``, and worker processes keep the
server's command line (forked, or, for uvicorn's spawned workers, handed over by
``multiprocessing``). A worker count given any other way (a gunicorn config file,
``uvicorn.run(..., workers=4)``) is not seen: the warning is a help, not a guarantee.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence

from asyncz_like.abc import Store
from asyncz_like.plugins import STORES, plugin_class

#: servers whose workers are separate processes, each importing the app
SERVERS = ("uvicorn", "gunicorn", "hypercorn")
_WORKERS_FLAG = re.compile(r"^(?:--workers|-w)(?:=(\d+))?$")


def server_workers(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """A description of the worker set-up (``"uvicorn --workers 4"``) when this process looks
    like one of several server workers; None otherwise."""
    argv = list(sys.argv if argv is None else argv)
    environ = os.environ if environ is None else environ
    server = _server(argv)
    if server is None:
        return None
    arguments = argv[1:] + shlex.split(environ.get("GUNICORN_CMD_ARGS", "")) if server == "gunicorn" else argv[1:]
    count = _workers_in(arguments)
    source = f"{server} --workers {count}"
    if count is None:
        count = _number(environ.get("WEB_CONCURRENCY"))
        source = f"{server} with WEB_CONCURRENCY={count}"
    return source if count is not None and count > 1 else None


def warn_if_memory_store_in_workers(logger: logging.Logger, stores: Mapping[str, Store]) -> bool:
    """Log a warning when some of ``stores`` are memory stores and this process looks like
    one of several server workers. Returns whether it warned."""
    memory = plugin_class(STORES, "memory")
    aliases = [alias for alias, store in stores.items() if isinstance(store, memory)]
    workers = server_workers() if aliases else None
    if workers is None:
        return False
    logger.warning(
        "This process looks like one of several server workers (%s) and the scheduler keeps tasks in "
        "the memory store %s: every worker has its own copy of each task, so every job runs once per "
        "worker. Use one shared store (SQLite on one host; PostgreSQL, MariaDB, Redis or MongoDB across "
        "hosts) so each run executes once; see the deployment docs.",
        workers,
        ", ".join(repr(alias) for alias in aliases),
    )
    return True


def _server(argv: list[str]) -> str | None:
    """The server this process was started as: ``uvicorn ...``, ``python -m uvicorn ...``
    (whose ``argv[0]`` is ``.../uvicorn/__main__.py``) or a wrapper script of that name."""
    if not argv:
        return None
    path = argv[0].replace("\\", "/")
    for server in SERVERS:
        name = path.rsplit("/", 1)[-1]
        if name in (server, f"{server}.exe") or path.endswith(f"/{server}/__main__.py"):
            return server
    return None


def _workers_in(arguments: list[str]) -> int | None:
    """The value of the last ``--workers N``, ``--workers=N`` or ``-w N`` in ``arguments``."""
    found = None
    for index, argument in enumerate(arguments):
        match = _WORKERS_FLAG.match(argument)
        if match is None:
            if argument.startswith("-w") and argument[2:].isdigit():  # -w4
                found = int(argument[2:])
            continue
        value = match.group(1) or (arguments[index + 1] if index + 1 < len(arguments) else None)
        found = _number(value)
    return found


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
