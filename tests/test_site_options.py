"""One value for how sites are read, built alike by the CLI, the web form and Python; one job for every caller."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from serve_helpers import coordfile_text, make_app, redline_patch, wait_job

from spatial.cli import cli
from spatial.errors import InputError
from spatial.site_options import SiteOptions


def test_options_check_their_choices_once() -> None:
    with pytest.raises(InputError, match="--project-type"):
        SiteOptions(project_type="化工", type_field="类型")
    with pytest.raises(InputError, match="survey"):
        SiteOptions(xy_order="northing")
    with pytest.raises(InputError, match="lonlat"):
        SiteOptions(coords="both")
    with pytest.raises(TypeError, match="sheets"):
        SiteOptions.of(sheets="一期")


def test_of_keeps_what_is_not_given() -> None:
    base = SiteOptions(sites_crs="EPSG:4547", xy_order="survey")
    assert SiteOptions.of(base, sites_crs=None, sheet="二期") == SiteOptions(sites_crs="EPSG:4547", xy_order="survey", sheet="二期")
    assert SiteOptions.of(None) == SiteOptions()
    assert base.for_file(None) is base and base.for_file("wgs84").sites_crs == "wgs84"


def test_web_form_blank_fields_mean_not_given() -> None:
    form = {"project_type": " 化工 ", "type_field": "", "sites_crs": "", "strict_types": "on", "zoning_version": "v1"}
    assert SiteOptions.from_form(form) == SiteOptions(project_type="化工", strict_types=True)


def _site_option_names(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name in SiteOptions.names()}


@pytest.mark.parametrize("name", ["compare", "alternatives", "map"])
def test_every_command_that_reads_sites_takes_the_same_options(name: str) -> None:
    from importlib import import_module

    screen = import_module("spatial.cli.cmd_screen").command
    other = import_module(f"spatial.cli.cmd_{name}").command
    assert _site_option_names(screen) == set(SiteOptions.names())
    assert _site_option_names(other) == _site_option_names(screen)


def test_compare_reads_a_sheet_like_screen(tmp_path: Path) -> None:
    """``compare --sheet`` picks the sheet, as ``screen --sheet`` does (the option reaches the reader)."""
    from spatial.zoning import demo_zoning_path

    book = tmp_path / "s.xlsx"
    with pd.ExcelWriter(book) as xw:
        pd.DataFrame({"site_id": ["A"], "lon": [112.38], "lat": [24.78], "project_type": ["化工"]}).to_excel(xw, sheet_name="一期", index=False)
        pd.DataFrame({"site_id": ["B", "C"], "lon": [112.39, 112.40], "lat": [24.79, 24.80], "project_type": ["化工", "化工"]}).to_excel(
            xw, sheet_name="二期", index=False
        )
    res = CliRunner().invoke(
        cli, ["compare", str(book), "--sheet", "二期", "-z", str(demo_zoning_path()), "-z", str(demo_zoning_path()), "-r", _catalogue(tmp_path), "--out", str(tmp_path / "c"), "--no-map"]
    )
    assert res.exit_code == 0, res.output
    assert "共筛查 2 个项目" in res.output


def _catalogue(tmp_path: Path) -> str:
    """A second copy of the shipped catalogue (compare needs two of something)."""
    from spatial.rules import default_rules_path

    path = tmp_path / "rules_copy.yaml"
    path.write_bytes(default_rules_path().read_bytes())
    return str(path)


@pytest.mark.slow
def test_folder_of_coordinate_files_gets_the_same_ids_in_cli_and_web(tmp_path: Path) -> None:
    """The same 坐标文件 as a folder on the command line and as uploads in the web app: the same site ids."""
    from fastapi.testclient import TestClient

    patch, _ = redline_patch()
    texts = {
        "44120000105.txt": coordfile_text([("@", patch), ("@", shapely.affinity.translate(patch, 400, 0))]),
        "44120000106.txt": coordfile_text([("", shapely.affinity.translate(patch, 0, 400))]),
    }
    folder = tmp_path / "地块"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_bytes(text.encode("gbk"))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(folder), "--zoning", "demo", "-t", "化工", "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    cli_ids = dict(pd.read_csv(out / "sites.csv", dtype=str)[["site_id", "verdict"]].itertuples(index=False, name=None))
    assert set(cli_ids) == {"44120000105-1", "44120000105-2", "44120000106-1"}
    with TestClient(make_app(tmp_path / "serve")) as client:
        r = client.post("/api/screenings", files=[("files", (n, t.encode("gbk"), "text/plain")) for n, t in texts.items()], data={"project_type": "化工"})
        assert r.status_code == 202, r.text
        doc = wait_job(client, r.json()["id"])
    assert doc["status"] == "done", doc["error"]
    assert {s["site_id"]: s["verdict"] for s in doc["sites"]} == cli_ids
