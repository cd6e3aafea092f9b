"""What the pages and the JSON API show of a job or a zoning version, with server paths taken out.

Every text a client sees passes :func:`public`, which turns an absolute path
under the data directory or the installation into its last part, so no page,
JSON body or message reveals where the server keeps its files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse

from spatial.job import STAGES
from spatial.serve.deps import current, login_required
from spatial.serve.products import FILE_STATE_ZH, failure, files_progress, files_state
from spatial.serve.store import Job, ZoningVersion

__all__ = [
    "VERDICT_ZH",
    "VERDICT_ORDER",
    "STATUS_ZH",
    "VERSION_STATUS_ZH",
    "HTTP_ZH",
    "ID_PATTERN",
    "public",
    "split_message",
    "iso",
    "local_time",
    "job_dir",
    "result_dir",
    "output_files",
    "job_json",
    "job_summary",
    "version_json",
    "version_view",
    "types_choices",
    "page",
]

VERDICT_ZH = {"prohibited": "禁止", "restricted": "限制", "notice": "关注", "compatible": "符合"}
VERDICT_ORDER = ("prohibited", "restricted", "notice", "compatible")
STATUS_ZH = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
VERSION_STATUS_ZH = {"validating": "校验中", "pending": "待确认", "accepted": "可用", "rejected": "已放弃", "failed": "无法读取"}
HTTP_ZH = {
    400: "请求有误",
    401: "请先登录",
    403: "禁止访问",
    404: "未找到（不存在或无权查看）",
    405: "不支持的请求方法",
    413: "上传内容过大",
    422: "请求参数有误",
    429: "尝试次数过多，请稍后再试",
    500: "服务器内部错误",
}
#: Job and version ids as :func:`spatial.serve.store.new_id` makes them.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_INSTALL_ROOT = Path(__file__).resolve().parents[2]
_TAIL = r"((?:[/\\][^/\\\s'\"<>，。：:;；、)）]+)*)"


def _roots(request: Request) -> list[str]:
    st = request.app.state
    roots = [str(st.settings.data_dir), str(_INSTALL_ROOT)]
    if st.settings.zoning is not None:
        z = Path(st.settings.zoning).resolve()
        roots.append(str(z.parent))
    return sorted({r for r in roots if len(r) > 1}, key=len, reverse=True)


def public(value: Any, request: Request) -> Any:
    """Return ``value`` (str, list or dict, nested) with every server path cut to its last part.

    Parameters
    ----------
    value : Any
        Text or JSON-able structure about to be shown.
    request : Request
        Gives the app's settings (data dir, local zoning).

    Returns
    -------
    Any
        The same structure; ``/srv/data/jobs/x/input/甲.csv`` becomes ``甲.csv``.
    """
    pattern = re.compile("(?:" + "|".join(re.escape(r) for r in _roots(request)) + ")" + _TAIL)

    def scrub(v: Any) -> Any:
        if isinstance(v, str):
            return pattern.sub(lambda m: re.split(r"[/\\]", m.group(1))[-1] or "（服务器目录）", v)
        if isinstance(v, list):
            return [scrub(x) for x in v]
        if isinstance(v, dict):
            return {k: scrub(x) for k, x in v.items()}
        return v

    return scrub(value)


def split_message(message: str) -> tuple[str, str]:
    """Split an ecozone message into its Chinese and English lines."""
    zh, _, en = str(message).partition("\n")
    return zh, en


def iso(dt: Any) -> str | None:
    """ISO time to the second, or None."""
    return None if dt is None else dt.isoformat(timespec="seconds")


def local_time(dt: Any) -> str:
    """Local time as the pages show it."""
    return "" if dt is None else dt.astimezone().strftime("%Y年%m月%d日 %H:%M:%S")


def job_dir(request: Request, job_id: str) -> Path:
    """Return the job's folder under the data directory."""
    return request.app.state.settings.data_dir / "jobs" / job_id


def result_dir(request: Request, job: Job) -> Path:
    """Return the folder holding the job's ``web/`` and ``out/``: the job folder, or the attempt a queue worker published."""
    folder = job_dir(request, job.id)
    return folder / job.result_dir if job.result_dir else folder


