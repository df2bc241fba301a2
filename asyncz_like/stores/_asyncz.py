"""asyncz's stored format: recognise it, and read it into our tasks.

asyncz (0.17) stores a task as a pickle of a ``TaskStateEnvelope`` around a pydantic
``TaskState``; its trigger is a pickled asyncz trigger whose state is another pydantic
model (``IntervalState``, ``CronState`` with cron field objects, ...), optionally
encrypted with AES-CCM under ``ASYNCZ_STORE_ENCRYPTION_KEY``. Unpickling those needs
asyncz itself. Instead, :class:`AsynczUnpickler` maps every ``asyncz.*`` class onto a
neutral stand-in that only records the state it is given, and :func:`convert_state`
rebuilds our Task and triggers from those records. asyncz need not be installed, and no
asyncz code ever runs.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import pickletools
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from asyncz_like._time import to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.cron.trigger import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from asyncz_like.triggers.shutdown import ShutdownTrigger

#: the environment variable asyncz reads its store encryption key from
ASYNCZ_KEY_ENV = "ASYNCZ_STORE_ENCRYPTION_KEY"
_NONCE = 13  # asyncz: a 13-byte AES-CCM nonce, then the ciphertext


class AsynczFormatError(ValueError):
    """One stored asyncz task that cannot be converted; the message says why."""


# -- recognising asyncz pickles ---------------------------------------------------------------


def _is_asyncz_module(module: str) -> bool:
    return module == "asyncz" or module.startswith("asyncz.")


def pickled_modules(data: bytes) -> set[str]:
    """The modules whose classes a pickle names, read from its opcodes: nothing is imported
    or run. Raises ValueError (or another parse error) for bytes that are not a pickle."""
    modules: set[str] = set()
    memo: dict[int, Any] = {}
    recent: list[Any] = []  # the last values pushed: strings, or None for anything else
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            recent.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = recent[-1] if recent else None  # type: ignore[arg-type]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(int(arg)))  # type: ignore[arg-type]
        elif name == "GLOBAL":
            modules.add(str(arg).split(" ", 1)[0])
            recent.append(None)
        elif name == "STACK_GLOBAL":
            if len(recent) >= 2 and isinstance(recent[-2], str):
                modules.add(recent[-2])
            recent.append(None)
        elif opcode.stack_after:
            recent.append(None)
        del recent[:-2]
    return modules


def written_by_asyncz(data: bytes) -> bool:
    """True for a plain (unencrypted) asyncz pickle; False for ours, JSON, Fernet tokens and
    anything unreadable."""
    if not data[:1] == b"\x80":  # pickle protocol 2+ (asyncz uses the highest)
        return False
    try:
        return any(_is_asyncz_module(module) for module in pickled_modules(data))
    except Exception:
        return False


# -- reading asyncz pickles without asyncz ---------------------------------------------------


class _StandInMeta(type):
    """Nested names (``getattr(cls, "Inner")``, as pickle resolves qualified names) are stand-ins too."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _stand_in(cls.asyncz_module, f"{cls.asyncz_name}.{name}")  # type: ignore[attr-defined]


class StandIn(metaclass=_StandInMeta):
    """An asyncz object as pickled: its class path, constructor arguments and state."""

    asyncz_module = ""
    asyncz_name = ""
    args: tuple[Any, ...]
    state: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> StandIn:  # NEWOBJ, or a REDUCE call
        instance = super().__new__(cls)
        instance.args = args
        instance.state = None
        return instance

    def __setstate__(self, state: Any) -> None:
        self.state = state

    @property
    def path(self) -> str:
        return f"{self.asyncz_module}.{self.asyncz_name}"

    def fields(self) -> dict[str, Any]:
        """The object's attributes: a pydantic model pickles ``__dict__`` and
        ``__pydantic_extra__``; a trigger pickles its state model; a dataclass its dict."""
        state = self.state
        if isinstance(state, StandIn):
            return state.fields()
        if isinstance(state, dict):
            if "__dict__" in state:
                return {**(state.get("__pydantic_extra__") or {}), **state["__dict__"]}
            return dict(state)
        return {}

    def __repr__(self) -> str:
        return f"<asyncz {self.path} {self.fields()!r}>"


