"""Routes of ``ecozone serve``: Chinese pages, the JSON API and the error handlers.

Pages: 新建筛查 ``/``, 结果 ``/screenings/{id}``, 历史 ``/history``,
分区数据 ``/zoning``.  API: ``/api/screenings``, ``/api/zoning``; OpenAPI
docs at ``/docs`` (Swagger UI served from the vendored files).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shutil
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from spatial._version import __version__
from spatial.completeness import INCOMPLETE_LABEL, incomplete_findings
from spatial.errors import EcozoneError, InputError
from spatial.serve.auth import LOCAL, Principal, bearer_ok, csrf_ok, csrf_token, hash_password, needs_rehash, verify_password
from spatial.serve.settings import ServeSettings
from spatial.serve.store import Job, Store, ZoningVersion, new_id
from spatial.serve.uploads import KIND_ZH, BodyLimitMiddleware, SavedInput, display_name, safe_extract, save_upload, sniff
from spatial.serve.worker import WorkerPool, build_map_layers, run_screening, run_validation, runner_id, zoning_entry

__all__ = ["create_app", "app_from_env"]

log = logging.getLogger("ecozone.serve")
_HERE = Path(__file__).parent
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
VERDICT_ZH = {"prohibited": "禁止", "restricted": "限制", "notice": "关注", "compatible": "符合"}
VERDICT_ORDER = ("prohibited", "restricted", "notice", "compatible")
STATUS_ZH = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
VERSION_STATUS_ZH = {"validating": "校验中", "pending": "待确认", "accepted": "可用", "rejected": "已放弃", "failed": "无法读取"}
_HTTP_ZH = {
    400: "请求有误",
    401: "请先登录",
    403: "禁止访问",
    404: "未找到（不存在或无权查看）",
    405: "不支持的请求方法",
    413: "上传内容过大",
    422: "请求参数有误",
    500: "服务器内部错误",
}


class LoginRequired(Exception):
    """No valid session, token or local mode: pages redirect to the login form, the API answers 401."""


# --------------------------------------------------------------------------- helpers


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _split(message: str) -> tuple[str, str]:
    zh, _, en = str(message).partition("\n")
    return zh, en


def _state(request: Request) -> Any:
    return request.app.state


def login_required(request: Request) -> bool:
    """Return True unless the server is the planner's own loopback app with no users and no token."""
    st = _state(request)
    return bool(st.settings.token) or not st.settings.loopback or st.store.has_users()


def current(request: Request) -> Principal | None:
    """Return who the request acts as, or None."""
    st = _state(request)
    if bearer_ok(request, st.settings.token):
        return Principal("token", True)
    name = request.session.get("user")
    if name:
        if name == "token" and st.settings.token:
            return Principal("token", True)
        u = st.store.user(name)
        if u is not None:
            return Principal(u.name, u.is_admin)
        request.session.pop("user", None)
    if not login_required(request):
        return LOCAL
    return None


def require_user(request: Request) -> Principal:
    """FastAPI dependency: the acting user, or :class:`LoginRequired`."""
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
    if bearer_ok(request, _state(request).settings.token):
        return
    h = request.headers
    from_browser = "cookie" in h or "origin" in h or "sec-fetch-site" in h
    if not from_browser and not login_required(request):
        return
    if not csrf_ok(request, h.get("x-csrf-token") or submitted):
        raise HTTPException(403, "表单已过期或缺少 CSRF 令牌，请刷新页面后重试。\nmissing or invalid CSRF token: reload the page and retry")


def _visible_job(request: Request, who: Principal, job_id: str) -> Job:
    if not _ID.match(job_id):
        raise HTTPException(404)
    job = _state(request).store.job(job_id)
    if job is None or (not who.admin and job.owner != who.name):
        raise HTTPException(404)  # another user's job is indistinguishable from none
    return job


def _job_dir(request: Request, job_id: str) -> Path:
    return _state(request).settings.data_dir / "jobs" / job_id


def _iso(dt: Any) -> str | None:
    return None if dt is None else dt.isoformat(timespec="seconds")


def _local_time(dt: Any) -> str:
    return "" if dt is None else dt.astimezone().strftime("%Y年%m月%d日 %H:%M:%S")


