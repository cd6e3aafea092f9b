"""What the routes do: queue a screening, take in a zoning package, decide a version, recover at start-up.

The routers parse the request and call these; the worker pool runs the jobs
(:mod:`spatial.serve.worker`).  Job states change only by compare-and-set
(:meth:`spatial.serve.store.Store.transition`), so whoever decides a job
first (its worker, the crash callback, a restarted server) is the only one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from spatial.errors import EcozoneError, InputError
from spatial.serve.auth import Principal
from spatial.serve.settings import ServeSettings
from spatial.serve.store import QUEUE_RUNNER, Job, Store, ZoningVersion, new_id
from spatial.serve.uploads import KIND_ZH, SavedInput, display_name, safe_extract, save_upload, sniff
from spatial.serve.worker import BUILTIN_DEMO, WorkerPool, run_screening, run_validation, runner_id, version_source, zoning_entry
from spatial.site_forms import drawn_collection, pasted_table

__all__ = [
    "create_job",
    "upload_zoning",
    "decide_version",
    "register_local_zoning",
    "mark_interrupted",
    "check_manifest_inside",
    "CRASHED",
    "INTERRUPTED",
]

log = logging.getLogger("ecozone.serve")
CRASHED = "筛查进程意外终止（可能内存不足或服务关闭），请重新提交。\nworker died; resubmit the job"
INTERRUPTED = "服务重启，任务中断，请重新提交。\nthe server restarted; resubmit the job"


def default_version(store: Store) -> ZoningVersion | None:
    """Return the newest accepted zoning version."""
    accepted = store.versions(accepted_only=True)
    return accepted[0] if accepted else None


@functools.lru_cache(maxsize=4)
def _boundary_lonlat(path: str) -> Any:
    from spatial import load_zoning
    from spatial.crs import WGS84

    z = load_zoning(path)
    b = z.layers.get("boundary")
    return None if b is None or not len(b) else b.to_crs(WGS84).union_all()


def version_boundary(settings: ServeSettings, version: ZoningVersion) -> Any:
    """Return the version's boundary in WGS84 (None when it cannot be read), cached per package."""
    try:
        return _boundary_lonlat(str(version_source(settings.data_dir, version.path)))
    except Exception:  # noqa: BLE001 - only a hint depends on it
        log.warning("no boundary for the lat/lon swap hint of version %s", version.id)
        return None


def _save_pasted(folder: Path, text: str, geom: str, project_type: str, sites_crs: str, boundary: Any) -> dict[str, Any]:
    from spatial.coordfile import is_coordfile

    raw = folder / "pasted.txt"
    raw.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if is_coordfile(raw):
        return SavedInput("粘贴的坐标文件", raw.name, "coordfile", sha, len(text.encode())).to_dict()
    raw.unlink()
    table, crs = pasted_table(text, geom, project_type, sites_crs, boundary_lonlat=boundary)
    path = folder / "pasted.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    return {**SavedInput("粘贴的坐标", path.name, "pasted", sha, len(text.encode())).to_dict(), "sites_crs": crs}


def _save_drawn(folder: Path, text: str, project_type: str) -> dict[str, Any]:
    body = json.dumps(drawn_collection(text, project_type), ensure_ascii=False)
    path = folder / "drawn.geojson"
    path.write_text(body, encoding="utf-8")
    d = SavedInput("地图上绘制的图形", path.name, "drawn", hashlib.sha256(body.encode()).hexdigest(), len(body.encode())).to_dict()
    return {**d, "sites_crs": None}


