"""``/api/zoning``: zoning versions — upload, validate, accept, and their web-map layers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

from spatial.serve import actions, views
from spatial.serve.deps import CurrentUser, PoolDep, SettingsDep, StoreDep, check_csrf
from spatial.serve.models import ERROR_RESPONSES, Accepted, ZoningVersionOut
from spatial.serve.store import Store, ZoningVersion
from spatial.serve.worker import build_map_layers

__all__ = ["router", "known_version"]

router = APIRouter(prefix="/api/zoning", tags=["zoning"], responses=ERROR_RESPONSES)


def known_version(store: Store, version_id: str) -> ZoningVersion:
    """Return the version, or 404."""
    v = store.version(version_id) if views.ID_PATTERN.match(version_id) else None
    if v is None:
        raise HTTPException(404)
    return v


@router.get("", summary="分区数据版本 / zoning versions")
def api_versions(request: Request, who: CurrentUser, store: StoreDep) -> list[ZoningVersionOut]:
    """Every zoning version (newest first) with its status and validation findings."""
    return [ZoningVersionOut(**views.version_json(request, v)) for v in store.versions()]


@router.post("", status_code=202, summary="上传分区数据 / upload a zoning package")
def api_upload_zoning(
    request: Request, who: CurrentUser, settings: SettingsDep, store: StoreDep, pool: PoolDep,
    file: Annotated[UploadFile, File()], label: str = Form(""), csrf_token: str = Form(""),
) -> Accepted:  # fmt: skip
    """Upload a GeoPackage or zipped package; it is validated, then waits for ``accept``."""
    check_csrf(request, csrf_token)
    v = actions.upload_zoning(settings, store, pool, who, file.file, file.filename, label)
    return Accepted(id=v.id, status=v.status, url=f"/api/zoning/{v.id}")


@router.get("/{version_id}", summary="版本详情与校验结果")
def api_version(request: Request, version_id: str, who: CurrentUser, store: StoreDep) -> ZoningVersionOut:
    """One version with its ``validate`` findings."""
    return ZoningVersionOut(**views.version_json(request, known_version(store, version_id)))


@router.post("/{version_id}/{action}", summary="确认或放弃版本 / accept or reject")
def api_decide(
    request: Request,
    version_id: str,
    action: str,
    who: CurrentUser,
    store: StoreDep,
    csrf_token: str = Form(""),
    understood: str = Form("", description="yes: accept a package lacking standard layers (labelled 不完整)"),
) -> ZoningVersionOut:
    """``accept`` makes a validated version usable (an incomplete one only with ``understood=yes``); ``reject`` discards it."""
    check_csrf(request, csrf_token)
    return ZoningVersionOut(**views.version_json(request, actions.decide_version(store, who, version_id, action, understood)))


@router.get("/{version_id}/map.geojson", summary="分区图层（网页地图用）", response_class=FileResponse,
            responses={200: {"content": {"application/geo+json": {}}, "description": "GeoJSON FeatureCollection (WGS84)"}})  # fmt: skip
async def api_version_map(version_id: str, who: CurrentUser, settings: SettingsDep, store: StoreDep, pool: PoolDep) -> Response:
    """Return the version's layers, simplified for display, in WGS84 with their map styles."""
    v = known_version(store, version_id)
    if v.status not in ("accepted", "pending"):
        raise HTTPException(404)
    target = settings.data_dir / "zoning" / v.id / "map.geojson"
    if not target.is_file():
        await asyncio.wrap_future(pool.submit(build_map_layers, settings.db_url, str(settings.data_dir), v.id))
    return FileResponse(target, media_type="application/geo+json")
