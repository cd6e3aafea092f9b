"""Response models of the JSON API (what ``/docs`` shows for every route)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorBody",
    "InputRecord",
    "SiteVerdict",
    "Attempt",
    "OutputFile",
    "Accepted",
    "ScreeningSummary",
    "Screening",
    "ZoningVersionOut",
    "CheckRequest",
    "CheckFinding",
    "CheckSite",
    "CheckAnswer",
    "ERROR_RESPONSES",
]


class ErrorBody(BaseModel):
    """Every error: Chinese first, then English."""

    error: str = Field(description="错误说明（中文）")
    detail: str = Field(description="The same in English, or more detail")


class InputRecord(BaseModel):
    """One stored input of a screening."""

    model_config = ConfigDict(extra="allow")
    display: str = Field(description="The file name the user gave (never a server path)")
    path: str = Field(description="Stored name inside the job, e.g. u01.csv")
    kind: str = Field(description="Content kind: gpkg, csv, xlsx, coordfile, geojson, kml, shp, dxf, drawn, pasted")
    sha256: str
    bytes: int
    sites_crs: str | None = None


class SiteVerdict(BaseModel):
    """One screened site."""

    model_config = ConfigDict(extra="allow")
    site_id: str
    name: str | None = None
    project_type: str | None = None
    project_type_raw: str | None = None
    verdict: str = Field(description="prohibited, restricted, notice or compatible")
    verdict_zh: str | None = Field(default=None, description="禁止 / 限制 / 关注 / 符合")
    n_hits: int = 0
    summary_zh: str | None = None


class OutputFile(BaseModel):
    """One downloadable output of a finished screening."""

    name: str
    bytes: int
    url: str
    state: str = Field(default="可下载", description="可下载 (listed files are always complete)")


class Accepted(BaseModel):
    """A queued screening or an uploaded zoning version: poll ``url``."""

    id: str
    status: str
    url: str


class ScreeningSummary(BaseModel):
    """A row of the screening history."""

    id: str
    status: str
    owner: str
    created: str | None
    zoning_version: str
    zoning_label: str
    rules_sha256: str
    inputs: list[InputRecord]
    counts: dict[str, int]
    n_sites: int


class Attempt(BaseModel):
    """One run of a job by one worker (the durable queue re-runs a job whose worker died)."""

    n: int
    worker: str = Field(description="host:pid of the worker process")
    started: str | None
    ended: str | None
    outcome: str = Field(description="running, done, failed or lost (the worker stopped renewing its lease)")


class Screening(BaseModel):
    """A screening's status, progress and, when done, its verdicts and files."""

    id: str
    status: str = Field(description="queued, running, done or failed")
    status_zh: str
    progress: float = Field(description="0–100")
    stage: str
    owner: str
    created: str | None
    started: str | None
    finished: str | None
    zoning_version: str
    zoning_label: str
    rules_sha256: str
    params: dict[str, Any]
    inputs: list[InputRecord]
    counts: dict[str, int] | None = Field(description="Sites per verdict (done jobs)")
    n_sites: int
    warnings: list[str]
    error: ErrorBody | None = Field(description="Why the job failed")
    sites: list[SiteVerdict] | None
    files: list[OutputFile]
    files_status: str | None = Field(default=None, description="Done jobs: pending (生成中), ready (可下载) or failed; the verdicts come first")
    files_status_zh: str | None = None
    files_error: str | None = Field(default=None, description="Why writing the files failed")
    files_stage: str | None = Field(default=None, description="Files pending: the writer's stage (draw 出图 / report 报告)")
    files_stage_zh: str | None = None
    files_progress: float | None = Field(default=None, description="Files pending: 0–100 through that stage")
    attempts: list[Attempt] = Field(default_factory=list, description="Every run of the job, first first")


class ZoningVersionOut(BaseModel):
    """A zoning version with its validation findings."""

    id: str
    seq: int
    label: str
    status: str = Field(description="validating, pending, accepted, rejected or failed")
    status_zh: str
    created: str | None
    created_by: str
    sha256: str
    findings: dict[str, Any] | None = Field(description="What ecozone validate found (layers, findings)")
    error: str | None


class CheckRequest(BaseModel):
    """An instant check: one GeoJSON geometry or a few (WGS84), a project type, optionally names and a zoning version."""

    geometries: list[dict[str, Any]] = Field(min_length=1, description="GeoJSON geometries (Point, LineString, Polygon) or Features, WGS84 lon/lat")
    project_type: str = Field(description="Project type of every site (中文或英文), e.g. 化工, 工业, 住宅")
    names: list[str] = Field(default_factory=list, description="Site names in order (default: a Feature's name, else 绘制图形N)")
    zoning_version: str = Field(default="", description="Zoning version id (default: newest accepted)")
    facts: bool = Field(default=True, description="Measure per-layer facts (overlap, nearest feature); the live page asks without them")


class CheckFinding(BaseModel):
    """One rule that reacted to a site, with its clause."""

    model_config = ConfigDict(extra="allow")
    rule_id: str
    layer: str
    layer_zh: str | None = None
    feature_name: str | None = None
    verdict: str
    message_zh: str | None = None
    basis: str | None = Field(default=None, description="The clause: title, 文号 and article")


class CheckSite(BaseModel):
    """One checked site: verdict, findings, the 涉及/不涉及 rows, control units with their 准入清单, measured facts."""

    model_config = ConfigDict(extra="allow")
    site_id: str
    name: str | None = None
    project_type: str | None = None
    verdict: str = Field(description="prohibited, restricted, notice or compatible")
    verdict_zh: str | None = None
    n_hits: int = 0
    summary_zh: str | None = None
    findings: list[CheckFinding]
    layers: list[dict[str, Any]] = Field(description="逐项对照: layer, label_zh, status_zh (涉及/不涉及), features")
    units: list[dict[str, Any]] = Field(description="Control units touched, with category and 准入清单 text")
    facts: list[dict[str, Any]] = Field(description="Per layer: inside, overlap (m², 公顷, 亩), nearest feature, distance, direction")


class CheckAnswer(BaseModel):
    """The answer of ``POST /api/check``: no job, no files; the check is kept in the audit log."""

    id: str = Field(description="The check's id in the audit log")
    zoning_version: str
    zoning_label: str
    verdict: str = Field(description="The worst site's verdict")
    verdict_zh: str
    sites: list[CheckSite]
    rules_sha256: str
    warnings: list[str]
    elapsed_ms: float = Field(description="Server time for the screening, ms")


#: Error responses every API route may give, documented with their body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unusable input (输入有误)"},
    401: {"model": ErrorBody, "description": "Login or token required"},
    403: {"model": ErrorBody, "description": "CSRF token missing or not allowed"},
    404: {"model": ErrorBody, "description": "Not found or not visible to you"},
}
