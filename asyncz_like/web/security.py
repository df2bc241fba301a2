"""Who may use the REST API and the dashboard, and which requests may change anything.

- Without credentials the app serves loopback only: ``check_bind`` refuses any other
  address at start-up, and every request arriving on (or from) another address, or naming
  another host (DNS rebinding), is refused too.
- With a token or a user and password, every request needs them: ``Authorization: Bearer``
  for scripts, HTTP basic auth for browsers (any user name with the token as password).
- A request that changes something and was not authenticated by a bearer token (which
  browsers never add on their own) must carry the page's CSRF token in ``X-CSRF-Token``,
  and a cross-site ``Origin`` or ``Sec-Fetch-Site`` is refused.
- Secrets are compared in constant time and never echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from asyncz_like.asgi import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})
REALM = "asyncz-like"
#: sent with every response: no framing (clickjacking of the confirmations), no sniffing,
#: nothing loaded from anywhere but here
SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
)


class InsecureBindError(ValueError):
    """Serving beyond loopback without credentials."""


@dataclass(frozen=True)
class Credentials:
    """A bearer token, a user and password, or both; none means loopback only."""

    token: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ValueError("username/password: give both or neither")
        for name in ("token", "password"):
            value = getattr(self, name)
            if value is not None and len(value) < 8:
                raise ValueError(f"{name}: use at least 8 characters")

    def __repr__(self) -> str:
        shown = [f"token={'***' if self.token else None}", f"username={self.username!r}"]
        return f"Credentials({', '.join(shown)}, password={'***' if self.password else None})"

    @property
    def configured(self) -> bool:
        return self.token is not None or self.username is not None

    def secrets(self) -> list[str]:
        return [value for value in (self.token, self.password) if value]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, credentials: Credentials | None) -> None:
    """Refuse to listen on anything but loopback without credentials (at start-up)."""
    if (credentials is None or not credentials.configured) and not is_loopback(host):
        raise InsecureBindError(
            f"host: refusing to serve on {host!r} without credentials; anyone who can reach it could change "
            "tasks. Pass --token (or --username and --password), or listen on 127.0.0.1"
        )


def csrf_token_for(secret_key: bytes) -> str:
    return hmac.new(secret_key, b"asyncz-like csrf v1", hashlib.sha256).hexdigest()


def derive_secret_key(secret_key: str | bytes | None, credentials: Credentials) -> bytes:
    """The key CSRF tokens are made with: given, or derived from the credentials (so that
    several processes with the same credentials agree), or random for this process."""
    if secret_key:
        return secret_key.encode() if isinstance(secret_key, str) else secret_key
    if credentials.configured:
        material = "\0".join(value or "" for value in (credentials.token, credentials.username, credentials.password))
        return hashlib.sha256(b"asyncz-like key\0" + material.encode()).digest()
    return secrets.token_bytes(32)


@dataclass
class Policy:
    credentials: Credentials
    csrf_token: str
    allowed_hosts: frozenset[str] | None = None


class OperatorGuard:
    """ASGI middleware in front of every route, page and asset of the operator app."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await _refuse(send, 403, "only HTTP is served here")
            return
        headers = _headers(scope)
        problem = self._where_problem(scope, headers)
        if problem is not None:
            await _refuse(send, 403, problem)
            return
        method_used = self._authenticate(headers)
        if method_used is None:
            await _refuse(send, 401, "authentication required", challenge=True)
            return
        if scope["method"] not in SAFE_METHODS:
            forgery = self._forgery(scope, headers, method_used)
            if forgery is not None:
                await _refuse(send, 403, forgery)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _where_problem(self, scope: Scope, headers: dict[str, str]) -> str | None:
        host = _host_name(headers.get("host", ""))
        allowed = self.policy.allowed_hosts
        if not self.policy.credentials.configured:
            server = scope.get("server")
            client = scope.get("client")
            if (server and not is_loopback(server[0])) or (client and not is_loopback(client[0])):
                return "this app has no credentials and serves loopback only; configure a token or a user"
            if not is_loopback(host) and (allowed is None or host not in allowed):
                return f"host {host!r} refused: without credentials only localhost names are served"
        elif allowed is not None and host not in allowed:
            return f"host {host!r} is not among the allowed hosts"
        return None

    def _authenticate(self, headers: dict[str, str]) -> str | None:
        """How the request proved itself ('bearer', 'basic', 'none' without credentials), or None."""
        credentials = self.policy.credentials
        if not credentials.configured:
            return "none"
        scheme, _, value = headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer" and credentials.token and _same(value, credentials.token):
            return "bearer"
        if scheme == "basic":
            user, password = _basic(value)
            if password is None:
                return None
            if credentials.username is not None and credentials.password is not None:
                user_ok = _same(user or "", credentials.username)
                if user_ok & _same(password, credentials.password):
                    return "basic"
            if credentials.token and _same(password, credentials.token):
                return "basic"
        return None

    def _forgery(self, scope: Scope, headers: dict[str, str], method_used: str) -> str | None:
        if method_used == "bearer":
            return None  # a browser never adds a bearer token by itself
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"cross-site request refused (Sec-Fetch-Site: {site})"
        origin = headers.get("origin")
        if origin is not None and origin != "null":
            expected = _host_name(headers.get("host", ""), keep_port=True)
            if _host_name(urlsplit(origin).netloc, keep_port=True) != expected:
                return "cross-site request refused (Origin does not match Host)"
        elif origin == "null":
            return "cross-site request refused (Origin: null)"
        if not _same(headers.get(CSRF_HEADER, ""), self.policy.csrf_token):
            return "cross-site request refused: missing or wrong X-CSRF-Token header (take it from the dashboard page)"
        return None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic(value: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _host_name(host: str, keep_port: bool = False) -> str:
    host = host.strip().lower()
    if keep_port:
        return host
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _refuse(send: Send, status: int, detail: str, challenge: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
    ]
    if challenge:
        headers.append((b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def allowed_host_set(hosts: Iterable[str] | None) -> frozenset[str] | None:
    return None if not hosts else frozenset(_host_name(host) for host in hosts)


__all__ = [
    "Credentials",
    "InsecureBindError",
    "OperatorGuard",
    "Policy",
    "allowed_host_set",
    "check_bind",
    "csrf_token_for",
    "derive_secret_key",
    "is_loopback",
]
