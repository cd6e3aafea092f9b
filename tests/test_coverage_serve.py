"""Issue 20 in the web app: an incomplete package is shown as such, accepted only knowingly, and never gives 符合."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from conftest import TOY_CRS, km_point, toy_layers
from fastapi.testclient import TestClient
from serve_helpers import make_app, wait_job, wait_zoning

pytestmark = pytest.mark.slow


def _gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path.read_bytes()


def test_rivers_only_package_in_the_web_app(tmp_path: Path) -> None:
    layers = toy_layers()
    package = _gpkg(tmp_path / "rivers.gpkg", {"boundary": layers["boundary"], "corridor": layers["corridor"].iloc[:1]})
    sites = gpd.GeoDataFrame({"site_id": ["W1", "W2"]}, geometry=[km_point(3, 3), km_point(15, 12)], crs=TOY_CRS)
    sites.to_file(tmp_path / "sites.gpkg", driver="GPKG")
    with TestClient(make_app(tmp_path / "data")) as client:
        r = client.post("/api/zoning", files={"file": ("河流.gpkg", package)}, data={"label": "只有河流"})
        assert r.status_code == 202, r.text
        vid = r.json()["id"]
        v = wait_zoning(client, vid)
        assert v["status"] == "pending", v
        missing = {f["layer"] for f in v["findings"]["findings"] if f["code"] == "missing_layer" and f["severity"] == "error"}
        assert missing == {"redline", "protected_area", "water_source", "control_unit", "farmland", "urban_boundary"}
        page = client.get(f"/zoning/{vid}").text
        assert 'id="incomplete"' in page and 'name="understood"' in page and "生态保护红线" in page
        # Accepting needs the explicit "I understand" field.
        client.cookies.clear()
        refused = client.post(f"/api/zoning/{vid}/accept")
        assert refused.status_code == 400 and "我已了解" in refused.text
        assert client.get(f"/api/zoning/{vid}").json()["status"] == "pending"
        client.cookies.clear()
        ok = client.post(f"/api/zoning/{vid}/accept", data={"understood": "yes"}).json()
        assert ok["status"] == "accepted" and ok["label"].endswith("（不完整）")
        assert any(x["label"].endswith("（不完整）") for x in client.get("/api/zoning").json())
        client.cookies.clear()
        r = client.post(
            "/api/screenings",
            files=[("files", ("sites.gpkg", (tmp_path / "sites.gpkg").read_bytes(), "application/octet-stream"))],
            data={"project_type": "industrial", "zoning_version": vid},
        )
        assert r.status_code == 202, r.text
        doc = wait_job(client, r.json()["id"])
        assert doc["status"] == "done", doc
        assert {s["verdict"] for s in doc["sites"]} == {"notice"}
        for s in doc["sites"]:
            assert "缺少：" in s["coverage_zh"] and "生态保护红线" in s["coverage_zh"] and "环境管控单元" in s["coverage_zh"]
            assert s["data_note"] == ""
        assert any(w.startswith("分区数据完整性") and "生态保护红线" in w for w in doc["warnings"])
        page = client.get(f"/screenings/{doc['id']}").text
        assert 'id="coverage-line"' in page and 'id="demo-banner"' not in page


def test_demo_version_is_labelled_and_results_carry_the_banner(tmp_path: Path) -> None:
    from spatial.zoning import DEMO_STAMP, demo_sites_path

    with TestClient(make_app(tmp_path / "data")) as client:
        versions = client.get("/api/zoning").json()
        assert len(versions) == 1 and "不得用于审批" in versions[0]["label"]
        client.cookies.clear()
        r = client.post(
            "/api/screenings", files=[("files", ("s.gpkg", demo_sites_path().read_bytes(), "application/octet-stream"))], data={}
        )
        doc = wait_job(client, r.json()["id"], timeout=600.0)  # 41 sites with map and report
        assert doc["status"] == "done", doc
        assert {s["data_note"] for s in doc["sites"]} == {DEMO_STAMP} and doc["warnings"][0] == DEMO_STAMP
        page = client.get(f"/screenings/{doc['id']}").text
        assert 'id="demo-banner"' in page and DEMO_STAMP in page