def create_job(
    settings: ServeSettings,
    store: Store,
    pool: WorkerPool,
    who: Principal,
    files: list[tuple[BinaryIO, str | None]],
    form: dict[str, str],
) -> Job:
    """Store the inputs under safe names, record the job and queue it (this server's pool, or the database queue).

    Parameters
    ----------
    settings, store, pool
        The server's.
    who : Principal
        Owner of the job.
    files : list of (file, client name)
        Uploaded sites files.
    form : dict
        ``project_type``, ``type_field``, ``zoning_version``, ``sites_crs``,
        ``drawn``, ``pasted``, ``paste_geom``.

    Returns
    -------
    Job
        The queued job.

    Raises
    ------
    InputError
        Nothing to screen, unknown type/version, unrecognised or refused file, malformed drawn/pasted sites.
    """
    project_type, type_field, sites_crs = (form.get(k, "").strip() for k in ("project_type", "type_field", "sites_crs"))
    drawn, pasted = form.get("drawn", ""), form.get("pasted", "")
    if project_type and type_field:
        raise InputError("“项目类型”和“类型字段”只能选一个。", "give either project_type or type_field")
    version = store.version(form["zoning_version"]) if form.get("zoning_version") else default_version(store)
    if version is None or version.status != "accepted":
        raise InputError("所选分区数据版本不存在或尚未确认可用。", "unknown or not accepted zoning version")
    if not files and not drawn.strip() and not pasted.strip():
        raise InputError("请上传地块文件、在地图上绘制图形或粘贴坐标。", "upload a sites file, draw on the map or paste coordinates")
    if (drawn.strip() or pasted.strip()) and not project_type:
        raise InputError("绘制或粘贴的地块需要选择“项目类型”。", "drawn or pasted sites need a project_type")
    job_id = new_id()
    folder = settings.data_dir / "jobs" / job_id / "input"
    folder.mkdir(parents=True)
    try:
        inputs: list[dict[str, Any]] = []
        for i, (fh, name) in enumerate(files, start=1):
            inputs += [s.to_dict() for s in save_upload(fh, name, folder, i, max_unzip_bytes=settings.max_unzip_bytes, max_unzip_files=settings.max_unzip_files)]
        if drawn.strip():
            inputs.append(_save_drawn(folder, drawn, project_type))
        if pasted.strip():
            boundary = functools.partial(version_boundary, settings, version)
            inputs.append(_save_pasted(folder, pasted, form.get("paste_geom", "point"), project_type, sites_crs, boundary))
    except BaseException:
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    job = Job(
        id=job_id,
        owner=who.name,
        runner=QUEUE_RUNNER if settings.no_workers else runner_id(),
        zoning_version=version.id,
        zoning_label=f"v{version.seq} {version.label}",
        params={"project_type": project_type, "type_field": type_field, "sites_crs": sites_crs},
        inputs=inputs,
    )
    store.add_job(job)
    if settings.no_workers:  # the durable queue: any `ecozone worker` takes it
        return job
    fut = pool.submit(run_screening, settings.db_url, str(settings.data_dir), job_id)
    fut.add_done_callback(functools.partial(_on_crash, store, job_id))
    return job


def _on_crash(store: Store, job_id: str, fut: Any) -> None:
    """Record a worker that died (killed, out of memory) as a failed job, unless it was already decided."""
    exc = None if fut.cancelled() else fut.exception()
    if fut.cancelled() or exc is not None:
        store.transition(job_id, ("queued", "running"), status="failed", stage="失败", error=CRASHED)


def check_manifest_inside(pkg: Path, entry: Path) -> None:
    """Refuse a package manifest that names a file outside its own upload folder.

    Parameters
    ----------
    pkg : Path
        The extracted upload.
    entry : Path
        What :func:`spatial.serve.worker.zoning_entry` found in it.

    Raises
    ------
    InputError
        A layer path that resolves outside ``pkg`` (absolute, ``..``, a GDAL ``/vsi`` path).
    """
    if entry.suffix.lower() not in (".yaml", ".yml"):
        return
    from spatial.zoning import package_entries

    try:
        entries = package_entries(entry)
    except EcozoneError:
        return  # the validation task reports the malformed manifest; nothing is read from it
    root = pkg.resolve()
    for layer, spec in entries.items():
        given = Path(str(spec["path"]))
        if not given.resolve().is_relative_to(root):
            shown = os.path.relpath(given, entry.parent) if not str(spec["path"]).startswith("/") else "（绝对路径）"
            raise InputError(
                f"分区数据包的清单 {entry.name} 中图层 {layer} 的路径“{shown}”指向上传包之外；清单只能引用包内的文件。",
                f"manifest {entry.name}: layer {layer} names a file outside the uploaded package; only files inside it may be named",
            )


