"""The bounded worker pool and what one job does.

Jobs run in a pool of ``workers`` processes (or threads), so a 10,000-site
screening never blocks the pages.  A task opens its own :class:`Store` on
the same database URL and writes its progress there, which is how every
uvicorn worker (and the page's progress bar) sees it.

A screening job, in order:

1. read the stored inputs (one file is handed to :func:`spatial.screen` as
   is, exactly like ``ecozone screen FILE``; several files, drawn shapes and
   pasted coordinates are read with :func:`spatial.read_sites` and joined);
2. screen against the chosen zoning version with the default catalogue;
3. write the page data (``web/``), record the verdicts and counts and mark
   the job done: the verdicts come first;
4. then write the output set with the CLI's writers inside its transaction
   (:func:`spatial.outset.output_set`: staged, swapped in whole, ``run.json``
   tracing every file); :mod:`spatial.serve.products` says 生成中 / 可下载.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import socket
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spatial.errors import EcozoneError, InputError
from spatial.job import ALL_PRODUCTS, Product, ScreeningJob
from spatial.screening import RunOptions
from spatial.serve.products import mark_failed, mark_pending, mark_progress, mark_ready
from spatial.serve.store import Store, now
from spatial.site_options import SiteOptions
from spatial.sites import SiteFile

__all__ = [
    "WorkerPool",
    "run_screening",
    "execute_screening",
    "attempt_dir",
    "ClaimLost",
    "run_validation",
    "build_map_layers",
    "zoning_entry",
    "runner_id",
    "watch_parent",
    "version_source",
    "store_for",
    "BUILTIN_DEMO",
]

log = logging.getLogger("ecozone.serve")

#: Sites per engine chunk: the progress bar moves every chunk (results do not depend on it).
PROGRESS_CHUNK = 2_000
_STORES: dict[str, Store] = {}
#: ``ZoningVersion.path`` of the bundled demo (each machine reads its own installed copy).
BUILTIN_DEMO = "builtin:demo"
_ZONINGS: OrderedDict[str, Any] = OrderedDict()
#: warnings.catch_warnings is process-global: in thread mode, one task at a time records warnings.
_WARN_LOCK = threading.Lock()


def runner_id() -> str:
    """Return ``host:pid`` of this process (marks which server owns a queued job)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def store_for(url: str) -> Store:
    """Return this process's :class:`Store` for ``url`` (one connection pool per database)."""
    return _store(url)


def _store(url: str) -> Store:
    if url not in _STORES:
        _STORES[url] = Store(url)
    return _STORES[url]


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """End this worker process as soon as the server that started it is gone.

    Runs as the process pool's initializer: a daemon thread polls the parent
    pid and calls ``os._exit`` when the worker has been re-parented (the
    server was killed, even with ``kill -9``), so no orphan keeps screening
    and writing results for a server that no longer exists.

    Parameters
    ----------
    parent_pid : int
        The server's pid.
    interval : float
        Seconds between checks.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        log.warning("ecozone serve worker %s: the server (pid %s) is gone; stopping", os.getpid(), parent_pid)
        os._exit(70)

    if os.getppid() != parent_pid:
        os._exit(70)
    threading.Thread(target=watch, name="ecozone-parent-watch", daemon=True).start()


class WorkerPool:
    """A bounded pool for screenings, zoning validations and map layers.

    Worker processes end with the server that started them (:func:`watch_parent`).

    Parameters
    ----------
    workers : int
        Tasks running at once.
    kind : {'process', 'thread'}
        Processes (spawned, so no state leaks from the server) or threads.
    """

    def __init__(self, workers: int, kind: str = "process") -> None:
        self.kind = kind
        self.workers = max(1, int(workers))
        self._executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        """The executor, started on first use."""
        if self._executor is None:
            if self.kind == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="ecozone-job")
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=watch_parent, initargs=(os.getpid(),)
                )
        return self._executor

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        """Queue ``fn(*args)``."""
        return self.executor.submit(fn, *args, self.kind == "thread")

    def shutdown(self) -> None:
        """Stop accepting work; running tasks finish."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self.kind == "thread":  # the tasks' stores live in this process: close their connections
            while _STORES:
                _STORES.popitem()[1].close()


