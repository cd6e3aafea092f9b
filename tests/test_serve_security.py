"""``ecozone serve`` refuses what an intranet must refuse: each case is built in code and rejected.

Traversal / absolute / symlink zips, zip bombs (file count, size), oversized
uploads (declared and streamed), missing login, missing CSRF, another user's
job, a client file name used as a path, and starting on a LAN address without users.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from serve_helpers import make_app, wait_job, zip_bytes

from spatial.cli import cli
from spatial.serve.auth import hash_password
from spatial.serve.settings import MB
from spatial.serve.store import Store
from spatial.serve.uploads import safe_extract
from spatial.zoning import demo_sites_path

CSV = "name,lon,lat,project_type\n甲,112.38,24.78,commercial\n".encode()


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def local(tmp_path: Path):
    """A loopback app with small zip caps and a 1 MB upload limit."""
    data = tmp_path / "data"
    app = make_app(data, max_upload_bytes=1 * MB, max_unzip_bytes=2 * MB, max_unzip_files=50)
    with TestClient(app) as c:
        yield c, data


@pytest.mark.parametrize(
    ("members", "symlinks", "needle"),
    [
        ({"../../evil.csv": CSV}, None, "压缩包之外"),
        ({"ok/../../evil.csv": CSV}, None, "压缩包之外"),
        ({"/etc/evil.csv": CSV}, None, "压缩包之外"),
        ({"C:\\evil.csv": CSV}, None, "压缩包之外"),
        ({"a.csv": CSV}, {"link.csv": "/etc/passwd"}, "符号链接"),
        ({f"f{i}.csv": CSV for i in range(51)}, None, "超过上限 50"),
        ({"zeros.csv": b"0" * (3 * MB)}, None, "压缩炸弹"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink", "too-many-files", "bomb"],
)
def test_hostile_zips_are_refused(local, tmp_path: Path, members: dict, symlinks: dict | None, needle: str) -> None:
    """The whole archive is refused with 400 naming the reason; nothing lands outside the job, no job is created."""
    client, data = local
    before = _tree(data)
    body = zip_bytes(members, symlinks=symlinks)
    assert len(body) < 1 * MB  # the bomb is small on the wire
    r = client.post("/api/screenings", files={"files": ("upload.zip", body)}, data={"project_type": "商业"})
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]
    assert not (tmp_path / "evil.csv").exists() and not Path("/etc/evil.csv").exists()
    assert _tree(data) == before  # the refused job's folder was removed too
    assert client.get("/api/screenings").json() == []


def test_zip_whose_header_lies_about_size_is_stopped(tmp_path: Path) -> None:
    """A member that inflates beyond its declared size is caught while reading, not trusted."""
    src = tmp_path / "lie.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.csv", b"1" * 200_000)
    raw = bytearray(src.read_bytes())
    # Patch the declared uncompressed size (local header offset 22, central directory +24) to 10 bytes.
    raw[22:26] = (10).to_bytes(4, "little")
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    src.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(Exception) as err:  # noqa: PT011 - zipfile's own CRC/size check or ours, either refuses
        safe_extract(src, dest, max_bytes=10 * MB, max_files=10)
    assert not any(p.stat().st_size > 10 for p in dest.rglob("*") if p.is_file()), err.value


@pytest.mark.slow
def test_zip_member_names_never_become_paths(local) -> None:
    """A zipped sites file called 报批/红线.csv is stored as m0001.csv; the page shows the original name."""
    client, data = local
    r = client.post("/api/screenings", files={"files": ("打包.zip", zip_bytes({"报批/红线.csv": CSV}))}, data={"project_type": "商业"})
    assert r.status_code == 202, r.text
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done", doc["error"]
    assert doc["inputs"][0]["display"] == "打包.zip/报批/红线.csv"
    stored = _tree(data / "jobs" / doc["id"] / "input")
    assert stored == {"u01", "u01/m0001.csv"}


@pytest.mark.slow
def test_client_file_name_is_never_a_path(local, tmp_path: Path) -> None:
    """filename='../../evil.csv' is stored as u01.csv inside the job; only its last part is displayed."""
    client, data = local
    r = client.post("/api/screenings", files={"files": ("../../evil.csv", CSV)}, data={"project_type": "商业"})
    assert r.status_code == 202, r.text
    doc = wait_job(client, r.json()["id"])
    assert doc["inputs"][0]["display"] == "evil.csv" and doc["inputs"][0]["path"] == "u01.csv"
    assert not list(tmp_path.rglob("evil.csv"))


@pytest.mark.slow
def test_content_decides_the_kind_not_the_extension(local) -> None:
    """A GeoPackage named .csv is read as a GeoPackage; a CSV named .gpkg as a CSV."""
    client, _ = local
    r1 = client.post("/api/screenings", files={"files": ("sites.csv", demo_sites_path().read_bytes())})
    r2 = client.post("/api/screenings", files={"files": ("sites.gpkg", CSV)}, data={"project_type": "商业"})
    d1, d2 = wait_job(client, r1.json()["id"]), wait_job(client, r2.json()["id"])
    assert (d1["inputs"][0]["kind"], d1["status"]) == ("gpkg", "done")
    assert (d2["inputs"][0]["kind"], d2["status"]) == ("csv", "done")


def test_oversized_upload_is_413(local) -> None:
    """Over the limit → 413 {error, detail}, whether declared by Content-Length or streamed chunked."""
    client, data = local
    big = b"0" * (1 * MB + 10)
    r = client.post("/api/screenings", files={"files": ("big.csv", big)})
    assert r.status_code == 413 and "上限" in r.json()["error"]

    def chunks():
        yield b'--zzz\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n\r\n'
        for _ in range(3):
            yield b"x" * (512 * 1024)
        yield b"\r\n--zzz--\r\n"

    r = client.post("/api/screenings", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert r.status_code == 413, r.text
    page = client.post("/screenings", files={"files": ("big.csv", big)}, headers={"accept": "text/html"})
    assert page.status_code == 413 and "文件过大" in page.text
    assert not any((data / "jobs").iterdir())


# --------------------------------------------------------------------------- login, CSRF, visibility


@pytest.fixture
def bureau(tmp_path: Path):
    """An intranet app (host 0.0.0.0): users 张三, 李四 and admin 王五; token 'tok-123'."""
    data = tmp_path / "data"
    app = make_app(data, host="0.0.0.0", token="tok-123", cookie_secure=False)
    store: Store = app.state.store
    store.add_user("张三", hash_password("password-1"))
    store.add_user("李四", hash_password("password-2"))
    store.add_user("王五", hash_password("password-3"), admin=True)
    with TestClient(app) as c:
        yield app, c


def _login(app, name: str, password: str) -> TestClient:
    c = TestClient(app)
    form = c.get("/login").text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/login", data={"username": name, "password": password, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _csrf(c: TestClient) -> str:
    return c.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]


def test_login_required_off_loopback(bureau) -> None:
    """Pages redirect to /login, the API answers 401 JSON; a wrong password is refused."""
    app, c = bureau
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = c.get("/api/screenings")
    assert r.status_code == 401 and set(r.json()) == {"error", "detail"}
    assert c.get("/api/screenings", headers={"authorization": "Bearer wrong"}).status_code == 401
    fresh = TestClient(app)
    csrf = fresh.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = fresh.post("/login", data={"username": "张三", "password": "nope", "csrf_token": csrf}, follow_redirects=False)
    assert bad.status_code == 401 and "不正确" in bad.text
    assert fresh.get("/api/screenings").status_code == 401


def test_passwords_are_argon2_hashes(bureau) -> None:
    """No clear-text password is stored."""
    app, _ = bureau
    h = app.state.store.user("张三").password_hash
    assert h.startswith("$argon2id$") and "password-1" not in h


@pytest.mark.slow
def test_csrf_is_required_for_browser_posts(bureau) -> None:
    """A logged-in session cannot POST without the form's token (403); with it, the job is accepted."""
    app, _ = bureau
    c = _login(app, "张三", "password-1")
    r = c.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = c.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业", "csrf_token": "forged"})
    assert r.status_code == 403
    r = c.post("/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业", "csrf_token": _csrf(c)})
    assert r.status_code == 202
    r = c.post("/logout", follow_redirects=False)
    assert r.status_code == 403  # logout is a form too


