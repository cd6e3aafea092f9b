"""``ecozone serve`` JSON API and pages through Starlette's TestClient.

Verdicts must equal ``ecozone screen`` on the same input; every input kind the
新建筛查 page offers (files, several at once, drawn shapes, pasted
coordinates) reaches the engine; zoning versions are validated before use.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from serve_helpers import coordfile_text, make_app, redline_patch, to_lonlat, wait_job, wait_zoning

from spatial.cli import cli
from spatial.zoning import demo_sites_path, demo_zoning_path


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    """A loopback app (no login) with a thread pool; a fresh client per request keeps no cookies."""
    app = make_app(tmp_path_factory.mktemp("serve"))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def cli_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``ecozone screen`` on the demo sites: site_id -> verdict."""
    out = tmp_path_factory.mktemp("cli") / "out"
    res = CliRunner().invoke(cli, ["screen", str(demo_sites_path()), "--zoning", "demo", "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    sites = pd.read_csv(out / "sites.csv", dtype=str)
    return dict(zip(sites["site_id"], sites["verdict"], strict=True))


def _post(client: TestClient, files: list[tuple[str, bytes]] = (), **data: str):
    client.cookies.clear()
    return client.post("/api/screenings", files=[("files", (n, b, "application/octet-stream")) for n, b in files], data=data)


@pytest.mark.slow
def test_api_demo_verdicts_equal_cli(client: TestClient, cli_verdicts: dict[str, str]) -> None:
    """POST the demo sites: 202 {id, status}; the finished job's verdicts equal the CLI's, site by site."""
    r = _post(client, [("连州地块.gpkg", demo_sites_path().read_bytes())])
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) >= {"id", "status"} and body["status"] == "queued"
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", body["id"])
    doc = wait_job(client, body["id"])
    assert doc["status"] == "done", doc["error"]
    got = {s["site_id"]: s["verdict"] for s in doc["sites"]}
    assert got == cli_verdicts
    counts = pd.Series(list(cli_verdicts.values())).value_counts().to_dict()
    assert {k: v for k, v in doc["counts"].items() if v} == counts
    names = {f["name"] for f in doc["files"]}
    assert {"sites.csv", "hits.csv", "screening.gpkg", "report.html", "report.xlsx", "map.html", "run.json"} <= names
    assert doc["inputs"][0]["display"] == "连州地块.gpkg" and doc["inputs"][0]["kind"] == "gpkg"
    assert doc["rules_sha256"] and len(doc["rules_sha256"]) == 64


@pytest.mark.slow
def test_download_every_listed_file_and_nothing_else(client: TestClient) -> None:
    """Each listed output downloads as an attachment with the bytes on disk; names not listed are 404."""
    r = _post(client, [("sites.gpkg", demo_sites_path().read_bytes())])
    doc = wait_job(client, r.json()["id"])
    for f in doc["files"]:
        d = client.get(f["url"])
        assert d.status_code == 200 and len(d.content) == f["bytes"], f
        assert d.headers["content-disposition"].startswith("attachment")
    sites_csv = client.get(f"/api/screenings/{doc['id']}/files/sites.csv").content.decode("utf-8-sig")
    assert "LZ-001" in sites_csv
    for bad in ("../web/sites.json", "..%2F..%2Fecozone.db", "input", "detail.json", "nope.csv"):
        assert client.get(f"/api/screenings/{doc['id']}/files/{bad}").status_code == 404, bad
    view = client.get(f"/api/screenings/{doc['id']}/files/map.html?view=1")
    assert view.headers["content-disposition"].startswith("inline") and "sandbox" in view.headers["content-security-policy"]


@pytest.mark.slow
def test_several_files_and_a_coordfile_keep_distinct_ids(client: TestClient, cli_verdicts: dict[str, str]) -> None:
    """Demo sites + a 坐标文件 in one job: every demo verdict unchanged, the parcels screened too."""
    patch, _ = redline_patch()
    outside = patch.buffer(-50)  # still inside the red line
    text = coordfile_text([("DK01", patch), ("DK02", outside)])
    r = _post(client, [("demo.gpkg", demo_sites_path().read_bytes()), ("界址点.txt", text.encode("gbk"))], project_type="化工")
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done", doc["error"]
    kinds = [i["kind"] for i in doc["inputs"]]
    assert kinds == ["gpkg", "coordfile"]
    got = {s["site_id"]: s["verdict"] for s in doc["sites"]}
    assert len(got) == len(cli_verdicts) + 2
    assert got["DK01"] == got["DK02"] == "prohibited"  # chemical plant inside the red line


@pytest.mark.slow
def test_drawn_polygon_over_red_line_is_prohibited(client: TestClient) -> None:
    """A polygon drawn (GeoJSON, WGS84) over a red-line patch, typed 化工, gets 禁止 with an RL hit."""
    import json

    import shapely

    patch, red_name = redline_patch()
    ll = to_lonlat(patch)
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(ll)}]}
    r = _post(client, drawn=json.dumps(fc), project_type="化工")
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done", doc["error"]
    (site,) = doc["sites"]
    assert site["verdict"] == "prohibited" and site["verdict_zh"] == "禁止"
    page = client.get(f"/screenings/{doc['id']}/sites/{site['site_id']}").text
    assert "生态保护红线" in page and red_name in page