_STAND_INS: dict[tuple[str, str], type[StandIn]] = {}


def _stand_in(module: str, name: str) -> type[StandIn]:
    key = (module, name)
    cls = _STAND_INS.get(key)
    if cls is None:
        cls = _STAND_INS[key] = _StandInMeta(  # type: ignore[assignment]
            name.rsplit(".", 1)[-1], (StandIn,), {"asyncz_module": module, "asyncz_name": name}
        )
    return cls  # type: ignore[return-value]


class AsynczUnpickler(pickle.Unpickler):
    """Unpickles asyncz's stored tasks with every ``asyncz.*`` class replaced by a stand-in;
    every other class (datetimes, zones, the task's own arguments) is the real one."""

    def find_class(self, module: str, name: str) -> Any:
        if _is_asyncz_module(module):
            return _stand_in(module, name)
        return super().find_class(module, name)


def asyncz_decryptor(key: str | None) -> Any:
    """asyncz's cipher for ``key`` (AES-CCM over the SHA-256 of it), or None without a key."""
    if not key:
        return None
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESCCM
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "asyncz_encryption_key: reading encrypted asyncz stores needs the 'cryptography' package"
        ) from exc
    return AESCCM(hashlib.sha256(key.encode()).digest())


def load_asyncz_state(data: bytes, decryptor: Any = None) -> StandIn:
    """The stored bytes of one asyncz task as its (stand-in) ``TaskState``."""
    data = bytes(data)
    if decryptor is not None:
        try:
            data = decryptor.decrypt(data[:_NONCE], data[_NONCE:], None)
        except Exception as exc:
            raise AsynczFormatError(
                "cannot decrypt it with the asyncz encryption key given (wrong key, or not encrypted)"
            ) from exc
    try:
        loaded = AsynczUnpickler(io.BytesIO(data)).load()
    except Exception as exc:
        hint = "" if decryptor is not None else " (encrypted by asyncz? give its ASYNCZ_STORE_ENCRYPTION_KEY)"
        raise AsynczFormatError(f"not an asyncz task pickle{hint}: {type(exc).__name__}: {exc}") from exc
    if isinstance(loaded, StandIn) and loaded.asyncz_name == "TaskStateEnvelope":
        loaded = loaded.fields().get("payload")
    if not (isinstance(loaded, StandIn) and loaded.asyncz_name == "TaskState"):
        raise AsynczFormatError(f"expected an asyncz TaskState, found {type(loaded).__name__}")
    return loaded


# -- asyncz triggers -> ours ----------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """What an asyncz task left to its scheduler: the zone of zone-less triggers."""

    timezone: tzinfo


def _zone(fields: dict[str, Any], defaults: Defaults) -> tzinfo:
    zone = fields.get("timezone")
    return zone if isinstance(zone, tzinfo) else defaults.timezone


def _moment(value: Any, zone: tzinfo, argument: str) -> datetime | None:
    return None if value is None else to_datetime(value, zone, argument)


def _interval(fields: dict[str, Any], defaults: Defaults) -> Trigger:
    zone = _zone(fields, defaults)
    interval = fields.get("interval")
    if not isinstance(interval, timedelta):
        raise AsynczFormatError(f"interval trigger without an interval: {fields!r}")
    return IntervalTrigger(
        seconds=interval.total_seconds(),
        start_at=_moment(fields.get("start_at"), zone, "start_at"),
        end_at=_moment(fields.get("end_at"), zone, "end_at"),
        timezone=zone,
        jitter=fields.get("jitter"),
    )


def _date(fields: dict[str, Any], defaults: Defaults) -> Trigger:
    return DateTrigger(run_at=_moment(fields.get("run_at"), defaults.timezone, "run_at"), timezone=defaults.timezone)


def _cron(fields: dict[str, Any], defaults: Defaults) -> Trigger:
    """asyncz keeps each field's expression as given (``exprs``) and whether it was; giving
    ours the same fields gives the same defaults for the rest (the keyword rules agree)."""
    zone = _zone(fields, defaults)
    given: dict[str, str] = {}
    for field in fields.get("fields") or []:
        values = field.fields() if isinstance(field, StandIn) else {}
        if "name" not in values or "exprs" not in values:
            raise AsynczFormatError(f"cron trigger with an unreadable field: {field!r}")
        if not values.get("is_default"):
            given[str(values["name"])] = str(values["exprs"])
    return CronTrigger(
        **given,
        start_at=_moment(fields.get("start_at"), zone, "start_at"),
        end_at=_moment(fields.get("end_at"), zone, "end_at"),
        timezone=zone,
        jitter=fields.get("jitter"),
    )


