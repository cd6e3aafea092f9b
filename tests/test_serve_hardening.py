"""``ecozone serve`` in its default mode, hardened (issue 22 item 4, 5, 6; issue 23 item 6), through the TestClient.

Each hostile input is built in code: Host headers of another site, password
guessing, captured cookies, leaked paths, manifests pointing outside their
upload, case-colliding zips, malformed drawn JSON, latitude-first pastes and
stale workers.  The same rows run against a live uvicorn in
``tests/test_serve_live.py``.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import make_app, wait_job, wait_zoning, zip_bytes

from spatial.cli import cli
from spatial.errors import InputError
from spatial.serve import auth
from spatial.serve.actions import mark_interrupted
from spatial.serve.app import create_app
from spatial.serve.auth import LoginThrottle, hash_password
from spatial.serve.routers import ROUTERS
from spatial.serve.store import Job, Store, new_id
from spatial.site_forms import SWAP_HINT_ZH, drawn_collection, pasted_table
from spatial.zoning import demo_zoning_path

CSV = "name,lon,lat,project_type\n甲,112.38,24.78,commercial\n".encode()


def _csrf_of(c: TestClient, path: str = "/login") -> str:
    return c.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def _login(c: TestClient, name: str, password: str) -> int:
    return c.post("/login", data={"username": name, "password": password, "csrf_token": _csrf_of(c)}, follow_redirects=False).status_code


@pytest.fixture
def local(tmp_path: Path):
    """The default loopback app (no users: no login)."""
    data = tmp_path / "data"
    with TestClient(make_app(data)) as c:
        yield c, data


@pytest.fixture
def bureau(tmp_path: Path):
    """Loopback with users 张三 (plain) and 王五 (admin): login required; first wait 1 s."""
    data = tmp_path / "data"
    app = make_app(data, token="tok-123", login_delay_s=1.0)
    store: Store = app.state.store
    store.add_user("张三", hash_password("password-1"))
    store.add_user("王五", hash_password("password-3"), admin=True)
    with TestClient(app):
        yield app, data


# --------------------------------------------------------------------------- structure (issue 23 item 6)


def test_create_app_is_at_most_60_lines() -> None:
    """The app factory only assembles: routers, deps, handlers and actions live in their own modules."""
    n = len(inspect.getsource(create_app).splitlines())
    assert n <= 60, n


def test_every_json_route_has_a_response_model(tmp_path: Path) -> None:
    """Every API route declares a Pydantic response model, and /openapi.json shows it (files declare their media type)."""
    api = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema and router.include_in_schema]
    assert len(api) >= 8
    for r in api:
        if getattr(r.response_class, "__name__", "") == "FileResponse":
            assert r.path.endswith((".geojson", "/files/{name}")), r.path
            continue
        assert r.response_model is not None, r.path
    with TestClient(make_app(tmp_path)) as c:
        spec = c.get("/openapi.json").json()
    assert {"Screening", "ScreeningSummary", "ZoningVersionOut", "Accepted", "ErrorBody", "SiteVerdict"} <= set(spec["components"]["schemas"])
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ok = op["responses"].get("200") or op["responses"].get("202")
            content = ok.get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                assert "$ref" in schema or "$ref" in schema.get("items", {}), (method, path, schema)
            else:
                assert path.endswith((".geojson", "/files/{name}")), (method, path)
            assert op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")


# --------------------------------------------------------------------------- host check


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1.nip.io", "192.168.1.20"])
def test_foreign_host_header_is_400(local, host: str) -> None:
    """DNS rebinding: a page on another name reaching the loopback server gets 400, no CSRF token, no job."""
    c, data = local
    r = c.get("/", headers={"host": host})
    assert r.status_code == 400 and "csrf_token" not in r.text
    r = c.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"}, headers={"host": host})
    assert r.status_code == 400
    assert not any((data / "jobs").iterdir())


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "testserver"])
def test_loopback_names_are_answered(local, host: str) -> None:
    """The planner's own names (and the test client's, allowed for the tests) are answered."""
    c, _ = local
    assert c.get("/api/screenings", headers={"host": host}).status_code == 200


def test_allowed_host_and_bound_host_are_answered(tmp_path: Path) -> None:
    """``--allowed-host gis.bureau`` and ``--host 10.1.2.3`` add exactly those names."""
    app = make_app(tmp_path, host="10.1.2.3", token="t", allowed_hosts=("gis.bureau",))
    with TestClient(app) as c:
        h = {"authorization": "Bearer t"}
        assert c.get("/api/screenings", headers={**h, "host": "gis.bureau"}).status_code == 200
        assert c.get("/api/screenings", headers={**h, "host": "10.1.2.3:8000"}).status_code == 200
        assert c.get("/api/screenings", headers={**h, "host": "gis.bureau.attacker.example"}).status_code == 400


# --------------------------------------------------------------------------- login throttling and timing


@pytest.mark.slow
def test_login_throttled_after_five_failures_per_user(bureau, caplog: pytest.LogCaptureFixture) -> None:
    """5 wrong passwords: the 6th attempt, even the right one, gets 429 + Retry-After; failures are logged."""
    app, _ = bureau
    c = TestClient(app, client=("10.0.0.1", 1000))
    with caplog.at_level(logging.WARNING, logger="ecozone.serve"):
        assert [_login(c, "张三", f"wrong-{i}") for i in range(5)] == [401] * 5
        r = c.post("/login", data={"username": "张三", "password": "password-1", "csrf_token": _csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "秒后再试" in r.text
    assert sum("failed login for user '张三'" in m for m in caplog.messages) == 5
    # From another client the same user is throttled too (per user) ...
    other = TestClient(app, client=("10.0.0.2", 1000))
    assert _login(other, "张三", "password-1") == 429
    # ... while another user from that client is not.
    assert _login(other, "王五", "password-3") == 303
    time.sleep(int(r.headers["retry-after"]) + 0.1)
    assert _login(c, "张三", "password-1") == 303


@pytest.mark.slow
def test_login_throttled_per_client_across_user_names(bureau) -> None:
    """Guessing a different name each time from one client is throttled too."""
    app, _ = bureau
    c = TestClient(app, client=("10.0.0.9", 1000))
    assert [_login(c, f"user{i}", "x") for i in range(5)] == [401] * 5
    assert _login(c, "王五", "password-3") == 429
    assert _login(TestClient(app, client=("10.0.0.10", 1000)), "王五", "password-3") == 303


def test_throttle_waits_grow_exponentially() -> None:
    """After the free tries, each failure doubles the wait (1, 2, 4, 8 s …), capped."""
    now = [0.0]
    t = LoginThrottle(free=5, base=1.0, cap=8.0, clock=lambda: now[0])
    waits = []
    for _ in range(9):
        t.failed(["k"])
        waits.append(t.retry_after(["k"]))
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 8]
    now[0] += 8.5
    assert t.retry_after(["k"]) == 0
    t.succeeded(["k"])
    t.failed(["k"])
    assert t.retry_after(["k"]) == 0


@pytest.mark.slow
def test_unknown_user_costs_the_same_as_a_known_one(bureau, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown name is verified against a dummy argon2 hash: same call, time within a generous ratio."""
    app, _ = bureau
    store = app.state.store
    calls: list[str] = []
    real = auth.verify_password

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    auth.authenticate(store, "nobody", "x")  # warm the dummy hash
    calls.clear()

    def timed(name: str) -> float:
        t0 = time.perf_counter()
        assert auth.authenticate(store, name, "wrong-password") is None
        return time.perf_counter() - t0

    known = min(timed("张三") for _ in range(4))
    unknown = min(timed("nobody-here") for _ in range(4))
    assert len(calls) == 8 and all(h.startswith("$argon2id$") for h in calls)
    assert 0.4 < unknown / known < 2.5, (known, unknown)
    assert auth.authenticate(store, "张三", "password-1").name == "张三"


