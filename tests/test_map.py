"""Interactive zoning map: layers, legend, popups, basemaps, GCJ-02 offset, size budget, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from conftest import km_box, km_line, km_point
from pyproj import CRS, Geod

from maps.offline import find_external_resources, offline_html
from maps.zoning_map import (
    POPUP_TEXT_LIMIT,
    TIANDITU_ENV,
    build_map,
    display_geometries,
    truncate_html,
)
from spatial.errors import InputError
from spatial.webcrs import wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def toy_result(toy_zoning):
    """Four screened sites on the toy county: point, polygon (overlap), line, plain."""
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {"site_id": ["RL", "BAN", "ROAD", "OK"], "name": ["红线<内>点", "电镀厂", "跨河道路", None],
         "project_type": ["住宅", "电镀", "道路", "商业"]},  # fmt: skip
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9)), km_point(18, 19)],
        crs=toy_zoning.crs,
    )
    return screen(sites, toy_zoning)


def _overlays(html: str) -> list[str]:
    """Overlay names from folium's layer-control config (JSON keys, HTML inside)."""
    block = re.search(r"overlays\s*:\s*\{(.*?)\},\s*\};", html, re.S)
    assert block, "no layer control"
    return [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block.group(1))]


def _geojson(m, layer: str) -> dict:
    """The GeoJSON data of one ecozone overlay in a built map."""
    from maps.zoning_map import GeoJsonOverlay

    def walk(el):
        for child in el._children.values():
            if isinstance(child, GeoJsonOverlay) and child.layer == layer:
                yield json.loads(child.data_js)
            yield from walk(child)

    found = list(walk(m))
    assert found, layer
    return found[-1]


def test_layers_legend_and_offline(toy_zoning, toy_result) -> None:
    """Every zoning layer is in the layer control and the legend; nothing external but tiles."""
    m = build_map(toy_zoning, toy_result)
    html = offline_html(m)
    assert find_external_resources(html) == []
    overlays = _overlays(html)
    labels = {n: toy_zoning.spec(n).label_zh for n in toy_zoning.layers}
    for name, zh in labels.items():
        assert any(o.startswith(zh) for o in overlays), (name, overlays)
    assert any(o.startswith("项目选址（4 处）") for o in overlays)
    legend = m.get_root().render()  # legend HTML is JSON inside the script
    legend_html = next(ch.html for ch in m._children.values() if type(ch).__name__ == "_Legend")
    for name, zh in labels.items():
        assert f'data-layer="{name}"' in legend_html and zh in legend_html
    for v in ("禁止", "限制", "关注", "符合"):
        assert v in legend_html
    assert "底图：无" in legend_html  # default basemap: none (the zoning itself is the picture)
    assert "tile.openstreetmap.org" not in html and "ecozone.addGeoJson" in legend
    # controls: scale (metric), full screen, measure, mouse position, legend
    for token in ("L.control.scale(", "L.control.fullscreen(", "new L.Control.Measure(", "new L.Control.MousePosition(", "eco-legend"):
        assert token in html, token
    # corridors carry their buffer, drawn as a separate overlay in the same group
    buffers = _geojson(m, "corridor")  # last one: the lines
    assert {f["properties"]["k"] for f in buffers["features"]} == {"corridor:river", "corridor:road"}
    assert "corridor:river:buffer" in html


def test_popups_chinese_escaped_truncated(toy_zoning, toy_result) -> None:
    """Attribute labels are Chinese; long text gets 更多/more; '<' never reaches the page as markup."""
    m = build_map(toy_zoning, toy_result, basemap="none")
    units = _geojson(m, "control_unit")
    f0 = units["features"][0]["properties"]
    assert f0["k"].startswith("control_unit:") and f0["n"] and "环境管控单元" in f0["t"]
    html = offline_html(m)
    assert '"fields":["编码","名称","单元类别","禁止类项目"' in html
    assert "优先保护单元" in html  # enum shown in Chinese
    sites = _geojson(m, "sites")
    by_id = {f["properties"]["id"]: f["properties"] for f in sites["features"]}
    assert set(by_id) == {"RL", "BAN", "ROAD", "OK"}
    assert by_id["RL"]["k"] == "prohibited" and by_id["OK"]["k"] == "compatible"
    assert "RL" in by_id["RL"]["p"] and "依据" in by_id["RL"]["p"] and "禁止" in by_id["RL"]["p"]
    assert "红线&lt;内&gt;点" in by_id["RL"]["p"] and "<内>" not in by_id["RL"]["p"]
    assert "CU-BANNED" in by_id["BAN"]["p"]
    assert by_id["OK"]["t"] == "OK"  # missing name -> id
    assert "<内>" not in html and "\\u003c" in html
    # overlap part of the polygon site is highlighted (non-interactive)
    overlaps = _geojson(m, "overlaps")
    assert overlaps["features"] and all(f["geometry"]["type"] != "Point" for f in overlaps["features"])
    long = "甲" * (POPUP_TEXT_LIMIT + 30) + "<x>"
    out = truncate_html(long)
    assert out.startswith('<details class="eco-more">') and "更多 / more" in out and "&lt;x&gt;" in out
    assert truncate_html("短<文>") == "短&lt;文&gt;"


