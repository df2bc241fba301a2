"""Functions the real-time tests schedule by reference, so other processes can import them."""

from __future__ import annotations

import time


def touch() -> None:
    """Does nothing: what is measured is when it starts."""


def busy() -> None:
    """A short piece of work, long enough to be in flight when a shutdown comes."""
    time.sleep(0.05)


async def abusy() -> None:
    import asyncio

    await asyncio.sleep(0.05)
