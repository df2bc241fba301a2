"""Scheduler front ends."""

from asyncz_like.schedulers.asyncio import AsyncIOScheduler, NativeAsyncIOScheduler
from asyncz_like.schedulers.base import BaseScheduler, SchedulerState

__all__ = ["AsyncIOScheduler", "BaseScheduler", "NativeAsyncIOScheduler", "SchedulerState"]
