"""Parse one cron field expression into the sorted tuple of values it allows.

Parsing happens once, at construction; the hot path only bisects the tuples built here.
Every error names the field and the offending text, so a bad schedule fails when it is
defined rather than when it is first due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asyncz_like._limits import shorten
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: Keyword form: Monday is 0 (as in ``datetime.weekday``).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: crontab(5) form: Sunday is 0 (and 7).
CRONTAB_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

#: the longest expression a field takes (every value of a field listed one by one is far shorter)
MAX_EXPRESSION_LENGTH = 1000

_TERM = re.compile(r"^(?:(?P<all>\*)|(?P<first>[a-z0-9]+)(?:-(?P<last>[a-z0-9]+))?)(?:/(?P<step>[^/]*))?$")


@dataclass(frozen=True)
class FieldSpec:
    """The legal range of a field and the names it accepts (mapped to ``first_name_value + index``)."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_name_value: int = 0


YEAR = FieldSpec("year", 1970, 9999)
MONTH = FieldSpec("month", 1, 12, MONTH_NAMES, 1)
DAY = FieldSpec("day", 1, 31)
WEEK = FieldSpec("week", 1, 53)
DAY_OF_WEEK = FieldSpec("day_of_week", 0, 6, WEEKDAY_NAMES, 0)
CRONTAB_DAY_OF_WEEK = FieldSpec("day_of_week", 0, 7, CRONTAB_WEEKDAY_NAMES, 0)
HOUR = FieldSpec("hour", 0, 23)
MINUTE = FieldSpec("minute", 0, 59)
SECOND = FieldSpec("second", 0, 59)


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes ``'٣'`` and ``'²'``, which cron does not."""
    return text.isascii() and text.isdigit()


def _number(text: str, too_large: int) -> int:
    """The value of ASCII digits; ``too_large`` for more than nine significant digits
    (``int()`` of thousands of digits is slow, and refused past 4,300)."""
    significant = text.lstrip("0") or "0"
    return int(significant) if len(significant) <= 9 else too_large


def _value(spec: FieldSpec, text: str, expression: str) -> int:
    if _is_number(text):
        value = _number(text, spec.high + 1)
    elif text in spec.names:
        value = spec.names.index(text) + spec.first_name_value
    else:
        raise ValueError(f"{spec.name}: unknown value {text!r} in {expression!r}")
    if not spec.low <= value <= spec.high:
        raise ValueError(
            f"{spec.name}: value {shorten(text, 20)[1:-1]} is out of range {spec.low}-{spec.high} in {expression!r}"
        )
    return value


def parse_term(spec: FieldSpec, term: str, expression: str) -> range:
    """One comma-separated part: ``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n`` or ``a/n`` (a to the end)."""
    match = _TERM.match(term)
    if match is None:
        raise ValueError(f"{spec.name}: cannot parse {term!r} in {expression!r}")
    step_text = match.group("step")
    step = 1
    if step_text is not None:
        step = _number(step_text, spec.high + 1) if _is_number(step_text) else 0
        if step == 0:
            raise ValueError(
                f"{spec.name}: bad step {step_text!r} in {expression!r} (a positive integer in ASCII digits is needed)"
            )
    if match.group("all"):
        first, last = spec.low, spec.high
    else:
        first = _value(spec, match.group("first"), expression)
        last_text = match.group("last")
        if last_text is not None:
            last = _value(spec, last_text, expression)
        else:
            last = spec.high if step_text is not None else first
        if last < first:
            raise ValueError(f"{spec.name}: reversed range {term!r} in {expression!r} ({first} > {last})")
    if step > spec.high - spec.low + 1:
        raise ValueError(f"{spec.name}: bad step {step_text} in {expression!r} (larger than the field's range)")
    return range(first, last + 1, step)


def split_terms(spec: FieldSpec, expression: str) -> list[str]:
    if not expression.isascii():
        bad = next(char for char in expression if not char.isascii())
        raise ValueError(
            f"{spec.name}: {expression!r} contains {bad!r} (U+{ord(bad):04X}); cron fields take ASCII digits, "
            "names and * , - / only"
        )
    terms = [term.strip() for term in expression.lower().split(",")]
    if not all(terms):
        raise ValueError(f"{spec.name}: empty list item in {expression!r}")
    return terms


def parse_field(spec: FieldSpec, expression: str) -> tuple[int, ...]:
    """All values allowed by a comma-separated expression, sorted and unique."""
    values: set[int] = set()
    for term in split_terms(spec, expression):
        values.update(parse_term(spec, term, expression))
    return tuple(sorted(values))


def normalize_expression(name: str, value: object) -> str:
    """Accept an int or a string; reject anything else (and booleans) naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ArgumentTypeError(name, f"expected an int or a cron expression string, got {shorten(value)}")
    if isinstance(value, int) and not 0 <= value <= YEAR.high:
        raise ArgumentError(name, f"value {shorten(value)} is out of range")
    text = " ".join(str(value).split())
    if not text:
        raise ArgumentError(name, "empty expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ArgumentError(name, f"expression of {len(text)} characters, at most {MAX_EXPRESSION_LENGTH}")
    return text
