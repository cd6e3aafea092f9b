"""``/api/screenings``: submit a screening, poll it, list the history, download its files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

from spatial.serve import actions, views
from spatial.serve.auth import Principal
from spatial.serve.deps import CurrentUser, PoolDep, SettingsDep, StoreDep, check_csrf
from spatial.serve.models import ERROR_RESPONSES, Accepted, Screening, ScreeningSummary
from spatial.serve.products import files_state
from spatial.serve.store import Job

__all__ = ["router", "ScreeningForm", "screening_form", "FormDep", "visible_job", "submit"]

router = APIRouter(prefix="/api/screenings", tags=["screenings"], responses=ERROR_RESPONSES)
_GEOJSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {}}, "description": "GeoJSON FeatureCollection (WGS84)"}}
_FILE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/octet-stream": {}}, "description": "The file, as an attachment (inline for .html with ?view=1)"}}


@dataclass
class ScreeningForm:
    """The 新建筛查 form, shared by the page and the API."""

    files: list[UploadFile]
    project_type: str
    type_field: str
    zoning_version: str
    sites_crs: str
    drawn: str
    pasted: str
    paste_geom: str
    csrf_token: str


def screening_form(
    files: Annotated[list[UploadFile], File(description="Sites files: CSV/XLSX, 坐标文件 TXT, zipped Shapefile, GPKG, GeoJSON, KML/KMZ, DXF")] = [],  # noqa: B006 - FastAPI copies defaults per request
    project_type: Annotated[str, Form(description="One project type for every site (中文或英文)")] = "",
    type_field: Annotated[str, Form(description="Column holding each site's project type")] = "",
    zoning_version: Annotated[str, Form(description="Zoning version id (default: newest accepted)")] = "",
    sites_crs: Annotated[str, Form(description="CRS of files without one (wgs84, cgcs2000, EPSG:4546, gcj02, bd09)")] = "",
    drawn: Annotated[str, Form(description="GeoJSON FeatureCollection of drawn shapes (WGS84)")] = "",
    pasted: Annotated[str, Form(description="Pasted coordinates, one 'lon,lat' or 'name,lon,lat' a line, or a 坐标文件")] = "",
    paste_geom: Annotated[str, Form(description="point, line or polygon")] = "point",
    csrf_token: Annotated[str, Form(description="The page's CSRF token (browsers only)")] = "",
) -> ScreeningForm:
    """Read the form fields (FastAPI documents each one)."""
    return ScreeningForm(files, project_type, type_field, zoning_version, sites_crs, drawn, pasted, paste_geom, csrf_token)


FormDep = Annotated[ScreeningForm, Depends(screening_form)]


def submit(request: Request, form: ScreeningForm, who: Principal, settings: Any, store: Any, pool: Any) -> Job:
    """Check CSRF, then queue the form's screening."""
    check_csrf(request, form.csrf_token)
    files = [(f.file, f.filename) for f in form.files if f is not None and (f.filename or f.size)]
    fields = {k: getattr(form, k) for k in ("project_type", "type_field", "zoning_version", "sites_crs", "drawn", "pasted", "paste_geom")}
    return actions.create_job(settings, store, pool, who, files, fields)


def visible_job(store: Any, who: Principal, job_id: str) -> Job:
    """Return the job, when it exists and the caller may see it; 404 otherwise (another user's job looks like none)."""
    job = store.job(job_id) if views.ID_PATTERN.match(job_id) else None
    if job is None or (not who.admin and job.owner != who.name):
        raise HTTPException(404)
    return job  # type: ignore[no-any-return]


@router.post("", status_code=202, summary="提交筛查 / submit a screening")
def api_create(request: Request, who: CurrentUser, form: FormDep, settings: SettingsDep, store: StoreDep, pool: PoolDep) -> Accepted:
    """Queue a screening; poll ``GET /api/screenings/{id}`` for the verdicts."""
    job = submit(request, form, who, settings, store, pool)
    return Accepted(id=job.id, status=job.status, url=f"/api/screenings/{job.id}")


@router.get("", summary="筛查历史 / list screenings")
def api_list(request: Request, who: CurrentUser, store: StoreDep, site: str = "", verdict: str = "") -> list[ScreeningSummary]:
    """List the screenings visible to the caller, newest first (filter by site name or verdict)."""
    jobs = store.jobs(owner=None if who.admin else who.name, site_name=site.strip()[:100], verdict=verdict if verdict in views.VERDICT_ZH else "")
    return [ScreeningSummary(**views.job_summary(request, j)) for j in jobs]


@router.get("/{job_id}", summary="筛查状态与结论 / status and verdicts")
def api_job(request: Request, job_id: str, who: CurrentUser, store: StoreDep) -> Screening:
    """Status, progress, verdict counts and, when done, the per-site verdicts and files."""
    return Screening(**views.job_json(request, visible_job(store, who, job_id)))


@router.get("/{job_id}/sites.geojson", summary="地块与结论 GeoJSON", response_class=FileResponse, responses=_GEOJSON)
def api_sites_geojson(request: Request, job_id: str, who: CurrentUser, store: StoreDep) -> Response:
    """Return the screened sites in WGS84 with their verdicts (for the result map)."""
    job = visible_job(store, who, job_id)
    path = views.result_dir(request, job) / "web" / "sites.geojson"
    if job.status != "done" or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="application/geo+json")


@router.get("/{job_id}/files/{name}", summary="下载结果文件 / download", response_class=FileResponse, responses=_FILE)
def api_file(request: Request, job_id: str, name: str, who: CurrentUser, store: StoreDep) -> Response:
    """One output file of a finished job (report.docx/.html/.xlsx, screening.gpkg, CSVs, map.html)."""
    job = visible_job(store, who, job_id)
    folder = views.result_dir(request, job)
    pending = files_state(folder) == "pending"  # a set being rewritten is not served half-way
    if job.status != "done" or pending or name not in {f["name"] for f in views.output_files(folder)}:  # matched, never joined as given
        raise HTTPException(404)
    inline = name.endswith(".html") and request.query_params.get("view") == "1"
    headers = {"Content-Security-Policy": "sandbox allow-scripts allow-popups"} if inline else {}
    return FileResponse(folder / "out" / name, filename=name, content_disposition_type="inline" if inline else "attachment", headers=headers)