@contextlib.contextmanager
def _recorded_warnings(threaded: bool) -> Iterator[list[warnings.WarningMessage]]:
    lock = _WARN_LOCK if threaded else contextlib.nullcontext()
    with lock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _messages(caught: list[warnings.WarningMessage]) -> list[str]:
    seen: list[str] = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, UserWarning) and text not in seen:
            seen.append(text)
    return seen[:50]


_FORM_FIELDS = {"--project-type": "“项目类型”(project_type)", "--type-field": "“类型字段”(type_field)", "--sites-crs": "“坐标系”(sites_crs)"}


def _shown(text: str, inputs: list[dict[str, Any]]) -> str:
    """Say the user's file names and form fields where a message names the stored file (``u01.csv``) or a CLI option."""
    for inp in sorted(inputs, key=lambda i: -len(i["path"])):
        text = text.replace(str(Path(inp["path"]).name), inp["display"])
    for option, field in _FORM_FIELDS.items():  # the engine's messages name CLI options; the page has fields
        text = text.replace(option, field)
    return text


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, EcozoneError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "内存不足，无法完成筛查。请分批提交地块。\nout of memory: submit the sites in smaller batches"
    return f"处理时出错：{type(exc).__name__}: {exc}。请检查输入文件；如仍失败，请把此信息报告给管理员。\nunexpected error: {type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- zoning


