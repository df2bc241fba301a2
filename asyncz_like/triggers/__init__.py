"""Built-in triggers. Each is also registered as an entry point under ``asyncz_like.triggers``.

The names asyncz exports from ``asyncz.triggers`` are here too: ``BaseTrigger`` is the
plugin contract (:class:`asyncz_like.abc.Trigger`) that a custom trigger subclasses.
"""

from asyncz_like.abc import Trigger
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.combination import _Combination as BaseCombinationTrigger
from asyncz_like.triggers.cron import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from asyncz_like.triggers.shutdown import ShutdownTrigger

BaseTrigger = Trigger

__all__ = [
    "AndTrigger",
    "BaseCombinationTrigger",
    "BaseTrigger",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "OrTrigger",
    "ShutdownTrigger",
]
