"""``POST /api/check``: an instant check answered in the request, no job and no files, recorded for audit."""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient
from serve_helpers import make_app, outside_patch, redline_patch, to_lonlat

from spatial.serve.check import CACHE, MAX_CHECK_SITES, checks_log


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """A loopback app (no login) on a fresh data dir, and the dir."""
    tmp = tmp_path_factory.mktemp("check")
    app = make_app(tmp)
    with TestClient(app) as c:
        yield c, tmp


def _geo(poly: shapely.Geometry) -> dict:
    return shapely.geometry.mapping(to_lonlat(poly))


def _check(client: TestClient, geoms: list[dict], project_type: str = "工业", **kw: object):
    client.cookies.clear()
    return client.post("/api/check", json={"geometries": geoms, "project_type": project_type, **kw})


@pytest.mark.slow
def test_red_line_is_prohibited_and_moving_out_changes_it(served) -> None:
    """Over the red line: 禁止 with the red-line rule and its clause; the same square moved out: no red-line finding, another verdict."""
    client, tmp = served
    inside, red_name = redline_patch()
    r = _check(client, [_geo(inside)], names=["拟建厂房"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "prohibited" and body["verdict_zh"] == "禁止"
    site = body["sites"][0]
    assert site["name"] == "拟建厂房" and site["verdict"] == "prohibited"
    red = [f for f in site["findings"] if f["layer"] == "redline"]
    assert red and red[0]["verdict"] == "prohibited" and red[0]["layer_zh"] == "生态保护红线"
    assert "〔" in red[0]["basis"] and red_name in red[0]["feature_name"]
    rows = {row["layer"]: row["status_zh"] for row in site["layers"]}
    assert rows["redline"] == "涉及"
    facts = {f["layer"]: f for f in site["facts"]}
    assert facts["redline"]["inside"] and facts["redline"]["overlap_m2"] == pytest.approx(40_000, rel=0.02)
    assert site["units"] and site["units"][0]["category"] in ("priority", "key", "general")

    moved = _check(client, [_geo(outside_patch())]).json()
    out = moved["sites"][0]
    assert not [f for f in out["findings"] if f["layer"] == "redline"]
    assert {row["layer"]: row["status_zh"] for row in out["layers"]}["redline"] == "不涉及"
    assert out["verdict"] == "restricted" and out["name"] == "绘制图形1"  # 工业 outside a park: 限制 (IP-OUT), not 禁止


@pytest.mark.slow
def test_no_job_no_files_one_load_and_an_audit_line(served) -> None:
    """Checks queue no job and write no output; the version is prepared once; each check is one audit line."""
    client, tmp = served
    before = CACHE.loads
    log = checks_log(tmp)
    n0 = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    poly, _ = redline_patch(100.0)
    for _ in range(3):
        assert _check(client, [_geo(poly)]).status_code == 200
    assert CACHE.loads - before <= 1  # at most the first check of this process loads it
    assert client.get("/api/screenings").json() == []
    assert not (tmp / "jobs").exists() or not any((tmp / "jobs").iterdir())
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == n0 + 3
    rec = json.loads(lines[-1])
    assert rec["verdicts"][0]["verdict"] == "prohibited" and rec["project_type"] == "工业"
    assert len(rec["zoning_sha256"]) > 8 and len(rec["rules_sha256"]) == 64 and rec["geometries"]


@pytest.mark.slow
def test_several_sites_worst_verdict_and_features_named(served) -> None:
    """Two Features: each answered under its own name; the overall verdict is the worst one."""
    client, _ = served
    inside, _ = redline_patch()
    feats = [
        {"type": "Feature", "geometry": _geo(outside_patch()), "properties": {"name": "甲地块"}},
        {"type": "Feature", "geometry": _geo(inside), "properties": {"name": "乙地块"}},
    ]
    body = _check(client, feats).json()
    assert [s["name"] for s in body["sites"]] == ["甲地块", "乙地块"]
    assert body["verdict"] == "prohibited" and body["sites"][0]["verdict"] != "prohibited"


@pytest.mark.parametrize(
    ("geoms", "extra", "word"),
    [
        ([{"type": "Polygon", "coordinates": [[[1000, 0], [1, 1], [0, 1], [1000, 0]]]}], {}, "坐标"),
        ([{"type": "MultiPoint", "coordinates": [[112, 25]]}], {}, "类型"),
        ([{"type": "Point", "coordinates": [112.4, 24.8]}] * (MAX_CHECK_SITES + 1), {}, "最多"),
        ([{"type": "Point", "coordinates": [112.4, 24.8]}], {"zoning_version": "nope"}, "版本"),
    ],
)
def test_bad_requests_are_400_in_chinese(served, geoms: list[dict], extra: dict, word: str) -> None:
    """Malformed coordinates, unsupported kinds, too many sites, an unknown version: 400 naming the problem."""
    client, _ = served
    r = _check(client, geoms, **extra)
    assert r.status_code == 400, r.text
    assert word in r.json()["error"]


@pytest.mark.slow
def test_without_facts_same_verdict(served) -> None:
    """``facts: false`` (what the live page sends) answers the same verdicts and findings, with no facts."""
    client, _ = served
    inside, _ = redline_patch(100.0)
    full = _check(client, [_geo(inside)]).json()["sites"][0]
    lean = _check(client, [_geo(inside)], facts=False).json()["sites"][0]
    assert lean["facts"] == [] and full["facts"]
    assert (lean["verdict"], [f["rule_id"] for f in lean["findings"]]) == (full["verdict"], [f["rule_id"] for f in full["findings"]])


def _job_answers(frame) -> list[tuple[str, list[str]]]:
    """Per site, the verdict and the rule ids of its findings from a screening job (the web worker's and the CLI's path)."""
    from spatial import load_zoning
    from spatial.job import ScreeningJob

    result = ScreeningJob(frame, load_zoning()).screen()
    hits = result.hits
    return [
        (str(v), sorted(hits.loc[hits["site_id"].astype(str) == str(sid), "rule_id"].astype(str)))
        for sid, v in zip(result.sites["site_id"], result.sites["verdict"], strict=True)
    ]


def _check_answers(client: TestClient, geoms: list[dict], project_type: str) -> list[tuple[str, list[str]]]:
    body = _check(client, geoms, project_type, facts=False).json()
    return [(s["verdict"], sorted(f["rule_id"] for f in s["findings"])) for s in body["sites"]]


@pytest.mark.slow
def test_check_answers_equal_the_screening_job_on_the_demo_sites(served) -> None:
    """Every demo site (points, lines, polygons, each type), checked in WGS84: the job's verdict and findings, site by site."""
    import geopandas as gpd

    from spatial.zoning import demo_sites_path

    client, _ = served
    sites = gpd.read_file(demo_sites_path()).to_crs(4326)
    sites["site_id"] = sites["site_id"].astype(str)
    expected = dict(zip(sites["site_id"], _job_answers(sites[["site_id", "project_type", "geometry"]]), strict=True))
    assert {v for v, _ in expected.values()} >= {"prohibited", "restricted", "compatible"}  # the set exercises the verdicts
    for ptype, group in sites.groupby("project_type", sort=False):
        for start in range(0, len(group), MAX_CHECK_SITES):
            part = group.iloc[start : start + MAX_CHECK_SITES]
            got = _check_answers(client, [shapely.geometry.mapping(g) for g in part.geometry], str(ptype))
            assert got == [expected[s] for s in part["site_id"]], ptype


@pytest.mark.slow
def test_check_answers_equal_the_screening_job_on_random_parcels(served) -> None:
    """Hypothesis: rectangles and points anywhere over the demo county (some partly off the map), any of four types."""
    import geopandas as gpd
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from spatial import load_zoning

    client, _ = served
    x0, y0, x1, y1 = load_zoning().layers["boundary"].total_bounds

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        fx=st.floats(0.0, 1.0), fy=st.floats(0.0, 1.0), w=st.floats(0.0, 3000.0), h=st.floats(1.0, 3000.0),
        ptype=st.sampled_from(["工业", "化工", "住宅", "养殖"]),
    )  # fmt: skip
    def one(fx: float, fy: float, w: float, h: float, ptype: str) -> None:
        x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
        geom = shapely.Point(x, y) if w < 1.0 else shapely.box(x, y, x + w, y + h)
        ll = to_lonlat(geom)
        frame = gpd.GeoDataFrame({"site_id": ["P1"], "project_type": [ptype]}, geometry=[ll], crs=4326)
        assert _check_answers(client, [shapely.geometry.mapping(ll)], ptype) == _job_answers(frame)

    one()
