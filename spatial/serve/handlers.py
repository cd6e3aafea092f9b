"""Error handlers and security headers: every failure is ``{error, detail}`` (JSON) or a Chinese page.

No traceback and no server path ever reaches the client (:func:`spatial.serve.views.public`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from spatial.errors import EcozoneError
from spatial.serve.deps import LoginRequired
from spatial.serve.views import HTTP_ZH, page, public, split_message

__all__ = ["install", "error_response", "wants_json", "CSP", "SecurityHeaders"]

log = logging.getLogger("ecozone.serve")
CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self'"


def wants_json(request: Request) -> bool:
    """Return True for API paths and JSON-accepting clients (JSON errors); browsers get pages."""
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, zh: str, en: str = "", headers: dict[str, str] | None = None) -> Response:
    """Return an error as ``{error, detail}`` JSON or the error page, server paths removed."""
    zh, en = public(zh, request), public(en, request)
    if wants_json(request):
        return JSONResponse({"error": zh, "detail": en or zh}, status_code=status, headers=headers)
    try:
        return page(request, "error.html", status_code=status, headers=headers, status=status, message=zh, detail=en)
    except Exception:  # noqa: BLE001 - the error page itself must never fail with a traceback
        return HTMLResponse(f"<!doctype html><meta charset='utf-8'><h1>{status}</h1><p>{zh}</p>", status_code=status, headers=headers)


async def _login(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        body = {"error": "请先登录（或提供 API 令牌）。", "detail": "login required: sign in or send Authorization: Bearer <token>"}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


async def _ecozone(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EcozoneError)
    return error_response(request, 400, exc.zh, exc.en or "")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") else ""
    zh, en = split_message(detail) if detail else (HTTP_ZH.get(exc.status_code, "请求失败"), "")
    return error_response(request, exc.status_code, zh, en or str(exc.detail), headers=getattr(exc, "headers", None))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = ["/".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", "")) for e in exc.errors()]
    return error_response(request, 422, "请求参数有误：" + "；".join(parts), "; ".join(parts))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return error_response(request, 500, "服务器内部错误，已记录日志，请联系管理员。", "internal server error (logged)")


class SecurityHeaders:
    """Pure ASGI middleware adding nosniff, referrer, frame and CSP headers (no task group around ``receive``)."""

    _HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"content-security-policy", CSP.encode()),
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Add each header the response does not set itself."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in self._HEADERS if k not in have]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Register the error handlers and the security-header middleware on ``app``."""
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(EcozoneError, _ecozone)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(SecurityHeaders)
