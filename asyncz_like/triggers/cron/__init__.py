"""The cron trigger: keyword fields (APScheduler style) or a crontab(5) line."""

from asyncz_like.triggers.cron.trigger import CronTrigger

__all__ = ["CronTrigger"]
