"""``ecozone serve --db postgresql://…`` against a real, throwaway PostgreSQL server.

The test starts its own cluster (initdb into a temp dir, a free loopback port,
trust auth), runs jobs through the app on it, and stops it.  Skipped, with the
reason, when the PostgreSQL server binaries or psycopg are not installed
(Debian: ``apt-get install postgresql``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_helpers import make_app, wait_job

from spatial.serve.auth import hash_password
from spatial.serve.store import Store
from spatial.zoning import demo_sites_path


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


_BIN = _pg_bin()
_REASON = (
    "PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
    if _BIN is None
    else ("psycopg not installed: pip install 'psycopg[binary]'" if importlib.util.find_spec("psycopg") is None else None)
)
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def _as_owner(cmd: list[str], user: str | None) -> list[str]:
    # initdb refuses to run as root: run the server as the `postgres` OS user then.
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Start a throwaway cluster on a free port; yield its URL; stop it."""
    root = tmp_path_factory.mktemp("pg")
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    user = None
    if os.geteuid() == 0:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` OS user to own the cluster")
        user = "postgres"
        root.chmod(0o755)
        for d in (root.parent, root.parent.parent):
            d.chmod(d.stat().st_mode | 0o011)  # let the server user traverse to its directory
        os.chown(sock, pw.pw_uid, pw.pw_gid)
        data.mkdir()
        os.chown(data, pw.pw_uid, pw.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_owner([str(_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "ecozone", "--no-sync", "-E", "UTF8"], user), check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_owner([str(_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(sock / "server.log"), "-w", "start"], user), check=True, capture_output=True)
    try:
        yield f"postgresql://ecozone@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user), check=False, capture_output=True)


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
