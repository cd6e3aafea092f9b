"""Shared fixtures: a toy county with answers known in closed form.

The toy county is a 20 km x 20 km square in CGCS2000 3-degree Gauss-Kruger
CM 114E (EPSG:4547) near 连州.  Coordinates below are kilometres from its
south-west corner ``ORIGIN``.  Layers carry Chinese values and national
成果数据 field names so every test also exercises normalisation.

Known answers (planar, in the GK plane):
* red line (the holed one is marine): squares [2,4]x[2,4] and [3,5]x[3,5] overlap in 1 km² -> union 7 km²,
  plus [12,16]x[2,6] with a hole [13,15]x[3,5] -> 16 - 4 = 12 km².  Total 19 km².
* protected area: core [10,11]x[10,11] (1 km²), general ring [9,12]x[9,12] minus core (8 km²).
* water source: level 1 [15,16]x[15,16], level 2 ring [14,17]x[14,17] minus level 1,
  quasi ring [13,18]x[13,18] minus [14,17]x[14,17].
* control units: four 10 km quadrants: SW priority, SE key (bans 电镀;印染),
  NW general, NE general (bans 火电).
* farmland [2,6]x[14,18]; urban boundary [6,9]x[14,17] and [17.5,19.5]x[18.5,19.5] (11 km²: the
  tests' plain housing site at (18, 19) lies inside the development boundary).
* corridors: river y=8 km from x=0 to 20 (20 m), expressway x=7.5 km from y=0 to 20 (30 m).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

ORIGIN = (400_000.0, 2_740_000.0)  # EPSG:4547, ~113.0E 24.77N
TOY_CRS = "EPSG:4547"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def km_box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Box with corners in km from the toy origin, in EPSG:4547 metres."""
    ox, oy = ORIGIN
    return box(ox + x0 * 1000, oy + y0 * 1000, ox + x1 * 1000, oy + y1 * 1000)


def km_point(x: float, y: float) -> shapely.Point:
    """Point in km from the toy origin."""
    return shapely.Point(ORIGIN[0] + x * 1000, ORIGIN[1] + y * 1000)


def km_line(*pts: tuple[float, float]) -> LineString:
    """Line through points in km from the toy origin."""
    return LineString([(ORIGIN[0] + x * 1000, ORIGIN[1] + y * 1000) for x, y in pts])


def km_sites(points: list, project_type: str | list[str]) -> gpd.GeoDataFrame:
    """Sites ``S0``, ``S1`` ... at ``points`` (km tuples from the toy origin, or geometries), in WGS84."""
    geoms = [km_point(*p) if isinstance(p, tuple) else p for p in points]
    return gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(len(points))], "project_type": project_type}, geometry=geoms, crs=TOY_CRS
    ).to_crs(4326)


def assert_fires_at_hit_only(hits, rule: str, verdict: str, hit: object, miss: object) -> None:
    """Rule ``rule`` gives ``verdict`` at site S0 (``hit``) and does not fire at site S1 (``miss``)."""
    mine = hits[(hits.site_id == "S0") & (hits.rule_id == rule)]
    assert len(mine) >= 1, f"{rule} should fire at {hit}: {hits[hits.site_id == 'S0'].rule_id.tolist()}"
    assert set(mine.verdict) == {verdict}
    assert not ((hits.site_id == "S1") & (hits.rule_id == rule)).any(), f"{rule} should not fire at {miss}"


