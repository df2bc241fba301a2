"""Built-in executors. Each is also registered as an entry point under ``asyncz_like.executors``.

The names load on first use: a scheduler imports only the executor it runs (the process
pool's ``multiprocessing`` is not paid by every process that starts a scheduler).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asyncz_like._lazy import load

if TYPE_CHECKING:
    from asyncz_like.executors.asyncio import AsyncIOExecutor
    from asyncz_like.executors.base import BaseExecutor
    from asyncz_like.executors.debug import DebugExecutor
    from asyncz_like.executors.pool import ThreadPoolExecutor
    from asyncz_like.executors.process_pool import ProcessPoolExecutor

_LAZY = {
    "AsyncIOExecutor": "asyncz_like.executors.asyncio",
    "BaseExecutor": "asyncz_like.executors.base",
    "DebugExecutor": "asyncz_like.executors.debug",
    "ProcessPoolExecutor": "asyncz_like.executors.process_pool",
    "ThreadPoolExecutor": "asyncz_like.executors.pool",
}


def __getattr__(name: str) -> Any:
    return load(__name__, _LAZY, name)


__all__ = ["AsyncIOExecutor", "BaseExecutor", "DebugExecutor", "ProcessPoolExecutor", "ThreadPoolExecutor"]
