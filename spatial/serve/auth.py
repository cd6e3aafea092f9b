"""Who is asking: password hashes, the session user, the API token, CSRF tokens.

* Passwords are stored as argon2id hashes (argon2-cffi), never in clear.
* Browser sessions are signed cookies (Starlette's SessionMiddleware:
  HttpOnly, SameSite=Lax, ``Secure`` unless the server only listens on loopback).
* Every state-changing request from a browser carries the session's CSRF
  token (form field ``csrf_token`` or header ``X-CSRF-Token``).  Scripts use
  ``Authorization: Bearer <token>`` and send no cookie, so CSRF cannot apply.
* On loopback with no users and no token, everyone is the local admin.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

__all__ = ["Principal", "hash_password", "verify_password", "needs_rehash", "csrf_token", "csrf_ok", "bearer_ok", "LOCAL"]

_HASHER = PasswordHasher()


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