# --------------------------------------------------------------------------- revocable sessions


def test_logout_revokes_the_captured_cookie(bureau) -> None:
    """A cookie copied before logout is worthless after it; a second login of the same user stays valid."""
    app, _ = bureau
    a, b = TestClient(app), TestClient(app)
    assert _login(a, "张三", "password-1") == 303 and _login(b, "张三", "password-1") == 303
    captured = dict(a.cookies)
    assert a.get("/api/screenings").status_code == 200
    assert a.post("/logout", data={"csrf_token": _csrf_of(a, "/")}, follow_redirects=False).status_code == 303
    thief = TestClient(app, cookies=captured)
    assert thief.get("/api/screenings").status_code == 401
    assert b.get("/api/screenings").status_code == 200


@pytest.mark.slow
def test_password_change_and_removal_end_sessions_at_once(bureau) -> None:
    """``ecozone users passwd`` and ``users remove`` end every login of the user; the new password works."""
    app, data = bureau
    a = TestClient(app)
    assert _login(a, "张三", "password-1") == 303
    res = CliRunner().invoke(cli, ["users", "passwd", "张三", "--data-dir", str(data), "--password", "new-password-9"])
    assert res.exit_code == 0, res.output
    assert a.get("/api/screenings").status_code == 401
    assert _login(TestClient(app), "张三", "password-1") == 401
    b = TestClient(app)
    assert _login(b, "张三", "new-password-9") == 303 and b.get("/api/screenings").status_code == 200
    res = CliRunner().invoke(cli, ["users", "remove", "张三", "--data-dir", str(data)])
    assert res.exit_code == 0
    assert b.get("/api/screenings").status_code == 401
    assert CliRunner().invoke(cli, ["users", "passwd", "nobody", "--data-dir", str(data), "--password", "x" * 9]).exit_code == 2