@pytest.mark.slow
def test_pasted_points_and_polygon(client: TestClient) -> None:
    """Pasted lon/lat lines: one point per line, or one polygon through them."""
    patch, _ = redline_patch()
    pts = [to_lonlat(shapely_pt) for shapely_pt in (patch.centroid,)]
    line = f"红线内点位,{pts[0].x:.6f},{pts[0].y:.6f}\n"
    r = _post(client, pasted=line + "113.90000,24.20000\n", project_type="化工")
    doc = wait_job(client, r.json()["id"])
    verdicts = {s["name"]: s["verdict"] for s in doc["sites"]}
    assert verdicts["红线内点位"] == "prohibited" and len(verdicts) == 2
    ring = to_lonlat(patch).exterior.coords[:-1]
    r = _post(client, pasted="\n".join(f"{x:.7f} {y:.7f}" for x, y in ring), paste_geom="polygon", project_type="chemical")
    doc = wait_job(client, r.json()["id"])
    assert [s["verdict"] for s in doc["sites"]] == ["prohibited"]


@pytest.mark.parametrize(
    ("files", "data", "needle"),
    [
        ([], {}, "请上传地块文件"),
        ([("a.csv", b"x")], {"project_type": "化工", "type_field": "类型"}, "只能选一个"),
        ([("a.csv", b"\x00\x01\x02binary")], {}, "a.csv"),
        ([("a.json", b'{"a": 1}')], {}, "不是 GeoJSON"),
        ([], {"pasted": "113.1,24.5"}, "项目类型"),
        ([], {"pasted": "hello world", "project_type": "化工"}, "第 1 行"),
        ([("a.csv", b"x")], {"zoning_version": "nope"}, "分区数据版本"),
    ],
)
def test_bad_requests_are_chinese_json(client: TestClient, files: list, data: dict, needle: str) -> None:
    """Unusable submissions answer 400 with {error (Chinese), detail}, never a traceback."""
    r = _post(client, files, **data)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and needle in body["error"]
    assert "Traceback" not in r.text


def test_unknown_project_type_fails_naming_the_field(client: TestClient) -> None:
    """As in ``ecozone screen --project-type``, an unknown chosen type stops the job, naming the form field."""
    csv = "name,lon,lat\n甲,112.38,24.78\n".encode()
    r = _post(client, [("s.csv", csv)], project_type="不存在的类型xyz")
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "failed"
    assert "项目类型" in doc["error"]["error"] and "不存在的类型xyz" in doc["error"]["error"] and "--project-type" not in doc["error"]["error"]


@pytest.mark.slow
def test_unknown_type_in_a_column_is_other_with_a_warning(client: TestClient) -> None:
    """An unknown value in the type column does not abort: the site is ``other`` and the page says why."""
    csv = "name,lon,lat,项目类型\n甲,112.38,24.78,不存在的类型xyz\n".encode()
    doc = wait_job(client, _post(client, [("s.csv", csv)]).json()["id"])
    assert doc["status"] == "done" and doc["sites"][0]["project_type"] == "other"
    assert any("不存在的类型xyz" in w for w in doc["warnings"])
    assert "不存在的类型xyz" in client.get(f"/screenings/{doc['id']}").text


def test_unreadable_content_fails_the_job_with_the_file_name(client: TestClient) -> None:
    """A CSV without coordinate columns is sniffed as text, then refused by parsing, naming the file."""
    r = _post(client, [("无坐标.csv", "名称,项目类型\n甲,化工\n".encode())])
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "failed"
    assert "无坐标.csv" in doc["error"]["error"] and "坐标" in doc["error"]["error"]
    page = client.get(f"/screenings/{doc['id']}").text
    assert "筛查失败" in page and "Traceback" not in page


