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

WORKLOADS = ("add", "fire", "lateness", "memory", "idle", "cron", "store")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in WORKLOADS:
        print(f"usage: worker.py {{{','.join(WORKLOADS)}}} LIB PARAMS_JSON", file=sys.stderr)
        return 2
    workload, lib_name, params = argv[0], argv[1], json.loads(argv[2])
    logging.disable(logging.CRITICAL)  # all three log per add and per run; logging is not under test
    module = importlib.import_module(f"wl_{workload}")
    with tempfile.TemporaryDirectory(prefix="asyncz-like-bench-") as tmp:
        store, url = params.get("store", "memory"), params.get("url")
        if store == "sqlite":
            url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        lib: Any = None if workload == "cron" else adapter(lib_name, store, url)
        result = asyncio.run(module.run(lib, params))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