def _files(folder: Path) -> list[dict[str, Any]]:
    out = folder / "out"
    if not out.is_dir():
        return []
    return [{"name": p.name, "bytes": p.stat().st_size} for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")]


def _job_json(request: Request, job: Job) -> dict[str, Any]:
    folder = _job_dir(request, job.id)
    doc: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "status_zh": STATUS_ZH.get(job.status, job.status),
        "progress": round(float(job.progress or 0), 1),
        "stage": job.stage,
        "owner": job.owner,
        "created": _iso(job.created),
        "started": _iso(job.started),
        "finished": _iso(job.finished),
        "zoning_version": job.zoning_version,
        "zoning_label": job.zoning_label,
        "rules_sha256": job.rules_sha256,
        "params": job.params,
        "inputs": job.inputs,
        "counts": {v: int((job.counts or {}).get(v, 0)) for v in VERDICT_ORDER} if job.status == "done" else None,
        "n_sites": job.n_sites,
        "warnings": job.warnings or [],
        "error": None,
        "sites": None,
        "files": [],
    }
    if job.status == "failed":
        zh, en = _split(job.error)
        doc["error"] = {"error": zh, "detail": en}
    if job.status == "done":
        doc["sites"] = json.loads((folder / "web" / "sites.json").read_text(encoding="utf-8"))
        doc["files"] = [{**f, "url": f"/api/screenings/{job.id}/files/{quote(f['name'])}"} for f in _files(folder)]
    return doc


def _version_json(v: ZoningVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "seq": v.seq,
        "label": v.label,
        "status": v.status,
        "status_zh": VERSION_STATUS_ZH.get(v.status, v.status),
        "created": _iso(v.created),
        "created_by": v.created_by,
        "sha256": v.sha256,
        "findings": v.findings,
        "error": v.error or None,
    }


def _types_choices() -> list[tuple[str, str]]:
    from maps.style import project_type_zh
    from spatial import load_rules

    names = list(load_rules().types.names)
    return [(n, f"{project_type_zh(n)}（{n}）" if project_type_zh(n) != n else n) for n in names]


def _default_version(store: Store) -> ZoningVersion | None:
    accepted = store.versions(accepted_only=True)
    return accepted[0] if accepted else None


# --------------------------------------------------------------------------- creating jobs

_PAIR = re.compile(r"[\s,，;；\t]+")


def _parse_pasted(text: str, geom: str) -> tuple[list[tuple[str, list[tuple[float, float]]]], bool]:
    """Parse pasted lines ``[名称,]x,y`` into named coordinate lists (one per site, or one polygon/line)."""
    rows: list[tuple[str, float, float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p for p in _PAIR.split(line) if p]
        try:
            x, y = float(parts[-2]), float(parts[-1])
        except (IndexError, ValueError):
            raise InputError(
                f"粘贴的坐标第 {lineno} 行无法识别：“{line[:60]}”。每行写“经度,纬度”或“名称,经度,纬度”。",
                f"pasted coordinates line {lineno} not understood; write 'lon,lat' or 'name,lon,lat'",
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"粘贴的坐标第 {lineno} 行不是有限数值。", f"pasted coordinates line {lineno}: not finite")
        rows.append(("".join(parts[:-2]), x, y))
    if not rows:
        raise InputError("粘贴框中没有坐标。", "no coordinates pasted")
    lonlat = all(-180 <= x <= 180 and -90 <= y <= 90 for _, x, y in rows)
    if geom == "point":
        return [(n or f"粘贴点{i}", [(x, y)]) for i, (n, x, y) in enumerate(rows, start=1)], lonlat
    need = 3 if geom == "polygon" else 2
    if len(rows) < need:
        raise InputError(f"粘贴的{'面' if geom == 'polygon' else '线'}至少需要 {need} 个坐标点。", f"a pasted {geom} needs at least {need} points")
    return [(rows[0][0] or f"粘贴{'地块' if geom == 'polygon' else '线路'}", [(x, y) for _, x, y in rows])], lonlat


def _write_pasted(folder: Path, text: str, geom: str, project_type: str, sites_crs: str) -> SavedInput:
    import hashlib

    import shapely

    raw = folder / "pasted.txt"
    raw.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        if sniff(raw, "粘贴的坐标") == "coordfile":
            return SavedInput("粘贴的坐标文件", raw.name, "coordfile", sha, len(text.encode()))
    except InputError:
        pass
    sites, lonlat = _parse_pasted(text, geom)
    if not lonlat and not sites_crs:
        raise InputError(
            "粘贴的坐标不是经纬度，请在“坐标系”中选择其坐标系（如 CGCS2000 3度带 EPSG:4546）。",
            "pasted coordinates are not lon/lat: choose their CRS",
        )
    rows = []
    for i, (name, pts) in enumerate(sites, start=1):
        g = shapely.Point(pts[0]) if geom == "point" else (shapely.Polygon(pts) if geom == "polygon" else shapely.LineString(pts))
        rows.append({"site_id": f"P{i}", "name": name, "project_type": project_type, "wkt": g.wkt})
    import pandas as pd

    path = folder / "pasted.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8")
    raw.unlink()
    rec = SavedInput("粘贴的坐标", path.name, "pasted", sha, len(text.encode()))
    d = rec.to_dict()
    d["sites_crs"] = "wgs84" if lonlat else sites_crs
    return d  # type: ignore[return-value]


