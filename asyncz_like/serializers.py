"""Serializers: how a persistent store turns a task's state dict into bytes and back.

``PickleSerializer`` is the default (it stores anything picklable, as asyncz does).
``JSONSerializer`` keeps stored state readable and free of pickle's code-execution risk,
for tasks whose arguments are JSON-safe. Everything else a task's state holds (triggers,
datetimes, time deltas, time zones, tuples) is written as a small tagged object, so the
state comes back equal to what went in.
"""

from __future__ import annotations

import json
import pickle
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from asyncz_like._callables import resolve_reference
from asyncz_like.abc import Serializer, Trigger
from asyncz_like.exceptions import ArgumentTypeError

#: the key marking a tagged (non-JSON) value; a plain dict never uses it
TAG = "__asyncz__"


class PickleSerializer(Serializer):
    """Pickle, at ``protocol`` (the highest by default)."""

    def __init__(self, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        if isinstance(protocol, bool) or not isinstance(protocol, int) or not 0 <= protocol <= pickle.HIGHEST_PROTOCOL:
            raise ValueError(f"protocol: expected an int from 0 to {pickle.HIGHEST_PROTOCOL}, got {protocol!r}")
        self.protocol = protocol

    def dumps(self, state: dict[str, Any]) -> bytes:
        """Pickle the state."""
        return pickle.dumps(state, self.protocol)

    def loads(self, data: bytes) -> dict[str, Any]:
        """Unpickle; anything but a state dict raises."""
        state = pickle.loads(data)
        if not isinstance(state, dict):
            raise ValueError(f"stored state is a {type(state).__name__}, not a dict")
        return state


class JSONSerializer(Serializer):
    """UTF-8 JSON. Task arguments must be JSON-safe (or datetimes, tuples and the like);
    anything else raises ``TypeError`` when the task is stored, naming the value."""

    def dumps(self, state: dict[str, Any]) -> bytes:
        """The state as UTF-8 JSON; datetimes, zones, tuples and the trigger are tagged so ``loads`` restores them."""
        return json.dumps(_encode(state), separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes) -> dict[str, Any]:
        """The state from ``dumps``' JSON; anything but a state dict raises."""
        state = _decode(json.loads(data))
        if not isinstance(state, dict):
            raise ValueError(f"stored state is a {type(state).__name__}, not an object")
        return state


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON serializer: dict key {key!r} is not a string; use the pickle serializer")
        if TAG in value:
            raise TypeError(f"JSON serializer: dict key {TAG!r} is reserved")
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [_encode(item) for item in value]}
    if isinstance(value, datetime):
        encoded: dict[str, Any] = {TAG: "datetime", "wall": value.replace(tzinfo=None).isoformat()}
        if value.tzinfo is not None:
            encoded["tz"] = _encode_tz(value.tzinfo)
        if value.fold:
            encoded["fold"] = 1
        return encoded
    if isinstance(value, date):
        return {TAG: "date", "iso": value.isoformat()}
    if isinstance(value, time) and value.tzinfo is None:
        return {TAG: "time", "iso": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "d": value.days, "s": value.seconds, "us": value.microseconds}
    if isinstance(value, tzinfo):
        return {TAG: "tz", "tz": _encode_tz(value)}
    if isinstance(value, Trigger):
        cls = type(value)
        return {TAG: "trigger", "class": f"{cls.__module__}:{cls.__qualname__}", "state": _encode(value.__getstate__())}
    raise TypeError(
        f"JSON serializer: cannot store a {type(value).__module__}.{type(value).__qualname__} ({value!r}); "
        "use JSON-safe task arguments or the pickle serializer"
    )


def _encode_tz(tz: tzinfo) -> Any:
    if isinstance(tz, ZoneInfo):
        return tz.key
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        return "UTC" if offset == timedelta(0) else {"offset": offset.total_seconds()}
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)  # tzlocal / pytz style zones
    if isinstance(key, str):
        return key
    raise TypeError(f"JSON serializer: cannot store the time zone {tz!r}; use a zoneinfo zone or a fixed offset")


def _decode_tz(value: Any) -> tzinfo:
    if isinstance(value, dict):
        return timezone(timedelta(seconds=value["offset"]))
    if value == "UTC":
        return timezone.utc
    return ZoneInfo(value)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: _decode(item) for key, item in value.items()}
    if tag == "tuple":
        return tuple(_decode(item) for item in value["items"])
    if tag == "datetime":
        result = datetime.fromisoformat(value["wall"])
        if "tz" in value:
            result = result.replace(tzinfo=_decode_tz(value["tz"]))
        return result.replace(fold=value.get("fold", 0))
    if tag == "date":
        return date.fromisoformat(value["iso"])
    if tag == "time":
        return time.fromisoformat(value["iso"])
    if tag == "timedelta":
        return timedelta(days=value["d"], seconds=value["s"], microseconds=value["us"])
    if tag == "tz":
        return _decode_tz(value["tz"])
    if tag == "trigger":
        cls = resolve_reference(value["class"], "trigger")
        if not (isinstance(cls, type) and issubclass(cls, Trigger)):
            raise TypeError(f"trigger: stored class {value['class']!r} is not a Trigger")
        trigger = cls.__new__(cls)
        trigger.__setstate__(_decode(value["state"]))
        return trigger
    raise ValueError(f"JSON serializer: unknown tag {tag!r} in stored state")


#: the parts of a task's state a user chooses freely, in the order they are blamed
_USER_PARTS = ("args", "kwargs", "trigger", "name")


def encode_error(serializer: Serializer, state: dict[str, Any], cause: BaseException) -> ArgumentTypeError:
    """The error for a state ``serializer`` could not encode, naming the argument at fault:
    each user-chosen part is tried alone, and the first that fails is named."""
    kind = type(serializer).__name__
    for part in _USER_PARTS:
        try:
            serializer.dumps({part: state.get(part)})
        except Exception as exc:
            return ArgumentTypeError(
                part, f"task {state.get('id')!r} cannot be stored by the {kind}: {type(exc).__name__}: {exc}"
            )
    return ArgumentTypeError(
        "task", f"{state.get('id')!r} cannot be stored by the {kind}: {type(cause).__name__}: {cause}"
    )


__all__ = ["JSONSerializer", "PickleSerializer", "encode_error"]