def output_files(folder: Path) -> list[dict[str, Any]]:
    """List the output files of a job folder (name, bytes), sorted."""
    out = folder / "out"
    if not out.is_dir():
        return []
    return [{"name": p.name, "bytes": p.stat().st_size} for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")]


def job_json(request: Request, job: Job) -> dict[str, Any]:
    """Return a job as ``GET /api/screenings/{id}`` returns it (and the result page shows it)."""
    folder = result_dir(request, job)
    doc: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "status_zh": STATUS_ZH.get(job.status, job.status),
        "progress": round(float(job.progress or 0), 1),
        "stage": job.stage,
        "owner": job.owner,
        "created": iso(job.created),
        "started": iso(job.started),
        "finished": iso(job.finished),
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
        "files_status": None,
        "files_status_zh": None,
        "files_error": None,
        "files_stage": None,
        "files_stage_zh": None,
        "files_progress": None,
        "attempts": [
            {"n": a.n, "worker": a.worker, "started": iso(a.started), "ended": iso(a.ended), "outcome": a.outcome}
            for a in request.app.state.store.job_attempts(job.id)
        ],
    }
    if job.status == "failed":
        zh, en = split_message(job.error)
        doc["error"] = {"error": zh, "detail": en}
    if job.status == "done":
        doc["sites"] = json.loads((folder / "web" / "sites.json").read_text(encoding="utf-8"))
        state = files_state(folder)
        doc["files_status"], doc["files_status_zh"] = state, FILE_STATE_ZH[state]
        doc["files_error"] = failure(folder) or None
        if state == "pending" and (writing := files_progress(folder)) is not None:
            doc["files_stage"], doc["files_progress"] = writing[0], round(100 * writing[1], 1)
            doc["files_stage_zh"] = STAGES.get(writing[0], writing[0])
        ready = [] if state == "pending" else output_files(folder)  # a set is listed only once swapped in whole
        doc["files"] = [{**f, "state": FILE_STATE_ZH["ready"], "url": f"/api/screenings/{job.id}/files/{quote(f['name'])}"} for f in ready]
    return public(doc, request)  # type: ignore[no-any-return]


def job_summary(request: Request, j: Job) -> dict[str, Any]:
    """One row of ``GET /api/screenings``."""
    doc = {
        "id": j.id, "status": j.status, "owner": j.owner, "created": iso(j.created), "zoning_version": j.zoning_version,
        "zoning_label": j.zoning_label, "rules_sha256": j.rules_sha256, "inputs": j.inputs, "counts": j.counts or {}, "n_sites": j.n_sites,
    }  # fmt: skip
    return public(doc, request)  # type: ignore[no-any-return]


def version_json(request: Request, v: ZoningVersion) -> dict[str, Any]:
    """Return a zoning version as ``GET /api/zoning/{id}`` returns it."""
    doc = {
        "id": v.id,
        "seq": v.seq,
        "label": v.label,
        "status": v.status,
        "status_zh": VERSION_STATUS_ZH.get(v.status, v.status),
        "created": iso(v.created),
        "created_by": v.created_by,
        "sha256": v.sha256,
        "findings": v.findings,
        "error": v.error or None,
    }
    return public(doc, request)  # type: ignore[no-any-return]


def version_view(request: Request, v: ZoningVersion) -> SimpleNamespace:
    """Return a zoning version for the templates (server paths removed, ``created`` kept as a time)."""
    return SimpleNamespace(**{**version_json(request, v), "created": v.created})


def types_choices() -> list[tuple[str, str]]:
    """Project types offered by the form: (name, 中文（name）)."""
    from maps.style import project_type_zh
    from spatial import load_rules

    names = list(load_rules().types.names)
    return [(n, f"{project_type_zh(n)}（{n}）" if project_type_zh(n) != n else n) for n in names]


def page(request: Request, name: str, status_code: int = 200, headers: dict[str, str] | None = None, **ctx: Any) -> HTMLResponse:
    """Render a template with the user, the CSRF token and the login mode."""
    from spatial.serve.auth import csrf_token

    who = current(request)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        name,
        {"who": who, "csrf": csrf_token(request), "login_required": login_required(request), **ctx},
        status_code=status_code,
        headers=headers,
    )
