"""``ecozone serve`` hardening against a real server: ``python -m spatial.cli serve`` on 127.0.0.1, a free port.

Every request is bounded (timeouts), the server runs in its own session and
is stopped by its pid.  Rows: the Host check, login throttling, revocable
sessions, ``/openapi.json`` behind the login, bad input as 4xx without server
paths, and a job whose server is killed with ``kill -9`` (its worker ends with
it; after a restart the job is 失败 and stays so).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner
from serve_helpers import zip_bytes

from spatial.cli import cli
from spatial.site_forms import SWAP_HINT_ZH
from spatial.zoning import demo_sites_path

pytestmark = pytest.mark.slow  # a real server per module: ~15 s to start on a loaded machine
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    """A ``ecozone serve`` subprocess on loopback and a bounded HTTP client for it."""

    def __init__(self, data: Path, *args: str) -> None:
        self.data, self.port = data, _free_port()
        self.log = open(data.parent / f"serve-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "spatial.cli", "serve", "--zoning", "demo", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(data), *args]
        self.proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        t0 = time.monotonic()
        while True:
            try:
                if self.request("GET", "/login")[0] in (200, 303):
                    return
            except OSError:
                pass
            assert self.proc.poll() is None, (data.parent / f"serve-{self.port}.log").read_text(errors="replace")
            assert time.monotonic() - t0 < 120, "server did not start"
            time.sleep(0.3)

    def request(
        self, method: str, path: str, *, host: str | None = None, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request (Host header as given, default 127.0.0.1:port); return status, headers, body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body or b"")))
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def post_form(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        """POST multipart/form-data."""
        b = uuid.uuid4().hex
        parts = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode() + b"\r\n" for k, v in fields.items()]
        for k, (name, data) in (files or {}).items():
            parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{b}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={b}", **kw.pop("headers", {})}
        return self.request("POST", path, headers=headers, body=body, **kw)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (by its pid) and wait for it."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


class Browser:
    """Cookies and the CSRF token of one browser session against a :class:`Live` server."""

    def __init__(self, live: Live) -> None:
        self.live, self.cookie = live, ""

    def _keep(self, headers: dict[str, str]) -> None:
        if "set-cookie" in headers:
            self.cookie = headers["set-cookie"].split(";")[0]

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET with the session cookie."""
        r = self.live.request("GET", path, headers={"Cookie": self.cookie} if self.cookie else {})
        self._keep(r[1])
        return r

    def csrf(self) -> str:
        """The CSRF token of the login form."""
        return self.get("/login")[2].decode().split('name="csrf_token" value="')[1].split('"')[0]

    def login(self, name: str, password: str) -> tuple[int, dict[str, str], bytes]:
        """Submit the login form."""
        token = self.csrf()
        r = self.live.post_form("/login", {"username": name, "password": password, "csrf_token": token}, headers={"Cookie": self.cookie})
        self._keep(r[1])
        return r


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory):
    """A live loopback server with user 张三 (so login is required) and API token tok-live."""
    data = tmp_path_factory.mktemp("live") / "data"
    res = CliRunner().invoke(cli, ["users", "add", "张三", "--data-dir", str(data), "--password", "password-1"])
    assert res.exit_code == 0, res.output
    live = Live(data, "--token", "tok-live", "--jobs", "1")
    yield live
    live.stop()


TOKEN = {"Authorization": "Bearer tok-live"}


def test_live_host_check(bureau: Live) -> None:
    """Host: attacker.example → 400 (GET and POST, no job); loopback names → answered."""
    for host in ("attacker.example", f"attacker.example:{bureau.port}", "192.168.0.5"):
        assert bureau.request("GET", "/login", host=host)[0] == 400
        assert bureau.post_form("/api/screenings", {"project_type": "商业"}, {"files": ("s.csv", b"name,lon,lat\n1,112.4,24.8\n")}, host=host, headers=TOKEN)[0] == 400
    for host in (f"127.0.0.1:{bureau.port}", f"localhost:{bureau.port}", f"[::1]:{bureau.port}"):
        assert bureau.request("GET", "/login", host=host)[0] == 200
    assert not any((bureau.data / "jobs").iterdir())


