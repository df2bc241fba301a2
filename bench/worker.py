"""One workload, one library, one fresh process: prints the result as one JSON line.

    python bench/worker.py WORKLOAD LIB '{"count": 10000}'

Run by ``bench/run.py``; a fresh interpreter per measurement keeps one library's
allocations, caches and threads from colouring another's figures.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
import tempfile
from typing import Any

from libs import adapter


class ErrorRecords(logging.Handler):
    """Keeps the ERROR (and worse) log records of a measurement, so a library that fails
    quietly (and runs nothing) says why in the table."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]} (in: {message})"
        self.messages.append(" ".join(message.split())[:300])


WORKLOADS = ("add", "fire", "lateness", "memory", "idle", "cron", "store")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in WORKLOADS:
        print(f"usage: worker.py {{{','.join(WORKLOADS)}}} LIB PARAMS_JSON", file=sys.stderr)
        return 2
    workload, lib_name, params = argv[0], argv[1], json.loads(argv[2])
    # all three log per add and per run at INFO: that is not under test, but an ERROR is
    logging.disable(logging.WARNING)
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    module = importlib.import_module(f"wl_{workload}")
    with tempfile.TemporaryDirectory(prefix="asyncz-like-bench-") as tmp:
        store, url = params.get("store", "memory"), params.get("url")
        if store == "sqlite":
            url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        lib: Any = None if workload == "cron" else adapter(lib_name, store, url)
        result = asyncio.run(module.run(lib, params))
    if errors.messages:
        result.update(log_errors=len(errors.messages), log_error=errors.messages[0])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