def test_openapi_json_follows_the_docs_login(bureau) -> None:
    """/openapi.json answers 401 like /docs without login; with the token both answer."""
    app, _ = bureau
    c = TestClient(app)
    assert c.get("/openapi.json").status_code == 401
    assert c.get("/docs", follow_redirects=False).status_code == 303
    h = {"authorization": "Bearer tok-123"}
    assert c.get("/openapi.json", headers=h).json()["info"]["title"] == "ecozone serve"


# --------------------------------------------------------------------------- leaks and packages


def _pkg_zip(manifest: dict, extra: dict[str, bytes] | None = None) -> bytes:
    return zip_bytes({"zoning.yaml": yaml.safe_dump(manifest, allow_unicode=True).encode(), **(extra or {})})


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../secret.gpkg", "sub/../../escape.gpkg", "/vsicurl/http://example.com/x.gpkg", "DATA"])
def test_manifest_may_only_name_files_inside_its_upload(local, target: str) -> None:
    """A manifest naming a file outside its own upload is refused at upload (400), nothing kept."""
    c, data = local
    if target == "DATA":  # another upload's file on the same server, by absolute path
        target = str(data / "ecozone.db")
    before = sorted(p.name for p in (data / "zoning").iterdir())
    body = _pkg_zip({"layers": {"boundary": {"path": target}}})
    r = c.post("/api/zoning", files={"file": ("pkg.zip", body)})
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error", "detail"} and "上传包之外" in r.json()["error"]
    assert str(data) not in r.text
    assert sorted(p.name for p in (data / "zoning").iterdir()) == before


def test_manifest_inside_its_upload_is_accepted_for_validation(local) -> None:
    """The same manifest naming its own GeoPackage goes on to validation (202)."""
    c, _ = local
    body = _pkg_zip({"layers": {"boundary": {"path": "data/z.gpkg", "layer": "boundary"}}}, {"data/z.gpkg": demo_zoning_path().read_bytes()})
    assert c.post("/api/zoning", files={"file": ("pkg.zip", body)}).status_code == 202


