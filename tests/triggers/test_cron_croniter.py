"""Our crontab(5) next-fire times equal croniter's on a corpus of standard expressions.

Where the two differ on purpose (see docs/cron.md) the case is excluded by name below, and
each exclusion has its own test elsewhere stating what we do instead.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import CroniterBadDateError, croniter

from asyncz_like.triggers.cron import CronTrigger

UTC = timezone.utc
ZONES = [
    UTC,
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),
]
STARTS = [  # naive wall times, read in each zone; chosen away from DST changes (see below)
    datetime(2026, 1, 15, 10, 17, 23),
    datetime(2026, 2, 28, 0, 0, 0),
    datetime(2026, 6, 30, 23, 59, 59),
    datetime(2027, 12, 31, 23, 30, 0),
]
FIRES_PER_START = 5

HANDWRITTEN = [
    "* * * * *",
    "*/5 * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "30 * * * *",
    "0 9 * * 1-5",
    "0 0 * * *",
    "0 0 1 * *",
    "0 0 1 1 *",
    "0 12 * * 0",
    "0 12 * * 7",
    "15 14 1 * *",
    "0 22 * * 1-5",
    "23 0-20/2 * * *",
    "5 4 * * sun",
    "0 0,12 1 */2 *",
    "0 4 8-14 * *",
    "0 0 13 * 5",
    "0 0 1,15 * 3",
    "0 9 * jan-mar mon-fri",
    "*/10 9-17 * * mon-fri",
    "0 0 29 2 *",
    "0 0 31 * *",
    "59 23 31 12 *",
    "0 8 * * 6,0",
    "1-59/2 * * * *",
    "0 */3 * * *",
    "45 23 * * 5",
    "0 0 L * *".replace("L", "28-31"),
    "0 6 1-7 * 1",
]
MINUTES = ["0", "5", "*/5", "*/15", "0,30", "10-20", "10-50/20", "*", "59", "7,19,43"]
HOURS = ["*", "0", "9", "*/2", "9-17", "8-18/2", "0,12", "23", "3-5"]
DAYS = ["*", "1", "15", "1,15", "10-20", "31", "29", "*/10", "28-31"]
MONTHS = ["*", "1", "2", "*/3", "jan,jul", "6-8", "dec", "2-11/3"]
WEEKDAYS = ["*", "0", "1", "5", "1-5", "mon-fri", "sat,sun", "6", "7", "*/2", "2-4"]


def corpus() -> list[str]:
    rng = random.Random(20260101)
    generated = {
        " ".join((rng.choice(MINUTES), rng.choice(HOURS), rng.choice(DAYS), rng.choice(MONTHS), rng.choice(WEEKDAYS)))
        for _ in range(400)
    }
    return HANDWRITTEN + sorted(generated - set(HANDWRITTEN))[:220]


def follows_crontab5_in_both(line: str) -> bool:
    """croniter treats a day field like ``*/2`` as restricted (OR with the other day field);
    crontab(5) treats any field starting with '*' as unrestricted (AND). We follow crontab(5)."""
    _, _, day, _, weekday = line.split()
    both_restricted_for_croniter = day != "*" and weekday != "*"
    return not (both_restricted_for_croniter and (day.startswith("*") or weekday.startswith("*")))


def near_a_dst_change(moment: datetime) -> bool:
    """croniter fires a fixed time twice in a repeated hour; we fire it once (docs/cron.md)."""
    zone = moment.tzinfo
    offsets = {(moment.astimezone(UTC) + timedelta(hours=h)).astimezone(zone).utcoffset() for h in (-3, 0, 3)}
    return len(offsets) > 1


EXPRESSIONS = corpus()


def test_the_corpus_is_big_enough() -> None:
    assert len(EXPRESSIONS) >= 200
    assert sum(follows_crontab5_in_both(line) for line in EXPRESSIONS) >= 200


@pytest.mark.parametrize("line", EXPRESSIONS)
def test_next_fire_times_equal_croniters(line: str) -> None:
    if not follows_crontab5_in_both(line):
        pytest.skip("croniter reads a '*/n' day field as restricted; crontab(5) does not (docs/cron.md)")
    compared = 0
    for zone in ZONES:
        trigger = CronTrigger.from_crontab(line, timezone=zone)
        for wall in STARTS:
            start = wall.replace(tzinfo=zone)
            theirs = croniter(line, start)
            ours: datetime | None = start
            for _ in range(FIRES_PER_START):
                ours = trigger.get_next_trigger_time(zone, ours)
                try:
                    expected = theirs.get_next(datetime)
                except CroniterBadDateError:  # croniter gives up on a date that never comes
                    assert ours is None, (line, zone, start)
                    compared += 1
                    break
                assert ours is not None, (line, zone, start)
                if near_a_dst_change(expected) or near_a_dst_change(ours):
                    break  # this chain has reached a DST change: compared by test_cron_dst.py instead
                assert ours.isoformat() == expected.isoformat(), (line, zone, start)
                compared += 1
    assert compared > 0
