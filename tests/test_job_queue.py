"""The durable job queue: claims, leases, heartbeats, attempts, finish-at-most-once, ``serve --no-workers``, ``ecozone worker``.

Store-level rows run on SQLite (one machine) and on a real throwaway
PostgreSQL + PostGIS (``postgis_url``, skipped with the reason when the server
binaries are absent).  The kill test is in ``tests/test_queue_kill.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pg_server import fresh_database
from serve_helpers import make_app, redline_patch, to_lonlat
from sqlalchemy import inspect, text

from spatial.cli import cli
from spatial.serve.actions import mark_interrupted
from spatial.serve.jobqueue import work_one
from spatial.serve.store import LEASE_LOST, MAX_ATTEMPTS, QUEUE_RUNNER, TOO_MANY_ATTEMPTS, Job, Store, new_id


def _queued(store: Store, n: int = 1) -> list[str]:
    ids = []
    for _ in range(n):
        jid = new_id()
        store.add_job(Job(id=jid, owner="x", runner=QUEUE_RUNNER, inputs=[], params={}))
        ids.append(jid)
        time.sleep(0.002)  # distinct creation times: the queue is first come, first served
    return ids


def _lease_takeover(store: Store) -> None:
    jid = _queued(store)[0]
    a = store.claim_next("hostA:1", lease_s=0.6)
    assert a is not None and (a.job_id, a.n) == (jid, 1)
    assert store.claim_next("hostB:2", lease_s=0.6) is None  # leased: nobody else takes it
    assert store.renew_lease(a, 0.6)
    time.sleep(0.9)  # A stops beating: the lease runs out
    b = store.claim_next("hostB:2", lease_s=30)
    assert b is not None and (b.job_id, b.n) == (jid, 2) and b.token != a.token
    assert not store.renew_lease(a, 30)  # A's heartbeat learns it lost the job
    assert not store.update_job(jid, claim=a.token, progress=50.0)
    assert not store.finish_job(jid, [("s1", "甲", "compatible")], claim=a.token, status="done", result_dir="attempts/1-a")
    assert store.finish_job(jid, [("s1", "甲", "prohibited")], claim=b.token, status="done", result_dir="attempts/2-b")
    assert not store.finish_job(jid, [("s1", "甲", "prohibited")], claim=b.token, status="done")  # finished at most once
    assert not store.transition(jid, ("running",), claim=b.token, status="failed")
    j = store.job(jid)
    assert (j.status, j.result_dir, j.attempts) == ("done", "attempts/2-b", 2)
    assert [(s.site_id, s.verdict) for s in store.job_sites(jid)] == [("s1", "prohibited")]
    hist = store.job_attempts(jid)
    assert [(h.n, h.worker, h.outcome) for h in hist] == [(1, "hostA:1", "lost"), (2, "hostB:2", "done")]
    assert hist[0].error == LEASE_LOST and hist[0].ended is not None and hist[1].ended is not None
    assert store.claim_next("hostC:3", lease_s=30) is None  # a done job is never claimed again


def test_a_job_that_kills_every_worker_fails_after_max_attempts(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    jid = _queued(store)[0]
    for i in range(MAX_ATTEMPTS):
        c = store.claim_next(f"h:{i}", lease_s=0.2)
        assert c is not None and c.n == i + 1
        time.sleep(0.3)  # the worker dies: no heartbeat
    assert store.claim_next("h:9", lease_s=30) is None
    j = store.job(jid)
    assert j.status == "failed" and j.error == TOO_MANY_ATTEMPTS and "内存不足" in j.error
    assert [h.outcome for h in store.job_attempts(jid)] == ["lost"] * MAX_ATTEMPTS
    store.close()


def test_lease_takeover_and_finish_at_most_once_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    _lease_takeover(store)
    store.close()


@pytest.mark.slow
def test_lease_takeover_and_finish_at_most_once_postgresql(postgis_url: str) -> None:
    store = Store(fresh_database(postgis_url))
    store.create_schema()
    assert store.engine.dialect.name == "postgresql"
    _lease_takeover(store)
    store.close()


@pytest.mark.slow
def test_skip_locked_gives_each_job_to_one_worker(postgis_url: str) -> None:
    """12 threads race for 6 jobs: each job is claimed exactly once, oldest first, nobody waits on a locked row."""
    url = fresh_database(postgis_url)
    store = Store(url)
    store.create_schema()
    ids = _queued(store, 6)
    got: list[tuple[str, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def claim(i: int) -> None:
        s = Store(url)
        start.wait()
        c = s.claim_next(f"host:{i}", lease_s=60)
        if c is not None:
            with lock:
                got.append((c.job_id, c.token))
        s.close()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(j for j, _ in got) == sorted(ids)  # every job once, none twice
    assert all(len(store.job_attempts(j)) == 1 for j in ids)
    store.close()


def test_old_database_gets_the_new_columns(tmp_path: Path) -> None:
    """A jobs table made by an earlier ecozone (no lease/attempt columns) is extended at start, rows kept."""
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    store.create_schema()
    jid = _queued(store)[0]
    with store.engine.begin() as con:
        con.execute(text("DROP INDEX ix_jobs_lease_until"))
        for col in ("lease_until", "attempts", "result_dir"):
            con.execute(text(f"ALTER TABLE jobs DROP COLUMN {col}"))
        con.execute(text("DROP TABLE job_attempts"))
    assert "result_dir" not in {c["name"] for c in inspect(store.engine).get_columns("jobs")}
    again = Store(store.url)
    again.create_schema()
    assert {"lease_until", "attempts", "result_dir"} <= {c["name"] for c in inspect(again.engine).get_columns("jobs")}
    assert "ix_jobs_lease_until" in {i["name"] for i in inspect(again.engine).get_indexes("jobs")}
    j = again.job(jid)
    assert (j.status, j.attempts, j.result_dir) == ("queued", 0, "")
    assert again.claim_next("h:1", 30) is not None
    again.close()
    store.close()


def test_no_workers_web_tier_queues_and_a_worker_publishes(tmp_path: Path) -> None:
    """``serve --no-workers``: the job waits in the database (a restart keeps it); ``work_one`` runs it into its attempt folder."""
    patch, _ = redline_patch()
    p = to_lonlat(patch.centroid)
    data = tmp_path / "data"
    app = make_app(data, no_workers=True)
    with TestClient(app) as c:
        r = c.post("/api/screenings", data={"pasted": f"红线内,{p.x:.6f},{p.y:.6f}\n", "project_type": "化工"})
        assert r.status_code == 202, r.text
        jid = r.json()["id"]
        time.sleep(0.5)
        assert c.get(f"/api/screenings/{jid}").json()["status"] == "queued"  # nobody in this server runs it
    store = app.state.store
    assert store.job(jid).runner == QUEUE_RUNNER
    assert mark_interrupted(store) == 0
    again = make_app(data, no_workers=True)  # a restarted web tier loses no queued job
    with TestClient(again) as c:
        assert c.get(f"/api/screenings/{jid}").json()["status"] == "queued"
        assert work_one(again.state.store, data, lease_s=30, products=frozenset({"tables"})) == jid
        doc = c.get(f"/api/screenings/{jid}").json()
        assert doc["status"] == "done" and [s["verdict"] for s in doc["sites"]] == ["prohibited"]
        job = again.state.store.job(jid)
        assert job.result_dir.startswith("attempts/1-") and doc["files_status"] == "ready"
        names = {f["name"] for f in doc["files"]}
        assert {"sites.csv", "hits.csv", "run.json"} <= names
        assert c.get(f"/api/screenings/{jid}/files/sites.csv").status_code == 200
        assert (data / "jobs" / jid / job.result_dir / "out" / "sites.csv").is_file()
        assert not (data / "jobs" / jid / "out").exists()  # nothing outside the published attempt
        hist = again.state.store.job_attempts(jid)
        assert [(h.n, h.outcome) for h in hist] == [(1, "done")]
        assert [(a["n"], a["outcome"], a["worker"]) for a in doc["attempts"]] == [(1, "done", hist[0].worker)]


def test_worker_refuses_an_unreachable_queue_naming_it_without_password(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    url = "postgresql://ecozone:s3cret-pw@127.0.0.1:1/ecozone"
    res = CliRunner().invoke(cli, ["worker", "--queue", url, "--data-dir", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "无法连接任务队列数据库 postgresql://ecozone:***@127.0.0.1:1/ecozone" in res.output
    assert "s3cret-pw" not in res.output and "PGPASSWORD" in res.output and "cannot reach the queue database" in res.output


def test_worker_refuses_a_data_dir_without_jobs(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["worker", "--queue", f"sqlite:///{tmp_path / 'q.db'}", "--data-dir", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "没有 jobs 文件夹" in res.output and "NFS/SMB" in res.output
    res = CliRunner().invoke(cli, ["worker", "--queue", "sqlite://", "--data-dir", str(tmp_path), "--products", "tables,maps"])
    assert res.exit_code == 2 and "“maps”不是已知的输出" in res.output
