"""Who is asking: password hashes, the session user, the API token, CSRF tokens.

* Passwords are stored as argon2id hashes (argon2-cffi), never in clear.
* Browser sessions are signed cookies (Starlette's SessionMiddleware:
  HttpOnly, SameSite=Lax, ``Secure`` unless the server only listens on loopback).
* Every state-changing request from a browser carries the session's CSRF
  token (form field ``csrf_token`` or header ``X-CSRF-Token``).  Scripts use
  ``Authorization: Bearer <token>`` and send no cookie, so CSRF cannot apply.
* On loopback with no users and no token, everyone is the local admin.
* A login is a server-side record (:class:`spatial.serve.store.LoginSession`):
  the cookie only carries its random id, so logout, a password change and a
  user removal end it at once.
* Logins are throttled per user and per client (:class:`LoginThrottle`), and an
  unknown user name costs the same argon2 verification as a known one
  (:func:`authenticate`), so names cannot be listed by timing.
"""

from __future__ import annotations

import functools
import hmac
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

__all__ = [
    "Principal",
    "hash_password",
    "verify_password",
    "needs_rehash",
    "authenticate",
    "dummy_hash",
    "LoginThrottle",
    "csrf_token",
    "csrf_ok",
    "bearer_ok",
    "token_matches",
    "token_login_name",
    "LOCAL",
]

_HASHER = PasswordHasher()
log = logging.getLogger("ecozone.serve")


@dataclass(frozen=True)
class Principal:
    """The user a request acts as.

    Parameters
    ----------
    name : str
        User name (``本机`` for the no-login loopback mode, ``token`` for the API token).
    admin : bool
        Admins see every user's jobs and may accept zoning versions.
    """

    name: str
    admin: bool


LOCAL = Principal("本机", True)


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password against its stored hash (constant time)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Return True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """Return an argon2id hash of a random password, verified for unknown user names (same cost as a real one)."""
    return hash_password(secrets.token_urlsafe(24))


def authenticate(store: Any, name: str, password: str) -> Any:
    """Return the user whose name and password match, else None, in the same time either way.

    An unknown name is verified against :func:`dummy_hash`, so a wrong
    password takes one argon2 verification whether the user exists or not.

    Parameters
    ----------
    store : Store
        Where the users are.
    name, password : str
        As typed on the login form.

    Returns
    -------
    User or None
        The user, when the password is right.
    """
    user = store.user(name) if name else None
    ok = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    return user if user is not None and ok else None


class LoginThrottle:
    """Failed logins per key (user name, client address): free tries, then an exponential wait.

    After ``free`` failures in a row a key is blocked for ``base`` seconds,
    doubling with each further failure up to ``cap``; a login attempt while
    blocked is refused (HTTP 429 with ``Retry-After``) without checking the
    password.  Kept in memory per server process; at most ``max_keys`` keys.

    Parameters
    ----------
    free : int
        Failures allowed before the first wait.
    base, cap : float
        First wait and longest wait, in seconds.
    clock : callable
        Monotonic time source (tests pass their own).
    max_keys : int
        Oldest keys are forgotten beyond this many.
    """

    def __init__(self, free: int = 5, base: float = 1.0, cap: float = 900.0, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.free, self.base, self.cap, self.clock, self.max_keys = free, base, cap, clock, max_keys
        self._fails: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # key -> (failures, blocked until, last failure)
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again (0: now)."""
        t = self.clock()
        with self._lock:
            wait = max((self._fails[k][1] - t for k in keys if k in self._fails), default=0.0)
        return max(0, math.ceil(wait))

    def failed(self, keys: Iterable[str]) -> int:
        """Count a failure against each key; return the largest run of failures."""
        t = self.clock()
        worst = 0
        with self._lock:
            for k in keys:
                n, _, last = self._fails.pop(k, (0, 0.0, t))
                if t - last > self.cap:  # a long quiet spell forgives old failures
                    n = 0
                n += 1
                until = t + min(self.cap, self.base * 2 ** (n - self.free)) if n >= self.free else 0.0
                self._fails[k] = (n, until, t)
                worst = max(worst, n)
            while len(self._fails) > self.max_keys:
                self._fails.popitem(last=False)
        return worst

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (a correct login)."""
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)


def token_matches(given: str, token: str | None) -> bool:
    """Compare a token typed on the login page with the server's (constant time)."""
    return bool(token) and hmac.compare_digest(given.encode(), str(token).encode())


def token_login_name(token: str) -> str:
    """Return the session owner recorded for a login with the API token (changes when the token does)."""
    import hashlib

    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it on first use."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Return True when ``submitted`` equals the session's CSRF token."""
    expected = request.session.get("csrf")
    return bool(expected and submitted and hmac.compare_digest(str(expected), str(submitted)))


def bearer_ok(request: Request, token: str | None) -> bool:
    """Return True when the request carries ``Authorization: Bearer <token>``."""
    if not token:
        return False
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
