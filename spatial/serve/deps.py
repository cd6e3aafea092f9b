"""FastAPI dependencies of ``ecozone serve``: settings, store, pool, the acting user and CSRF.

Routers declare what they need as annotated parameters (``who: CurrentUser``,
``store: StoreDep`` …) instead of reaching into ``app.state``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from spatial.serve.auth import LOCAL, Principal, bearer_ok, csrf_ok, token_login_name
from spatial.serve.settings import ServeSettings
from spatial.serve.store import Store
from spatial.serve.worker import WorkerPool

__all__ = [
    "LoginRequired",
    "get_settings",
    "get_store",
    "get_pool",
    "login_required",
    "current",
    "require_user",
    "check_csrf",
    "CurrentUser",
    "SettingsDep",
    "StoreDep",
    "PoolDep",
]


class LoginRequired(Exception):
    """No valid session, token or local mode: pages redirect to the login form, the API answers 401."""


def get_settings(request: Request) -> ServeSettings:
    """Return the server's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_store(request: Request) -> Store:
    """Return the records (users, jobs, versions, logins)."""
    return request.app.state.store  # type: ignore[no-any-return]


def get_pool(request: Request) -> WorkerPool:
    """Return the bounded worker pool."""
    return request.app.state.pool  # type: ignore[no-any-return]


SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
PoolDep = Annotated[WorkerPool, Depends(get_pool)]


def login_required(request: Request) -> bool:
    """Return True unless the server is the planner's own loopback app with no users and no token."""
    settings, store = get_settings(request), get_store(request)
    return bool(settings.token) or not settings.loopback or store.has_users()


def current(request: Request) -> Principal | None:
    """Return who the request acts as (bearer token, live server-side login, or local mode), or None."""
    settings, store = get_settings(request), get_store(request)
    if bearer_ok(request, settings.token):
        return Principal("token", True)
    sid = request.session.get("sid")
    if isinstance(sid, str) and sid:
        name = store.login_user(sid)
        if name is not None and settings.token and name == token_login_name(settings.token):
            return Principal("token", True)
        u = store.user(name) if name else None
        if u is not None:
            return Principal(u.name, u.is_admin)
        request.session.pop("sid", None)  # ended, expired or its user removed
    if not login_required(request):
        return LOCAL
    return None


def require_user(request: Request) -> Principal:
    """Return the acting user, or :class:`LoginRequired`."""
    who = current(request)
    if who is None:
        raise LoginRequired
    return who


CurrentUser = Annotated[Principal, Depends(require_user)]


def check_csrf(request: Request, submitted: str | None = None) -> None:
    """Refuse a state-changing browser request without the session's CSRF token (403).

    Scripts with the bearer token send no cookie and are exempt; so is a
    script on the planner's own computer in no-login mode (no cookie, no
    Origin: a browser always sends Origin on cross-site POSTs).
    """
    if bearer_ok(request, get_settings(request).token):
        return
    h = request.headers
    from_browser = "cookie" in h or "origin" in h or "sec-fetch-site" in h
    if not from_browser and not login_required(request):
        return
    if not csrf_ok(request, h.get("x-csrf-token") or submitted):
        raise HTTPException(403, "表单已过期或缺少 CSRF 令牌，请刷新页面后重试。\nmissing or invalid CSRF token: reload the page and retry")


def state(request: Request) -> Any:
    """Return the app state (templates and caches)."""
    return request.app.state
