"""Degenerate zoning fails loudly: empty layers, impossible corridor widths, stray vertices.

Inputs are built in code from the toy county; input folders are hashed before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ORIGIN, km_point, toy_layers

from spatial.cli import cli

pytestmark = pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")


def _package(folder: Path, mutate) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    layers = toy_layers()
    mutate(layers)
    for name, gdf in layers.items():
        gdf.to_file(folder / "z.gpkg", layer=name, driver="GPKG")
    return folder / "z.gpkg"


def _sites(folder: Path, pts: dict[str, shapely.Point], ptype: str = "住宅") -> Path:
    gdf = gpd.GeoDataFrame({"site_id": list(pts), "project_type": ptype}, geometry=list(pts.values()), crs=4547).to_crs(4326)
    gdf.to_file(folder / "s.gpkg", driver="GPKG")
    return folder / "s.gpkg"


def _run(args: list[str], folder: Path, hash_tree):
    before = hash_tree(folder)
    res = CliRunner().invoke(cli, args)
    assert "Traceback" not in res.output
    assert hash_tree(folder) == before
    return res


@pytest.mark.slow
def test_empty_red_line_warns_in_run_report_and_validate(tmp_path: Path, hash_tree) -> None:
    src = tmp_path / "in"
    z = _package(src, lambda layers: layers.__setitem__("redline", layers["redline"].iloc[:0]))
    sites = _sites(src, {"IN_RL": km_point(3.5, 3.5)})
    out = tmp_path / "out"
    res = _run(["screen", str(sites), "-z", str(z), "--out", str(out)], src, hash_tree)
    assert res.exit_code == 0, res.output
    assert "生态保护红线图层为空：结论“不涉及红线”不可靠" in res.output
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    # Never 不涉及: the red line is named as missing and the site is not 符合 (issue 20).
    assert "不涉及生态保护红线" not in table.summary_zh[0] and "生态保护红线（图层为空）" in table.summary_zh[0]
    assert table.verdict[0] != "compatible" and "缺少：生态保护红线（图层为空）" in table.coverage_zh[0]
    assert "生态保护红线图层为空" in (out / "report.html").read_text(encoding="utf-8")
    res = _run(["validate", str(z), "--out", str(tmp_path / "v")], src, hash_tree)
    assert res.exit_code == 1
    findings = json.loads((tmp_path / "v" / "validate.json").read_text(encoding="utf-8"))["findings"]
    assert any(f["code"] == "empty_layer" and f["severity"] == "error" and f["layer"] == "redline" for f in findings)


@pytest.mark.slow
@pytest.mark.parametrize(("width", "match"), [(-30, r"width_m.*-30"), (0, r"width_m.*要素 1（?.*: 0"), ("三十", r"width_m.*应为数值.*三十")])
def test_bad_corridor_width_is_an_error_naming_the_feature(tmp_path: Path, hash_tree, width: object, match: str) -> None:
    import re

    def mutate(layers: dict[str, gpd.GeoDataFrame]) -> None:
        layers["corridor"]["KZKD"] = pd.Series([width, None], dtype=object)

    src = tmp_path / "in"
    z = _package(src, mutate)
    # 25 m from the river (y = 8 km): with a -30 m width it used to get the 20 m default and 符合.
    sites = _sites(src, {"NEAR": km_point(10, 8.025)}, "化工")
    res = _run(["screen", str(sites), "-z", str(z), "--out", str(tmp_path / "o"), "--no-map"], src, hash_tree)
    assert res.exit_code == 2 and "z.gpkg" in res.output, res.output
    assert re.search(match, res.output, flags=re.S), res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_stray_vertex_warned_by_screen_and_indicators(tmp_path: Path, hash_tree) -> None:
    ox, oy = ORIGIN

    def mutate(layers: dict[str, gpd.GeoDataFrame]) -> None:
        ring = [(ox + 2000, oy + 2000), (ox + 4000, oy + 2000), (ox + 1_000_000 + 4000, oy + 3000), (ox + 4000, oy + 4000), (ox + 2000, oy + 4000)]
        layers["redline"].loc[0, "geometry"] = shapely.Polygon(ring)

    src = tmp_path / "in"
    z = _package(src, mutate)
    sites = _sites(src, {"A": km_point(18, 19)})
    res = _run(["screen", str(sites), "-z", str(z), "--out", str(tmp_path / "o"), "--no-map", "--no-cache"], src, hash_tree)
    assert res.exit_code == 0, res.output
    assert "HX001" in res.output and "顶点远在行政区边界之外" in res.output and "约 984 km" in res.output  # 1 000 km east of x = 4 km, i.e. 984 km beyond the 20 km county
    res = _run(["indicators", "-z", str(z), "--out", str(tmp_path / "i")], src, hash_tree)
    assert res.exit_code == 0, res.output
    assert "HX001" in res.output and "顶点远在行政区边界之外" in res.output