def zoning_entry(folder: Path) -> Path:
    """Return what :func:`spatial.load_zoning` should open in an extracted package.

    Parameters
    ----------
    folder : Path
        The extracted package.

    Returns
    -------
    Path
        A ``zoning.yaml``/``.yml`` manifest (top level or one folder down), else
        the only GeoPackage, else the folder.
    """
    for pattern in ("zoning.y*ml", "*/zoning.y*ml", "*.y*ml", "*/*.y*ml"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    gpkgs = sorted(folder.rglob("*.gpkg"))
    if len(gpkgs) == 1:
        return gpkgs[0]
    subdirs = [p for p in folder.iterdir() if p.is_dir()]
    files = [p for p in folder.iterdir() if p.is_file()]
    return subdirs[0] if len(subdirs) == 1 and not files else folder


def version_source(data_dir: str | os.PathLike[str], stored: str) -> Path | str:
    """Return where a zoning version is read from: its database URL as is, a stored path under the data dir.

    Parameters
    ----------
    data_dir : path-like
        The data dir (shared by every machine; stored paths are relative to it).
    stored : str
        ``ZoningVersion.path``: a path, ``builtin:demo`` (this machine's bundled demo), or a
        ``postgresql://…?schema=…`` URL (a version published in PostGIS).

    Returns
    -------
    Path or str
        What :func:`spatial.zoning.load_zoning` takes.
    """
    from spatial.pgzoning import is_db_url

    if is_db_url(stored):
        return stored
    if stored == BUILTIN_DEMO:
        from spatial.zoning import demo_zoning_path

        return demo_zoning_path()
    path = Path(stored)
    return path if path.is_absolute() else Path(data_dir) / path


def _zoning(data_dir: Path, version: Any) -> Any:
    from spatial import load_zoning

    if version.id in _ZONINGS:
        _ZONINGS.move_to_end(version.id)
        return _ZONINGS[version.id]
    z = load_zoning(version_source(data_dir, version.path))
    _ZONINGS[version.id] = z
    while len(_ZONINGS) > 3:
        _ZONINGS.popitem(last=False)
    return z


def run_validation(db_url: str, data_dir: str, version_id: str, threaded: bool = False) -> None:
    """Validate an uploaded zoning package and store the findings (status ``pending``).

    Parameters
    ----------
    db_url, data_dir : str
        Where the records and files are.
    version_id : str
        The uploaded version.
    threaded : bool
        Running in a thread pool (serialises warning capture).
    """
    from spatial import validate_zoning

    store = _store(db_url)
    v = store.version(version_id)
    if v is None:
        return
    try:
        path = version_source(data_dir, v.path)
        with _recorded_warnings(threaded):
            report = validate_zoning(path)
        doc = report.to_dict()
        doc["findings"] = [
            {k: f.get(k) for k in ("code", "severity", "layer", "feature_ids", "area_m2", "message_zh", "message_en")} for f in doc["findings"]
        ]
        doc["layers"] = {}
        from spatial import load_zoning

        with _recorded_warnings(threaded):
            z = load_zoning(path)
        doc["layers"] = {name: int(len(gdf)) for name, gdf in z.layers.items()}
        doc["crs"] = str(z.crs)
        store.update_version(version_id, status="pending", findings=json.loads(json.dumps(doc, default=str)))
    except Exception as exc:  # noqa: BLE001 - the user sees the reason on the page, never a traceback
        log.exception("zoning validation %s failed", version_id)
        store.update_version(version_id, status="failed", error=_error_text(exc))


def build_map_layers(db_url: str, data_dir: str, version_id: str, threaded: bool = False) -> str:
    """Write the zoning version's web-map layers (simplified WGS84 GeoJSON) once.

    Parameters
    ----------
    db_url, data_dir : str
        Where the records and files are.
    version_id : str
        Zoning version.
    threaded : bool
        Running in a thread pool.

    Returns
    -------
    str
        Path of ``map.geojson``.
    """
    from maps.style import class_keys, layer_label
    from maps.zoning_map import display_geometries, display_tolerance, map_style
    from spatial.serve.mapkey import zoning_legend_html

    store = _store(db_url)
    v = store.version(version_id)
    target = Path(data_dir) / "zoning" / version_id / "map.geojson"
    if target.exists():
        return str(target)
    with _recorded_warnings(threaded):
        z = _zoning(Path(data_dir), v)
    tol = display_tolerance(z)
    features: list[dict[str, Any]] = []
    legend: dict[str, list[str]] = {}
    import shapely

    for name, gdf in z.layers.items():
        if not len(gdf):
            continue
        geoms = display_geometries(np.asarray(gdf.geometry.values, dtype=object), z.crs, tolerance=tol)
        keys = class_keys(name, gdf)
        legend[name] = [str(k) for k in dict.fromkeys(keys.tolist())]
        label = layer_label(name)[0]
        names = gdf["name"].astype("string").fillna("").astype(str).to_numpy() if "name" in gdf else np.full(len(gdf), "")
        for g, key, fname in zip(geoms, keys, names, strict=True):
            if g is None or shapely.is_empty(g):
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(g),
                    # map.html's style: the land red line hatched (the page holds the pattern); ``k`` is the legend class.
                    "properties": {"layer": name, "layer_zh": label, "name": fname, "k": str(key), "style": map_style(str(key))},
                }
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.part")
    doc = {"type": "FeatureCollection", "features": features, "legend": zoning_legend_html(legend)}  # a foreign member: the map key
    tmp.write_text(json.dumps(doc, ensure_ascii=False, default=float), encoding="utf-8")
    os.replace(tmp, target)
    return str(target)


# --------------------------------------------------------------------------- screening


def _coverage_notes(audit: dict[str, Any]) -> list[str]:
    """Return the run-level coverage line and, on the demo, its stamp (shown on the result page)."""
    from spatial.zoning import DEMO_STAMP

    cov = audit.get("coverage") or {}
    return [*([DEMO_STAMP] if audit.get("demo") else []), *([str(cov["line_zh"])] if cov.get("line_zh") else [])]