def upload_zoning(settings: ServeSettings, store: Store, pool: WorkerPool, who: Principal, fh: BinaryIO, filename: str | None, label: str) -> ZoningVersion:
    """Store an uploaded zoning package, check it stays inside its folder and queue its validation."""
    from starlette.exceptions import HTTPException

    if not who.admin:
        raise HTTPException(403, "只有管理员可以上传分区数据。\nonly admins may upload zoning packages")
    vid = new_id()
    root = settings.data_dir / "zoning" / vid
    pkg = root / "pkg"
    pkg.mkdir(parents=True)
    shown = display_name(filename, "分区数据")
    try:
        raw = root / "upload.bin"
        h = hashlib.sha256()
        with open(raw, "xb") as out:
            while chunk := fh.read(1 << 20):
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
        check_manifest_inside(pkg, entry)
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


def decide_version(store: Store, who: Principal, version_id: str, action: str, understood: str = "") -> ZoningVersion:
    """Accept or reject a validated (``pending``) version; admins only.

    A version lacking standard layers (``validate``'s missing/empty-layer errors) is accepted only with
    ``understood`` = yes, and is then labelled （不完整） wherever it is offered.
    """
    from starlette.exceptions import HTTPException

    from spatial.completeness import INCOMPLETE_LABEL, incomplete_findings
    from spatial.serve.views import ID_PATTERN, VERSION_STATUS_ZH

    if not who.admin:
        raise HTTPException(403, "只有管理员可以确认分区数据。\nonly admins may accept zoning packages")
    v = store.version(version_id) if ID_PATTERN.match(version_id) else None
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


def register_local_zoning(store: Store, zoning: Path | str | None, data_dir: Path | None = None) -> None:
    """Register the ``--zoning`` package (default: the bundled demo) as an accepted version, once per content.

    A ``postgresql://…?schema=…`` URL registers a version published with ``ecozone zoning publish``
    (label and content hash from its ``ecozone_meta``; a published schema is never overwritten).
    The stored path holds no machine's absolute path where it can be avoided: a package under
    ``data_dir`` is stored relative to it, the bundled demo as ``builtin:demo``
    (:func:`spatial.serve.worker.version_source` resolves both on each machine).
    """
    from spatial.pgzoning import is_db_url
    from spatial.zoning import demo_zoning_path, is_demo_zoning

    if is_db_url(zoning):
        from spatial.pgpublish import version_of

        url = str(zoning)
        meta = version_of(url)
        label = f"{meta.label}（PostGIS {meta.schema}）" if meta else url.rsplit("schema=", 1)[-1]
        digest = meta.content_hash if meta else ""
        store.add_version(
            ZoningVersion(label=label, created_by="启动参数", status="accepted", path=url, sha256=digest, source_key=f"db:{url}:{digest[:16]}")
        )
        return
    assert not isinstance(zoning, str)
    path = (zoning or demo_zoning_path()).resolve()
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        files = sorted(p for p in path.parent.rglob("*") if p.is_file())
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    label = "连州示范数据（内置）— 示范数据（合成），不得用于审批" if zoning is None or is_demo_zoning(path) else path.name
    stored = str(path)
    if path == demo_zoning_path().resolve():
        stored = BUILTIN_DEMO
    elif data_dir is not None and path.is_relative_to(Path(data_dir).resolve()):
        stored = path.relative_to(Path(data_dir).resolve()).as_posix()
    store.add_version(ZoningVersion(label=label, created_by="启动参数", status="accepted", path=stored, source_key=f"local:{path}:{h.hexdigest()[:16]}"))


def mark_interrupted(store: Store) -> int:
    """Mark the jobs of a dead server on this host failed (compare-and-set); return how many.

    A job is decided once: if its worker finished first, the job stays done;
    once marked failed here, a stale worker can no longer flip it.
    """
    me = runner_id().split(":")[0]
    n = 0
    for job in store.unfinished_jobs():
        if job.lease_until is not None:  # a queue job: its lease hands it to another worker, nobody fails it
            continue
        host, _, rest = job.runner.partition(":")
        pid = rest.split("/")[0]
        if host != me or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            alive = int(pid) != os.getpid()
        except PermissionError:  # exists, owned by someone else
            alive = True
        except OSError:
            alive = False
        if not alive and store.transition(job.id, ("queued", "running"), status="failed", stage="失败", error=INTERRUPTED):
            n += 1
    return n