def click_latlng(page, map_path: str, lat: float, lon: float, zoom: float | None = None) -> None:
    """Click a page where ``(lat, lon)`` lies on the Leaflet map ``window.<map_path>``, centred there at ``zoom`` first if given."""
    x, y = page.evaluate(
        """([path, lat, lon, z]) => {
            const map = path.split('.').reduce((o, k) => o[k], window);
            if (z !== null) map.setView([lat, lon], z, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [map_path, lat, lon, zoom],
    )
    page.mouse.click(x, y)


def toy_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return the toy county's layers (raw, as a planner's files would hold them)."""
    crs = TOY_CRS
    boundary = gpd.GeoDataFrame({"XZQMC": ["示例县"], "XZQDM": ["441899"]}, geometry=[km_box(0, 0, 20, 20)], crs=crs)
    holed = km_box(12, 2, 16, 6).difference(km_box(13, 3, 15, 5))
    redline = gpd.GeoDataFrame(
        {"BSM": ["HX001", "HX002", "HX003"], "HXMC": ["红线甲", "红线乙", "红线丙"], "HXLX": ["陆域", "陆域", "海洋"]},
        geometry=[km_box(2, 2, 4, 4), km_box(3, 3, 5, 5), holed],
        crs=crs,
    )
    core = km_box(10, 10, 11, 11)
    protected = gpd.GeoDataFrame(
        {
            "BHDMC": ["示例自然保护区", "示例自然保护区"],
            "BHDLX": ["自然保护区", "自然保护区"],
            "GNFQ": ["核心保护区", "一般控制区"],
            "BSM": ["PA1-C", "PA1-G"],
        },
        geometry=[core, km_box(9, 9, 12, 12).difference(core)],
        crs=crs,
    )
    l1 = km_box(15, 15, 16, 16)
    l2 = km_box(14, 14, 17, 17).difference(l1)
    lq = km_box(13, 13, 18, 18).difference(km_box(14, 14, 17, 17))
    water = gpd.GeoDataFrame(
        {"MC": ["示例水库一级", "示例水库二级", "示例水库准"], "JB": ["一级保护区", "二级保护区", "准保护区"]},
        geometry=[l1, l2, lq],
        crs=crs,
    )
    units = gpd.GeoDataFrame(
        {
            "HJZHGKDYBM": ["ZH44189910001", "ZH44189920001", "ZH44189930001", "ZH44189930002"],
            "HJZHGKDYMC": ["示例优先保护单元", "示例重点管控单元", "示例一般管控单元一", "示例一般管控单元二"],
            "ZHGKDYFL": ["优先保护单元", "重点管控单元", "一般管控单元", "一般管控单元"],
            "JZHY": ["采矿;火电", "电镀;印染", "", "火电"],
            "KJBJYS": ["禁止新建工业项目。", "禁止新建电镀、印染项目。", "引导产业集中布局。", "禁止新建火电。"],
            "PWWPFGK": ["不得新增排污口。", "实行总量控制。", "达标排放。", "达标排放。"],
            "HJFXFK": ["加强风险防控。", "建立应急预案。", "加强监管。", "加强监管。"],
            "ZYKFXLYQ": ["节约用水。", "提高能效。", "节约用地。", "节约用地。"],
        },
        geometry=[km_box(0, 0, 10, 10), km_box(10, 0, 20, 10), km_box(0, 10, 10, 20), km_box(10, 10, 20, 20)],
        crs=crs,
    )
    farmland = gpd.GeoDataFrame({"BSM": ["JBNT1"]}, geometry=[km_box(2, 14, 6, 18)], crs=crs)
    urban = gpd.GeoDataFrame({"BSM": ["KFBJ1", "KFBJ2"]}, geometry=[km_box(6, 14, 9, 17), km_box(17.5, 18.5, 19.5, 19.5)], crs=crs)
    corridor = gpd.GeoDataFrame(
        {"MC": ["示例河", "示例高速"], "LX": ["河流", "道路"], "DLDJ": [None, "高速公路"]},
        geometry=[km_line((0, 8), (20, 8)), km_line((7.5, 0), (7.5, 20))],
        crs=crs,
    )
    # A small park, a school and a 禁养区 in the empty north-west corner: every layer the default rules read is present,
    # so a site the rules leave alone is 符合 (without them it is 待核实, issue 20).
    park = gpd.GeoDataFrame(
        {"YQMC": ["示例产业园"], "YQBM": ["YQ001"], "ZDCY": ["电子"], "JZLX": ["电镀"]}, geometry=[km_box(0.3, 19.3, 0.6, 19.6)], crs=crs
    )
    receptor = gpd.GeoDataFrame({"MBMC": ["示例小学"], "MBBH": ["MB001"], "MBLX": ["学校"]}, geometry=[km_point(0.5, 19.0)], crs=crs)
    ban = gpd.GeoDataFrame({"JYQMC": ["示例禁养区"], "JYQBH": ["JY001"]}, geometry=[km_box(0.7, 19.3, 1.0, 19.6)], crs=crs)
    return {
        "boundary": boundary,
        "redline": redline,
        "protected_area": protected,
        "water_source": water,
        "control_unit": units,
        "farmland": farmland,
        "urban_boundary": urban,
        "corridor": corridor,
        "industrial_park": park,
        "sensitive_receptor": receptor,
        "livestock_ban": ban,
    }


#: Chinese layer names as they appear in real GeoPackages.
CHINESE_LAYER_NAMES = {
    "boundary": "行政区",
    "redline": "生态保护红线",
    "protected_area": "自然保护地",
    "water_source": "饮用水水源保护区",
    "control_unit": "环境管控单元",
    "farmland": "永久基本农田",
    "urban_boundary": "城镇开发边界",
    "corridor": "生态廊道",
    "industrial_park": "产业园区",
    "sensitive_receptor": "环境敏感目标",
    "livestock_ban": "畜禽禁养区",
}


def write_toy_gpkg(path: Path, crs: str = TOY_CRS, chinese_names: bool = True) -> Path:
    """Write the toy county to a GeoPackage, optionally reprojected."""
    for name, gdf in toy_layers().items():
        layer = CHINESE_LAYER_NAMES[name] if chinese_names else name
        gdf.to_crs(crs).to_file(path, layer=layer, driver="GPKG")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the prepared-zoning cache out of the user's ~/.cache during tests."""
    monkeypatch.setenv("ECOZONE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ecozone-cache"))


