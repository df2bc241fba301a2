"""The ``undefined`` sentinel: "not given, use the scheduler's default" (None can be a real value)."""

from __future__ import annotations

from typing import Any, Final


class Undefined:
    __slots__ = ()
    _instance: Any = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "undefined"


undefined: Final = Undefined()
