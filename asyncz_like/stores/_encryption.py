"""Optional authenticated encryption of stored task state (``cryptography``'s Fernet).

Fernet is AES-128-CBC with an HMAC-SHA256 tag: a wrong key or a flipped bit is detected,
never silently decoded into garbage. The key comes from a parameter or from an
environment variable whose name the user gives, so it need not live in code.
"""

from __future__ import annotations

import os
from typing import Any

from asyncz_like._extras import extra_needed
from asyncz_like.exceptions import DecryptionError

#: every Fernet token starts with these bytes (version 0x80, base64-encoded)
FERNET_PREFIX = b"gAAAAA"


def generate_key() -> str:
    """A fresh random key, to keep in a secret store or an environment variable."""
    with extra_needed("generate_key"):
        from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class Encryptor:
    """Encrypts and authenticates bytes with one Fernet key."""

    def __init__(self, key: str | bytes) -> None:
        with extra_needed("encryption_key: encryption"):
            from cryptography.fernet import Fernet
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "encryption_key: expected a Fernet key (32 url-safe base64-encoded bytes, as made by "
                f"asyncz_like.stores.generate_key()), got a {type(key).__name__} of length {len(key)}"
            ) from exc

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, data: bytes) -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(data)
        except InvalidToken:
            if not data.startswith(FERNET_PREFIX):
                raise DecryptionError("stored state is not encrypted, but the store has an encryption key") from None
            raise DecryptionError(
                "stored state was encrypted with a different key (or was altered); check the encryption key"
            ) from None


def make_encryptor(key: Any = None, key_env: Any = None) -> Encryptor | None:
    """The encryptor for ``encryption_key`` or the variable named by ``encryption_key_env``;
    None when neither is given."""
    if key is not None and key_env is not None:
        raise ValueError("encryption_key, encryption_key_env: give one of them, not both")
    if key_env is not None:
        if not isinstance(key_env, str) or not key_env:
            raise TypeError(f"encryption_key_env: expected an environment variable name, got {key_env!r}")
        key = os.environ.get(key_env)
        if not key:
            raise ValueError(f"encryption_key_env: the environment variable {key_env!r} is not set or empty")
    if key is None:
        return None
    if not isinstance(key, (str, bytes)):
        raise TypeError(f"encryption_key: expected a str or bytes key, got {type(key).__name__}")
    return Encryptor(key)
