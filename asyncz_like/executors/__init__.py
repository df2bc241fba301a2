"""Built-in executors. Each is also registered as an entry point under ``asyncz_like.executors``."""

from asyncz_like.executors.asyncio import AsyncIOExecutor
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.debug import DebugExecutor
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.executors.process_pool import ProcessPoolExecutor

__all__ = ["AsyncIOExecutor", "BaseExecutor", "DebugExecutor", "ProcessPoolExecutor", "ThreadPoolExecutor"]
