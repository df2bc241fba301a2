"""A business-calendar trigger for asyncz_like, shipped as a separate distribution.

Installing it registers the ``business_days`` alias under the ``asyncz_like.triggers``
entry-point group, so schedulers find it exactly as they find the built-in triggers.
"""

from __future__ import annotations

from asyncz_like_business_days.trigger import BusinessDaysTrigger

__version__ = "0.1.0"
__all__ = ["BusinessDaysTrigger"]