def test_loopback_csrf_blocks_cross_site_forms(tmp_path: Path) -> None:
    """Even without login, a browser POST (Origin header) without the token is refused."""
    with TestClient(make_app(tmp_path)) as c:
        r = c.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"}, headers={"origin": "http://evil.example"})
        assert r.status_code == 403


def test_session_cookie_flags(tmp_path: Path) -> None:
    """HttpOnly, SameSite=Lax; Secure whenever not bound to loopback."""
    app = make_app(tmp_path, host="10.1.2.3", token="t")
    with TestClient(app, base_url="https://testserver") as c:
        cookie = c.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


@pytest.mark.slow
def test_other_users_job_is_404(bureau) -> None:
    """李四 cannot see 张三's job (page, API, files, sites, history); admin 王五 and the token can."""
    app, _ = bureau
    a = _login(app, "张三", "password-1")
    r = a.post("/api/screenings", files={"files": ("s.gpkg", demo_sites_path().read_bytes())}, data={"csrf_token": _csrf(a)})
    jid = r.json()["id"]
    doc = wait_job(a, jid)
    assert doc["status"] == "done" and doc["owner"] == "张三"
    b = _login(app, "李四", "password-2")
    for url in (f"/api/screenings/{jid}", f"/screenings/{jid}", f"/api/screenings/{jid}/files/sites.csv", f"/api/screenings/{jid}/sites.geojson", f"/screenings/{jid}/sites/LZ-001"):
        assert b.get(url).status_code == 404, url
        assert a.get(url).status_code == 200, url
    assert b.get("/api/screenings").json() == []
    assert jid not in b.get("/history").text
    admin = _login(app, "王五", "password-3")
    assert admin.get(f"/api/screenings/{jid}").status_code == 200 and jid in admin.get("/history").text
    assert TestClient(app).get(f"/api/screenings/{jid}", headers={"authorization": "Bearer tok-123"}).status_code == 200


