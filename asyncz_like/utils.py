"""asyncz's ``asyncz.utils`` helpers that its documented examples import."""

from asyncz_like._callables import callable_name as get_callable_name

__all__ = ["get_callable_name"]