def _web_data(result: Any, web: Path) -> list[dict[str, Any]]:
    """Write the pages' data: ``sites.json``, ``sites.geojson`` (WGS84) and ``detail.json``."""
    import shapely

    sites = result.sites
    keep = [
        c for c in ("site_id", "name", "project_type", "project_type_raw", "verdict", "verdict_zh", "n_hits", "summary_zh", "coverage_zh", "data_note")
        if c in sites
    ]  # fmt: skip
    table = pd.DataFrame(sites[keep]).astype(object).where(pd.notna(sites[keep]), None)
    records = table.to_dict("records")
    for r in records:
        r["site_id"] = str(r["site_id"])
        r["n_hits"] = int(r.get("n_hits") or 0)
    geoms = sites.geometry.to_crs(4326).to_numpy()
    geoms = shapely.set_precision(geoms, 1e-7)
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": r} for g, r in zip(geoms, records, strict=True) if g is not None
    ]
    hits = pd.DataFrame(result.hits).drop(columns=["geometry"], errors="ignore")
    status = pd.DataFrame(result.layer_status)
    units = pd.DataFrame(result.units)
    detail: dict[str, dict[str, list[dict[str, Any]]]] = {r["site_id"]: {"hits": [], "status": [], "units": []} for r in records}
    for key, frame in (("hits", hits), ("status", status), ("units", units)):
        if not len(frame):
            continue
        clean = frame.astype(object).where(pd.notna(frame), None)
        for row in clean.to_dict("records"):
            sid = str(row.get("site_id"))
            if sid in detail:
                detail[sid][key].append(row)
    web.mkdir(parents=True, exist_ok=True)
    (web / "sites.json").write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    (web / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, default=str), encoding="utf-8")
    (web / "detail.json").write_text(json.dumps(detail, ensure_ascii=False, default=str), encoding="utf-8")
    return records


def _job_sites(folder: Path, inputs: list[dict[str, Any]]) -> Any:
    """Return the job's sites as :class:`~spatial.job.ScreeningJob` takes them.

    One uploaded file is read as is (exactly like ``ecozone screen FILE``);
    several files, drawn shapes and pasted coordinates are read as one id
    namespace under the names the user gave them (exactly like a folder of
    those files on the command line).
    """
    files = [SiteFile(folder / i["path"], i["display"], i.get("sites_crs")) for i in inputs]
    return files[0] if len(inputs) == 1 and inputs[0]["kind"] not in ("drawn", "pasted") else files


def _write_files(job_run: ScreeningJob, result: Any, folder: Path, job_id: str, threaded: bool) -> None:
    """Write the job's output set after its verdicts (the CLI's writers, staged and swapped in whole)."""
    try:
        with _recorded_warnings(threaded):
            job_run.write_set(
                result, folder / "out", argv=["ecozone", "serve", f"job={job_id}"], on_stage=lambda stage, f: mark_progress(folder, stage, f)
            )
        mark_ready(folder)
    except Exception as exc:  # noqa: BLE001 - the verdicts stand; the page says the files failed and why
        log.exception("screening %s: writing the files failed", job_id)
        mark_failed(folder, _error_text(exc))


def run_screening(db_url: str, data_dir: str, job_id: str, threaded: bool = False) -> None:
    """Run one screening job of the server's own pool end to end and record its outcome.

    Parameters
    ----------
    db_url, data_dir : str
        Where the records and files are.
    job_id : str
        The job.
    threaded : bool
        Running in a thread pool (serialises warning capture).
    """
    store = _store(db_url)
    if store.job(job_id) is None:
        return
    claim = store.claim_job(job_id, worker=runner_id(), started=now(), progress=2.0, stage="读取分区数据")
    if claim is None:  # no longer queued: another owner (a restarted server) decided it
        return
    execute_screening(store, Path(data_dir), job_id, claim, threaded=threaded)


class ClaimLost(EcozoneError):
    """The job's claim was taken over (its lease expired): this run stops and publishes nothing."""


def attempt_dir(n: int, claim: str) -> str:
    """Return an attempt's own folder, relative to the job folder (``attempts/<n>-<token tail>``)."""
    return f"attempts/{n}-{claim.rsplit('/', 1)[-1]}"