def _write_drawn(folder: Path, text: str, project_type: str) -> dict[str, Any]:
    import hashlib

    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(f"绘制的图形数据无法解析：{exc}", f"drawn shapes do not parse: {exc}") from exc
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise InputError("绘制的图形数据不是 GeoJSON FeatureCollection。", "drawn shapes are not a GeoJSON FeatureCollection")
    if len(feats) > 1000:
        raise InputError("一次最多绘制 1000 个图形。", "at most 1000 drawn shapes")
    clean = []
    for i, f in enumerate(feats, start=1):
        geom = (f or {}).get("geometry") or {}
        if geom.get("type") not in ("Point", "LineString", "Polygon"):
            raise InputError(f"第 {i} 个绘制图形类型不受支持。", f"drawn shape {i}: unsupported geometry type")
        flat = json.dumps(geom.get("coordinates"))
        nums = [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", flat)]
        if not nums or any(not math.isfinite(v) for v in nums) or any(abs(v) > 180 for v in nums[0::2]) or any(abs(v) > 90 for v in nums[1::2]):
            raise InputError(f"第 {i} 个绘制图形的坐标超出经纬度范围。", f"drawn shape {i}: coordinates out of lon/lat range")
        props = (f.get("properties") or {}) if isinstance(f.get("properties"), dict) else {}
        name = display_name(str(props.get("name") or ""), f"绘制图形{i}")
        clean.append({"type": "Feature", "geometry": {"type": geom["type"], "coordinates": geom["coordinates"]}, "properties": {"site_id": f"D{i}", "name": name, "project_type": project_type}})
    if not clean:
        raise InputError("没有绘制任何图形。", "nothing drawn")
    body = json.dumps({"type": "FeatureCollection", "features": clean}, ensure_ascii=False)
    path = folder / "drawn.geojson"
    path.write_text(body, encoding="utf-8")
    d = SavedInput("地图上绘制的图形", path.name, "drawn", hashlib.sha256(body.encode()).hexdigest(), len(body.encode())).to_dict()
    d["sites_crs"] = None
    return d


def create_job(
    request: Request,
    who: Principal,
    files: list[UploadFile],
    *,
    project_type: str,
    type_field: str,
    zoning_version: str,
    sites_crs: str,
    drawn: str,
    pasted: str,
    paste_geom: str,
) -> Job:
    """Store the inputs under safe names, record the job and queue it.

    Raises
    ------
    InputError
        Nothing to screen, unknown type/version, unrecognised or refused file.
    """
    st = _state(request)
    project_type, type_field, sites_crs = project_type.strip(), type_field.strip(), sites_crs.strip()
    if project_type and type_field:
        raise InputError("“项目类型”和“类型字段”只能选一个。", "give either project_type or type_field")
    version = st.store.version(zoning_version) if zoning_version else _default_version(st.store)
    if version is None or version.status != "accepted":
        raise InputError("所选分区数据版本不存在或尚未确认可用。", "unknown or not accepted zoning version")
    files = [f for f in files if f is not None and (f.filename or f.size)]
    if not files and not drawn.strip() and not pasted.strip():
        raise InputError("请上传地块文件、在地图上绘制图形或粘贴坐标。", "upload a sites file, draw on the map or paste coordinates")
    if (drawn.strip() or pasted.strip()) and not project_type:
        raise InputError("绘制或粘贴的地块需要选择“项目类型”。", "drawn or pasted sites need a project_type")
    job_id = new_id()
    folder = st.settings.data_dir / "jobs" / job_id / "input"
    folder.mkdir(parents=True)
    try:
        inputs: list[dict[str, Any]] = []
        for i, f in enumerate(files, start=1):
            inputs += [s.to_dict() for s in save_upload(f.file, f.filename, folder, i, max_unzip_bytes=st.settings.max_unzip_bytes, max_unzip_files=st.settings.max_unzip_files)]
        if drawn.strip():
            inputs.append(_write_drawn(folder, drawn, project_type))
        if pasted.strip():
            rec = _write_pasted(folder, pasted, paste_geom if paste_geom in ("point", "line", "polygon") else "point", project_type, sites_crs)
            inputs.append(rec if isinstance(rec, dict) else rec.to_dict())
    except BaseException:
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    job = Job(
        id=job_id,
        owner=who.name,
        runner=runner_id(),
        zoning_version=version.id,
        zoning_label=f"v{version.seq} {version.label}",
        params={"project_type": project_type, "type_field": type_field, "sites_crs": sites_crs},
        inputs=inputs,
    )
    st.store.add_job(job)
    fut = st.pool.submit(run_screening, st.settings.db_url, str(st.settings.data_dir), job_id)
    fut.add_done_callback(lambda f, jid=job_id, store=st.store: _on_crash(f, store, jid))
    return job


def _on_crash(fut: Any, store: Store, job_id: str) -> None:
    """Record a worker that died (killed, out of memory) as a failed job."""
    exc = None if fut.cancelled() else fut.exception()
    if fut.cancelled() or exc is not None:
        store.update_job(job_id, status="failed", stage="失败", error="筛查进程意外终止（可能内存不足或服务关闭），请重新提交。\nworker died; resubmit the job")


def _register_local_zoning(store: Store, zoning: Path | None) -> None:
    import hashlib

    from spatial.zoning import demo_zoning_path, is_demo_zoning

    path = (zoning or demo_zoning_path()).resolve()
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        files = sorted(p for p in path.parent.rglob("*") if p.is_file())
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    label = "连州示范数据（内置）— 示范数据（合成），不得用于审批" if zoning is None or is_demo_zoning(path) else path.name
    store.add_version(ZoningVersion(label=label, created_by="启动参数", status="accepted", path=str(path), source_key=f"local:{path}:{h.hexdigest()[:16]}"))


def _mark_interrupted(store: Store) -> None:
    me = runner_id().split(":")[0]
    for job in store.unfinished_jobs():
        host, _, pid = job.runner.partition(":")
        if host != me or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            alive = int(pid) != os.getpid()
        except OSError:
            alive = False
        if not alive:
            store.update_job(job.id, status="failed", stage="失败", error="服务重启，任务中断，请重新提交。\nthe server restarted; resubmit the job")


# --------------------------------------------------------------------------- app


def create_app(settings: ServeSettings) -> FastAPI:
    """Build the ASGI app for ``settings``.

    Parameters
    ----------
    settings : ServeSettings
        Data dir, database, host, limits.

    Returns
    -------
    FastAPI
        The app (run it with uvicorn; the lifespan starts and stops the pool).
    """
    settings.ensure_dirs()
    store = Store(settings.db_url)  # type: ignore[arg-type]
    store.create_schema()
    pool = WorkerPool(settings.workers, settings.pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _register_local_zoning(store, settings.zoning)
        _mark_interrupted(store)
        try:
            yield
        finally:
            await asyncio.to_thread(pool.shutdown)
            store.close()

    app = FastAPI(
        title="ecozone serve",
        version=__version__,
        description="生态环境分区管控符合性筛查 Web 服务。/ Ecological zoning screening service.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.pool = pool
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.globals.update(VERDICT_ZH=VERDICT_ZH, VERDICT_ORDER=VERDICT_ORDER, STATUS_ZH=STATUS_ZH, VERSION_STATUS_ZH=VERSION_STATUS_ZH, KIND_ZH=KIND_ZH, version=__version__, incomplete_findings=incomplete_findings)
    app.state.templates = templates
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret(), session_cookie="ecozone_session", max_age=12 * 3600, same_site="lax", https_only=bool(settings.cookie_secure))
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self'",
        )
        return response

    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.mount("/vendor", StaticFiles(directory=str(resources.files("maps").joinpath("vendor"))), name="vendor")

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        who = current(request)
        return templates.TemplateResponse(
            request,
            name,
            {"who": who, "csrf": csrf_token(request), "login_required": login_required(request), **ctx},
            status_code=status_code,
        )

    # ------------------------------------------------------------------ errors
    def error_response(request: Request, status: int, zh: str, en: str = "") -> Response:
        if _wants_json(request):
            return JSONResponse({"error": zh, "detail": en or zh}, status_code=status)
        try:
            return page(request, "error.html", status_code=status, status=status, message=zh, detail=en)
        except Exception:  # noqa: BLE001 - the error page itself must never fail with a traceback
            return HTMLResponse(f"<!doctype html><meta charset='utf-8'><h1>{status}</h1><p>{zh}</p>", status_code=status)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "请先登录（或提供 API 令牌）。", "detail": "login required: sign in or send Authorization: Bearer <token>"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(EcozoneError)
    async def _ecozone(request: Request, exc: EcozoneError) -> Response:
        return error_response(request, 400, exc.zh, exc.en or "")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") else ""
        zh, en = _split(detail) if detail else (_HTTP_ZH.get(exc.status_code, "请求失败"), "")
        return error_response(request, exc.status_code, zh, en or str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = ["/".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", "")) for e in exc.errors()]
        return error_response(request, 422, "请求参数有误：" + "；".join(parts), "; ".join(parts))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "服务器内部错误，已记录日志，请联系管理员。", "internal server error (logged)")

    # ------------------------------------------------------------------ login
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=next if next.startswith("/") and not next.startswith("//") else "/", failed=False)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""), next: str = Form("/")) -> Response:
        check_csrf(request, csrf_token)
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        user = store.user(username.strip())
        ok_token = bool(settings.token) and username.strip() in ("", "token") and bearer_ok_value(password, settings.token)
        if ok_token:
            request.session.clear()
            request.session["user"] = "token"
            return RedirectResponse(target, status_code=303)
        if user is None or not verify_password(user.password_hash, password):
            return page(request, "login.html", status_code=401, next=target, failed=True)
        if needs_rehash(user.password_hash):
            store.set_password(user.name, hash_password(password))
        request.session.clear()  # new session id material: no fixation
        request.session["user"] = user.name
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def new_page(request: Request, who: CurrentUser) -> HTMLResponse:
        versions = store.versions(accepted_only=True)
        return page(request, "new.html", nav="new", versions=versions, types=_types_choices())

    @app.post("/screenings", include_in_schema=False)
    def new_submit(
        request: Request,
        who: CurrentUser,
        files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI copies defaults per request
        project_type: str = Form(""),
        type_field: str = Form(""),
        zoning_version: str = Form(""),
        sites_crs: str = Form(""),
        drawn: str = Form(""),
        pasted: str = Form(""),
        paste_geom: str = Form("point"),
        csrf_token: str = Form(""),
    ) -> Response:
        check_csrf(request, csrf_token)
        job = create_job(request, who, files, project_type=project_type, type_field=type_field, zoning_version=zoning_version, sites_crs=sites_crs, drawn=drawn, pasted=pasted, paste_geom=paste_geom)
        return RedirectResponse(f"/screenings/{job.id}", status_code=303)

    @app.get("/screenings/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def result_page(request: Request, job_id: str, who: CurrentUser) -> HTMLResponse:
        job = _visible_job(request, who, job_id)
        return page(request, "result.html", nav="history", job=job, doc=_job_json(request, job), created=_local_time(job.created))

    @app.get("/screenings/{job_id}/sites/{site_id}", response_class=HTMLResponse, include_in_schema=False)
    def site_page(request: Request, job_id: str, site_id: str, who: CurrentUser) -> HTMLResponse:
        job = _visible_job(request, who, job_id)
        if job.status != "done":
            raise HTTPException(404)
        detail = json.loads((_job_dir(request, job.id) / "web" / "detail.json").read_text(encoding="utf-8"))
        sites = {s["site_id"]: s for s in json.loads((_job_dir(request, job.id) / "web" / "sites.json").read_text(encoding="utf-8"))}
        if site_id not in detail:
            raise HTTPException(404)
        return page(request, "site.html", nav="history", job=job, site=sites[site_id], detail=detail[site_id])

    @app.get("/history", response_class=HTMLResponse, include_in_schema=False)
    def history_page(request: Request, who: CurrentUser, site: str = "", verdict: str = "") -> HTMLResponse:
        verdict = verdict if verdict in VERDICT_ZH else ""
        jobs = store.jobs(owner=None if who.admin else who.name, site_name=site.strip()[:100], verdict=verdict)
        return page(request, "history.html", nav="history", jobs=jobs, site=site, verdict=verdict, when=_local_time)

    @app.get("/zoning", response_class=HTMLResponse, include_in_schema=False)
    def zoning_page(request: Request, who: CurrentUser) -> HTMLResponse:
        return page(request, "zoning.html", nav="zoning", versions=store.versions(), when=_local_time)

    @app.post("/zoning", include_in_schema=False)
    def zoning_upload_page(request: Request, who: CurrentUser, file: Annotated[UploadFile, File()], label: str = Form(""), csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        v = upload_zoning(request, who, file, label)
        return RedirectResponse(f"/zoning/{v.id}", status_code=303)

    @app.get("/zoning/{version_id}", response_class=HTMLResponse, include_in_schema=False)
    def version_page(request: Request, version_id: str, who: CurrentUser) -> HTMLResponse:
        v = store.version(version_id) if _ID.match(version_id) else None
        if v is None:
            raise HTTPException(404)
        return page(request, "version.html", nav="zoning", v=v, when=_local_time)

    @app.post("/zoning/{version_id}/{action}", include_in_schema=False)
    def version_action(
        request: Request, version_id: str, action: str, who: CurrentUser, csrf_token: str = Form(""), understood: str = Form("")
    ) -> Response:
        check_csrf(request, csrf_token)
        decide_version(who, version_id, action, understood)
        return RedirectResponse(f"/zoning/{version_id}", status_code=303)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request, who: CurrentUser) -> HTMLResponse:
        return page(request, "docs.html")

    # ------------------------------------------------------------------ zoning helpers
    def upload_zoning(request: Request, who: Principal, file: UploadFile, label: str) -> ZoningVersion:
        if not who.admin:
            raise HTTPException(403, "只有管理员可以上传分区数据。\nonly admins may upload zoning packages")
        vid = new_id()
        root = settings.data_dir / "zoning" / vid
        pkg = root / "pkg"
        pkg.mkdir(parents=True)
        shown = display_name(file.filename, "分区数据")
        try:
            import hashlib

            raw = root / "upload.bin"
            h = hashlib.sha256()
            with open(raw, "xb") as out:
                while chunk := file.file.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
            kind = sniff(raw, shown)
            if kind == "gpkg":
                os.replace(raw, pkg / "zoning.gpkg")
            elif kind == "zip":
                safe_extract(raw, pkg, max_bytes=settings.max_unzip_bytes, max_files=settings.max_unzip_files, keep_names=True, label=shown)
                raw.unlink()
            else:
                raise InputError(
                    f"{shown} 不是分区数据包：请上传 GeoPackage（.gpkg）或含清单 zoning.yaml 的 ZIP 压缩包（识别为 {KIND_ZH.get(kind, kind)}）。",
                    f"{shown} is not a zoning package: upload a GeoPackage or a zip with a zoning.yaml manifest",
                )
            entry = zoning_entry(pkg)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        v = store.add_version(
            ZoningVersion(
                id=vid,
                label=(label.strip() or shown)[:200],
                created_by=who.name,
                status="validating",
                path=entry.relative_to(settings.data_dir).as_posix(),
                source_key=f"upload:{vid}",
                sha256=h.hexdigest(),
            )
        )
        assert v is not None
        pool.submit(run_validation, settings.db_url, str(settings.data_dir), vid)
        return v

    def decide_version(who: Principal, version_id: str, action: str, understood: str = "") -> ZoningVersion:
        if not who.admin:
            raise HTTPException(403, "只有管理员可以确认分区数据。\nonly admins may accept zoning packages")
        v = store.version(version_id) if _ID.match(version_id) else None
        if v is None or action not in ("accept", "reject"):
            raise HTTPException(404)
        if v.status != "pending":
            raise InputError(f"该版本当前状态为“{VERSION_STATUS_ZH.get(v.status, v.status)}”，不能{'确认' if action == 'accept' else '放弃'}。", f"version is {v.status}")
        gaps = incomplete_findings(v.findings) if action == "accept" else []
        if gaps and understood.strip().lower() not in ("1", "yes", "true", "on"):
            raise InputError(
                "该版本缺少标准图层（" + "；".join(gaps) + "），用它筛查的地块相关结论只能是待核实。确认使用须勾选“我已了解数据不完整”。",
                "the package lacks standard layers; accepting it needs the explicit 'I understand it is incomplete' field (understood=yes)",
            )
        label = v.label + INCOMPLETE_LABEL if gaps and not v.label.endswith(INCOMPLETE_LABEL) else v.label
        store.update_version(version_id, status="accepted" if action == "accept" else "rejected", label=label)
        return store.version(version_id)  # type: ignore[return-value]

    # ------------------------------------------------------------------ API
    @app.post("/api/screenings", status_code=202, tags=["screenings"], summary="提交筛查 / submit a screening")
    def api_create(
        request: Request,
        who: CurrentUser,
        files: Annotated[list[UploadFile], File(description="Sites files: CSV/XLSX, 坐标文件 TXT, zipped Shapefile, GPKG, GeoJSON, KML/KMZ, DXF")] = [],  # noqa: B006
        project_type: str = Form("", description="One project type for every site (中文或英文)"),
        type_field: str = Form("", description="Column holding each site's project type"),
        zoning_version: str = Form("", description="Zoning version id (default: newest accepted)"),
        sites_crs: str = Form("", description="CRS of files without one (wgs84, cgcs2000, EPSG:4546, gcj02, bd09)"),
        drawn: str = Form("", description="GeoJSON FeatureCollection of drawn shapes (WGS84)"),
        pasted: str = Form("", description="Pasted coordinates, one 'lon,lat' or 'name,lon,lat' a line, or a 坐标文件"),
        paste_geom: str = Form("point", description="point, line or polygon"),
        csrf_token: str = Form(""),
    ) -> dict[str, Any]:
        """Queue a screening; poll ``GET /api/screenings/{id}`` for the verdicts."""
        check_csrf(request, csrf_token)
        job = create_job(request, who, files, project_type=project_type, type_field=type_field, zoning_version=zoning_version, sites_crs=sites_crs, drawn=drawn, pasted=pasted, paste_geom=paste_geom)
        return {"id": job.id, "status": job.status, "url": f"/api/screenings/{job.id}"}

    @app.get("/api/screenings", tags=["screenings"], summary="筛查历史 / list screenings")
    def api_list(request: Request, who: CurrentUser, site: str = "", verdict: str = "") -> list[dict[str, Any]]:
        """List the screenings visible to the caller, newest first (filter by site name or verdict)."""
        jobs = store.jobs(owner=None if who.admin else who.name, site_name=site.strip()[:100], verdict=verdict if verdict in VERDICT_ZH else "")
        return [
            {"id": j.id, "status": j.status, "owner": j.owner, "created": _iso(j.created), "zoning_version": j.zoning_version, "zoning_label": j.zoning_label,
             "rules_sha256": j.rules_sha256, "inputs": j.inputs, "counts": j.counts, "n_sites": j.n_sites}
            for j in jobs
        ]  # fmt: skip

    @app.get("/api/screenings/{job_id}", tags=["screenings"], summary="筛查状态与结论 / status and verdicts")
    def api_job(request: Request, job_id: str, who: CurrentUser) -> dict[str, Any]:
        """Status, progress, verdict counts and, when done, the per-site verdicts and files."""
        return _job_json(request, _visible_job(request, who, job_id))

    @app.get("/api/screenings/{job_id}/sites.geojson", tags=["screenings"], summary="地块与结论 GeoJSON")
    def api_sites_geojson(request: Request, job_id: str, who: CurrentUser) -> Response:
        """Return the screened sites in WGS84 with their verdicts (for the result map)."""
        job = _visible_job(request, who, job_id)
        path = _job_dir(request, job.id) / "web" / "sites.geojson"
        if job.status != "done" or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type="application/geo+json")

    @app.get("/api/screenings/{job_id}/files/{name}", tags=["screenings"], summary="下载结果文件 / download")
    def api_file(request: Request, job_id: str, name: str, who: CurrentUser) -> Response:
        """One output file of a finished job (report.docx/.html/.xlsx, screening.gpkg, CSVs, map.html)."""
        job = _visible_job(request, who, job_id)
        listed = {f["name"] for f in _files(_job_dir(request, job.id))}
        if job.status != "done" or name not in listed:  # the name is matched, never joined as given
            raise HTTPException(404)
        path = _job_dir(request, job.id) / "out" / name
        inline = name.endswith(".html") and request.query_params.get("view") == "1"
        headers = {"Content-Security-Policy": "sandbox allow-scripts allow-popups"} if inline else {}
        return FileResponse(path, filename=name, content_disposition_type="inline" if inline else "attachment", headers=headers)

    @app.get("/api/zoning", tags=["zoning"], summary="分区数据版本 / zoning versions")
    def api_versions(request: Request, who: CurrentUser) -> list[dict[str, Any]]:
        """Every zoning version (newest first) with its status and validation findings."""
        return [_version_json(v) for v in store.versions()]

    @app.post("/api/zoning", status_code=202, tags=["zoning"], summary="上传分区数据 / upload a zoning package")
    def api_upload_zoning(request: Request, who: CurrentUser, file: Annotated[UploadFile, File()], label: str = Form(""), csrf_token: str = Form("")) -> dict[str, Any]:
        """Upload a GeoPackage or zipped package; it is validated, then waits for ``accept``."""
        check_csrf(request, csrf_token)
        v = upload_zoning(request, who, file, label)
        return {"id": v.id, "status": v.status, "url": f"/api/zoning/{v.id}"}

    @app.get("/api/zoning/{version_id}", tags=["zoning"], summary="版本详情与校验结果")
    def api_version(request: Request, version_id: str, who: CurrentUser) -> dict[str, Any]:
        """One version with its ``validate`` findings."""
        v = store.version(version_id) if _ID.match(version_id) else None
        if v is None:
            raise HTTPException(404)
        return _version_json(v)

    @app.post("/api/zoning/{version_id}/{action}", tags=["zoning"], summary="确认或放弃版本 / accept or reject")
    def api_decide(
        request: Request,
        version_id: str,
        action: str,
        who: CurrentUser,
        csrf_token: str = Form(""),
        understood: str = Form("", description="yes: accept a package lacking standard layers (labelled 不完整)"),
    ) -> dict[str, Any]:
        """``accept`` makes a validated version usable (an incomplete one only with ``understood=yes``); ``reject`` discards it."""
        check_csrf(request, csrf_token)
        return _version_json(decide_version(who, version_id, action, understood))

    @app.get("/api/zoning/{version_id}/map.geojson", tags=["zoning"], summary="分区图层（网页地图用）")
    async def api_version_map(request: Request, version_id: str, who: CurrentUser) -> Response:
        """Return the version's layers, simplified for display, in WGS84 with their map styles."""
        v = store.version(version_id) if _ID.match(version_id) else None
        if v is None or v.status not in ("accepted", "pending"):
            raise HTTPException(404)
        target = settings.data_dir / "zoning" / v.id / "map.geojson"
        if not target.is_file():
            await asyncio.wrap_future(pool.submit(build_map_layers, settings.db_url, str(settings.data_dir), v.id))
        return FileResponse(target, media_type="application/geo+json")

    return app


def bearer_ok_value(given: str, token: str | None) -> bool:
    """Compare a token typed on the login page with the server's (constant time)."""
    import hmac

    return bool(token) and hmac.compare_digest(given.encode(), str(token).encode())


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn spatial.serve:app_from_env --factory --workers N`` (settings from ``ECOZONE_*``)."""
    return create_app(ServeSettings.from_env())