@pytest.fixture(scope="session")
def toy_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy county as a GeoPackage with Chinese layer names (EPSG:4547)."""
    return write_toy_gpkg(tmp_path_factory.mktemp("toy") / "toy.gpkg")


@pytest.fixture(scope="session")
def toy_zoning(toy_gpkg: Path):
    """The toy county loaded by ecozone."""
    from spatial.zoning import load_zoning

    return load_zoning(toy_gpkg)


@pytest.fixture(scope="session")
def demo_result():
    """The bundled 连州 demo screened once per session with the default catalogue (verdicts only, no files).

    Shared: tests read it and never change it (copy a table before editing it).
    """
    import warnings

    from spatial.job import ScreeningJob
    from spatial.zoning import demo_sites_path

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as the tests' own filterwarnings = error would
        return ScreeningJob(demo_sites_path()).screen()


@pytest.fixture(scope="session")
def lianzhou_boundary() -> gpd.GeoDataFrame:
    """The real 连州 boundary from ../shared (WGS84)."""
    path = SHARED / "data" / "admin" / "guangdong_counties_amap_wgs84.geojson"
    if not path.exists():
        pytest.skip(f"../shared data not found at {path}")
    gdf = gpd.read_file(path)
    return gdf[gdf["district_adcode"].astype(str) == "441882"].reset_index(drop=True)


def sha256_tree(root: Path) -> dict[str, str]:
    """Hash every file below root (to prove inputs are not modified)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def hash_tree() -> Callable[[Path], dict[str, str]]:
    """Return the file-tree hashing helper."""
    return sha256_tree


@pytest.fixture(scope="session")
def postgis_url(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PostgreSQL + PostGIS server for the session (skipped, with the reason, when not installed)."""
    from pg_server import POSTGIS_SKIP_REASON, start_postgres

    if POSTGIS_SKIP_REASON is not None:
        pytest.skip(POSTGIS_SKIP_REASON)
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        import os

        if os.geteuid() == 0:
            pytest.skip("running as root and there is no `postgres` OS user to own the cluster")
    with start_postgres(tmp_path_factory.mktemp("postgis")) as url:
        yield url
