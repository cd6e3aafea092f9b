"""The Chinese pages: 新建筛查 ``/``, 结果, 历史, 分区数据, and the API docs (behind the same login)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from spatial.serve import actions, views
from spatial.serve.deps import CurrentUser, PoolDep, SettingsDep, StoreDep, check_csrf
from spatial.serve.routers.screenings import FormDep, submit, visible_job
from spatial.serve.routers.zoning import known_version

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def new_page(request: Request, who: CurrentUser, store: StoreDep) -> HTMLResponse:
    """新建筛查."""
    return views.page(request, "new.html", nav="new", versions=store.versions(accepted_only=True), types=views.types_choices())


@router.post("/screenings")
def new_submit(request: Request, who: CurrentUser, form: FormDep, settings: SettingsDep, store: StoreDep, pool: PoolDep) -> Response:
    """Queue the form's screening, then show the result page."""
    job = submit(request, form, who, settings, store, pool)
    return RedirectResponse(f"/screenings/{job.id}", status_code=303)


@router.get("/screenings/{job_id}", response_class=HTMLResponse)
def result_page(request: Request, job_id: str, who: CurrentUser, store: StoreDep) -> HTMLResponse:
    """结果: progress, then verdicts, map and downloads."""
    job = visible_job(store, who, job_id)
    return views.page(request, "result.html", nav="history", job=job, doc=views.job_json(request, job), created=views.local_time(job.created))


@router.get("/screenings/{job_id}/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, job_id: str, site_id: str, who: CurrentUser, store: StoreDep) -> HTMLResponse:
    """逐项对照 of one site."""
    job = visible_job(store, who, job_id)
    if job.status != "done":
        raise HTTPException(404)
    web = views.result_dir(request, job) / "web"
    detail = json.loads((web / "detail.json").read_text(encoding="utf-8"))
    sites = {s["site_id"]: s for s in json.loads((web / "sites.json").read_text(encoding="utf-8"))}
    if site_id not in detail:
        raise HTTPException(404)
    return views.page(request, "site.html", nav="history", job=job, site=views.public(sites[site_id], request), detail=views.public(detail[site_id], request))


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request, who: CurrentUser, store: StoreDep, site: str = "", verdict: str = "") -> HTMLResponse:
    """历史 (the audit trail), filtered by site name or verdict."""
    verdict = verdict if verdict in views.VERDICT_ZH else ""
    jobs = store.jobs(owner=None if who.admin else who.name, site_name=site.strip()[:100], verdict=verdict)
    return views.page(request, "history.html", nav="history", jobs=jobs, site=site, verdict=verdict, when=views.local_time)


@router.get("/zoning", response_class=HTMLResponse)
def zoning_page(request: Request, who: CurrentUser, store: StoreDep) -> HTMLResponse:
    """分区数据: the versions and the upload form."""
    return views.page(request, "zoning.html", nav="zoning", versions=store.versions(), when=views.local_time)


@router.post("/zoning")
def zoning_upload_page(
    request: Request, who: CurrentUser, settings: SettingsDep, store: StoreDep, pool: PoolDep,
    file: Annotated[UploadFile, File()], label: str = Form(""), csrf_token: str = Form(""),
) -> Response:  # fmt: skip
    """Take the upload form's package."""
    check_csrf(request, csrf_token)
    v = actions.upload_zoning(settings, store, pool, who, file.file, file.filename, label)
    return RedirectResponse(f"/zoning/{v.id}", status_code=303)


@router.get("/zoning/{version_id}", response_class=HTMLResponse)
def version_page(request: Request, version_id: str, who: CurrentUser, store: StoreDep) -> HTMLResponse:
    """One version with its validation findings."""
    v = known_version(store, version_id)
    return views.page(request, "version.html", nav="zoning", v=views.version_view(request, v), when=views.local_time)


@router.post("/zoning/{version_id}/{action}")
def version_action(
    request: Request, version_id: str, action: str, who: CurrentUser, store: StoreDep, csrf_token: str = Form(""), understood: str = Form("")
) -> Response:
    """确认可用 / 放弃 (an incomplete package only with the 我已了解 box)."""
    check_csrf(request, csrf_token)
    actions.decide_version(store, who, version_id, action, understood)
    return RedirectResponse(f"/zoning/{version_id}", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request, who: CurrentUser) -> HTMLResponse:
    """Swagger UI from the vendored files."""
    return views.page(request, "docs.html")


@router.get("/openapi.json")
def openapi(request: Request, who: CurrentUser) -> JSONResponse:
    """Return the OpenAPI schema, behind the same login as ``/docs``."""
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)