def test_unexpected_error_is_a_message_not_a_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside a route answers 500 {error, detail} (JSON) or a Chinese page (HTML)."""
    from spatial.serve import views

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "types_choices", boom)
    monkeypatch.setattr(views, "job_json", boom)
    with TestClient(make_app(tmp_path), raise_server_exceptions=False) as c:
        page = c.get("/")
        assert page.status_code == 500 and "服务器内部错误" in page.text and "secret internals" not in page.text
        assert "Traceback" not in page.text


@pytest.mark.slow
def test_pages_render_in_chinese(client: TestClient) -> None:
    """新建筛查 offers the vocabulary and versions; 结果 shows the table and downloads; docs are local."""
    client.cookies.clear()
    new = client.get("/").text
    assert "新建筛查" in new and "化工（chemical）" in new and "连州示范数据" in new
    assert 'name="csrf_token"' in new and "http://" not in new.replace("http://127", "") and "https://" not in new
    r = _post(client, [("sites.gpkg", demo_sites_path().read_bytes())])
    doc = wait_job(client, r.json()["id"])
    page = client.get(f"/screenings/{doc['id']}").text
    assert "结论表" in page and "report.html" in page and page.count("逐项对照") >= len(doc["sites"])
    docs = client.get("/docs").text
    assert "/vendor/swagger-ui-dist/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/screenings", "/api/screenings/{job_id}", "/api/screenings/{job_id}/files/{name}", "/api/zoning"} <= set(spec["paths"])


@pytest.mark.slow
def test_history_filters_by_site_name_and_verdict(client: TestClient) -> None:
    """历史 lists who/when/hashes/version/rules hash, filtered by site name or verdict."""
    import json

    import shapely

    patch, _ = redline_patch()
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "独特名称甲"}, "geometry": shapely.geometry.mapping(to_lonlat(patch))}]}
    r = _post(client, drawn=json.dumps(fc), project_type="化工")
    job = wait_job(client, r.json()["id"])
    client.cookies.clear()
    listed = client.get("/api/screenings", params={"site": "独特名称"}).json()
    assert [j["id"] for j in listed] == [job["id"]]
    assert client.get("/api/screenings", params={"site": "独特名称", "verdict": "compatible"}).json() == []
    assert [j["id"] for j in client.get("/api/screenings", params={"site": "独特名称", "verdict": "prohibited"}).json()] == [job["id"]]
    page = client.get("/history", params={"site": "独特名称"}).text
    assert job["id"] in page and "地图上绘制的图形" in page and job["inputs"][0]["sha256"][:12] in page
    assert "%" not in [j["id"] for j in client.get("/api/screenings", params={"site": "%"}).json()]


@pytest.mark.slow
def test_zoning_upload_validated_then_accepted_and_usable(client: TestClient) -> None:
    """Upload → validating → findings shown (pending) → accept → a screening can choose it."""
    client.cookies.clear()
    r = client.post("/api/zoning", files={"file": ("新分区.gpkg", demo_zoning_path().read_bytes())}, data={"label": "2026 调整"})
    assert r.status_code == 202, r.text
    vid = r.json()["id"]
    v = wait_zoning(client, vid)
    assert v["status"] == "pending", v
    assert "findings" in v["findings"] and v["findings"]["layers"]["redline"] > 0
    page = client.get(f"/zoning/{vid}").text
    assert "校验结果" in page and "确认可用" in page
    bad = _post(client, [("s.gpkg", demo_sites_path().read_bytes())], zoning_version=vid)
    assert bad.status_code == 400  # not usable before acceptance
    client.cookies.clear()
    assert client.post(f"/api/zoning/{vid}/accept").json()["status"] == "accepted"
    versions = client.get("/api/zoning").json()
    assert [v["seq"] for v in versions] == sorted((v["seq"] for v in versions), reverse=True) and len(versions) == 2
    r = _post(client, [("s.gpkg", demo_sites_path().read_bytes())], zoning_version=vid)
    doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done" and doc["zoning_version"] == vid and "2026 调整" in doc["zoning_label"]
    old = versions[-1]["id"]
    r = _post(client, [("s.gpkg", demo_sites_path().read_bytes())], zoning_version=old)
    assert wait_job(client, r.json()["id"])["zoning_version"] == old  # older versions stay usable


def test_zoning_upload_refuses_non_packages(client: TestClient) -> None:
    """A CSV is not a zoning package: 400 naming the file."""
    client.cookies.clear()
    r = client.post("/api/zoning", files={"file": ("表.csv", b"a,b\n1,2\n")})
    assert r.status_code == 400 and "表.csv" in r.json()["error"]


@pytest.mark.slow
def test_process_pool_runs_jobs_concurrently(tmp_path: Path) -> None:
    """The default worker kind (spawned processes) screens two jobs and records progress to 100 %."""
    with TestClient(make_app(tmp_path, pool="process", workers=2)) as c:
        ids = [c.post("/api/screenings", files={"files": ("s.gpkg", demo_sites_path().read_bytes())}).json()["id"] for _ in range(2)]
        docs = [wait_job(c, i, timeout=400) for i in ids]
    assert [d["status"] for d in docs] == ["done", "done"]
    assert all(d["progress"] == 100.0 and d["counts"]["prohibited"] > 0 for d in docs)
