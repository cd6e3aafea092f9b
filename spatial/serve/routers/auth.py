"""``/login`` and ``/logout``: throttled, constant-time logins recorded server-side."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from spatial.serve.auth import authenticate, hash_password, needs_rehash, token_login_name, token_matches
from spatial.serve.deps import SettingsDep, StoreDep, check_csrf
from spatial.serve.handlers import error_response, wants_json
from spatial.serve.store import Store
from spatial.serve.views import page

__all__ = ["router", "safe_next"]

log = logging.getLogger("ecozone.serve")
router = APIRouter(include_in_schema=False)


def safe_next(target: str) -> str:
    """Only a path on this server may follow a login (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _start(request: Request, store: Store, name: str, target: str) -> Response:
    old = request.session.get("sid")
    if isinstance(old, str):
        store.end_login(old)
    request.session.clear()  # new session material: no fixation
    request.session["sid"] = store.start_login(name)
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """Show the login form."""
    return page(request, "login.html", next=safe_next(next), failed=False, wait=0)


@router.post("/login")
def login(
    request: Request, store: StoreDep, settings: SettingsDep,
    username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""), next: str = Form("/"),
) -> Response:  # fmt: skip
    """Check the password (or the API token); after 5 failures per user or client, 429 with Retry-After."""
    check_csrf(request, csrf_token)
    target, name = safe_next(next), username.strip()[:64]
    client = request.client.host if request.client else "?"
    keys = (f"user:{name.casefold()}", f"client:{client}")
    throttle = request.app.state.login_throttle
    wait = throttle.retry_after(keys)
    if wait:
        log.warning("login refused (throttled %d s) for user %r from %s", wait, name, client)
        zh = f"登录失败次数过多，请 {wait} 秒后再试。"
        if wants_json(request):
            return error_response(request, 429, zh, f"too many failed logins: retry in {wait} s", headers={"Retry-After": str(wait)})
        return page(request, "login.html", status_code=429, headers={"Retry-After": str(wait)}, next=target, failed=False, wait=wait)
    if settings.token and name in ("", "token") and token_matches(password, settings.token):
        throttle.succeeded(keys[:1])
        return _start(request, store, token_login_name(settings.token), target)
    user = authenticate(store, name, password)
    if user is None:
        n = throttle.failed(keys)
        log.warning("failed login for user %r from %s (%d in a row)", name, client, n)
        return page(request, "login.html", status_code=401, next=target, failed=True, wait=0)
    throttle.succeeded(keys[:1])
    if needs_rehash(user.password_hash):
        store.set_password(user.name, hash_password(password), revoke=False)
    return _start(request, store, user.name, target)


@router.post("/logout")
def logout(request: Request, store: StoreDep, csrf_token: str = Form("")) -> Response:
    """End this login server-side: the old cookie is worthless from now on."""
    check_csrf(request, csrf_token)
    sid = request.session.get("sid")
    if isinstance(sid, str):
        store.end_login(sid)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