@pytest.mark.slow
def test_no_absolute_server_path_in_any_response(local) -> None:
    """A failed job, a failed validation, every page and JSON: the data dir and install paths never appear."""
    import spatial

    c, data = local
    install = str(Path(spatial.__file__).resolve().parents[1])
    job = c.post("/api/screenings", files={"files": ("无坐标.csv", "名称,项目类型\n甲,化工\n".encode())}).json()["id"]
    bad_pkg = _pkg_zip({"layers": {"boundary": {"path": "missing.gpkg"}}})
    vid = c.post("/api/zoning", files={"file": ("坏包.zip", bad_pkg)}).json()["id"]
    doc = wait_job(c, job)
    assert doc["status"] == "failed" and "无坐标.csv" in doc["error"]["error"]
    v = wait_zoning(c, vid)
    assert v["status"] in ("failed", "pending"), v
    urls = ["/", "/history", "/zoning", f"/zoning/{vid}", f"/screenings/{job}", "/api/screenings", f"/api/screenings/{job}", "/api/zoning", f"/api/zoning/{vid}", "/openapi.json", "/docs", "/nope", "/api/nope"]
    texts = [c.get(u).text for u in urls]
    texts.append(c.post("/api/screenings", files={"files": ("a.json", b'{"a": 1}')}).text)
    leaks = [(u, root) for u, t in zip(urls + ["post"], texts, strict=True) for root in (str(data), install) if root in t]
    assert not leaks, leaks
    assert any("missing.gpkg" in t for t in texts)  # the message still names the file, by its name


# --------------------------------------------------------------------------- bad input is a 4xx


@pytest.mark.slow
@pytest.mark.parametrize("members", [{"a.csv": CSV, "A.CSV": CSV}, {"d/x.csv": CSV, "D/X.csv": CSV}, {"s.shp": b"\x00\x00\x27\x0a", "S.SHP": b"\x00\x00\x27\x0a"}])
def test_case_colliding_zip_members_are_400(local, members: dict) -> None:
    """a.csv + A.CSV in one zip: 400 {error, detail} naming both, for sites and for zoning packages."""
    c, data = local
    r = c.post("/api/screenings", files={"files": ("z.zip", zip_bytes(members))}, data={"project_type": "商业"})
    assert r.status_code == 400 and set(r.json()) == {"error", "detail"}, r.text
    assert "大小写" in r.json()["error"]
    r = c.post("/api/zoning", files={"file": ("z.zip", zip_bytes({"zoning.yaml": b"layers: {}\n", **members}))})
    assert r.status_code == 400 and "大小写" in r.json()["error"]
    assert not any((data / "jobs").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    "drawn",
    [
        '{"type": "FeatureCollection", "features": ["a", "b"]}',
        '{"type": "FeatureCollection", "features": [null]}',
        '{"type": "FeatureCollection", "features": [{"geometry": "Point"}]}',
        '{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": "112,24"}}]}',
        '{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [true, false]}}]}',
        '{"type": "FeatureCollection", "features": [{"geometry": {"type": "Polygon", "coordinates": [[1, 2]]}}]}',
        '{"type": "FeatureCollection", "features": [{"geometry": {"type": "LineString", "coordinates": [[112, 24], [null, 1]]}}]}',
        '{"type": "FeatureCollection", "features": {"a": 1}}',
        "[" * 100_000,
        "not json",
    ],
)
def test_malformed_drawn_json_is_400(local, drawn: str) -> None:
    """Strings as features, wrong coordinates, deep nesting: 400 {error, detail}, never a 500."""
    c, _ = local
    r = c.post("/api/screenings", data={"drawn": drawn, "project_type": "化工"})
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error", "detail"}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(["type", "features", "geometry", "coordinates", "properties", "name"]), kids, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(doc=_JSON)
def test_drawn_parser_only_raises_input_errors(doc: object) -> None:
    """Any JSON value either becomes a clean collection or an InputError (property)."""
    try:
        fc = drawn_collection(json.dumps(doc), "chemical")
    except InputError:
        return
    assert fc["type"] == "FeatureCollection" and all(f["geometry"]["type"] in ("Point", "LineString", "Polygon") for f in fc["features"])