def test_only_admins_manage_zoning(bureau) -> None:
    """A plain user cannot upload or accept zoning versions (403)."""
    app, _ = bureau
    a = _login(app, "张三", "password-1")
    r = a.post("/api/zoning", files={"file": ("z.gpkg", b"SQLite format 3\x00")}, data={"csrf_token": _csrf(a)})
    assert r.status_code == 403


@pytest.mark.slow
def test_token_scripts_need_no_csrf(bureau) -> None:
    """A script with the bearer token (no cookie) submits and reads its job."""
    app, _ = bureau
    s = TestClient(app)
    h = {"authorization": "Bearer tok-123"}
    r = s.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"}, headers=h)
    assert r.status_code == 202
    assert wait_job(s, r.json()["id"], headers=h)["status"] == "done"


@pytest.mark.slow
def test_job_ids_are_random_and_unguessable(local) -> None:
    """Ids are 24 URL-safe characters (144 bits), all different; a guessed id is 404."""
    client, _ = local
    ids = {client.post("/api/screenings", files={"files": ("s.csv", CSV)}, data={"project_type": "商业"}).json()["id"] for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == 24 for i in ids)
    assert client.get("/api/screenings/AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404


def test_serve_refuses_lan_host_without_users_or_token(tmp_path: Path) -> None:
    """``ecozone serve --host 0.0.0.0`` with no users and no token exits 2 with the fix, before listening."""
    res = CliRunner().invoke(cli, ["serve", "--zoning", "demo", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 2
    assert "ecozone users add" in res.output and "拒绝启动" in res.output


def test_users_add_stores_a_hash(tmp_path: Path) -> None:
    """``ecozone users add`` creates an argon2-hashed user; a duplicate is refused."""
    d = str(tmp_path / "d")
    res = CliRunner().invoke(cli, ["users", "add", "赵六", "--admin", "--data-dir", d], input="long-password\nlong-password\n")
    assert res.exit_code == 0, res.output
    res2 = CliRunner().invoke(cli, ["users", "add", "赵六", "--data-dir", d, "--password", "another-pass"])
    assert res2.exit_code == 2 and "已存在" in res2.output
    store = Store(f"sqlite:///{tmp_path / 'd' / 'ecozone.db'}")
    u = store.user("赵六")
    assert u.is_admin and u.password_hash.startswith("$argon2id$")
    listed = CliRunner().invoke(cli, ["users", "list", "--data-dir", d])
    assert "赵六\tadmin" in listed.output
