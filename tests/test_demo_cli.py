"""`ecozone demo` runs the whole pipeline on the bundled data (README set-up command 1)."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from spatial.cli import cli
from spatial.zoning import demo_sites_path


def test_demo_end_to_end(tmp_path) -> None:
    out = tmp_path / "demo_out"
    res = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("sites.csv", "hits.csv", "screening.gpkg", "map.html", "report.html", "report.xlsx", "indicators.csv", "indicators.json"):
        assert (out / name).stat().st_size > 0, name
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    n_demo = len(__import__("geopandas").read_file(demo_sites_path()))
    assert len(sites) == n_demo
    # The demo's 准入清单 (issue 29) applies to every unit, and clauses it cannot read are 待核实 there,
    # so no demo site is 符合 any more: every other verdict is covered, and the list's findings are in hits.csv.
    assert set(sites.verdict) == {"prohibited", "restricted", "notice"}
    hits = pd.read_csv(out / "hits.csv", encoding="utf-8-sig")
    rules = pd.read_csv(out / "rules.csv", encoding="utf-8-sig")
    listed = rules[rules["rule_id"].astype(str).str.startswith("LIST:")]
    assert hits["rule_id"].isin(listed["rule_id"]).any()
    assert listed["message_zh"].str.contains("“严禁在水质超标河段建设新增超标污染物的排放项目").any()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["lists"][0]["n_clauses"] == run["lists"][0]["n_parsed"] + run["lists"][0]["n_pending"] > 0
    ind = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    text = json.dumps(ind, ensure_ascii=False)
    assert "redline_ratio_pct" in text and "21.31" in text
    assert (out / "report.docx").stat().st_size > 0 and (out / "附图" / "附图1_项目位置示意图.png").exists()
    assert "report.docx" in res.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(sid in report for sid in sites.site_id)
    assert "禁止" in res.output and "sites screened" in res.output
    # a second run refuses to overwrite, naming --force
    again = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