_LINE = st.one_of(
    st.text(max_size=30),
    st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)).map(lambda p: f"{p[0]},{p[1]}"),
)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(_LINE, max_size=6), geom=st.sampled_from(["point", "line", "polygon", "bogus"]), crs=st.sampled_from(["", "EPSG:4546"]))
def test_pasted_parser_only_raises_input_errors(lines: list[str], geom: str, crs: str) -> None:
    """Any pasted text either becomes a sites table in a named CRS or an InputError (property)."""
    try:
        table, used = pasted_table("\n".join(lines), geom, "chemical", crs)
    except InputError:
        return
    assert len(table) >= 1 and used in ("wgs84", crs) and list(table.columns) == ["site_id", "name", "project_type", "wkt"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_JSON)
def test_random_drawn_json_never_500(local, doc: object) -> None:
    """POSTing any JSON as ``drawn`` answers below 500."""
    c, _ = local
    r = c.post("/api/screenings", data={"drawn": json.dumps(doc), "project_type": "化工", "zoning_version": ""})
    assert r.status_code < 500, r.text


# --------------------------------------------------------------------------- latitude first


def test_pasted_latitude_first_gets_the_swap_hint(local) -> None:
    """"24.96,112.39" swapped lies in 连州: the message asks whether lat and lon were swapped; elsewhere it does not."""
    c, data = local
    r = c.post("/api/screenings", data={"pasted": "24.96,112.39\n24.80,112.38", "project_type": "化工"})
    assert r.status_code == 400 and SWAP_HINT_ZH in r.json()["error"], r.text
    r = c.post("/api/screenings", data={"pasted": "30.50,100.10", "project_type": "化工"})
    assert r.status_code == 400 and SWAP_HINT_ZH not in r.json()["error"] and "坐标系" in r.json()["error"]
    assert not any((data / "jobs").iterdir())


# --------------------------------------------------------------------------- job state: compare-and-set


def _job(store: Store, runner: str = "host:1") -> str:
    jid = new_id()
    store.add_job(Job(id=jid, owner="x", runner=runner, inputs=[], params={}))
    return jid


def test_stale_worker_cannot_flip_a_decided_job(tmp_path: Path) -> None:
    """Claim → another owner marks it failed → the stale claim's progress and finish write nothing."""
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_schema()
    jid = _job(store)
    claim = store.claim_job(jid, stage="读取")
    assert claim and store.job(jid).status == "running"
    assert store.claim_job(jid) is None  # only one worker run takes a job
    assert store.update_job(jid, claim=claim, progress=50.0)
    assert store.transition(jid, ("queued", "running"), status="failed", error="服务重启")
    assert not store.update_job(jid, claim=claim, progress=90.0)
    assert not store.finish_job(jid, [("s1", "甲", "prohibited")], claim=claim, status="done", progress=100.0)
    assert not store.transition(jid, ("running",), claim=claim, status="failed", error="late")
    j = store.job(jid)
    assert (j.status, j.progress, j.error) == ("failed", 50.0, "服务重启")
    assert store.job_sites(jid) == []
    # A job finished first stays done: the restart check does not flip it.
    jid2 = _job(store)
    c2 = store.claim_job(jid2)
    assert store.finish_job(jid2, [("s1", "甲", "compatible")], claim=c2, status="done")
    assert not store.transition(jid2, ("queued", "running"), status="failed")
    assert store.job(jid2).status == "done"


def test_restart_marks_a_dead_servers_jobs_failed_once(tmp_path: Path) -> None:
    """Jobs of a dead pid on this host are failed once; a live server's and finished jobs are untouched."""
    import socket
    import subprocess
    import sys

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_schema()
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    host = socket.gethostname()
    dead = _job(store, f"{host}:{p.pid}")
    dead_running = _job(store, f"{host}:{p.pid}")
    store.claim_job(dead_running)
    alive = _job(store, f"{host}:{1}")  # pid 1 is alive
    assert mark_interrupted(store) == 2
    assert [store.job(j).status for j in (dead, dead_running, alive)] == ["failed", "failed", "queued"]
    assert mark_interrupted(store) == 0
