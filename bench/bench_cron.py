"""Time successive next-fire computations of the cron trigger against other implementations.

    python bench/bench_cron.py            # full run
    python bench/bench_cron.py --quick    # a smoke run of the harness (figures meaningless)

Each implementation walks the same crontab line forward from the same instant in the same
zone, feeding every fire time back as the previous one, as a scheduler does. croniter is
a dependency and always measured; asyncz and APScheduler 3 are measured when importable,
otherwise their columns say so. (asyncz and APScheduler 3 read crontab weekdays one day
off, so for weekday lines they compute different, but equally costly, schedules.)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from asyncz_like.triggers.cron import CronTrigger

EXPRESSIONS = ["*/5 * * * *", "0 9 * * 1-5", "*/15 9-17 * * 1-5", "30 2 * * *", "0 0 1 * *", "0 0 13 * 5"]
ZONE = "Europe/Berlin"
START = datetime(2026, 1, 1, 0, 0, 0)

Stepper = Callable[[], object]
Factory = Callable[[str, ZoneInfo, datetime], Stepper]


def ours(line: str, zone: ZoneInfo, start: datetime) -> Stepper:
    trigger = CronTrigger.from_crontab(line, timezone=zone)
    state = [start]

    def step() -> object:
        state[0] = trigger.get_next_trigger_time(zone, state[0], state[0])  # type: ignore[assignment]
        return state[0]

    return step


def with_croniter(line: str, zone: ZoneInfo, start: datetime) -> Stepper:
    iterator = croniter(line, start)
    return lambda: iterator.get_next(datetime)


def with_asyncz(line: str, zone: ZoneInfo, start: datetime) -> Stepper:
    from asyncz.triggers import CronTrigger as AsynczCron

    trigger = AsynczCron.from_crontab(line, timezone=zone)
    state = [start]

    def step() -> object:
        state[0] = trigger.get_next_trigger_time(zone, state[0], state[0])
        return state[0]

    return step


def with_apscheduler3(line: str, zone: ZoneInfo, start: datetime) -> Stepper:
    from apscheduler.triggers.cron import CronTrigger as ApsCron

    trigger = ApsCron.from_crontab(line, timezone=zone)
    state = [start]

    def step() -> object:
        state[0] = trigger.get_next_fire_time(state[0], state[0])
        return state[0]

    return step


def available(module: str) -> bool:
    try:
        __import__(module)
    except Exception:
        return False
    return True


def per_call_us(factory: Factory, line: str, zone: ZoneInfo, calls: int, repeats: int) -> float:
    """Best of ``repeats`` runs of ``calls`` successive computations, in microseconds per call."""
    best = float("inf")
    for _ in range(repeats):
        step = factory(line, zone, START.replace(tzinfo=zone))
        began = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, time.perf_counter() - began)
    return best / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: checks the harness, not the speed")
    parser.add_argument("--calls", type=int, default=20_000, help="successive computations per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per cell; the best is reported")
    args = parser.parse_args(argv)
    calls, repeats = (200, 1) if args.quick else (args.calls, args.repeats)
    expressions = EXPRESSIONS[:2] if args.quick else EXPRESSIONS
    zone = ZoneInfo(ZONE)

    others: list[tuple[str, Factory | None]] = [
        ("croniter", with_croniter),
        ("asyncz", with_asyncz if available("asyncz.triggers") else None),
        ("APScheduler3", with_apscheduler3 if available("apscheduler.triggers.cron") else None),
    ]
    header = f"{'expression':<20} {'ours us':>8}" + "".join(f" {name + ' us':>16} {'x':>6}" for name, _ in others)
    print(f"next-fire time per call, {calls} successive calls, best of {repeats}, zone {ZONE}")
    print(header)
    print("-" * len(header))
    for line in expressions:
        mine = per_call_us(ours, line, zone, calls, repeats)
        row = f"{line:<20} {mine:>8.2f}"
        for _, factory in others:
            if factory is None:
                row += f" {'n/a':>16} {'':>6}"
            else:
                theirs = per_call_us(factory, line, zone, calls, repeats)
                row += f" {theirs:>16.2f} {theirs / mine:>5.1f}x"
        print(row)
    for name, factory in others:
        if factory is None:
            print(f"note: {name} is not importable here; its column was skipped")
    print("x = their time per call / ours (higher means we are faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
