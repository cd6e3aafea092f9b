"""``ecozone serve --db postgresql://…`` against a real, throwaway PostgreSQL server.

The test starts its own cluster (initdb into a temp dir, a free loopback port,
trust auth), runs jobs through the app on it, and stops it.  Skipped, with the
reason, when the PostgreSQL server binaries or psycopg are not installed
(Debian: ``apt-get install postgresql``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pg_server import PG_SKIP_REASON, start_postgres
from serve_helpers import make_app, wait_job

from spatial.serve.auth import hash_password
from spatial.serve.store import Store
from spatial.zoning import demo_sites_path

pytestmark = pytest.mark.skipif(PG_SKIP_REASON is not None, reason=PG_SKIP_REASON or "")


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory):
    """Start a throwaway cluster on a free port (``tests/pg_server.py``); yield its URL; stop it."""
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` OS user to own the cluster")
    with start_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.mark.slow
def test_jobs_users_and_history_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """Schema, users, a screening's records and the history filter all work on PostgreSQL."""
    app = make_app(tmp_path / "data", db_url=pg_url, host="0.0.0.0", token="pg-token")
    store: Store = app.state.store
    assert store.engine.dialect.name == "postgresql"
    store.add_user("审查员", hash_password("password-9"))
    h = {"authorization": "Bearer pg-token"}
    with TestClient(app) as c:
        r = c.post("/api/screenings", files={"files": ("s.gpkg", demo_sites_path().read_bytes())}, headers=h)
        assert r.status_code == 202, r.text
        doc = wait_job(c, r.json()["id"], headers=h)
        assert doc["status"] == "done" and doc["counts"]["prohibited"] > 0
        hits = c.get("/api/screenings", params={"site": "水库", "verdict": doc["sites"][4]["verdict"]}, headers=h).json()
        assert [j["id"] for j in hits] == [doc["id"]]
    again = Store(pg_url)  # a second uvicorn worker sees the same records
    assert again.job(doc["id"]).status == "done" and again.user("审查员") is not None
    assert len(again.job_sites(doc["id"])) == len(doc["sites"])
    again.close()
    store.close()