def execute_screening(
    store: Store, data_dir: Path, job_id: str, claim: str, *, threaded: bool = False, attempt: str = "", lost: Any = None, products: frozenset[Product] = ALL_PRODUCTS
) -> None:
    """Screen a claimed job and record its outcome (compare-and-set on ``claim``).

    Parameters
    ----------
    store : Store
        The records.
    data_dir : Path
        The data dir (shared by every machine).
    job_id, claim : str
        The job and the token that owns it.
    threaded : bool
        Running in a thread pool (serialises warning capture).
    attempt : str
        '' (the server's own pool): verdicts first, the job is done, then its files
        follow in ``out/``.  ``attempts/<n>-<tail>`` (the durable queue): every
        file is written into that folder first, then one compare-and-set marks
        the job done and points it there (``Job.result_dir``); a run whose claim
        was taken over never publishes.
    lost : callable, optional
        Returns True once the claim is known lost (the heartbeat saw another owner): the run stops.
    products : frozenset of Product
        The files written (default: all, as ``ecozone screen``).
    """
    job = store.job(job_id)
    if job is None:
        return
    folder = data_dir / "jobs" / job_id
    target = folder / attempt if attempt else folder
    inputs = list(job.inputs or [])

    def check(**values: Any) -> None:
        if (lost is not None and lost()) or not store.update_job(job_id, claim=claim, **values):
            raise ClaimLost("任务已由其他工作进程接管。", "the job was taken over by another worker")

    try:
        version = store.version(job.zoning_version)
        if version is None or version.status != "accepted":
            raise InputError("所选分区数据版本不存在或未通过审核。", "the chosen zoning version does not exist or was not accepted")
        params = dict(job.params or {})
        with _recorded_warnings(threaded) as caught:
            zoning = _zoning(data_dir, version)
            check(progress=8.0, stage="读取地块")
            job_run = ScreeningJob(
                _job_sites(folder / "input", inputs),
                zoning,
                options=SiteOptions.from_form(params),
                products=products,
                run_options=RunOptions(chunk_size=PROGRESS_CHUNK, threads=1),
            )

            def progress(done: int, total: int) -> None:
                check(progress=10.0 + 55.0 * done / max(total, 1), stage=f"筛查 {done}/{total} 个地块")

            check(progress=10.0, stage="筛查")
            result = job_run.screen(progress=progress)
            check(progress=70.0, stage="写出结论")
            staging = target / ".staging"
            shutil.rmtree(staging, ignore_errors=True)
            records = _web_data(result, staging / "web")
            os.replace(staging / "web", target / "web")
            shutil.rmtree(staging, ignore_errors=True)
            if attempt:  # the durable queue: every file before the job is done
                check(progress=80.0, stage="写出结果文件")
                job_run.write_set(result, target / "out", argv=["ecozone", "worker", f"job={job_id}"])
        counts = {v: int(n) for v, n in pd.Series([r["verdict"] for r in records], dtype=object).value_counts().items()}
        if not attempt:  # the verdicts first: the job is done now; its files follow in this task (the page shows 生成中 until then)
            mark_pending(folder)
        finished = store.finish_job(
            job_id,
            [(r["site_id"], str(r.get("name") or ""), r["verdict"]) for r in records],
            claim=claim,
            status="done",
            finished=now(),
            progress=100.0,
            stage="完成" if attempt else "完成（结果文件生成中）",
            counts=counts,
            n_sites=len(records),
            rules_sha256=str(result.audit.get("rules", {}).get("sha256", "")),
            result_dir=attempt,
            # The run's coverage line (missing layers, sites off the map) and the demo stamp come first.
            warnings=[*_coverage_notes(result.audit), *(_shown(w, inputs) for w in _messages(caught))],
        )
        if not finished:
            raise ClaimLost("任务已由其他工作进程接管。", "the job was taken over by another worker")
        if not attempt:
            _write_files(job_run, result, folder, job_id, threaded)
    except ClaimLost:
        log.warning("screening %s: claim %s lost; this run publishes nothing", job_id, claim)
        if attempt:
            shutil.rmtree(target, ignore_errors=True)
    except Exception as exc:  # noqa: BLE001 - recorded for the page; never a traceback to the user
        if not isinstance(exc, EcozoneError):
            log.exception("screening %s failed", job_id)
        shutil.rmtree(target / ".staging", ignore_errors=True)
        store.transition(job_id, ("running",), claim=claim, status="failed", finished=now(), stage="失败", error=_shown(_error_text(exc), inputs))
