"""The kill test: a web tier, two ``ecozone worker`` processes on a real PostgreSQL/PostGIS, one killed with SIGKILL mid-job.

Ten jobs are submitted through the web API of a ``--no-workers`` app; two
worker subprocesses (``python -m spatial.cli worker --lease 3``) take them
from the database.  As soon as worker A holds a running job, A is killed
with ``SIGKILL``.  Then: every job ends ``done`` exactly once (one ``done``
attempt, one set of site rows), its verdicts equal the engine's on the same
stored input (and the red-line point is 禁止), its published output set
matches its ``run.json`` file by file, and the killed job's attempt history
shows A's attempt ``lost`` and B's re-claim ``done``.

Skipped, with the reason, when the PostgreSQL server binaries, psycopg or
PostGIS are absent (``postgis_url`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pg_server import fresh_database
from serve_helpers import make_app, redline_patch, to_lonlat

from spatial.job import TABLES_ONLY, ScreeningJob
from spatial.serve.store import LEASE_LOST, Store
from spatial.serve.worker import attempt_dir
from spatial.site_options import SiteOptions
from spatial.sites import SiteFile
from spatial.zoning import load_zoning

pytestmark = pytest.mark.slow  # two worker processes and ten jobs: ~40-90 s on a loaded 2-core machine
ROOT = Path(__file__).resolve().parents[1]
N_JOBS = 10


def _worker(url: str, data: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "spatial.cli", "worker", "--queue", url, "--data-dir", str(data), "--lease", "3", "--poll", "0.1", "--products", "tables"]
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=30)


def test_sigkill_one_worker_mid_job_every_job_done_exactly_once(postgis_url: str, tmp_path: Path) -> None:
    url = fresh_database(postgis_url)
    data = tmp_path / "data"
    app = make_app(data, db_url=url, no_workers=True)
    patch, _ = redline_patch()
    red = to_lonlat(patch.centroid)
    store: Store = app.state.store
    with TestClient(app) as c:
        ids = []
        for i in range(N_JOBS):  # each job: a point in the red line (known: 禁止) and two points that differ per job
            text = f"红线内{i},{red.x:.6f},{red.y:.6f}\n甲{i},{112.20 + 0.02 * i:.5f},{24.60 + 0.015 * i:.5f}\n乙{i},{112.45 - 0.01 * i:.5f},{24.90 - 0.02 * i:.5f}\n"
            r = c.post("/api/screenings", data={"pasted": text, "project_type": "化工"})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        a, b = _worker(url, data, logs[0]), _worker(url, data, logs[1])
        try:
            # Kill A as soon as it holds a running job (claimed, not finished).
            t0, victim = time.monotonic(), None
            while victim is None:
                for jid in ids:
                    j = store.job(jid)
                    if j.status == "running" and j.runner.split("/")[0].endswith(f":{a.pid}"):
                        victim = jid
                        break
                assert a.poll() is None, logs[0].read_text(errors="replace")
                assert time.monotonic() - t0 < 240, "worker A never took a job: " + logs[0].read_text(errors="replace")
                time.sleep(0.02)
            os.kill(a.pid, signal.SIGKILL)
            a.wait(timeout=30)
            assert store.job(victim).status == "running"  # killed mid-job: nobody finished it
            t0 = time.monotonic()
            while any(store.job(j).status in ("queued", "running") for j in ids):
                assert b.poll() is None, logs[1].read_text(errors="replace")
                assert time.monotonic() - t0 < 400, [store.job(j).status for j in ids]
                time.sleep(0.2)
        finally:
            _stop(a)
            _stop(b)
        docs = {jid: c.get(f"/api/screenings/{jid}").json() for jid in ids}

    zoning = load_zoning()
    for i, jid in enumerate(ids):
        job, doc = store.job(jid), docs[jid]
        assert job.status == "done", (job.status, job.error)
        hist = store.job_attempts(jid)
        done = [h for h in hist if h.outcome == "done"]
        assert len(done) == 1 and all(h.outcome in ("done", "lost") for h in hist)  # finished exactly once
        assert job.result_dir == attempt_dir(done[0].n, done[0].claim)
        assert job.attempts == len(hist)
        # One set of site rows, the engine's verdicts on the same stored input, the red-line point 禁止.
        rows = [(s.site_id, s.name, s.verdict) for s in store.job_sites(jid)]
        inp = job.inputs[0]
        expected = ScreeningJob(
            [SiteFile(data / "jobs" / jid / "input" / inp["path"], inp["display"], inp.get("sites_crs"))],
            zoning,
            options=SiteOptions.from_form(job.params),
            products=TABLES_ONLY,
        ).screen()
        assert [(r[1], r[2]) for r in rows] == list(zip(expected.sites["name"], expected.sites["verdict"], strict=True))
        assert dict((r[1], r[2]) for r in rows)[f"红线内{i}"] == "prohibited"
        assert [s["verdict"] for s in doc["sites"]] == [r[2] for r in rows]
        # The published output set is exactly its run.json: every listed file, its hash, nothing else.
        out = data / "jobs" / jid / job.result_dir / "out"
        record = json.loads((out / "run.json").read_text(encoding="utf-8"))
        listed = {f["name"]: f["sha256"] for f in record["files"]}
        on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file() and p.name != "run.json"}
        assert listed == on_disk and "sites.csv" in listed
        assert {f["name"] for f in doc["files"]} == {*listed, "run.json"}
        assert (out.parent / "web" / "sites.json").is_file()
    # The killed job: A's attempt lost when its lease ran out, re-claimed by B from the start and done.
    hist = store.job_attempts(victim)
    assert [h.outcome for h in hist] == ["lost", "done"], [(h.worker, h.outcome) for h in hist]
    assert [(a["outcome"], a["worker"]) for a in docs[victim]["attempts"]] == [(h.outcome, h.worker) for h in hist]  # shown by the API
    assert hist[0].worker.endswith(f":{a.pid}") and hist[1].worker.endswith(f":{b.pid}")
    assert hist[0].error == LEASE_LOST and hist[0].ended is not None and hist[1].started >= hist[0].ended
    assert hist[1].n == 2 and store.job(victim).result_dir.startswith("attempts/2-")
    # Every other job was done by one attempt (nobody else was killed).
    assert sum(len(store.job_attempts(j)) for j in ids) == N_JOBS + 1
    store.close()
