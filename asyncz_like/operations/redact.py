"""Keeping secrets out of everything an operator surface prints, serves or logs.

Store URLs show with their password masked; the surfaces' own credentials (an API token,
a password) and every store password are replaced by ``***`` wherever they would appear,
error messages from drivers included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
#: ``scheme://user:password@`` in any text
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@\s/]+)@")


def url_password(url: str | None) -> list[str]:
    """The password of ``url``, as written and decoded (either may show up in a message)."""
    if not url or "://" not in url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [] if not password else [password, unquote(password)]


class Redactor:
    """Replaces known secrets and URL passwords in text and in JSON-like values."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # short strings would mask ordinary words; the longest first so overlaps go whole
        self.secrets = sorted({secret for secret in secrets if secret and len(secret) >= 4}, key=len, reverse=True)

    def add(self, *secrets: str | None) -> None:
        self.secrets = Redactor([*self.secrets, *secrets]).secrets

    def text(self, text: str) -> str:
        text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value