def test_many_sites_get_brief_popups(toy_zoning, toy_result, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above BRIEF_POPUP_SITES a popup keeps its hits (rule, layer, feature, measure) but not their clauses."""
    import maps.zoning_map as zm

    full = {f["properties"]["id"]: f["properties"]["p"] for f in _geojson(build_map(toy_zoning, toy_result), "sites")["features"]}
    monkeypatch.setattr(zm, "BRIEF_POPUP_SITES", 3)  # four sites are "many"
    brief = {f["properties"]["id"]: f["properties"]["p"] for f in _geojson(build_map(toy_zoning, toy_result), "sites")["features"]}
    hits = toy_result.hits
    for sid in ("RL", "BAN"):
        assert "依据" in full[sid] and "依据：" not in brief[sid] and "hits.csv" in brief[sid]
        assert all(r in brief[sid] for r in hits.loc[hits["site_id"] == sid, "rule_id"])  # every hit still listed
        assert len(brief[sid]) < len(full[sid])


def test_large_layers_skip_the_asset_scan_and_the_page_is_the_same(tmp_path: Path, toy_zoning, toy_result, monkeypatch: pytest.MonkeyPatch) -> None:
    """GeoJSON put in after the offline scan gives the very page the scan of everything gives."""
    import maps.zoning_map as zm

    def page(limit: int) -> str:
        monkeypatch.setattr(zm, "HOLD_OUT_CHARS", limit)
        out = zm.save_map(toy_zoning, tmp_path / f"map{limit}.html", result=toy_result)
        return re.sub(r"_[0-9a-f]{32}", "_ID", out.read_text(encoding="utf-8"))  # folium's random element ids

    held, scanned = page(0), page(10**9)  # every layer held out; none
    assert "@@ECOZONE-DATA" not in held and held == scanned
    assert find_external_resources(held) == []


def test_amap_shifts_overlays_to_gcj02(toy_zoning) -> None:
    """In 高德 mode a known vertex (the boundary's SW corner) moves by the GCJ-02 offset."""
    osm = _geojson(build_map(toy_zoning, basemap="osm"), "boundary")
    amap_map = build_map(toy_zoning, basemap="amap")
    amap = _geojson(amap_map, "boundary")
    ring_w = np.array(osm["features"][0]["geometry"]["coordinates"][0])
    ring_g = np.array(amap["features"][0]["geometry"]["coordinates"][0])
    sw = ring_w[np.argmin(ring_w.sum(axis=1))]
    swg = ring_g[np.argmin(ring_g.sum(axis=1))]
    expect = np.array(wgs84_to_gcj02(sw[0], sw[1]))
    assert np.allclose(swg, expect, atol=2e-6)
    _, _, dist = GEOD.inv(sw[0], sw[1], swg[0], swg[1])
    assert 300 < dist < 800, dist
    legend = next(ch.html for ch in amap_map._children.values() if type(ch).__name__ == "_Legend")
    assert "底图：高德（GCJ-02，叠加图层已偏移对齐）" in legend
    assert "autonavi.com" in offline_html(amap_map)


def test_tianditu_needs_key(toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """天地图 without a key names both ways to give one; the env var works."""
    monkeypatch.delenv(TIANDITU_ENV, raising=False)
    with pytest.raises(InputError) as err:
        build_map(toy_zoning, basemap="tianditu")
    assert "--tianditu-key" in str(err.value) and TIANDITU_ENV in str(err.value)
    monkeypatch.setenv(TIANDITU_ENV, "k3y")
    html = offline_html(build_map(toy_zoning, basemap="tianditu"))
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cva_w/wmts" in html and "tk=k3y" in html


def test_none_basemap_has_no_tiles(toy_zoning) -> None:
    """The 'none' basemap creates no tile layer at all."""
    html = offline_html(build_map(toy_zoning, basemap="none"))
    assert "L.tileLayer(" not in html and "底图：无" in html
    with pytest.raises(InputError, match="osm"):
        build_map(toy_zoning, basemap="bing")


def test_big_zoning_stays_under_10_mb_and_untouched() -> None:
    """A ~200k-vertex package renders to < 10 MB; the zoning itself is never simplified."""
    from spatial.zoning import Zoning

    crs = CRS.from_epsg(4547)
    rng = np.random.default_rng(0)
    centres = shapely.points(400_000 + rng.uniform(1000, 59_000, 200), 2_740_000 + rng.uniform(1000, 59_000, 200))
    circles = shapely.buffer(centres, rng.uniform(200, 900, 200), quad_segs=250)  # 1001 vertices each
    red = gpd.GeoDataFrame(
        {"id": [f"HX{i:03d}" for i in range(200)], "name": [f"红线{i}" for i in range(200)], "kind": "land",
         "feature_id": [f"HX{i:03d}" for i in range(200)]},  # fmt: skip
        geometry=circles,
        crs=crs,
    )
    bnd = gpd.GeoDataFrame({"name": ["大县"], "code": ["441800"], "feature_id": ["441800"]},
                           geometry=[shapely.box(400_000, 2_740_000, 460_000, 2_800_000)], crs=crs)  # fmt: skip
    z = Zoning(layers={"boundary": bnd, "redline": red}, crs=crs)
    before = int(shapely.get_num_coordinates(red.geometry.values).sum())
    assert before >= 200_000
    m = build_map(z)
    html = offline_html(m)
    assert len(html.encode("utf-8")) < 10_000_000
    shown = _geojson(m, "redline")
    assert len(shown["features"]) == 200
    assert int(shapely.get_num_coordinates(red.geometry.values).sum()) == before
    # coordinates are rounded to 6 decimals (~0.1 m)
    x = shown["features"][0]["geometry"]["coordinates"][0][0][0]
    assert round(x, 6) == x


def test_display_geometries_copy_and_round(toy_zoning) -> None:
    """Display geometries are simplified copies in lon/lat, rounded."""
    red = toy_zoning["redline"]
    out = display_geometries(red.geometry.values, toy_zoning.crs, tolerance=5.0)
    assert shapely.equals(red.geometry.values, toy_zoning["redline"].geometry.values).all()
    xy = shapely.get_coordinates(out)
    assert (np.abs(xy[:, 0] - 113) < 1).all() and np.allclose(xy, np.round(xy, 6))


def test_read_screening(tmp_path: Path, toy_zoning, toy_result) -> None:
    """--sites takes a screening output folder (verdicts + hits) or a plain sites file."""
    from spatial.output import read_screening, write_screening

    write_screening(toy_result, tmp_path / "out")
    res = read_screening(tmp_path / "out")
    assert set(res.sites.site_id) == {"RL", "BAN", "ROAD", "OK"} and "verdict" in res.sites
    assert res.hits is not None and set(res.hits.rule_id) >= {"RL", "CU-BANNED"}
    m = build_map(toy_zoning, res, basemap="none")
    sites = {f["properties"]["id"]: f["properties"] for f in _geojson(m, "sites")["features"]}
    assert sites["BAN"]["k"] == "prohibited" and "CU-BANNED" in sites["BAN"]["p"]
    plain = tmp_path / "plain.geojson"
    gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[km_point(5, 5)], crs=toy_zoning.crs).to_crs(4326).to_file(plain)
    res2 = read_screening(plain)
    m2 = build_map(toy_zoning, res2, basemap="none")
    feats = _geojson(m2, "sites")["features"]
    assert feats[0]["properties"]["k"] == "site" and feats[0]["properties"]["t"] == "甲"
    with pytest.raises(InputError, match="screening.gpkg"):
        read_screening(tmp_path)


@pytest.mark.slow
def test_cli_map(tmp_path: Path, toy_gpkg, toy_result, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ecozone map` writes one offline file, refuses to overwrite, needs a 天地图 key."""
    from spatial.cli import cli
    from spatial.output import write_screening

    write_screening(toy_result, tmp_path / "scr")
    out = tmp_path / "m.html"
    args = ["map", "--zoning", str(toy_gpkg), "--sites", str(tmp_path / "scr"), "--out", str(out), "--basemap", "none"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert find_external_resources(html) == [] and '"id":"BAN"' in html
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "--force" in res.output
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0
    monkeypatch.delenv(TIANDITU_ENV, raising=False)
    res = CliRunner().invoke(cli, ["map", "-z", str(toy_gpkg), "--out", str(tmp_path / "t.html"), "--basemap", "tianditu"])
    assert res.exit_code == 2 and "--tianditu-key" in res.output and not (tmp_path / "t.html").exists()
