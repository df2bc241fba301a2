"""Scheduler front ends."""

from asyncz_like.schedulers.asyncio import AsyncIOScheduler, NativeAsyncIOScheduler
from asyncz_like.schedulers.base import BaseScheduler, SchedulerState
from asyncz_like.schedulers.manual import ManualScheduler

__all__ = ["AsyncIOScheduler", "BaseScheduler", "ManualScheduler", "NativeAsyncIOScheduler", "SchedulerState"]