def test_live_sessions_throttle_and_openapi(bureau: Live) -> None:
    """openapi.json needs login; logout and ``users passwd`` revoke cookies; 5 failures → 429 + Retry-After."""
    assert bureau.request("GET", "/openapi.json")[0] == 401
    assert bureau.request("GET", "/openapi.json", headers=TOKEN)[0] == 200
    a = Browser(bureau)
    assert a.login("张三", "password-1")[0] == 303
    captured = a.cookie
    assert a.get("/openapi.json")[0] == 200
    token = a.get("/")[2].decode().split('name="csrf_token" value="')[1].split('"')[0]
    assert bureau.post_form("/logout", {"csrf_token": token}, headers={"Cookie": a.cookie})[0] == 303
    assert bureau.request("GET", "/api/screenings", headers={"Cookie": a.cookie})[0] == 401
    assert bureau.request("GET", "/api/screenings", headers={"Cookie": captured})[0] == 401
    b = Browser(bureau)
    assert b.login("张三", "password-1")[0] == 303 and b.get("/api/screenings")[0] == 200
    res = CliRunner().invoke(cli, ["users", "passwd", "张三", "--data-dir", str(bureau.data), "--password", "password-2"])
    assert res.exit_code == 0, res.output
    assert b.get("/api/screenings")[0] == 401
    c = Browser(bureau)
    statuses = [c.login("张三", f"wrong-{i}")[0] for i in range(5)]
    r = c.login("张三", "password-2")
    assert statuses == [401] * 5 and r[0] == 429 and int(r[1]["retry-after"]) >= 1


def test_live_bad_input_is_4xx_without_paths(bureau: Live) -> None:
    """Strings as drawn features, a.csv + A.CSV, a manifest outside its upload, a latitude-first paste: 4xx {error, detail}."""
    cases = [
        ({"drawn": '{"type": "FeatureCollection", "features": ["a"]}', "project_type": "化工"}, None, "/api/screenings", "Feature"),
        ({"project_type": "化工"}, {"files": ("z.zip", zip_bytes({"a.csv": b"x", "A.CSV": b"y"}))}, "/api/screenings", "大小写"),
        ({}, {"file": ("p.zip", zip_bytes({"zoning.yaml": b"layers:\n  boundary: {path: /etc/passwd}\n"}))}, "/api/zoning", "上传包之外"),
        ({"pasted": "24.96,112.39", "project_type": "化工"}, None, "/api/screenings", SWAP_HINT_ZH),
    ]
    for fields, files, path, needle in cases:
        status, _, body = bureau.post_form(path, fields, files, headers=TOKEN)
        doc = json.loads(body)
        assert 400 <= status < 500 and set(doc) == {"error", "detail"}, (path, status, doc)
        assert needle in doc["error"], doc
        assert str(bureau.data) not in body.decode()


def _workers(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]


def _gone(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _many_demo_sites(path: Path, copies: int = 120) -> bytes:
    """The demo sites repeated (new ids) so the screening itself lasts seconds, not a fraction of one."""
    import geopandas as gpd
    import pandas as pd

    one = gpd.read_file(demo_sites_path())
    many = pd.concat([one.assign(site_id=one["site_id"] + f"-{k}") for k in range(copies)], ignore_index=True)
    gpd.GeoDataFrame(many, geometry="geometry", crs=one.crs).to_file(path, driver="GPKG")
    return path.read_bytes()


def test_kill9_server_mid_job_job_stays_failed(tmp_path: Path) -> None:
    """kill -9 mid-job: the worker ends with its server; the restarted server marks the job 失败 once and it stays 失败.

    The job screens ~5 000 sites so the kill lands while it screens: a job is 已完成 as soon as its verdicts
    exist, and the 41 demo sites are screened within the poll's own 0.1 s.
    """
    data = tmp_path / "data"
    live = Live(data, "--jobs", "1")
    try:
        sites = _many_demo_sites(tmp_path / "many.gpkg")
        status, _, body = live.post_form("/api/screenings", {}, {"files": ("连州地块.gpkg", sites)})
        assert status == 202, body
        jid = json.loads(body)["id"]
        t0 = time.monotonic()
        while True:
            doc = json.loads(live.request("GET", f"/api/screenings/{jid}")[2])
            if doc["status"] == "running" and doc["progress"] >= 10:  # screening (10-65 %)
                break
            assert doc["status"] in ("queued", "running") and time.monotonic() - t0 < 120, doc
            time.sleep(0.1)
        workers = _workers(live.proc.pid)
        assert workers, "no worker process found"
        live.stop(signal.SIGKILL)
        t0 = time.monotonic()
        while not all(_gone(w) for w in workers):
            assert time.monotonic() - t0 < 15, "worker survived its server"
            time.sleep(0.2)
    finally:
        live.stop(signal.SIGKILL)
    again = Live(data, "--jobs", "1")
    try:
        seen = []
        for _ in range(10):
            doc = json.loads(again.request("GET", f"/api/screenings/{jid}")[2])
            seen.append((doc["status"], doc["progress"]))
            time.sleep(1.0)
        assert {s for s, _ in seen} == {"failed"}, seen
        assert len({p for _, p in seen}) == 1  # nobody writes progress any more
        assert "服务重启" in doc["error"]["error"] and doc["files"] == []
    finally:
        again.stop()