def _combination(kind: type[AndTrigger] | type[OrTrigger]) -> Any:
    def convert(fields: dict[str, Any], defaults: Defaults) -> Trigger:
        parts = []
        for entry in fields.get("triggers") or []:
            if not (isinstance(entry, tuple) and len(entry) == 2):
                raise AsynczFormatError(f"{kind.alias} trigger with an unreadable part: {entry!r}")
            reference, state = entry  # ("asyncz.triggers.cron.trigger:CronTrigger", its state)
            module, _, name = str(reference).partition(":")
            parts.append(_trigger_from(f"{module}.{name}", state, defaults))
        return kind(parts, jitter=fields.get("jitter"))

    return convert


def _shutdown(fields: dict[str, Any], defaults: Defaults) -> Trigger:
    return ShutdownTrigger()


_TRIGGERS = {
    "asyncz.triggers.interval.IntervalTrigger": _interval,
    "asyncz.triggers.date.DateTrigger": _date,
    "asyncz.triggers.cron.trigger.CronTrigger": _cron,
    "asyncz.triggers.combination.AndTrigger": _combination(AndTrigger),
    "asyncz.triggers.combination.OrTrigger": _combination(OrTrigger),
    "asyncz.triggers.shutdown.ShutdownTrigger": _shutdown,
}


def _trigger_from(path: str, state: Any, defaults: Defaults) -> Trigger:
    convert = _TRIGGERS.get(path)
    if convert is None:
        raise AsynczFormatError(f"no conversion for the trigger {path} (only asyncz's built-in triggers convert)")
    fields = state.fields() if isinstance(state, StandIn) else dict(state or {})
    return convert(fields, defaults)  # type: ignore[no-any-return]


def convert_trigger(trigger: Any, defaults: Defaults) -> Trigger:
    if isinstance(trigger, Trigger):
        return trigger
    if not isinstance(trigger, StandIn):
        raise AsynczFormatError(f"the trigger is a {type(trigger).__name__}, not an asyncz trigger")
    return _trigger_from(trigger.path, trigger, defaults)


# -- asyncz TaskState -> our Task --------------------------------------------------------------


def convert_state(state: StandIn, defaults: Defaults) -> Task:
    """Our Task for asyncz's ``TaskState``. Its function is kept as the ``module:name``
    reference asyncz stored and is not imported here (it may live in the application)."""
    fields = state.fields()
    reference = fields.get("fn_reference") or fields.get("fn")
    if not isinstance(reference, str) or ":" not in reference:
        raise AsynczFormatError(f"no 'module:name' reference to its function (got {reference!r})")
    grace = fields.get("mistrigger_grace_time", 1)
    options: dict[str, Any] = {
        "name": fields.get("name") or reference.rsplit(":", 1)[-1],
        "args": tuple(fields.get("args") or ()),
        "kwargs": dict(fields.get("kwargs") or {}),
        "trigger": convert_trigger(fields.get("trigger"), defaults),
        "executor": fields.get("executor") or "default",
        "mistrigger_grace_time": grace,
        "coalesce": bool(fields.get("coalesce", True)),
        "max_instances": fields.get("max_instances") or 1,
        "next_run_time": fields.get("next_run_time"),
    }
    try:
        task = Task(None, id=fields.get("id"), **options)
    except (TypeError, ValueError) as exc:
        raise AsynczFormatError(str(exc)) from exc
    task.fn_reference = reference
    task.pending = False
    return task


def read_asyncz_task(task_id: str, data: bytes, defaults: Defaults, decryptor: Any = None) -> Task:
    """One stored asyncz task as our Task; AsynczFormatError says why it cannot be."""
    task = convert_state(load_asyncz_state(data, decryptor), defaults)
    if task.id != task_id:
        raise AsynczFormatError(f"its state belongs to task {task.id!r}")
    return task
