"""Response models of the JSON API (what ``/docs`` shows for every route)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorBody",
    "InputRecord",
    "SiteVerdict",
    "OutputFile",
    "Accepted",
    "ScreeningSummary",
    "Screening",
    "ZoningVersionOut",
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


#: Error responses every API route may give, documented with their body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unusable input (输入有误)"},
    401: {"model": ErrorBody, "description": "Login or token required"},
    403: {"model": ErrorBody, "description": "CSRF token missing or not allowed"},
    404: {"model": ErrorBody, "description": "Not found or not visible to you"},
}
