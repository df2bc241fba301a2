"""asyncz_like: job scheduling with trigger, executor and store plugins."""

from __future__ import annotations

__version__ = "0.1.0"
