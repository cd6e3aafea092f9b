"""``/api/check``: an instant check of a few drawn sites, answered in the request (no job, no files)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException

from layers import REGISTRY
from spatial.serve.actions import default_version
from spatial.serve.check import CACHE, check_sites, record_check
from spatial.serve.deps import CurrentUser, SettingsDep, StoreDep, check_csrf
from spatial.serve.models import ERROR_RESPONSES, CheckAnswer
from spatial.serve.models import CheckRequest as CheckBody
from spatial.serve.worker import version_source

__all__ = ["router"]

router = APIRouter(prefix="/api/check", tags=["check"], responses=ERROR_RESPONSES)


def _entry(data_dir: Path, path: str) -> Any:
    """Return what the version's record says to load (relative paths are inside the data dir; a PostGIS URL as is), as the worker does."""
    return version_source(data_dir, path)


@router.post("", summary="即时核查 / instant check")
async def api_check(request: Request, body: CheckBody, who: CurrentUser, settings: SettingsDep, store: StoreDep) -> CheckAnswer:
    """Screen one GeoJSON geometry (or a few) now: the verdict, findings with their clauses, the 逐项对照 and facts.

    Synchronous: no job is queued and no file is written; the check is kept in the audit log
    (``checks/checks.jsonl`` under the data dir).  The prepared zoning of each version stays in
    memory per server process, so only the first check of a version loads it.
    """
    check_csrf(request)
    version = store.version(body.zoning_version) if body.zoning_version else default_version(store)
    if version is None or version.status != "accepted":
        raise HTTPException(400, "所选分区数据版本不存在或未通过审核。\nthe chosen zoning version does not exist or was not accepted")
    entry = _entry(Path(settings.data_dir), version.path)

    content = version.sha256 or version.source_key  # a re-registered package with new content is a new cache entry

    def work() -> dict[str, Any]:
        item = CACHE.get(version.id, content, entry)
        answer = check_sites(item, body.geometries, body.project_type, body.names, facts=body.facts)
        answer["id"] = record_check(
            Path(settings.data_dir), user=who.name, version_id=version.id, version_sha256=content,
            project_type=body.project_type, geometries=body.geometries, answer=answer,
        )
        return answer

    answer = await asyncio.to_thread(work)  # the engine runs off the event loop: pages stay responsive
    for s in answer["sites"]:
        for f in s["findings"]:
            spec = REGISTRY.get(f.get("layer"))
            f["layer_zh"] = spec.label_zh if spec is not None else f.get("layer")
    return CheckAnswer(zoning_version=version.id, zoning_label=version.label, **answer)
